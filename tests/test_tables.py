"""Searchable, sortable offline HTML tables and highlighted matches."""

from __future__ import annotations

import pandas as pd

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
