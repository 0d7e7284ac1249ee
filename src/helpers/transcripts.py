"""Read transcripts in every common format into raw turns (txt/md, docx, vtt, srt, csv).

A reader turns one source file into `Transcript` objects: an id, the file's metadata (YAML
front matter, initials legend, header lines) and the turns in order, each with the speaker
label exactly as written, a timestamp in seconds (or None), the spoken text and the 1-based
line where it starts. Speaker resolution against participants.csv happens in helpers.corpus.

Nothing is lost: every non-blank line of a source is a label, metadata or part of exactly one
turn's text. Problems are collected and raised together as one InputError, one line each,
naming the file and line and what to do.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import html
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import paths
from .errors import InputError

TURN_COLUMNS = ["transcript_id", "turn", "speaker", "participant_id", "role", "group",
                "timestamp", "text", "source", "line"]
FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".vtt": "vtt",
           ".srt": "srt", ".csv": "csv"}
# Interviewer labels; "Interviewer N" stands for the label followed by a number (Interviewer 2, Interviewer2).
DEFAULT_INTERVIEWER_LABELS = ("Interviewer", "Interviewer N", "INT", "I", "Q", "Researcher",
                              "Facilitator", "Co-facilitator", "Moderator")
CSV_COLUMN_NAMES = {
    "text": ("text", "utterance", "utterance_text", "answer", "transcript", "content"),
    "speaker": ("speaker", "interlocutor", "role", "speaker_label", "name"),
    "transcript": ("transcript_id", "doc_id", "document_id", "transcript", "interview_id"),
    "time": ("timestamp", "time", "start", "start_time"),
}

# ----------------------------------------------------------------------------- patterns
# A label: starts with a capital letter, up to four words, each further word capitalised or a number.
NAME = r"[A-Z\u00C0-\u00DE][\w.'’\-]{0,40}(?:[ \t]+[A-Z0-9\u00C0-\u00DE][\w.'’\-]{0,40}){0,3}"
TS_CANDIDATE = r"\d{1,3}[:.][\w:.,]*"  # anything time-like; checked strictly by parse_timestamp
AFTER = r"(?::(?=\s|$))\s*(?P<rest>.*)$"  # colon followed by a space or the end of line, then speech
LABEL_PATTERNS = [
    re.compile(rf"^\*\*(?P<name>{NAME})\s*:\s*\*\*\s*(?P<rest>.*)$"),          # **Name:** text
    re.compile(rf"^\*\*(?P<name>{NAME})\s*\*\*\s*{AFTER}"),                    # **Name**: text
    re.compile(rf"^\[(?P<ts>{TS_CANDIDATE})\]\s*(?P<name>{NAME})\s*{AFTER}"),  # [00:01:23] Name: text
    re.compile(rf"^\(?(?P<ts>{TS_CANDIDATE})\)?\s+(?P<name>{NAME})\s*{AFTER}"),  # 00:01:23 Name: text
    re.compile(rf"^(?P<name>{NAME})\s*[\[(](?P<ts>{TS_CANDIDATE})[\])]\s*{AFTER}"),  # Name [00:01:23]: text
    re.compile(rf"^(?P<name>{NAME})\s*{AFTER}"),                               # Name: text
]
LEGEND_LINE = re.compile(r"^(?P<initials>[A-Z]{1,4}\d{0,2})\s*[-–—=]\s*(?P<who>\S.*)$")
TIME_RE = re.compile(r"^(?:(?P<h>\d{1,3}):)?(?P<m>\d{1,3}):(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,6}))?$")
VTT_TIMING = re.compile(r"^(?P<start>\S+)\s+-->\s+(?P<end>\S+)(?:\s+.*)?$")
VOICE_TAG = re.compile(r"<v(?:\.[\w.\-]+)?\s+(?P<name>[^>]+)>")
ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")
CUE_LABEL = re.compile(rf"^(?P<name>{NAME})\s*{AFTER}")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
SUPPORTED = "txt, md, docx, vtt, srt or csv"
HEADER_LINES_WARN = 3  # more header lines than this before the first label: warn that speech may be unlabelled


class IngestWarning(UserWarning):
    """A problem that does not stop ingestion (an unknown speaker allowed by the user, a long header)."""


@dataclass
class Transcript:
    """One transcript as read from its source, before speaker resolution."""

    transcript_id: str
    source: str
    turns: list[dict] = field(default_factory=list)  # speaker, timestamp, text, line
    metadata: dict = field(default_factory=dict)  # YAML front matter (or CSV/document properties)
    legend: dict[str, str] = field(default_factory=dict)  # initials -> who, from a legend at the top
    header: list[tuple[int, str]] = field(default_factory=list)  # lines before the first label
    labelled: bool = True  # False when the source has no speaker labels at all (one speaker)
    format: str = "txt"
    warnings: list[str] = field(default_factory=list)  # non-fatal problems (file:line messages), in line order
    doubtful: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason): label-like speech
    headings: list[tuple[int, str]] = field(default_factory=list)  # headings inside the transcript (not speech)
    preamble: list[tuple[int, str]] = field(default_factory=list)  # front matter up to a BEGIN TRANSCRIPT marker
    encoding: str = ""  # what the bytes were decoded as: utf-8, utf-8-sig, utf-16, cp1252 ("" for docx)


# ----------------------------------------------------------------------------- small parts
def parse_timestamp(value: str) -> float:
    """Seconds from 'hh:mm:ss', 'mm:ss' or either with a fraction ('00:01:02.5', '00:01:02,500')."""
    m = TIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    hours = int(m["h"]) if m["h"] else 0
    minutes, seconds = int(m["m"]), int(m["s"])
    if seconds > 59 or (m["h"] and minutes > 59):
        raise ValueError(value)
    fraction = float("0." + m["f"]) if m["f"] else 0.0
    return hours * 3600 + minutes * 60 + seconds + fraction


def _bad_time(shown: str, line: int, value: str) -> str:
    return (f"{shown}:{line}: malformed timestamp {value!r}; write hh:mm:ss or mm:ss "
            f"(optionally with a fraction, e.g. 00:01:23.5)")


def _seconds(stamp: str | None, shown: str, line: int, problems: list[str], numeric: bool = False) -> float | None:
    """Seconds of a turn's timestamp, None when it has none; a malformed one is added to `problems`.
    `numeric`: plain seconds ('83.5') are read too."""
    if not stamp:
        return None
    try:
        return parse_timestamp(stamp)
    except ValueError:
        pass
    if numeric:
        try:
            return float(stamp)
        except ValueError:
            pass
    problems.append(_bad_time(shown, line, stamp))
    return None


# control characters other than tab and line/page breaks: a few are tolerated, many mean binary data
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same result, faster

def _line_of_offset(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset (LF, CRLF or CR line ends)."""
    head = data[:offset]
    return head.count(b"\n") + head.replace(b"\r\n", b"\n").count(b"\r") + 1


