"""Report tables (DataTables through itables, offline), highlighted matches and the KWIC layout."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers import keywords as kw
from helpers import tables


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch):
    """Each test starts as a new kernel would: the library not yet written."""
    monkeypatch.setattr(tables, "_library_written", False)


def body_rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1])


def test_highlight_spans_escapes_and_merges_overlaps():
    text = "pain & <fatigue> pain"
    out = tables.highlight_spans(text, [(0, 4), (2, 6), (17, 21)])
    assert out == "<mark>pain &amp;</mark> &lt;fatigue&gt; <mark>pain</mark>"


def test_library_goes_out_once_per_kernel_and_loads_nothing_from_the_internet():
    df = pd.DataFrame({"term": ["pain"], "n": [3]})
    first = tables.interactive_table(df, caption="A")._repr_html_()
    second = tables.interactive_table(df, caption="B")._repr_html_()
    assert first.count(tables.LIBRARY_MARK) == 1 and tables.LIBRARY_MARK not in second
    assert len(first) > 500_000 and len(second) < 5_000  # the bundle once, then only the table
    for page in (first, second):
        assert not re.search(r"<(script|link)\b[^>]*\b(src|href)=[\"']?https?:", page)
    assert second == tables.interactive_table(df, caption="B")._repr_html_()  # same table, same HTML


def test_text_is_escaped_html_columns_are_not_and_the_caption_is_escaped():
    df = pd.DataFrame({"text": ["<script>alert(1)</script>"], "quote": ["a <mark>pain</mark>"]})
    page = tables.interactive_table(df, caption="<b>c</b>", html_columns=["quote"])._repr_html_()
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>a <mark>pain</mark></td>" in page
    assert '<div class="ipsw-caption">&lt;b&gt;c&lt;/b&gt;</div>' in page
    assert "<script>alert" not in page


def test_every_row_of_a_5000_row_table_is_in_the_page():
    df = pd.DataFrame({"i": np.arange(5000), "text": [f"row {i} " + "x" * 40 for i in range(5000)]})
    table = tables.interactive_table(df, caption="Big")
    page = table._repr_html_()
    rows = body_rows(page)
    assert len(rows) == 5000 and "row 4999 " in rows[-1]
    assert table.datatable_options()["pageLength"] == tables.PAGE_LENGTH
    assert "maxBytes" not in page and "downsampl" not in page.split(tables.LIBRARY_MARK)[0]
    assert tables.interactive_table(df, max_rows=100).datatable_options()["pageLength"] == 100


@pytest.mark.parametrize("value, shown", [
    (1.16e-05, "1.16e-05"), (0.00402, "0.00402"), (0.475832, "0.476"), (100.0, "100"), (36.4, "36.4"),
    (102.4, "102"), (93, "93"), (1234.5678, "1235"), (999.96, "1000"), (-1.23456, "-1.23"), (np.nan, ""),
    (np.int64(12345), "12345"), (float("inf"), "∞")])
def test_numbers_are_rounded_for_reading(value, shown):
    assert tables.number_text(value) == shown


def test_numbers_sort_and_export_by_their_raw_value_and_n_of_N_by_n():
    df = pd.DataFrame({"p_value": [0.00402, 1.16e-05, np.nan], "n_of_N": ["11 of 11", "4 of 11 (36%)", ""],
                       "term": ["a", "b", "c"]})
    table = tables.interactive_table(df)
    rows = body_rows(table._repr_html_())
    assert rows[0] == '<td data-order="0.00402">0.00402</td><td data-order="11">11 of 11</td><td>a</td>'
    assert rows[1] == '<td data-order="1.16e-05">1.16e-05</td><td data-order="4">4 of 11 (36%)</td><td>b</td>'
    assert rows[2] == '<td data-order=""></td><td data-order="-1"></td><td>c</td>'
    assert table.kinds == ["number", "n_of_N", "text"]
    options = table.datatable_options()
    assert options["columnDefs"] == [{"targets": [2], "className": "dt-left"},
                                     {"targets": [0, 1], "className": "dt-right"}]
    body = options["buttons"][1]["exportOptions"]["format"]["body"]
    assert options["buttons"][1]["extend"] == "csvHtml5" and "[0].indexOf(column)" in body
    assert [b["extend"] for b in options["buttons"]] == ["copyHtml5", "csvHtml5", "excelHtml5"]
    assert options["column_filters"] == "footer" and options["order"] == []


def test_mixed_object_columns_and_named_indexes():
    df = pd.DataFrame({"v": [1, 2.5, None], "w": ["x", 3, None]}, dtype=object).rename_axis("group")
    table = tables.interactive_table(df)
    assert list(table.df.columns) == ["group", "v", "w"] and table.kinds == ["number", "number", "text"]
    assert body_rows(table._repr_html_())[1] == '<td data-order="1">1</td><td data-order="2.5">2.5</td><td>3</td>'
    unnamed = pd.DataFrame({"a": [1, 2]}, index=[5, 7])
    assert list(tables.interactive_table(unnamed).df.columns) == ["a"]


@pytest.mark.parametrize("name, header", [
    ("p_adjusted", "P adjusted"), ("log_ratio", "Log ratio"), ("participant_id", "Participant ID"),
    ("g2", "G²"), ("n_of_N", "n of N"), ("n", "n"), ("N", "N"), ("per_10k", "Per 10k"), ("% words", "% words"),
    ("Key terms (G²)", "Key terms (G²)"), ("client (human)", "Client (human)"), (("count", "client"), "Count / Client")])
def test_headers_read_as_words(name, header):
    assert tables.header_label(name) == header


def test_alignment_from_the_frame_and_a_wrong_value_is_one_message():
    df = pd.DataFrame({"a": ["x"], "b": ["y"]})
    df.attrs["align"] = {"a": "right"}
    options = tables.interactive_table(df, align={"b": "center"}).datatable_options()
    assert options["columnDefs"] == [{"targets": [1], "className": "dt-center"},
                                     {"targets": [0], "className": "dt-right"}]
    with pytest.raises(ValueError, match=r"^align: a='middle'; use one of left, center, right$"):
        tables.interactive_table(df, align={"a": "middle"})


def test_stable_text_repr():
    table = tables.interactive_table(pd.DataFrame({"a": range(5)}), caption="Rows")
    assert repr(table) == "Rows: 5 rows x 1 columns"


KWIC_SEGMENT = pd.DataFrame({"segment_id": ["T1:4"], "participant_id": ["C01"], "group": ["client"],
                             "text": ['So I told my employer "I might need a day off" and he said fine.']})


def test_kwic_shows_left_keyword_right_exactly_as_in_the_source():
    # the old display joined left + match + right and guessed the spaces: a '"' after the keyword
    # was taken for a closing quote, so 'employer "I might' came out as 'employer"I might'
    shown = kw.kwic_display(kw.kwic(KWIC_SEGMENT, "employer", window=3))
    assert shown[["left context", "keyword", "right context"]].values.tolist() == [
        ["I told my", "employer", '"I might need']]
    assert shown.attrs["align"] == {"left context": "right", "keyword": "center"}
    page = tables.interactive_table(shown, html_columns=["line"])._repr_html_()
    assert "<td>I told my</td><td>employer</td><td>&quot;I might need</td>" in page
    assert '"className": "dt-center"' in page and "<th>Left context</th><th>Keyword</th><th>Right context</th>" in page
    source = KWIC_SEGMENT["text"][0]
    for line in kw.kwic_display(kw.kwic(KWIC_SEGMENT, "*", window=2)).itertuples():
        for piece in (line[2], line[3], line[4]):  # each cell is a stretch of the source text
            assert piece in source
