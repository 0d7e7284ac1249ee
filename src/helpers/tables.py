"""Report tables: DataTables widgets (through itables, offline) and spreadsheet-safe CSV text.

`interactive_table` shows a DataFrame as a DataTables table built from a plain HTML <table> (every
row in the page, so nothing is ever left out and the table reads without JavaScript): paging,
search over all columns and per column, sorting on the raw values (numbers are shown rounded, a
"4 of 11" cell sorts by 4), text left-aligned, and Copy / CSV / Excel buttons that export the raw
values. The library (itables' offline bundle: DataTables, its Buttons and JSZip) is written once
per kernel, into the first table shown, so a report carries it once and loads nothing from the
internet.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import re

import pandas as pd

PAGE_LENGTH = 25  # rows per page unless a table asks for another number
LENGTH_MENU = [10, 25, 100, -1]  # page sizes offered; -1 is "All"
SIGNIFICANT = 3  # significant digits of a float shown (the raw value sorts and is exported)
N_OF_N = re.compile(r"^\s*(\d+) of (\d+)(?:\s*\(\d+(?:\.\d+)?\s*%\))?\s*$")  # "4 of 11", "4 of 11 (36%)"
# words of a snake_case column name written otherwise in a header ("g2" -> "G²"); "n" and "N" stay as they are
HEADER_WORDS = {"id": "ID", "ids": "IDs", "g2": "G²", "f1": "F1", "pmi": "PMI", "npmi": "NPMI", "bh": "BH",
                "csv": "CSV", "url": "URL", "10k": "10k"}
ALIGN_CLASSES = {"left": "dt-left", "center": "dt-center", "right": "dt-right"}
LIBRARY_MARK = "<!-- table library: itables offline bundle -->"  # starts library_html(): count it to check once per page
_library_written = False  # the itables bundle went out with an earlier table of this kernel

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula (OWASP)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that would start a formula are prefixed with `'` (OWASP's advice).

    Only text columns change; numbers stay numbers. Parquet files keep the raw text."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype != object and not isinstance(series.dtype, pd.StringDtype):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if risky.any():
            out[col] = series.where(~risky, "'" + text)
    if any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in out.columns):
        out.columns = [f"'{c}" if isinstance(c, str) and c.startswith(FORMULA_STARTS) else c for c in out.columns]
    return out


def csv_text(df: pd.DataFrame, index: bool = False) -> str:
    """A table as CSV text for a file the project writes: spreadsheet-safe, '\\n' line ends."""
    return spreadsheet_safe(df).to_csv(index=index, lineterminator="\n")


def unescape_formula(value):
    """Undo spreadsheet_safe on one cell read back from our own CSV (`'=x` -> `=x`)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def highlight_spans(text: str, spans) -> str:
    """Escape text for HTML and wrap each (start, end) character span in <mark>; overlaps are merged."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def header_label(name) -> str:
    """A column name as a header in words: 'p_adjusted' -> 'P adjusted', 'participant_id' ->
    'Participant ID', 'g2' -> 'G²', 'n_of_N' -> 'n of N'. A name with spaces or signs is kept as it
    is but for a capital first letter; a tuple (MultiIndex column) joins its parts with ' / '."""
    if isinstance(name, tuple):
        return " / ".join(header_label(part) for part in name if str(part) != "")
    text = str(name)
    words = text.split("_") if re.fullmatch(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*", text) else [text]
    out = []
    for i, word in enumerate(words):
        if word.lower() in HEADER_WORDS:
            out.append(HEADER_WORDS[word.lower()])
        elif word in ("n", "N") or i > 0:
            out.append(word)
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def _missing(value) -> bool:
    """True for None, NaN, NA and NaT (scalars only)."""
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def number_text(value) -> str:
    """A number for reading: whole numbers as they are, other floats to SIGNIFICANT digits but at least
    to the unit ('1.16e-05', '0.00402', '36.4', '1234'); '' when missing."""
    if _missing(value):
        return ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.{SIGNIFICANT}g}"
    return f"{number:.0f}" if "e+" in text else text


def _raw_number(value) -> str:
    """A number as JavaScript reads it back exactly (sorting and export); '' when missing."""
    if _missing(value):
        return ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    return ("Infinity" if number > 0 else "-Infinity") if math.isinf(number) else repr(number)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def column_kind(series: pd.Series, is_html: bool = False) -> str:
    """How a column is shown: 'html' (ready HTML), 'number' (rounded, sorted and exported raw),
    'n_of_N' ("4 of 11" cells, sorted by the 4) or 'text' (escaped)."""
    if is_html:
        return "html"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_complex_dtype(series):
        return "number"
    values = [v for v in series.tolist() if not _missing(v)]
    if values and all(_is_number(v) for v in values):
        return "number"
    filled = [v for v in values if not (isinstance(v, str) and not v.strip())]
    if filled and all(isinstance(v, str) and N_OF_N.match(v) for v in filled):
        return "n_of_N"
    return "text"


def _cell(value, kind: str) -> str:
    """One <td>. Numbers and "n of N" cells carry their sort key in data-order (DataTables reads it)."""
    if kind == "number":
        return f'<td data-order="{_raw_number(value)}">{number_text(value)}</td>'
    if _missing(value):
        return '<td data-order="-1"></td>' if kind == "n_of_N" else "<td></td>"
    if kind == "n_of_N":
        match = N_OF_N.match(str(value))
        return f'<td data-order="{match.group(1) if match else -1}">{html.escape(str(value))}</td>'
    if kind == "html":
        return f"<td>{value}</td>"
    return f"<td>{html.escape(number_text(value) if _is_number(value) else str(value))}</td>"


def _export_body(raw_columns) -> str:
    """JavaScript for Buttons' exportOptions.format.body: numbers exported raw (their data-order),
    text stripped of markup and made spreadsheet-safe as `spreadsheet_safe` does."""
    starts = "".join({"\t": "\\t", "\r": "\\r"}.get(c, "\\" + c) for c in FORMULA_STARTS)
    return ("function (data, row, column, node) {"
            f" if ({json.dumps(sorted(raw_columns))}.indexOf(column) >= 0) {{ return node.getAttribute('data-order'); }}"
            " var text = $.fn.dataTable.Buttons.stripData(data, {stripHtml: true, trim: true, stripNewlines: true,"
            " decodeEntities: true, escapeExcelFormula: false});"
            f" return /^[{starts}]/.test(text) ? \"'\" + text : text; }}")


def _file_name(caption: str) -> str:
    """The name a downloaded table gets: its caption in safe characters (at most 80), else 'table'."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", caption).strip("_")[:80]
    return name or "table"