def decode(data: bytes, shown: str) -> str:
    """Bytes -> text: UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern) or Windows-1252; NFC."""
    if not data.strip():
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    encoding, body = None, data
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8", data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        half = max(len(data) // 2, 1)
        if odd > 0.3 * half and even == 0:
            encoding = "utf-16-le"
        elif even > 0.3 * half and odd == 0:
            encoding = "utf-16-be"
        else:
            raise InputError(f"{shown}: binary file, not a transcript; give a {SUPPORTED} file")
    if encoding:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{shown}:{_line_of_offset(body, exc.start)}: undecodable bytes for "
                             f"{encoding.upper()}; re-save the file as UTF-8") from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            bad = sorted(set(data) & CP1252_UNDEFINED)
            if bad:
                pos = min(data.index(bytes([b])) for b in bad)
                raise InputError(f"{shown}:{_line_of_offset(data, pos)}: undecodable byte 0x{data[pos]:02X} "
                                 f"(not UTF-8, UTF-16 or Windows-1252); re-save the file as UTF-8") from None
            text = data.decode("cp1252")
    controls = len(CONTROL_CHARS.findall(text))
    if "\x00" in text or controls > max(3, len(text) // 100):
        raise InputError(f"{shown}: binary file, not a transcript; give a {SUPPORTED} file")
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    return text


def split_lines(text: str) -> list[str]:
    """Lines of a text with LF, CRLF or CR line ends (no other characters split a line)."""
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def front_matter(lines: list[str], shown: str) -> tuple[dict, int]:
    """YAML front matter ('---' … '---' at the top) -> (mapping, number of lines it takes)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise InputError(f"{shown}:1: YAML front matter is not closed; end it with a line '---'")
    try:
        meta = yaml.load("\n".join(lines[1:end]), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{shown}:{mark.line + 2}" if mark is not None else f"{shown}:1"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{at}: YAML front matter: {problem}; fix the YAML between the '---' lines") from None
    if not isinstance(meta, dict):
        raise InputError(f"{shown}:1: YAML front matter must be 'key: value' lines")
    return meta, end + 1


def read_legend(numbered: list[tuple[int, str]]) -> tuple[dict[str, str], int]:
    """An initials legend at the top ('AB - Full Name' lines, two or more) -> (initials -> who, lines used)."""
    legend, used = {}, 0
    for i, (_, line) in enumerate(numbered):
        if not line.strip():
            continue
        m = LEGEND_LINE.match(line.strip())
        if not m:
            break
        legend[m["initials"]] = m["who"].strip()
        used = i + 1
    return (legend, used) if len(legend) >= 2 else ({}, 0)


@functools.lru_cache(maxsize=32)
def _legend_label(initials: tuple[str, ...]) -> re.Pattern:
    """A line starting with one of a legend's initials (longest first), with or without a colon."""
    return re.compile(r"^(?P<name>" + "|".join(map(re.escape, sorted(initials, key=len, reverse=True)))
                      + r")(?:\s*:(?=\s|$)|(?=\s)|$)\s*(?P<rest>.*)$")


def match_label(line: str, legend: dict[str, str] | None = None):
    """(speaker, timestamp text or None, rest of line) when a line starts with a speaker label, else None."""
    stripped = line.strip()
    if not stripped:
        return None
    if legend:
        m = _legend_label(tuple(legend)).match(stripped)
        if m:
            return m["name"], None, m["rest"]
    for pattern in LABEL_PATTERNS:
        m = pattern.match(stripped)
        if m:
            name = re.sub(r"\s+", " ", m["name"]).strip()
            return name, m.groupdict().get("ts"), m["rest"]
    return None


# ----------------------------------------------------------------------------- labelled lines -> turns
def parse_lines(numbered: list[tuple[int, str]], shown: str, legend: dict[str, str] | None = None):
    """Numbered lines of speech -> (turns, header lines, labelled?). Unlabelled lines continue the turn."""
    problems, turns, header = [], [], []
    matches = [match_label(text, legend) for _, text in numbered]
    if not any(matches):
        paragraph = None
        for (line, text) in numbered:
            if not text.strip():
                paragraph = None
            elif paragraph is None:
                paragraph = {"speaker": "", "timestamp": None, "text": text.strip(), "line": line}
                turns.append(paragraph)
            else:
                paragraph["text"] += "\n" + text.strip()
        return turns, header, False
    current = None
    for (line, text), found in zip(numbered, matches):
        if not text.strip():
            continue
        if found:
            speaker, ts, rest = found
            current = {"speaker": speaker, "timestamp": _seconds(ts, shown, line, problems), "text": rest.strip(),
                       "line": line}
            turns.append(current)
        elif current is None:
            header.append((line, text.strip()))
        else:
            current["text"] = (current["text"] + "\n" + text.strip()) if current["text"] else text.strip()
    if problems:
        raise InputError(problems)
    return turns, header, True


def _transcript_id(meta: dict, stem: str) -> str:
    """The id a transcript gives itself in its metadata (`transcript_id`), else the file stem."""
    return str(meta.get("transcript_id", stem)).strip() or stem


def read_text_lines(numbered: list[tuple[int, str]], shown: str, stem: str, fmt: str) -> Transcript:
    """Numbered plain-text lines (txt, md, a docx's paragraphs, a CSV document cell) -> one Transcript."""
    meta, used = front_matter([t for _, t in numbered], shown)
    legend, legend_used = read_legend(numbered[used:])
    numbered = numbered[used + legend_used:]
    if not any(t.strip() for _, t in numbered):
        raise InputError(f"{shown}: no transcript text after the front matter; add the transcript or remove the file")
    turns, header, labelled = parse_lines(numbered, shown, legend)
    return Transcript(_transcript_id(meta, stem), shown, turns, meta, legend, header, labelled, fmt)


# ----------------------------------------------------------------------------- formats
def read_txt(path: Path, shown: str, data: bytes | None = None, fmt: str = "txt") -> list[Transcript]:
    """Plain text or Markdown with speaker labels (or none: one speaker's paragraphs)."""
    text = decode(path.read_bytes() if data is None else data, shown)
    return [read_text_lines(list(enumerate(split_lines(text), start=1)), shown, path.stem, fmt)]


def _docx_blocks(doc):
    """Paragraphs and tables of a Word document's body, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, doc)
        elif tag == "tbl":
            yield Table(child, doc)


def _row_cells(row) -> list[str]:
    """Text of each distinct cell of a table row (merged cells counted once), NFC, paragraphs joined by newline."""
    seen, texts = set(), []
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        texts.append(unicodedata.normalize("NFC", "\n".join(p.text for p in cell.paragraphs)).strip())
    return texts


HEADER_WORDS = {
    "speaker": {"speaker", "name", "who", "participant", "role", "interlocutor", "person"},
    "text": {"text", "transcript", "utterance", "speech", "content", "dialogue", "transcription", "what was said"},
    "time": {"time", "timestamp", "start", "timecode", "time code", "start time"},
}


def _table_layout(first: list[str]) -> tuple[dict[str, int] | None, bool]:
    """Column positions of speaker, text and time from a header row (True) or the column count (False)."""
    names = [c.strip().strip(":").lower() for c in first]
    found = {key: names.index(w) for key, words in HEADER_WORDS.items() for w in words if w in names}
    if "speaker" in found and "text" in found:
        return found, True
    if len(first) == 2:
        return {"speaker": 0, "text": 1}, False
    if len(first) == 3:
        if _is_time(first[0].strip("[]() ")):
            return {"time": 0, "speaker": 1, "text": 2}, False
        if _is_time(first[1].strip("[]() ")):
            return {"speaker": 0, "time": 1, "text": 2}, False
    return None, False


def _is_time(value: str) -> bool:
    """True when `parse_timestamp` reads `value`."""
    try:
        parse_timestamp(value)
        return True
    except ValueError:
        return False


def read_docx(path: Path, shown: str, data: bytes | None = None) -> list[Transcript]:
    """Word .docx: labelled paragraphs, and/or tables (speaker | text, optionally a time column).

    `line` counts paragraph lines and table rows in document order (1-based)."""
    import zipfile

    import docx

    raw = path.read_bytes() if data is None else data
    if not raw.strip():
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    try:
        doc = docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{shown}: cannot open as a Word .docx document ({exc}); "
                         f"save it from Word as .docx or export it as .txt") from None
    problems: list[str] = []
    rows: list[tuple[int, dict]] = []  # (line, utterance) from tables
    line = 0  # paragraph lines and table rows, numbered in document order
    para_lines: list[tuple[int, str]] = []
    for block in _docx_blocks(doc):
        if hasattr(block, "rows"):
            table_rows = [_row_cells(r) for r in block.rows]
            if not table_rows:
                continue
            layout, has_header = _table_layout(table_rows[0])
            if layout is None:
                line += 1
                problems.append(f"{shown}:{line}: table with {len(table_rows[0])} columns; lay a transcript table "
                                f"out as speaker | text or time | speaker | text (a header row may name them)")
                line += len(table_rows) - 1
                continue
            for k, cells in enumerate(table_rows):
                line += 1
                if k == 0 and has_header:
                    continue
                get = lambda key: cells[layout[key]] if key in layout and layout[key] < len(cells) else ""  # noqa: E731
                text, speaker, stamp = get("text"), get("speaker").rstrip(":").strip(), get("time").strip("[]() ")
                if not text and not speaker:
                    continue
                rows.append((line, {"speaker": speaker, "timestamp": _seconds(stamp, shown, line, problems),
                                    "text": text, "line": line}))
        else:
            text = unicodedata.normalize("NFC", block.text)
            for part in split_lines(text) or [""]:
                line += 1
                para_lines.append((line, part))
    if problems:
        raise InputError(problems)
    meta = {k: v for k in ("title", "subject", "comments") if (v := getattr(doc.core_properties, k, ""))}
    if not rows:
        if not any(t.strip() for _, t in para_lines):
            raise InputError(f"{shown}: empty document (no paragraphs or table rows with text); "
                             f"add the transcript or remove the file")
        transcript = read_text_lines(para_lines, shown, path.stem, "docx")
        transcript.metadata = {**meta, **transcript.metadata}
        return [transcript]
    # A table transcript: paragraphs around it are header notes; empty speaker cells continue a turn.
    turns: list[dict] = []
    for _, utt in rows:
        if not utt["speaker"] and turns:
            turns[-1]["text"] = "\n".join(t for t in (turns[-1]["text"], utt["text"]) if t)
        else:
            turns.append(utt)
    header = [(n, t.strip()) for n, t in para_lines if t.strip()]
    fm, _ = front_matter([t for _, t in para_lines], shown)
    labelled = any(t["speaker"] for t in turns)
    return [Transcript(_transcript_id(fm, path.stem), shown, turns, {**meta, **fm}, {}, header, labelled, "docx")]


def _cue_blocks(lines: list[str]):
    """(first line number, lines) of each blank-line-separated block."""
    block, start = [], 0
    for i, text in enumerate(lines, start=1):
        if text.strip():
            if not block:
                start = i
            block.append(text)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _cue_speaker(text: str) -> tuple[str | None, str]:
    """Speaker and plain text of one cue line: `<v Name>text</v>` or `Name: text` (or no speaker)."""
    speaker = None
    m = VOICE_TAG.search(text)
    if m:
        speaker = m["name"].strip()
    plain = html.unescape(ANY_TAG.sub("", text)).strip()
    if speaker is None:
        m = CUE_LABEL.match(plain)
        if m:
            speaker, plain = re.sub(r"\s+", " ", m["name"]), m["rest"].strip()
    return speaker, plain


def read_subtitles(path: Path, shown: str, data: bytes | None = None, fmt: str = "vtt") -> list[Transcript]:
    """WebVTT or SubRip: cue text `Name: text` or `<v Name>`; consecutive cues of one speaker merge."""
    text = decode(path.read_bytes() if data is None else data, shown)
    lines = split_lines(text)
    problems, turns, meta = [], [], {}
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError(f"{shown}:1: a WebVTT file must start with 'WEBVTT'; check the format or rename the file")
    current, any_label = None, False
    for start, block in _cue_blocks(lines):
        first = block[0].strip()
        if fmt == "vtt" and (first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION"))):
            if first.startswith("NOTE"):
                meta.setdefault("notes", []).append("\n".join(block)[4:].strip())
            continue
        timing_at = next((k for k, t in enumerate(block[:2]) if "-->" in t), None)
        if timing_at is None:
            problems.append(f"{shown}:{start}: cue without a timing line ('00:00:01.000 --> 00:00:04.000'); "
                            f"fix the cue or remove it")
            continue
        m = VTT_TIMING.match(block[timing_at].strip())
        stamps = (m["start"], m["end"]) if m else (block[timing_at].split("-->")[0].strip(),)
        bad = next((s for s in stamps if not _is_time(s)), None)
        if bad is not None:
            problems.append(_bad_time(shown, start + timing_at, bad))
            continue
        seconds = parse_timestamp(stamps[0])
        for k, cue_line in enumerate(block[timing_at + 1:], start=start + timing_at + 1):
            speaker, plain = _cue_speaker(cue_line)
            if speaker is not None:
                any_label = True
            if not plain and speaker is None:
                continue
            if current is not None and (speaker is None or speaker == current["speaker"]):
                current["text"] = " ".join(t for t in (current["text"], plain) if t)
            else:
                current = {"speaker": speaker or "", "timestamp": seconds, "text": plain, "line": k}
                turns.append(current)
    if problems:
        raise InputError(problems)
    if not turns:
        raise InputError(f"{shown}: no cues with text; add the transcript or remove the file")
    return [Transcript(path.stem, shown, turns, meta, {}, [], any_label, fmt)]


def _pick_column(header: list[str], chosen: str | None, kind: str, shown: str, problems: list[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if chosen:
        if chosen.strip().lower() in lowered:
            return lowered.index(chosen.strip().lower())
        problems.append(f"{shown}:1: no column {chosen!r} (--csv-{kind}); columns are: {', '.join(header)}")
        return None
    for name in CSV_COLUMN_NAMES[kind]:
        if name in lowered:
            return lowered.index(name)
    return None


def read_csv(path: Path, shown: str, data: bytes | None = None, columns: dict | None = None) -> list[Transcript]:
    """CSV, one row per utterance (a speaker column) or one row per document (text holds a whole transcript)."""
    columns = columns or {}
    text = decode(path.read_bytes() if data is None else data, shown)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file") from None
    problems: list[str] = []
    idx = {kind: _pick_column(header, columns.get(kind), kind, shown, problems) for kind in CSV_COLUMN_NAMES}
    if idx["text"] is None and not problems:
        problems.append(f"{shown}:1: no text column (looked for {', '.join(CSV_COLUMN_NAMES['text'])}); "
                        f"name it with --csv-text")
    if problems:
        raise InputError(problems)
    per_doc = idx["speaker"] is None
    transcripts: dict[str, Transcript] = {}
    last_line = reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue

            def cell(kind: str) -> str:
                i = idx[kind]
                return unicodedata.normalize("NFC", cells[i]).strip() if i is not None and i < len(cells) else ""

            tid = cell("transcript") or path.stem
            body = cell("text")
            if per_doc:
                if not body:
                    continue
                sub = read_text_lines(list(enumerate(split_lines(body), start=line)), shown, tid, "csv")
                if tid in transcripts:
                    problems.append(f"{shown}:{line}: transcript {tid!r} appears in more than one row; "
                                    f"give one row per document or add a speaker column")
                    continue
                transcripts[tid] = sub
                continue
            speaker = cell("speaker").rstrip(":").strip()
            seconds = _seconds(cell("time"), shown, line, problems, numeric=True)
            if not body and not speaker:
                continue
            doc = transcripts.setdefault(tid, Transcript(tid, shown, format="csv"))
            if not speaker and doc.turns:
                doc.turns[-1]["text"] = "\n".join(t for t in (doc.turns[-1]["text"], body) if t)
            else:
                doc.turns.append({"speaker": speaker, "timestamp": seconds, "text": body, "line": line})
    except csv.Error as exc:
        problems.append(f"{shown}:{reader.line_num}: CSV error: {exc}; check quoting (double a quote inside a quoted cell)")
    if problems:
        raise InputError(problems)
    if not transcripts:
        raise InputError(f"{shown}: no rows with text; add the transcript or remove the file")
    if not per_doc:
        for doc in transcripts.values():
            doc.labelled = any(t["speaker"] for t in doc.turns)
    return list(transcripts.values())


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The reader for a file: `fmt` when given, else from the extension."""
    if fmt != "auto":
        return fmt
    return FORMATS.get(path.suffix.lower(), "")


def read_transcript(path: str | Path, fmt: str = "auto", csv_columns: dict | None = None) -> list[Transcript]:
    """Read one transcript file (any supported format) -> list of Transcript (a CSV may hold several)."""
    path = Path(path)
    shown = paths.relative(path)
    kind = detect_format(path, fmt)
    if not path.is_file():
        raise InputError(f"{shown}: file not found")
    if kind in ("txt", "md"):
        return read_txt(path, shown, fmt=kind)
    if kind == "docx":
        return read_docx(path, shown)
    if kind in ("vtt", "srt"):
        return read_subtitles(path, shown, fmt=kind)
    if kind == "csv":
        return read_csv(path, shown, columns=csv_columns)
    raise InputError(f"{shown}: unknown transcript format {path.suffix!r}; use {SUPPORTED} "
                     f"(or --format to say which)")


def _excluded(name: str, exclude) -> str | None:
    """The pattern of `exclude` (names or glob patterns) that a file name relative to its folder matches."""
    return next((pat for pat in exclude if fnmatch.fnmatchcase(name, pat) or name == pat), None)


def _scan_folder(folder: Path, fmt: str, exclude) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(transcript files, [(skipped file, reason)]) directly inside `folder`, sorted by name."""
    kept, skipped = [], []
    for f in sorted(x for x in folder.iterdir() if x.is_file()):
        pattern = _excluded(f.name, exclude)
        if f.name.startswith((".", "~$")):
            skipped.append((f, "hidden or temporary file"))
        elif pattern is not None:
            skipped.append((f, f"excluded ({pattern})"))
        elif fmt == "auto" and f.suffix.lower() not in FORMATS:
            skipped.append((f, f"unsupported extension {f.suffix.lower() or '(none)'!r}; supported: {SUPPORTED}"))
        else:
            kept.append(f)
    return kept, skipped


def _sources(sources) -> list:
    return [sources] if isinstance(sources, (str, Path)) else list(sources)


def transcript_files(sources, fmt: str = "auto", exclude=()) -> list[Path]:
    """Files named, plus the supported files inside folders named (not hidden, not `exclude`d; sorted).

    `exclude`: file names or glob patterns ('*.pdf') matched against names inside a folder."""
    found, problems = [], []
    for src in _sources(sources):
        p = paths.resolve(src)
        if p.is_dir():
            inside, _ = _scan_folder(p, fmt, exclude)
            if not inside:
                problems.append(f"{paths.relative(p)}: no transcripts ({SUPPORTED}) in this folder")
            found.extend(inside)
        elif p.is_file():
            found.append(p)
        else:
            problems.append(f"{paths.relative(p)}: no such file or folder")
    if problems:
        raise InputError(problems)
    return found


def skipped_files(sources, fmt: str = "auto", exclude=()) -> list[tuple[Path, str]]:
    """(file, reason) for each file inside the folders named that `transcript_files` leaves out."""
    skipped = []
    for src in _sources(sources):
        p = paths.resolve(src)
        if p.is_dir():
            skipped.extend(_scan_folder(p, fmt, exclude)[1])
    return skipped


def _warn_about_header(doc: Transcript) -> None:
    """Warn when text outside the turns could be unlabelled speech (a long header, notes after a table)."""
    if not doc.header or not doc.turns:
        return
    after = [n for n, _ in doc.header if n > doc.turns[0]["line"]]
    if after:
        warnings.warn(f"{doc.source}:{after[0]}: {len(after)} paragraph(s) outside the transcript table read as notes, "
                      f"not speech; put speech in the table", IngestWarning, stacklevel=3)
    elif len(doc.header) > HEADER_LINES_WARN:
        warnings.warn(f"{doc.source}:{doc.header[0][0]}: {len(doc.header)} lines before the first speaker label read "
                      f"as a header, not speech; label them or move them into the YAML front matter",
                      IngestWarning, stacklevel=3)


def read_transcripts(sources, fmt: str = "auto", csv_columns: dict | None = None, exclude=()) -> list[Transcript]:
    """Read every transcript under `sources` (files or folders); every problem in every file at once.

    `exclude`: file names or glob patterns to skip inside folders (see `skipped_files`).
    Two sources giving the same transcript id are an error (rename one or set `transcript_id`)."""
    problems, out, first = [], [], {}
    for path in transcript_files(sources, fmt, exclude):
        try:
            docs = read_transcript(path, fmt, csv_columns)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for doc in docs:
            _warn_about_header(doc)
            if doc.transcript_id in first:
                problems.append(f"{doc.source}: duplicate transcript id {doc.transcript_id!r}, also read from "
                                f"{first[doc.transcript_id]}; rename one file or set transcript_id in its front matter")
                continue
            first[doc.transcript_id] = doc.source
            out.append(doc)
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda d: d.transcript_id)
