"""`python -m helpers run` end to end: reports, index.html, refusal before running, failures."""

from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import run_cli
from helpers import pipeline


def test_pipeline_runs_every_notebook_and_index_links_every_report(pipeline_run):
    proc, reports, figures = pipeline_run
    assert proc.returncode == 0, proc.stderr
    index = (reports / "index.html").read_text(encoding="utf-8")
    names = pipeline.notebook_names()
    for name in names:
        assert f'href="{name}.html"' in index
        assert (reports / f"{name}.html").is_file()
        assert (reports / "notebooks" / f"{name}.ipynb").is_file()
        assert re.search(rf"^\s+{name}\s+ok\s+\d+\.\d s$", proc.stdout, re.M), proc.stdout
    for href in re.findall(r'(?:href|src)="([^"#:]+)"', index):
        assert (reports / href).is_file(), f"broken link in index.html: {href}"
    assert "participants_by_group.png" in index
    assert (figures / "participants_by_group.png").is_file() and (figures / "participants_by_group.svg").is_file()
    assert "SHA-256" in index and "data/participants.csv" in index
    assert re.search(r"<td>pandas</td><td>\d", index)


def test_reports_hide_code_and_need_no_internet(pipeline_run):
    _, reports, _ = pipeline_run
    html = (reports / "01_corpus_overview.html").read_text(encoding="utf-8")
    assert "corpus.load_participants" not in html  # code cells hidden by default
    assert "Participants (Table 1)" in html
    assert not re.search(r'<script[^>]+src="https?://', html), "reports must not load scripts from the internet"


def test_unknown_parameter_exits_2_with_one_line_and_runs_nothing(tmp_path):
    proc = run_cli("run", "--set", "01_corpus_overview.no_such_parameter=1", "--reports", str(tmp_path / "r"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: --set: 01_corpus_overview.no_such_parameter: unknown parameter")
    assert not (tmp_path / "r").exists()


def _notebook(path, code):
    nb = new_notebook(cells=[new_markdown_cell("# Broken on purpose"), new_code_cell("x: int = 1  # a number"),
                             new_code_cell("y = x + 1"), new_code_cell(code)])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_stops_with_exit_1_and_is_marked_failed(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_fine.ipynb", "print('fine')")
    _notebook(nbs / "02_broken.ipynb", "raise ValueError('codebook has no themes')")
    cfg = tmp_path / "p.yaml"
    cfg.write_text("02_broken:\n  x: 5\n")
    code = pipeline.run(cfg, [], None, False, 1, tmp_path / "reports", tmp_path / "figs", notebooks_dir=nbs)
    assert code == 1
    err = capsys.readouterr().err
    assert "notebook 02_broken failed at cell 4 (`raise ValueError('codebook has no themes')`)" in err and "ValueError: codebook has no themes" in err
    kept = nbformat.read(tmp_path / "reports" / "notebooks" / "02_broken.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells if c.cell_type == "code" for o in c.outputs)
    index = (tmp_path / "reports" / "index.html").read_text()
    assert '<tr class="failed"><td><a href="02_broken.html">02_broken</a></td><td>✘ FAILED' in index
    assert '<tr class="ok"><td><a href="01_fine.html">01_fine</a>' in index
    assert "&quot;x&quot;" in index or "<code>x</code>" in index


def test_agreement_report_shows_one_round_of_the_codebook_loop(pipeline_run):
    proc, reports, _ = pipeline_run
    assert proc.returncode == 0, proc.stderr
    report = (reports / "05_agreement.html").read_text(encoding="utf-8")
    assert "Refining the codebook from the human coding" in report
    assert "Each rule of the codebook against the human coding, per theme" in report
    assert "# Keywords suggested by `refine` from the human coding" in report  # the YAML snippet to paste