_CSS = """
<style>
.ipsw-table {margin: .5em 0 1.5em 0; font-size: 0.9em;}
.ipsw-caption {font-weight: bold; margin: 0 0 .3em 0;}
.ipsw-table table.dataTable {width: auto; margin: 0;}
.ipsw-table table.dataTable td {vertical-align: top;}
.ipsw-table table.dataTable th.dt-left, .ipsw-table table.dataTable td.dt-left {text-align: left;}
.ipsw-table table.dataTable th.dt-center, .ipsw-table table.dataTable td.dt-center {text-align: center;}
.ipsw-table table.dataTable th.dt-right, .ipsw-table table.dataTable td.dt-right {text-align: right;}
.ipsw-table table.dataTable tfoot {display: table-header-group;}
.ipsw-table table.dataTable tfoot input {width: 100%; box-sizing: border-box; font-weight: normal; min-width: 4em;}
.ipsw-table mark {background: #ffe08a; padding: 0 1px;}
</style>
"""


def library_html() -> str:
    """The itables offline bundle (DataTables, Buttons, JSZip; ~1 MB as base64) and our table style:
    what a page needs once before its tables work."""
    from itables import options
    from itables.javascript import generate_init_offline_itables_html

    return LIBRARY_MARK + generate_init_offline_itables_html(options.dt_bundle) + _CSS


def _library_once() -> str:
    """library_html() the first time a table of this kernel is shown, '' afterwards."""
    global _library_written
    if _library_written:
        return ""
    _library_written = True
    return library_html()


def _table_script(table_id: str, options: dict) -> str:
    """The module script that turns the <table> into a DataTable once the bundle is loaded."""
    from itables.javascript import _itables_ready_event, _itables_underscore_version

    ready, event = _itables_underscore_version(), _itables_ready_event()
    settings = json.dumps(options).replace("</", "<\\/")  # no "</script>" can end the script early
    return (f'<script type="module">(() => {{ const init = async () => {{'
            f" const {{ ITable }} = await window.{ready};"
            f' const table = document.getElementById("{table_id}");'
            f' if (table && !table.classList.contains("dataTable")) {{ new ITable(table, {settings}); }} }};'
            f' if (window.{ready}) {{ init(); }} else {{ window.addEventListener("{event}", init); }} }})();</script>')


