"""Reading a CSV turns table in little memory (issue 17: `code` on one huge segment within 3x its size).

`corpus.read_turns` reads CSV with pandas' parser, which holds the parser's buffer, a Python string
and the Arrow string of a long text at once (about 3.3x the text's size for one 100 MB segment).
`read_turns_lean` reads the file's bytes once, finds the field boundaries with numpy (commas and
line ends outside quotes, by the parity of the quotes before them, block by block), copies each
column's unquoted bytes into one buffer and makes that buffer the column's Arrow strings without
another copy: the file and the columns, about 2x the text at the peak. It reads the plain CSV that
`ingest` writes (UTF-8, '\\n' line ends, RFC 4180 quoting); any other file (a carriage return or
NUL byte, a stray quote, a short or long row, duplicate or empty column names, invalid UTF-8, a
cell starting with a quote mark, a Parquet table) is read by `corpus.read_turns` itself, so the
table and every error message are the same as there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import corpus, paths
from .transcripts import TURN_COLUMNS

BLOCK = 1 << 22  # bytes scanned (and unquoted) at once
LEAN_FROM = 1 << 23  # a field of this many bytes or more (8 MiB): read here; else pandas' faster parser
QUOTE, COMMA, NEWLINE, APOSTROPHE = ord('"'), ord(","), ord("\n"), ord("'")
FORMULA_STARTS = b"=+-@\t\r"  # after a quote mark: a cell tables.spreadsheet_safe escaped


class _NotPlain(Exception):
    """The file is not the plain CSV `read_turns_lean` parses itself."""


def read_turns_lean(path: str | Path, lean_from: int = LEAN_FROM) -> pd.DataFrame:
    """The DataFrame `corpus.read_turns(path)` returns, read in about 2x the file's size at the peak
    when the CSV turns table has a field of `lean_from` bytes or more; other tables (smaller fields,
    Parquet, a CSV this reader does not parse itself) go to `corpus.read_turns`."""
    resolved = paths.resolve(path)
    if (resolved.suffix.lower() in corpus.PARQUET_SUFFIXES or not resolved.is_file()
            or resolved.stat().st_size < lean_from):
        return corpus.read_turns(path)
    try:
        table = _plain_csv(resolved, lean_from)
    except _NotPlain:
        table = None  # read again below, once this attempt's bytes are freed
    turns = _turns_from_text(table) if table is not None else None
    del table
    return turns if turns is not None else corpus.read_turns(path)  # its table, or its messages


def _plain_csv(path: Path, lean_from: int = 0) -> pd.DataFrame:
    """Every cell of a plain CSV file as text (str dtype), as `corpus.read_text_csv` reads it; raises
    _NotPlain for a file it does not parse itself or whose longest field is under `lean_from` bytes."""
    import pyarrow as pa

    data = path.read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.find(b"\r") >= 0 or data.find(b"\x00") >= 0:
        raise _NotPlain
    bounds = _delimiters(data, start)
    ends = np.append(bounds, len(data))  # each field ends at a delimiter or at the end of the file
    begins = np.concatenate([[start], bounds + 1])
    if (ends - begins).max() < lean_from:
        raise _NotPlain
    newline = np.append(np.frombuffer(data, dtype=np.uint8)[bounds] == NEWLINE, True)  # field ends a line
    line_ends = np.flatnonzero(newline)
    header_end = int(line_ends[0]) + 1
    try:
        names = [_field(data, int(b), int(e)).decode("utf-8")
                 for b, e in zip(begins[:header_end], ends[:header_end])]
    except UnicodeDecodeError:
        raise _NotPlain from None
    # pandas renames duplicate and empty names, and does not unescape a name as it does a cell
    if len(set(names)) < len(names) or any(n == "" or n[0] in "'=+-@\t" for n in names):
        raise _NotPlain
    width = len(names)
    rows = []  # index of each row's first field
    first = header_end
    for last in line_ends[1:].tolist():
        count = last + 1 - first
        if not (count == 1 and begins[first] == ends[first]):  # a blank line is skipped, as pandas does
            if count != width:
                raise _NotPlain
            rows.append(first)
        first = last + 1
    fields = np.asarray(rows, dtype=np.int64)[:, None] + np.arange(width)
    columns, offsets = [], []
    for k in range(width):
        # room for the column's raw fields (unquoting only shortens them), filled in place, then cut
        buffer = bytearray(int((ends[fields[:, k]] - begins[fields[:, k]]).sum()))
        offs = np.zeros(len(rows) + 1, dtype=np.int64)
        used = 0
        for i, f in enumerate(fields[:, k].tolist()):
            used = _put_field(buffer, used, data, int(begins[f]), int(ends[f]))
            offs[i + 1] = used
        del buffer[used:]
        columns.append(buffer)
        offsets.append(offs)
    del data
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    out = {}
    for name, buffer, offs in zip(names, columns, offsets):
        arrow = pa.LargeStringArray.from_buffers(len(offs) - 1, pa.py_buffer(offs), pa.py_buffer(buffer))
        try:
            arrow.validate(full=True)  # UTF-8
        except pa.ArrowInvalid:
            raise _NotPlain from None
        out[name] = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arrow]), dtype=dtype), copy=False)
    return pd.DataFrame(out, copy=False)


def _delimiters(data: bytes, start: int) -> np.ndarray:
    """Positions of the commas and line ends outside quoted fields, found block by block."""
    view = np.frombuffer(data, dtype=np.uint8)
    found, quotes = [], 0
    for lo in range(start, len(data), BLOCK):
        block = view[lo:lo + BLOCK]
        quote = np.flatnonzero(block == QUOTE)
        delim = np.flatnonzero((block == COMMA) | (block == NEWLINE))
        outside = (quotes + np.searchsorted(quote, delim)) % 2 == 0
        found.append(delim[outside] + lo)
        quotes += len(quote)
    if quotes % 2:
        raise _NotPlain
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _field(data: bytes, begin: int, end: int) -> bytes:
    """One field's text as bytes (quotes removed, doubled quotes made single)."""
    out = bytearray(end - begin)
    del out[_put_field(out, 0, data, begin, end):]
    return bytes(out)


