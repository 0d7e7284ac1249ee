"""Searchable, sortable HTML tables that work offline (inline script, no CDN), for the reports."""

from __future__ import annotations

import hashlib
import html

import pandas as pd

_SCRIPT = """
<script>
(function () {
  var box = document.getElementById("%(id)s");
  if (!box || box.dataset.ready) { return; }
  box.dataset.ready = "1";
  var table = box.querySelector("table"), body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var input = box.querySelector("input"), count = box.querySelector(".ipsw-count");
  function show() {
    var q = input.value.toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var hit = !q || r.textContent.toLowerCase().indexOf(q) !== -1;
      r.style.display = hit ? "" : "none"; if (hit) { n += 1; }
    });
    count.textContent = n + " of " + rows.length + " rows";
  }
  input.addEventListener("input", show);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.style.cursor = "pointer";
    th.title = "Click to sort";
    th.addEventListener("click", function () {
      var asc = th.dataset.sort !== "asc";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { delete h.dataset.sort; });
      th.dataset.sort = asc ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.v || a.cells[col].textContent;
        var y = b.cells[col].dataset.v || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y), r;
        if (!isNaN(nx) && !isNaN(ny) && String(nx) === x.trim() && String(ny) === y.trim()) { r = nx - ny; }
        else { r = x.localeCompare(y); }
        return asc ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  show();
})();
</script>
"""

_STYLE = """
<style>
.ipsw-table {max-height: 36em; overflow: auto; margin: .5em 0 1em 0;}
.ipsw-table table {border-collapse: collapse; font-size: 0.9em;}
.ipsw-table th {position: sticky; top: 0; background: #f0f0f0; text-align: left;}
.ipsw-table th, .ipsw-table td {padding: 3px 8px; border-bottom: 1px solid #ddd; vertical-align: top;}
.ipsw-table th[data-sort=asc]::after {content: " \\25B2";}
.ipsw-table th[data-sort=desc]::after {content: " \\25BC";}
.ipsw-table mark {background: #ffe08a; padding: 0 1px;}
.ipsw-tools {margin: .3em 0; font-size: 0.9em;}
.ipsw-tools input {width: 20em; padding: 2px 4px;}
</style>
"""


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


def _cell(value, is_html: bool) -> str:
    """One <td>: numbers carry a data-v for numeric sorting; text is escaped unless marked HTML."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<td></td>"
    if isinstance(value, float):
        shown = f"{value:.4g}"
        return f'<td data-v="{value!r}">{shown}</td>'
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f'<td data-v="{value}">{value}</td>'
    return f"<td>{value if is_html else html.escape(str(value))}</td>"


class InteractiveTable:
    """A DataFrame shown as a searchable, sortable HTML table (rendered by Jupyter and nbconvert)."""

    def __init__(self, df: pd.DataFrame, caption: str = "", html_columns=(), max_rows: int = 2000):
        self.df = df.head(max_rows)
        self.total = len(df)
        self.caption = caption
        self.html_columns = set(html_columns)

    def __repr__(self) -> str:
        """Plain-text form (no memory address, so executed notebooks stay the same run to run)."""
        return f"{self.caption or 'table'}: {self.total} rows x {self.df.shape[1]} columns"

    def _repr_html_(self) -> str:
        body_rows = []
        cols = list(self.df.columns)
        for row in self.df.itertuples(index=False, name=None):
            cells = "".join(_cell(v.item() if hasattr(v, "item") else v, c in self.html_columns)
                            for c, v in zip(cols, row))
            body_rows.append(f"<tr>{cells}</tr>")
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
        digest = hashlib.sha1(("|".join(map(str, cols)) + "".join(body_rows)).encode()).hexdigest()[:10]
        table_id = f"ipsw-{digest}"
        note = f" (first {len(self.df)} of {self.total})" if self.total > len(self.df) else ""
        caption = f"<caption style='caption-side: top; text-align: left'><b>{html.escape(self.caption)}</b>{note}</caption>" if self.caption else ""
        return (
            _STYLE
            + f'<div class="ipsw-table-wrap" id="{table_id}"><div class="ipsw-tools">'
            + '<input type="search" placeholder="Filter rows…" aria-label="Filter rows"> '
            + '<span class="ipsw-count"></span></div><div class="ipsw-table">'
            + f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
            + "</div></div>"
            + _SCRIPT % {"id": table_id}
        )


def interactive_table(df: pd.DataFrame, caption: str = "", html_columns=(), max_rows: int = 2000) -> InteractiveTable:
    """Wrap a DataFrame for display as a searchable, sortable table; `html_columns` hold ready HTML."""
    return InteractiveTable(df, caption=caption, html_columns=html_columns, max_rows=max_rows)
