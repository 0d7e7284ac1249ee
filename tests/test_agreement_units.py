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


def write_corpus(tmp_path, n: int = 6, filler: str = "") -> pd.DataFrame:
    """Turns of two transcripts T1 (participant C01) and T2 (C02), n turns each; returns the turns."""
    rows = []
    for t, who in (("T1", "C01"), ("T2", "C02")):
        for i in range(n):
            rows.append({"transcript_id": t, "turn": i, "speaker": who, "role": "participant", "participant_id": who,
                         "group": "client", "timestamp": "", "source": f"{t}.txt", "line": i + 1,
                         "text": f"turn {i} of {t} about apple and pear{filler}"})
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
    assert ": pooled kappa 0.250 (95% " in proc.stderr
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


# ----------------------------------------------------------------------------- bootstrap intervals
def units_of(people: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"segment_id": [f"T1:{i}" for i in range(len(people))], "transcript_id": "T1",
                         "turn": range(len(people)), "participant_id": people, "group": "client",
                         "text": "some text"})


def marks(rows, theme: str = "x") -> pd.DataFrame:
    return codings([("T1", i, theme) for i in rows], "c").drop(columns="coder")


def test_perfect_agreement_gives_the_interval_one_to_one():
    units = units_of(["P1", "P1", "P2", "P2", "P3", "P3"])
    a = b = marks([0, 2, 5])
    table = ag.agreement_table(a, b, units, codes=["x"]).set_index("code")
    for code in ("x", ag.POOLED):
        assert table.loc[code, ag.INTERVAL_COLUMNS].astype(float).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_interval_by_hand_on_two_participants_and_it_holds_the_estimate():
    # P1: 4 units, both agree on 2 coded and 2 not (kappa 1); P2: 4 units, A codes 0,1, B codes 2,3 (kappa -1).
    # Resampling two participants gives {P1,P1} (kappa 1), {P2,P2} (kappa -1), or P1+P2 (kappa 0),
    # so the 95 % percentile interval is [-1, 1] and holds the point estimate 0.
    units = units_of(["P1"] * 4 + ["P2"] * 4)
    a, b = marks([0, 1, 4, 5]), marks([0, 1, 6, 7])
    table = ag.agreement_table(a, b, units, codes=["x"]).set_index("code")
    assert table.loc["x", "kappa"] == pytest.approx(0.0)
    assert table.loc["x", ["kappa_low", "kappa_high"]].astype(float).tolist() == pytest.approx([-1.0, 1.0])
    _, per_person = ag.participant_counts(a, b, units, codes=["x"])
    assert per_person[:, 0, :].tolist() == [[2, 0, 0, 2], [0, 2, 2, 0]]


def test_intervals_are_reproducible_with_a_seed_and_bracket_the_estimates():
    rng = np.random.default_rng(5)
    n = 120
    units = units_of([f"P{i % 12}" for i in range(n)])
    xa = rng.random((n, 3)) < 0.3
    xb = np.where(rng.random((n, 3)) < 0.8, xa, rng.random((n, 3)) < 0.3)
    a = pd.concat([marks(np.nonzero(xa[:, k])[0], c) for k, c in enumerate("pqr")], ignore_index=True)
    b = pd.concat([marks(np.nonzero(xb[:, k])[0], c) for k, c in enumerate("pqr")], ignore_index=True)
    one = ag.agreement_table(a, b, units, codes=["p", "q", "r", "unused"], seed=3)
    two = ag.agreement_table(a, b, units, codes=["p", "q", "r", "unused"], seed=3)
    other = ag.agreement_table(a, b, units, codes=["p", "q", "r", "unused"], seed=4)
    pd.testing.assert_frame_equal(one, two)
    assert not one[ag.INTERVAL_COLUMNS].equals(other[ag.INTERVAL_COLUMNS])
    rows = one[one["code"].isin(["p", "q", "r", ag.POOLED])]
    for m in ("kappa", "alpha"):
        assert (rows[f"{m}_low"] <= rows[m]).all() and (rows[m] <= rows[f"{m}_high"]).all()
        assert (rows[f"{m}_high"] - rows[f"{m}_low"] > 0.01).all()
    assert one.set_index("code").loc["unused", ag.INTERVAL_COLUMNS].isna().all()
    none = ag.agreement_table(a, b, units, codes=["p"], resamples=0)
    assert none[ag.INTERVAL_COLUMNS].isna().all().all()


# ----------------------------------------------------------------------------- granularity
def test_granularity_warning_and_widening_auto_matches(tmp_path):
    turns = write_corpus(tmp_path, filler=", and then some more words" * 4)  # 137 characters a turn
    auto = codings([("T1", 0, "p", 19, 24), ("T1", 1, "p", 19, 24), ("T2", 3, "p", 19, 24)], "auto")  # 'apple'
    human = codings([("T1", 0, "p", 0, 137), ("T1", 1, "p", 0, 137), ("T2", 3, "p", 0, 137)], "ann")
    assert turns["text"].str.len().eq(137).all()
    auto.to_csv(tmp_path / "a.csv", index=False)
    human.to_csv(tmp_path / "b.csv", index=False)
    note = ag.granularity_note(auto, human)
    assert note == ("A's coded spans are 5 characters long at the median, B's 137 (27 times apart): character-level "
                    "figures compare unlike things; compare at segment level, or widen the auto-coding's matches to "
                    "their segments")
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--unit", "character")
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {note} (--widen-auto)" in proc.stderr
    low = pd.read_csv(tmp_path / "agree.csv").set_index("code").loc["p", "kappa"]
    assert low < 0.5
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--unit", "character", "--widen-auto")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" not in proc.stderr
    assert pd.read_csv(tmp_path / "agree.csv").set_index("code").loc["p", "kappa"] == pytest.approx(1.0)
    proc = agree(tmp_path, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))  # segment level: no warning
    assert proc.returncode == 0 and "warning:" not in proc.stderr


def test_no_granularity_note_for_spans_of_like_length():
    a = codings([("T1", 0, "p", 0, 20)], "a")
    b = codings([("T1", 0, "p", 0, 150)], "b")
    assert ag.granularity_note(a, b) == ""
    assert ag.granularity_note(a, codings([("T1", 0, "p", 0, 200)], "b")).startswith(
        "A's coded spans are 20 characters long at the median, B's 200 (10 times apart)")


def test_codes_named_differently_on_each_side_are_a_warning_naming_them():
    from helpers import agreement as ag

    a = pd.DataFrame({"theme": ["situations", "outcomes"], "subtheme": ["", ""]})
    b = pd.DataFrame({"theme": ["situations_of_chronic_pain_patients", "outcomes"], "subtheme": ["", ""]})
    assert ag.unmatched_codes_line(a, b) == (
        "1 code(s) appear only in A (situations) and 1 only in B (situations_of_chronic_pain_patients); if they are "
        "the same codes under other names, give --codebook to match them")
    assert ag.unmatched_codes_line(a, a.iloc[:1]) == ""  # B coding fewer codes is no mismatch
