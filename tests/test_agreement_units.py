"""Agreement: which units are compared by default, bootstrap intervals, and the granularity check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from conftest import run_cli
from helpers import agreement as ag
from helpers import exchange

CODEBOOK = "themes:\n  - code: p\n    label: P\n    keywords: [apple]\n  - code: q\n    label: Q\n    keywords: [pear]\n"


def write_corpus(tmp_path, n: int = 6) -> pd.DataFrame:
    """Turns of two transcripts T1 (participant C01) and T2 (C02), n turns each; returns the turns."""
    rows = []
    for t, who in (("T1", "C01"), ("T2", "C02")):
        for i in range(n):
            rows.append({"transcript_id": t, "turn": i, "speaker": who, "role": "participant", "participant_id": who,
                         "group": "client", "timestamp": "", "source": f"{t}.txt", "line": i + 1,
                         "text": f"turn {i} of {t} about apple and pear"})
    turns = pd.DataFrame(rows)
    turns.to_csv(tmp_path / "turns.csv", index=False)
    pd.DataFrame({"participant_id": ["C01", "C02"], "group": ["client", "client"], "collection": ["interview"] * 2,
                  "transcript_id": ["T1", "T2"]}).to_csv(tmp_path / "participants.csv", index=False)
    (tmp_path / "book.yaml").write_text(CODEBOOK, encoding="utf-8")
    return turns


def codings(rows, coder: str) -> pd.DataFrame:
    """rows: (transcript, turn, theme[, start, end])."""
    return pd.DataFrame([{"segment_id": f"{t}:{i}", "transcript_id": t, "participant_id": "", "group": "client",
                          "theme": th, "subtheme": "", "term": "", "start": r[3] if len(r) > 3 else 0,
                          "end": r[4] if len(r) > 4 else 10, "coder": coder} for r in rows for t, i, th in [r[:3]]])


def agree(tmp_path, a: str, b: str, *extra: str):
    return run_cli("agree", "--a", a, "--b", b, "--corpus", str(tmp_path / "turns.csv"),
                   "--participants", str(tmp_path / "participants.csv"), "--codebook", str(tmp_path / "book.yaml"),
                   "--out", str(tmp_path / "agree.csv"), *extra)


# ----------------------------------------------------------------------------- default units
def test_default_units_keep_a_transcript_the_human_left_uncoded_in_a_table(tmp_path):
    write_corpus(tmp_path)
    auto = codings([("T1", 0, "p"), ("T1", 1, "p"), ("T2", 0, "p")], "auto")
    human = codings([("T1", 0, "p"), ("T1", 2, "p")], "ann")
    auto.to_csv(tmp_path / "a.csv", index=False)
    human.to_csv(tmp_path / "b.csv", index=False)
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert proc.returncode == 0, proc.stderr
    p = pd.read_csv(tmp_path / "agree.csv").set_index("code").loc["p"]
    # 12 units (both transcripts, either side coded them): auto 0,1 + T2:0; human 0,2
    xa = np.zeros(12, bool); xa[[0, 1, 6]] = True
    xb = np.zeros(12, bool); xb[[0, 2]] = True
    assert [p["n_units"], p["both"], p["a_only"], p["b_only"]] == [12, 1, 2, 1]
    assert p["kappa"] == pytest.approx(cohen_kappa_score(xa, xb), abs=1e-12)
    assert "12 segments of 2 participants in 2 transcripts (T1, T2)" in proc.stderr
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--both-coded")
    assert proc.returncode == 0, proc.stderr
    assert "note: --both-coded: 6 of 12 units dropped (1 transcript(s)), transcripts one side left uncoded" \
        in proc.stderr
    assert pd.read_csv(tmp_path / "agree.csv").set_index("code").loc["p", "n_units"] == 6


def test_default_units_are_the_human_projects_sources_coded_or_not(tmp_path):
    turns = write_corpus(tmp_path)
    auto = codings([("T1", 0, "p")], "auto")
    auto.to_csv(tmp_path / "a.csv", index=False)
    human = codings([("T1", 0, "p", 0, 4)], "ann")  # the project holds T1 and T2; T2 has no coding
    exchange.export_qdpx(tmp_path / "human.qdpx", turns, human)
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "human.qdpx"))
    assert proc.returncode == 0, proc.stderr
    p = pd.read_csv(tmp_path / "agree.csv").set_index("code").loc["p"]
    assert [p["n_units"], p["both"], p["a_only"], p["b_only"]] == [12, 1, 0, 0]
    assert "in 2 transcripts (T1, T2)" in proc.stderr


def test_all_transcripts_and_both_coded_together_are_refused(tmp_path):
    write_corpus(tmp_path)
    codings([("T1", 0, "p")], "auto").to_csv(tmp_path / "a.csv", index=False)
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "a.csv"), "--all-transcripts", "--both-coded")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --all-transcripts and --both-coded: choose one set of units"
