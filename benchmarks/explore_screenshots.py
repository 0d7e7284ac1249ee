"""The screenshots of the explorer's tools in docs/explore/ (README, "Explore in JupyterLab"): how they are made.

Starts JupyterLab headless on notebooks/ (the demo project, or the one $IPS_CONFIG names), opens
06_explore.ipynb in Debian's headless Chromium driven by Playwright, runs all cells, uses each tool
with a realistic query and saves one PNG per tool:

    docs/explore/concordance.png       'flare*' among the clients
    docs/explore/code_browser.png      a subtheme for one group, densest passages first
    docs/explore/rule_tester.png       a keyword added to a subtheme's rules, and its YAML
    docs/explore/participant_view.png  a concordance line's turn opened in the participant view

    .venv/bin/python benchmarks/explore_screenshots.py [--port 8899] [--out docs/explore] [--config PROJECT/pipeline.yaml]

JupyterLab runs on a copy of the notebook in a temporary folder (its autosave never touches
notebooks/); the notebook still reads its defaults and the project from the repository.

Needs /usr/bin/chromium (apt-get install -y chromium) and the python package playwright.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import sys
import time
import urllib.request
from pathlib import Path

from helpers import explore, paths, project

CHROMIUM = "/usr/bin/chromium"
TOKEN = "x"
VIEWPORT = {"width": 1400, "height": 1100}
MAX_HEIGHT = 1000  # pixels of a tool kept in its screenshot (its controls and the first results)
CODE = "situations/complex_needs"  # the subtheme shown (the codebook's first subtheme when it has not this one)
GROUP = "client"
QUERY = "flare*"
ADDED_KEYWORD = "coping"  # a keyword a researcher might try for the subtheme
# notebook cells (0-based) of the four tools, as notebooks/06_explore.ipynb has them
CELLS = {"concordance": 4, "code_browser": 6, "rule_tester": 8, "participant_view": 10}
READY = {"concordance": "match", "code_browser": "coded passage", "rule_tester": "these rules code",
         "participant_view": "with the interviewer"}  # text of each tool's first result


def start_lab(port: int, folder: Path, config: Path | None) -> subprocess.Popen:
    """JupyterLab on `folder`, headless, answering on `port` with the token TOKEN; the notebooks use the
    project of `config` (as `make lab CONFIG=…` does) or the demo project."""
    root_flag = ["--allow-root"] if os.geteuid() == 0 else []
    env = {**os.environ, **({project.CONFIG_ENV: str(config.resolve())} if config else {})}
    lab = subprocess.Popen([str(paths.ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", f"--port={port}",
                            f"--ServerApp.token={TOKEN}", *root_flag, str(folder)], cwd=folder, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=1)
            return lab
        except OSError:
            time.sleep(0.5)
    lab.terminate()
    raise SystemExit("JupyterLab did not start")


def shoot(page, cell, out: Path) -> None:
    """A screenshot of one cell's output (its top MAX_HEIGHT pixels)."""
    output = cell.locator(".jp-Cell-outputArea")
    output.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)
    box = output.bounding_box()
    panel = page.locator(".jp-NotebookPanel-notebook").first.bounding_box()
    height = min(box["height"], MAX_HEIGHT, panel["y"] + panel["height"] - box["y"])
    page.screenshot(path=str(out), clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": height})
    print("written:", paths.relative(out))


def wait_for(cell, text: str, timeout: float = 30_000) -> None:
    cell.locator(".widget-html-content", has_text=text).first.wait_for(timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--out", default=str(paths.ROOT / "docs" / "explore"))
    parser.add_argument("--config", type=Path, help="the project's pipeline.yaml (default: the demo project)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    _, params = project.project_parameters(project.load_project(args.config), {}, paths.NOTEBOOKS)
    ex = explore.load_explorer(params["06_explore"])  # for the menus' order
    code = explore.starting_code(ex, CODE)
    code_index = [k for _, k in ex.codes()].index(code)
    group_index = 1 + ex.groups.index(GROUP) if GROUP in ex.groups else 1
    folder = Path(tempfile.mkdtemp(prefix="explore-lab-"))
    shutil.copy(paths.NOTEBOOKS / "06_explore.ipynb", folder / "06_explore.ipynb")
    lab = start_lab(args.port, folder, args.config)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{args.port}/lab/tree/06_explore.ipynb?token={TOKEN}")
            page.locator(".jp-Notebook .jp-Cell").nth(CELLS["participant_view"]).wait_for(timeout=60_000)
            page.wait_for_timeout(2000)  # the kernel starts
            no_news = page.get_by_role("button", name="No", exact=True)  # JupyterLab asks about its news feed
            if no_news.count():
                no_news.first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            cells = page.locator(".jp-Notebook .jp-Cell")
            for name, shown in READY.items():
                wait_for(cells.nth(CELLS[name]), shown, 120_000)
            conc = cells.nth(CELLS["concordance"])
            box = conc.locator("input[type=text]").first
            box.fill(QUERY)
            box.press("Enter")
            conc.locator("select").nth(0).select_option(index=group_index)
            wait_for(conc, f"of {QUERY}")
            page.wait_for_timeout(500)
            shoot(page, conc, out / "concordance.png")

            browse = cells.nth(CELLS["code_browser"])
            browse.locator("select").nth(0).select_option(index=code_index)
            browse.locator("select").nth(1).select_option(index=group_index)
            browse.locator("button", has_text="densest first").click()
            page.wait_for_timeout(800)
            shoot(page, browse, out / "code_browser.png")

            rules = cells.nth(CELLS["rule_tester"])
            rules.locator("select").nth(0).select_option(index=code_index)
            page.wait_for_timeout(800)
            keywords = rules.locator("textarea").nth(0)
            keywords.fill(keywords.input_value() + f", {ADDED_KEYWORD}")
            keywords.press("Tab")
            wait_for(rules, "these rules code")
            rules.locator("button", has_text="Show YAML").click()
            page.wait_for_timeout(800)
            shoot(page, rules, out / "rule_tester.png")

            # a concordance line opened in the participant view: its turn shaded, the talk around it
            conc.locator("select").last.select_option(index=1)
            people = cells.nth(CELLS["participant_view"])
            focus = people.locator(".ips-turn.focus")
            focus.wait_for(timeout=30_000)
            focus.evaluate("el => el.scrollIntoView({block: 'center'})")
            page.wait_for_timeout(400)
            area = people.locator(".jp-Cell-outputArea").bounding_box()
            panel = page.locator(".jp-NotebookPanel-notebook").first.bounding_box()
            top = max(area["y"], panel["y"])
            page.screenshot(path=str(out / "participant_view.png"),
                            clip={"x": area["x"], "y": top, "width": area["width"],
                                  "height": min(MAX_HEIGHT, panel["y"] + panel["height"] - top)})
            print("written:", paths.relative(out / "participant_view.png"))
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
