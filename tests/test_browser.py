"""The report tables in a real browser: Debian's headless chromium driven by Playwright, offline.

A tiny notebook with two tables is executed by papermill and exported by the pipeline's own
`export_html` (the offline nbconvert template), then opened from file://: sorting a float column
and an "n of N" column gives numeric order, the search boxes filter rows, the CSV button downloads
the raw values, there is no console error and no request leaves the page. The built demo reports
are opened too (slow: they come from the session's pipeline run).
"""

from __future__ import annotations

import csv
import re
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers import pipeline, tables

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("file:", "data:", "blob:")  # blob: is the bundle itables imports from its own base64 copy
P_VALUES = [0.00402, 1.16e-05, 0.5, 0.0311, 2.2e-16, 0.9, 0.0001, 0.049, 0.2, 1.0]
SHARES = [100.0, 36.4, 102.4, 93, 0.475832, 7.5, 12.0, 55.55, 1000.25, 3.0]

NOTEBOOK_CODE = f"""
import pandas as pd
from helpers import keywords as kw, tables

rows = 30
df = pd.DataFrame({{
    "term": ["=cmd"] + [f"term{{i:02d}}" for i in range(1, rows)],
    "p_value": [{P_VALUES!r}[i % 10] * (1 + i // 10) / 3 for i in range(rows)],
    "share": [{SHARES!r}[i % 10] + i // 10 for i in range(rows)],
    "n_of_N": [f"{{(7 * i) % 12}} of 11" for i in range(rows)],
    "quote": [tables.highlight_spans(f"pain <{{i}}> here", [(0, 4)]) for i in range(rows)],
}})
display(tables.interactive_table(df, caption="Keyness", html_columns=["quote"]))
segment = pd.DataFrame({{"segment_id": ["T1:4"], "participant_id": ["C01"], "group": ["client"],
                        "text": ['So I told my employer "I might need a day off" and he said fine.']}})
display(tables.interactive_table(kw.kwic_display(kw.kwic(segment, "employer", window=3)), caption="KWIC"))
"""


