"""index.html is the run's table of contents: rows kept across --only runs, links to every output."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_run_safety import _notebook

from helpers import pipeline, run_index

WRITES = """
from helpers import paths
(paths.processed_dir() / f"table_{label}.csv").write_text("a,b\\n1,2\\n")
print(label)
"""


def _project(tmp_path: Path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("01_one", "02_two"):
        _notebook(nbs / f"{name}.ipynb", WRITES)
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text("pipeline:\n  title: Index\n01_one:\n  label: one\n02_two:\n  label: two\n")
    return nbs, cfg, {k: tmp_path / k for k in ("reports", "figures", "processed")}


def _run(nbs, cfg, folders, only=None) -> int:
    return pipeline.run(cfg, [], only, False, 1, folders["reports"], folders["figures"], notebooks_dir=nbs,
                        processed=folders["processed"])


def test_an_only_run_updates_its_rows_and_keeps_the_others_with_their_time(tmp_path):
    nbs, cfg, folders = _project(tmp_path)
    assert _run(nbs, cfg, folders) == 0
    record_file = folders["reports"] / run_index.RECORD_NAME
    record = json.loads(record_file.read_text())["notebooks"]
    assert sorted(record) == ["01_one", "02_two"]
    assert record["01_one"]["status"] == "ok" and record["01_one"]["parameters"] == {"label": "one"}
    record["01_one"]["last_run"] = "2026-01-01 00:00:00 UTC"  # as if 01 last ran long ago
    record_file.write_text(json.dumps({"notebooks": record}))
    assert _run(nbs, cfg, folders, only=["02"]) == 0
    index = (folders["reports"] / "index.html").read_text()
    rows = re.findall(r'<tr class="ok">(.*?)</tr>', index)
    assert len(rows) == 2
    assert rows[0].startswith('<td><a href="01_one.html">01_one</a></td>')
    assert '2026-01-01 00:00:00 UTC <span class="earlier">(an earlier run)</span>' in rows[0]
    assert rows[1].startswith('<td><a href="02_two.html">02_two</a></td>') and "earlier" not in rows[1]
    assert "<code>label</code></td><td><code>&quot;one&quot;</code>" in index  # 01's parameters are kept


def test_the_index_links_every_executed_notebook_and_every_table(tmp_path):
    nbs, cfg, folders = _project(tmp_path)
    assert _run(nbs, cfg, folders) == 0
    index = (folders["reports"] / "index.html").read_text()
    assert 'href="notebooks/01_one.ipynb"' in index and 'href="notebooks/02_two.ipynb"' in index
    assert '<a href="../processed/table_one.csv">table_one.csv</a></td><td>8 bytes' in index
    assert '<a href="../processed/table_two.csv">table_two.csv</a>' in index
    for href in re.findall(r'(?:href|src)="([^"#:]+)"', index):
        assert (folders["reports"] / href).is_file(), f"broken link in index.html: {href}"
    assert ".ips-run.lock" not in index


def test_gallery_captions_are_the_figures_titles(tmp_path):
    nbs, cfg, folders = _project(tmp_path)
    _notebook(nbs / "01_one.ipynb", "from helpers import figures\n"
                                    "fig, ax = figures.new_figure(3)\n"
                                    "ax.bar([1, 2], [3, 4])\n"
                                    "fig.suptitle('Words per participant, by group')\n"
                                    "figures.save_figure(fig, 'words_by_participant')\n")
    assert _run(nbs, cfg, folders) == 0
    index = (folders["reports"] / "index.html").read_text()
    assert ('<figcaption>Words per participant, by group (<a href="figures/words_by_participant.svg">SVG</a>)'
            '</figcaption>') in index


def test_a_run_built_for_sharing_links_only_its_own_tables(tmp_path):
    nbs, cfg, folders = _project(tmp_path)
    for name in ("01_one", "02_two"):
        _notebook(nbs / f"{name}.ipynb", WRITES.replace("print(label)", "print(label, share)"))
        text = (nbs / f"{name}.ipynb").read_text().replace('label: str = \\"first\\"  # a name',
                                                          'label: str = \\"first\\"  # a name\\n",\n    "share: bool = False')
        (nbs / f"{name}.ipynb").write_text(text)
    assert _run(nbs, cfg, folders) == 0
    (folders["processed"] / "auto_coding.qdpx").write_bytes(b"every turn of every transcript")
    assert pipeline.run(cfg, ["all.share=true", "01_one.label=shared"], ["01"], False, 1, folders["reports"],
                        folders["figures"], notebooks_dir=nbs, processed=folders["processed"]) == 0
    index = (folders["reports"] / "index.html").read_text()
    assert 'href="../processed/table_shared.csv"' in index
    assert "auto_coding.qdpx" not in index and "table_two.csv" not in index
