"""Notebook 06_explore run headless by `helpers run` on the small project of test_explore: it shows the
static demonstration of each tool (fixed queries) with the note that the live tools need JupyterLab,
its report joins the index, and a report built for sharing leaves the participant's turns out."""

from __future__ import annotations

import pytest

from conftest import run_cli
from helpers import explore, project
from test_explore import write_project
from test_share import visible_text

pytestmark = pytest.mark.slow

CONFIG = """pipeline:
  title: Explore test project
all:
  transcripts_dir: transcripts
  participants_csv: participants.csv
  interviewer_labels: [Interviewer]
  codebook_yaml: codebook.yaml
  human_coding: human.csv
06_explore:
  demo_query: "pain*"
  demo_code: health/pain
  demo_rule: "flare*"
  demo_participant: P1
"""


def run_explore(folder, *extra: str):
    """`helpers run --only 06` on the small project in `folder`; (result, reports folder)."""
    write_project(folder)
    (folder / "pipeline.yaml").write_text(CONFIG, encoding="utf-8")
    reports = folder / "reports"
    proc = run_cli("run", "--config", str(folder / "pipeline.yaml"), "--only", "06", "--reports", str(reports),
                   "--figures", str(folder / "figures"), "--processed", str(folder / "processed"), *extra,
                   timeout=300)
    return proc, reports


def test_run_shows_a_static_demonstration_of_each_tool(tmp_path):
    proc, reports = run_explore(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning:" not in proc.stderr and "error:" not in proc.stderr
    raw = (reports / "06_explore.html").read_text(encoding="utf-8")
    text = visible_text(raw)
    assert explore.LIVE_NOTE in text
    assert "4 matches of pain*" in text  # concordance
    assert "Clients with back pain need a fit note." in text
    assert "1 of 2 all participants · 1 coded passage" in text  # code browser
    assert "these rules code 1 segment; the current codebook codes 1" in text  # rule tester
    assert ('<td class="">current codebook</td><td class="num">1</td><td class="num">1.0</td><td class="num">0.5</td>'
            '<td class="num">0.5</td>') in raw  # segments, precision, recall, kappa against the human coding
    assert "My pain flares up at work. The pain clinic helped." in text  # participant view
    assert "<ok>" not in raw
    assert text.count(project.FULL_MODE) == 1
    assert "Traceback" not in text and 'class="ips-msg"' not in raw  # no query failed
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert '<tr class="ok"><td><a href="06_explore.html">06_explore</a>' in index


def test_shared_run_leaves_the_participant_view_out(tmp_path):
    proc, reports = run_explore(tmp_path, "--share")
    assert proc.returncode == 0, proc.stderr
    text = visible_text((reports / "06_explore.html").read_text(encoding="utf-8"))
    assert text.count(project.SHARED_MODE) == 1 and project.FULL_MODE not in text
    assert "Left out of this report, which is built for sharing: the participant's turns" in text
    assert "Interviewer T1:0 How is your pain at work?" not in text