def need_browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it)")
    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    need_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as play:
        context = play.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=FLAGS, headless=True, accept_downloads=True,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The tiny notebook executed and exported as a report would be."""
    need_browser()
    import papermill as pm

    folder = tmp_path_factory.mktemp("browser-report")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tables"),
                                         nbformat.v4.new_code_cell(NOTEBOOK_CODE)])
    nbformat.write(nb, folder / "tables.ipynb")
    pm.execute_notebook(str(folder / "tables.ipynb"), str(folder / "executed.ipynb"), kernel_name="python3",
                        progress_bar=False, log_output=False, cwd=str(folder),
                        extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    pipeline.export_html(folder / "executed.ipynb", folder / "tables.html", show_code=False)
    return folder / "tables.html"


def open_page(context, path: Path):
    """The page once every table is a DataTable; the console messages and requests it made."""
    page = context.new_page()
    messages, requests = [], []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    count = page.locator("table[id^=ipsw-]").count()
    page.wait_for_function(f"document.querySelectorAll('.dt-container').length === {count}", timeout=30_000)
    return page, messages, requests


def column_values(page, table: str, column: int, attribute: str | None = None) -> list[str]:
    cells = page.locator(f"{table} tbody tr td:nth-child({column})")
    return cells.evaluate_all(f"cs => cs.map(c => {f'c.getAttribute({attribute!r})' if attribute else 'c.textContent'})")


def settled(read, expected, seconds: float = 10.0):
    """read() once it equals expected (DataTables redraws after the event), else its last value."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def test_report_tables_sort_search_download_offline(report, browser, tmp_path):
    html = report.read_text(encoding="utf-8")
    assert html.count(tables.LIBRARY_MARK) == 1  # the library once per page, not once per table
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)=[\"']?https?:", html)
    page, messages, requests = open_page(browser, report)
    first = "table[id^=ipsw-] >> nth=0"
    first_id = "#" + page.locator(first).get_attribute("id")
    assert page.locator(f"{first_id}_info").inner_text() == "Showing 1 to 25 of 30 entries"

    header = page.locator(f"{first_id} thead th")
    all_p = sorted(P_VALUES[i % 10] * (1 + i // 10) / 3 for i in range(30))
    header.nth(1).click()  # P value, ascending
    p_order = settled(lambda: [float(v) for v in column_values(page, first_id, 2, "data-order")], all_p[:25])
    assert p_order == all_p[:25]
    assert column_values(page, first_id, 2)[:2] == ["7.33e-17", "1.47e-16"]
    all_n = sorted((7 * i) % 12 for i in range(30))
    header.nth(3).click()  # n of N, ascending: "2 of 11" before "11 of 11"
    n_order = settled(lambda: [int(v.split(" of ")[0]) for v in column_values(page, first_id, 4)], all_n[:25])
    assert n_order == all_n[:25]
    header.nth(3).click()  # descending
    n_order = settled(lambda: [int(v.split(" of ")[0]) for v in column_values(page, first_id, 4)], all_n[::-1][:25])
    assert n_order == all_n[::-1][:25]

    search = page.locator(f"{first_id}_wrapper .dt-search input")
    search.fill("term07")
    assert settled(lambda: column_values(page, first_id, 1), ["term07"]) == ["term07"]
    assert "filtered from 30 total entries" in page.locator(f"{first_id}_info").inner_text()
    search.fill("")
    term_filter = page.locator(f"{first_id} tfoot input").nth(0)
    term_filter.press_sequentially("term1")  # itables listens to keyup, as a reader types
    tens = [f"term{i}" for i in range(10, 20)]
    assert sorted(settled(lambda: sorted(column_values(page, first_id, 1)), tens)) == tens
    term_filter.fill("")
    term_filter.dispatch_event("keyup")
    assert settled(lambda: len(column_values(page, first_id, 1)), 25) == 25

    with page.expect_download() as download:
        page.locator(f"{first_id}_wrapper button.buttons-csv").click()
    saved = tmp_path / "table.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "Keyness.csv"
    rows = list(csv.reader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["Term", "P value", "Share", "n of N", "Quote"]
    assert len(rows) == 31
    by_term = {r[0]: r for r in rows[1:]}
    assert by_term["'=cmd"][1:4] == [repr(0.00402 / 3), "100.0", "0 of 11"]  # raw values; formula made safe
    assert by_term["term04"][2] == "0.475832" and by_term["term04"][4] == "pain <4> here"
    assert page.locator(f"{first_id} tbody td").filter(has_text="0.476").count() == 1  # shown rounded
    with page.expect_download() as excel:  # JSZip is in itables' offline bundle: a real .xlsx
        page.locator(f"{first_id}_wrapper button.buttons-excel").click()
    excel.value.save_as(tmp_path / "table.xlsx")
    assert excel.value.suggested_filename == "Keyness.xlsx"
    with zipfile.ZipFile(tmp_path / "table.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.475832</v>" in sheet and "Keyness" not in sheet  # raw number; no title row

    kwic = "table[id^=ipsw-] >> nth=1"
    aligns = page.locator(kwic).locator("tbody td").evaluate_all("cs => cs.map(c => getComputedStyle(c).textAlign)")
    texts = page.locator(kwic).locator("tbody td").all_inner_texts()
    assert texts[:4] == ["employer", "I told my", "employer", '"I might need']
    assert aligns[:5] == ["left", "right", "center", "left", "left"]
    assert [m for m in messages if m.startswith(("error", "pageerror"))] == []
    assert [u for u in requests if not u.startswith(LOCAL)] == []


@pytest.mark.slow
def test_built_reports_load_every_table_offline(pipeline_run, browser):
    proc, reports, _ = pipeline_run
    assert proc.returncode == 0, proc.stderr
    opened = 0
    for path in sorted(reports.glob("0*.html")):
        html = path.read_text(encoding="utf-8")
        if "ipsw-" not in html:
            continue
        assert html.count(tables.LIBRARY_MARK) == 1, path.name
        page, messages, requests = open_page(browser, path)
        assert [m for m in messages if m.startswith(("error", "pageerror"))] == [], path.name
        assert [u for u in requests if not u.startswith(LOCAL)] == [], path.name
        page.close()
        opened += 1
    assert opened >= 4