def _put_field(out: bytearray, at: int, data: bytes, begin: int, end: int) -> int:
    """Write the field data[begin:end] unquoted into `out` from `at` on, without copying it whole;
    returns where it ends. A spreadsheet-safe cell (`'=x`) loses its quote mark, as
    `corpus.read_text_csv` reads it. _NotPlain for a quote pandas would read differently (inside
    an unquoted field, or a lone one inside quotes)."""
    view = memoryview(data)
    if begin == end:
        return at
    quoted = data[begin] == QUOTE
    if quoted and (end - begin < 2 or data[end - 1] != QUOTE):
        raise _NotPlain
    pos, stop = (begin + 1, end - 1) if quoted else (begin, end)
    if not quoted and data.find(b'"', pos, stop) >= 0:
        raise _NotPlain
    if stop - pos > 1 and data[pos] == APOSTROPHE and data[pos + 1] in FORMULA_STARTS:
        pos += 1
    if not quoted:
        out[at:at + stop - pos] = view[pos:stop]
        return at + stop - pos
    while pos < stop:  # a block at a time: doubled quotes made single, a lone quote refused
        cut = min(stop, pos + BLOCK)
        piece = data[pos:cut]
        quotes = piece.count(b'"')
        if quotes % 2 and cut < stop:  # the block ends inside a run of quotes: take the next byte too
            cut += 1
            piece = data[pos:cut]
            quotes = piece.count(b'"')
        if quotes != 2 * piece.count(b'""'):
            raise _NotPlain
        if quotes:
            piece = piece.replace(b'""', b'"')
        out[at:at + len(piece)] = piece
        at += len(piece)
        pos = cut
    return at


def _turns_from_text(df: pd.DataFrame) -> pd.DataFrame | None:
    """`corpus.read_turns`' checks and dtypes on a CSV table read as text, without copying the text
    columns; None when a check fails (the caller reads the file with `corpus.read_turns`, whose
    messages name file and line)."""
    if any(c not in df.columns for c in corpus.TURNS_NEEDED):
        return None
    for col in ("turn", "line"):
        if col not in df.columns:
            continue
        values = pd.to_numeric(df[col].astype(str).replace("", "nan"), errors="coerce")
        if (values.isna() | (values % 1 != 0)).any():
            return None
        df[col] = values.astype("int64")
    if "timestamp" in df.columns:
        df["timestamp"] = pd.to_numeric(df["timestamp"].astype(str).replace("", "nan"),
                                        errors="coerce").astype("float64")
    order = [c for c in TURN_COLUMNS if c in df.columns] + [c for c in df.columns if c not in TURN_COLUMNS]
    df = df[order] if order != list(df.columns) else df
    rows = np.lexsort((df["turn"].to_numpy(), pd.factorize(df["transcript_id"], sort=True)[0]))
    if (rows != np.arange(len(df))).any():
        df = df.take(rows)
    return df.reset_index(drop=True)