class InteractiveTable:
    """A DataFrame shown as a DataTables table (rendered by Jupyter and nbconvert, offline).

    `html_columns` hold ready HTML (highlighted quotes); every other cell is escaped. `align` maps
    columns to 'left', 'center' or 'right' (default: numbers right, text left); a frame's
    `attrs["align"]` does the same (kwic_display sets it). `max_rows` is the page length (every
    row is in the page; the reader pages through them); a named index is shown as columns.
    """

    def __init__(self, df: pd.DataFrame, caption: str = "", html_columns=(), max_rows: int | None = None,
                 align: dict | None = None):
        given_align = {**df.attrs.get("align", {}), **(align or {})}
        if any(name is not None for name in df.index.names):
            df = df.reset_index()
        self.df = df
        self.total = len(df)
        self.caption = caption
        self.html_columns = set(html_columns)
        self.page_length = max_rows or PAGE_LENGTH
        self.align = given_align
        wrong = sorted(f"{c}={a!r}" for c, a in self.align.items() if a not in ALIGN_CLASSES)
        if wrong:
            raise ValueError(f"align: {', '.join(wrong)}; use one of {', '.join(ALIGN_CLASSES)}")
        self.kinds = [column_kind(df.iloc[:, i], c in self.html_columns) for i, c in enumerate(df.columns)]

    def __repr__(self) -> str:
        """Plain-text form (no memory address, so executed notebooks stay the same run to run)."""
        return f"{self.caption or 'table'}: {self.total} rows x {self.df.shape[1]} columns"

    def table_html(self) -> tuple[str, str]:
        """(the <table> with every row, its id): content-derived id, so the same table gives the same HTML."""
        cols = list(self.df.columns)
        rows = ["<tr>" + "".join(_cell(v, k) for v, k in zip(row, self.kinds)) + "</tr>"
                for row in self.df.itertuples(index=False, name=None)]
        labels = [html.escape(header_label(c)) for c in cols]
        head = "".join(f"<th>{label}</th>" for label in labels)
        body = "\n".join(rows)
        digest = hashlib.sha1(f"{self.caption}|{head}|{body}".encode()).hexdigest()[:12]
        table_id = f"ipsw-{digest}"
        return (f'<table id="{table_id}" class="display compact"><thead><tr>{head}</tr></thead>'
                f"<tfoot><tr>{head}</tr></tfoot><tbody>\n{body}\n</tbody></table>"), table_id

    def datatable_options(self) -> dict:
        """DataTables options (through itables' ITable): paging, buttons exporting raw values, column
        search in the second header row, alignment classes."""
        by_class: dict[str, list[int]] = {}
        for i, (col, kind) in enumerate(zip(self.df.columns, self.kinds)):
            side = self.align.get(col, "right" if kind in ("number", "n_of_N") else "left")
            by_class.setdefault(ALIGN_CLASSES[side], []).append(i)
        column_defs = [{"targets": targets, "className": name} for name, targets in sorted(by_class.items())]
        raw = [i for i, kind in enumerate(self.kinds) if kind == "number"]
        export = {"exportOptions": {"format": {"body": _export_body(raw)}}, "title": None, "footer": False,
                  "filename": _file_name(self.caption)}
        buttons = [{"extend": "copyHtml5", **export}, {"extend": "csvHtml5", **export},
                   {"extend": "excelHtml5", **export}]
        small = self.total <= self.page_length
        sizes = sorted({*LENGTH_MENU[:-1], self.page_length})
        return {
            "classes": ["display", "compact"],
            "style": {"width": "auto", "margin": "0"},
            "order": [],
            "autoWidth": False,
            "pageLength": self.page_length,
            "lengthMenu": [[*sizes, -1], [*sizes, "All"]],
            "layout": {"topStart": "buttons", "topEnd": "search",
                       "bottomStart": "info" if small else ["pageLength", "info"],
                       "bottomEnd": None if small else "paging"},
            "language": {"search": "Search all columns:"},
            "buttons": buttons,
            "columnDefs": column_defs,
            "column_filters": "footer",
            "keys_to_be_evaluated": [["buttons", i, "exportOptions", "format", "body"] for i in range(len(buttons))],
        }

    def _repr_html_(self) -> str:
        table, table_id = self.table_html()
        caption = f'<div class="ipsw-caption">{html.escape(self.caption)}</div>' if self.caption else ""
        return (_library_once() + f'<div class="ipsw-table">{caption}{table}</div>'
                + _table_script(table_id, self.datatable_options()))


def interactive_table(df: pd.DataFrame, caption: str = "", html_columns=(), max_rows: int | None = None,
                      align: dict | None = None) -> InteractiveTable:
    """Wrap a DataFrame for display as a DataTables table; `html_columns` hold ready HTML, `max_rows`
    is the page length (no row is ever left out), `align` sets a column's alignment."""
    return InteractiveTable(df, caption=caption, html_columns=html_columns, max_rows=max_rows, align=align)
