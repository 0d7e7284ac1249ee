"""Searchable, sortable offline HTML tables and highlighted matches."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from helpers import tables


def test_highlight_spans_escapes_and_merges_overlaps():
    text = "pain & <fatigue> pain"
    out = tables.highlight_spans(text, [(0, 4), (2, 6), (17, 21)])
    assert out == "<mark>pain &amp;</mark> &lt;fatigue&gt; <mark>pain</mark>"


def test_interactive_table_html_has_filter_sort_script_and_no_external_source():
    df = pd.DataFrame({"term": ["pain", "<b>x</b>"], "n": [3, 10], "share": [0.25, 0.5]})
    html = tables.interactive_table(df, caption="Key terms")._repr_html_()
    assert '<input type="search"' in html and "localeCompare" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html  # text is escaped unless declared HTML
    assert '<td data-v="10">10</td>' in html and '<td data-v="0.25">0.25</td>' in html
    assert "src=" not in html
    assert html == tables.interactive_table(df, caption="Key terms")._repr_html_()


def test_interactive_table_notes_truncation_and_has_a_stable_text_repr():
    df = pd.DataFrame({"a": range(5)})
    table = tables.interactive_table(df, caption="Rows", max_rows=2)
    assert "(first 2 of 5)" in table._repr_html_()
    assert repr(table) == "Rows: 5 rows x 1 columns"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_filter_and_sort_work_in_a_real_browser(tmp_path):
    df = pd.DataFrame({"term": ["pain", "work", "placement"], "n": [3, 10, 2]})
    page = tmp_path / "t.html"
    page.write_text("<html><body>" + tables.interactive_table(df, caption="t")._repr_html_() + """<script>
var box = document.querySelector('.ipsw-table-wrap'); var inp = box.querySelector('input');
inp.value = 'PLA'; inp.dispatchEvent(new Event('input'));
var th = box.querySelectorAll('th')[1]; th.click(); th.click();
document.title = box.querySelector('.ipsw-count').textContent + '|' + Array.prototype.map.call(
  box.querySelectorAll('tbody tr'), function (r) { return r.cells[0].textContent + ':' + r.style.display; }).join(',');
</script></body></html>""", encoding="utf-8")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>(.*)</title>", proc.stdout).group(1)
    # filtered to one row (case-insensitive), then sorted by n descending after two clicks
    assert title == "1 of 3 rows|work:none,pain:none,placement:"
