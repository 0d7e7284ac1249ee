"""Agreement measures: against scikit-learn and `krippendorff` on random data, and hand-computed cases."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_score, recall_score

from conftest import run_cli
from helpers import agreement as ag
from helpers.errors import InputError


def units_frame(texts: list[str], transcript: str = "T1") -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame({"segment_id": [f"{transcript}:{i}" for i in range(n)], "transcript_id": transcript,
                         "turn": range(n), "participant_id": [f"P{i % 3}" for i in range(n)], "group": "client",
                         "text": texts})


def coded(rows) -> pd.DataFrame:
    """rows: (segment_id, theme, subtheme, start, end[, term])."""
    out = []
    for r in rows:
        seg, theme, sub, start, end = r[:5]
        out.append({"segment_id": seg, "transcript_id": seg.split(":")[0], "participant_id": "P", "group": "client",
                    "theme": theme, "subtheme": sub, "term": r[5] if len(r) > 5 else "", "start": start, "end": end})
    return pd.DataFrame(out, columns=["segment_id", "transcript_id", "participant_id", "group", "theme", "subtheme",
                                      "term", "start", "end"])


def from_matrix(x: np.ndarray, units: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    r, c = np.nonzero(x)
    return coded([(units["segment_id"].iat[i], codes[k], "", 0, 1) for i, k in zip(r, c)])


def row(table: pd.DataFrame, code: str) -> pd.Series:
    return table.set_index("code").loc[code]


# ----------------------------------------------------------------------------- against the reference packages
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_measures_equal_sklearn_and_krippendorff_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, codes = 150, ["a", "b", "c", "d"]
    units = units_frame(["text"] * n)
    xa = rng.random((n, 4)) < [0.1, 0.3, 0.5, 0.2]
    xb = np.where(rng.random((n, 4)) < 0.75, xa, rng.random((n, 4)) < 0.3)
    table = ag.agreement_table(from_matrix(xa, units, codes), from_matrix(xb, units, codes), units, codes=codes)
    for k, code in enumerate(codes):
        got = row(table, code)
        assert got["kappa"] == pytest.approx(cohen_kappa_score(xa[:, k], xb[:, k]), abs=1e-12)
        assert got["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=np.vstack([xa[:, k], xb[:, k]]).astype(int),
                                                                level_of_measurement="nominal"), abs=1e-12)
        assert got["percent_agreement"] == pytest.approx(accuracy_score(xb[:, k], xa[:, k]), abs=1e-12)
        assert got["precision"] == pytest.approx(precision_score(xb[:, k], xa[:, k]), abs=1e-12)
        assert got["recall"] == pytest.approx(recall_score(xb[:, k], xa[:, k]), abs=1e-12)
        assert got["f1"] == pytest.approx(f1_score(xb[:, k], xa[:, k]), abs=1e-12)
    pooled = row(table, ag.POOLED)
    assert pooled["kappa"] == pytest.approx(cohen_kappa_score(xa.ravel(), xb.ravel()), abs=1e-12)
    assert pooled["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=np.vstack([xa.ravel(), xb.ravel()])
                                                               .astype(int), level_of_measurement="nominal"), abs=1e-12)
    assert pooled["f1"] == pytest.approx(f1_score(xb.ravel(), xa.ravel()), abs=1e-12)
    assert pooled["n_units"] == n * 4
    macro = row(table, ag.MACRO)
    assert macro["kappa"] == pytest.approx(np.mean([cohen_kappa_score(xa[:, k], xb[:, k]) for k in range(4)]), abs=1e-12)


def test_character_measures_equal_sklearn_on_random_spans():
    rng = np.random.default_rng(7)
    texts = ["x" * int(n) for n in rng.integers(5, 40, size=30)]
    units = units_frame(texts)
    sides = []
    for _ in range(2):
        rows = []
        for i, t in enumerate(texts):
            for _ in range(rng.integers(0, 3)):
                s = int(rng.integers(0, len(t)))
                rows.append((f"T1:{i}", "a", "", s, int(rng.integers(s + 1, len(t) + 1))))
        sides.append(coded(rows))
    masks = []
    for side in sides:  # the reference: one flag per character, set span by span
        flags = [np.zeros(len(t), dtype=int) for t in texts]
        for seg, s, e in zip(side["segment_id"], side["start"], side["end"]):
            flags[int(seg.split(":")[1])][s:e] = 1
        masks.append(np.concatenate(flags))
    got = row(ag.agreement_table(sides[0], sides[1], units, unit="character", codes=["a"]), "a")
    assert got["n_units"] == sum(map(len, texts))
    assert got["both"] == int((masks[0] & masks[1]).sum())
    assert got["kappa"] == pytest.approx(cohen_kappa_score(masks[0], masks[1]), abs=1e-12)
    assert got["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=np.vstack(masks),
                                                            level_of_measurement="nominal"), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(masks[1], masks[0]), abs=1e-12)


# ----------------------------------------------------------------------------- hand-computed cases
def test_hand_computed_two_by_two():
    # 10 segments: both 3, A only 1, B only 2, neither 4
    units = units_frame(["t"] * 10)
    a = coded([(f"T1:{i}", "x", "", 0, 1) for i in (0, 1, 2, 3)])
    b = coded([(f"T1:{i}", "x", "", 0, 1) for i in (0, 1, 2, 4, 5)])
    got = row(ag.agreement_table(a, b, units), "x")
    assert [got[c] for c in ag.COUNT_COLUMNS] == [10, 3, 1, 2, 4]
    assert got["percent_agreement"] == pytest.approx(0.7)
    # p_e = (4*5 + 6*5) / 100 = 0.5; kappa = (0.7 - 0.5) / 0.5
    assert got["kappa"] == pytest.approx(0.4)
    # N = 20 values, d = 3, n_1 = 2*3 + 3 = 9, n_0 = 2*4 + 3 = 11; alpha = 1 - 19*3 / (9*11)
    assert got["alpha"] == pytest.approx(1 - 57 / 99)
    assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((3 / 4, 3 / 5, 6 / 9))


def test_code_neither_coder_used_is_undefined_and_perfect_agreement_is_one():
    units = units_frame(["t"] * 4)
    a = coded([("T1:0", "x", "", 0, 1), ("T1:2", "x", "", 0, 1)])
    b = coded([("T1:0", "x", "", 0, 1), ("T1:2", "x", "", 0, 1)])
    table = ag.agreement_table(a, b, units, codes=["unused", "x"])
    assert table["code"].tolist() == ["unused", "x", ag.MACRO, ag.POOLED]
    unused, x = row(table, "unused"), row(table, "x")
    assert [unused[c] for c in ag.COUNT_COLUMNS] == [4, 0, 0, 0, 4]
    assert unused["percent_agreement"] == 1.0
    assert all(np.isnan(unused[m]) for m in ("kappa", "alpha", "precision", "recall", "f1"))
    assert [x[m] for m in ag.MEASURE_COLUMNS] == [1.0] * 6
    macro = row(table, ag.MACRO)  # the mean of the defined values only
    assert macro["kappa"] == 1.0 and macro["percent_agreement"] == 1.0
    pooled = row(table, ag.POOLED)  # over the used code only: 4 decisions, both 2, neither 2
    assert [pooled[c] for c in ag.COUNT_COLUMNS] == [4, 2, 0, 0, 2] and pooled["kappa"] == 1.0
    assert table.attrs["unused_codes"] == ["unused"] and table.attrs["used_codes"] == ["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(cohen_kappa_score([0] * 4, [0] * 4))  # scikit-learn agrees it is undefined


def test_pooled_and_macro_leave_out_codes_nobody_used():
    rng = np.random.default_rng(11)
    n = 60
    units = units_frame(["t"] * n)
    xa = rng.random((n, 2)) < 0.4
    xb = np.where(rng.random((n, 2)) < 0.7, xa, rng.random((n, 2)) < 0.4)
    codes = ["u1", "p", "q", "u2", "u3"]
    table = ag.agreement_table(from_matrix(xa, units, ["p", "q"]), from_matrix(xb, units, ["p", "q"]), units,
                               codes=codes)
    pooled, macro = row(table, ag.POOLED), row(table, ag.MACRO)
    assert pooled["n_units"] == 2 * n  # not 5 * n: the three unused codes add no "neither" decisions
    assert pooled["kappa"] == pytest.approx(cohen_kappa_score(xa.ravel(), xb.ravel()), abs=1e-12)
    assert pooled["percent_agreement"] == pytest.approx(accuracy_score(xb.ravel(), xa.ravel()), abs=1e-12)
    assert macro["percent_agreement"] == pytest.approx(  # unused codes are not counted as 100 %
        np.mean([accuracy_score(xb[:, k], xa[:, k]) for k in range(2)]), abs=1e-12)
    assert table.attrs["unused_codes"] == ["u1", "u2", "u3"]
    assert ag.unused_codes_line(table) == ("3 code(s) not used by either side, left out of the overall rows: "
                                           "u1, u2, u3")
    assert ag.units_line(table) == ("segment level, 60 segments of 3 participants in 1 transcripts (T1); overall "
                                    "rows over 2 code(s) used by either side, 3 unused left out")


def test_character_level_counts_by_hand_with_overlaps_and_clipping():
    units = units_frame(["abcdefghij", "klmno"])
    a = coded([("T1:0", "x", "", 0, 4), ("T1:0", "x", "", 2, 6)])  # union: 6 characters
    b = coded([("T1:0", "x", "", 4, 8), ("T1:1", "x", "", 0, 99)])  # 4 + 5 (clipped to the text)
    got = row(ag.agreement_table(a, b, units, unit="character"), "x")
    assert [got[c] for c in ag.COUNT_COLUMNS] == [15, 2, 4, 7, 2]
    assert got["precision"] == pytest.approx(2 / 6) and got["recall"] == pytest.approx(2 / 9)


def test_subtheme_level_codes_and_theme_rows():
    units = units_frame(["t"] * 3)
    a = coded([("T1:0", "s", "one", 0, 1), ("T1:1", "s", "", 0, 1)])
    b = coded([("T1:0", "s", "two", 0, 1)])
    theme = ag.agreement_table(a, b, units)
    assert row(theme, "s")[["both", "a_only", "b_only"]].tolist() == [1, 1, 0]
    sub = ag.agreement_table(a, b, units, level="subtheme")
    assert sub["code"].tolist()[:3] == ["s", "s/one", "s/two"]
    assert row(sub, "s/one")[["both", "a_only", "b_only"]].tolist() == [0, 1, 0]
    assert row(sub, "s/two")[["both", "a_only", "b_only"]].tolist() == [0, 0, 1]
    assert row(sub, "s/two")[["theme", "subtheme"]].tolist() == ["s", "two"]


def test_sentence_codings_roll_up_to_turn_units_and_strays_are_listed():
    units = units_frame(["t"] * 2)
    a = coded([("T1:0.2", "x", "", 0, 1), ("T1:9", "x", "", 0, 1), ("T2:0", "x", "", 0, 1)])
    b = coded([("T1:0", "x", "", 0, 1)])
    assert row(ag.agreement_table(a, b, units), "x")[["both", "a_only"]].tolist() == [1, 0]
    assert ag.outside_units(a, units)["segment_id"].tolist() == ["T1:9", "T2:0"]


def test_common_units_keeps_transcripts_both_sides_coded():
    units = pd.concat([units_frame(["t"] * 2, "T1"), units_frame(["t"] * 2, "T2")], ignore_index=True)
    a = coded([("T1:0", "x", "", 0, 1), ("T2:1", "x", "", 0, 1)])
    b = coded([("T2:0", "x", "", 0, 1)])
    assert ag.common_units(units, a, b)["segment_id"].tolist() == ["T2:0", "T2:1"]


def test_unknown_unit_or_level_is_refused():
    units = units_frame(["t"])
    with pytest.raises(InputError, match="unit 'word': use one of segment, character"):
        ag.agreement_table(coded([]), coded([]), units, unit="word")
    with pytest.raises(InputError, match="level 'code': use one of theme, subtheme"):
        ag.agreement_table(coded([]), coded([]), units, level="code")


# ----------------------------------------------------------------------------- reading the differences, figure
def test_disagreements_list_one_sided_segments_with_their_words_marked():
    units = units_frame(["I can't cope at all", "my back <hurts>", "fine"])
    a = coded([("T1:0", "x", "", 2, 12, "can't cope"), ("T1:1", "x", "", 3, 7, "back")])
    b = coded([("T1:0", "x", "", 0, 19), ("T1:2", "x", "", 0, 4)])
    out = ag.disagreements(a, b, units, label_a="auto", label_b="human")
    assert out.columns.tolist() == ["segment_id", "participant_id", "group", "code", "coded_by", "terms", "text"]
    assert out[["segment_id", "code", "coded_by", "terms"]].values.tolist() == [
        ["T1:1", "x", "auto only", "back"], ["T1:2", "x", "human only", ""]]
    assert out["text"].tolist() == ["my <mark>back</mark> &lt;hurts&gt;", "<mark>fine</mark>"]


def test_plot_has_title_labels_and_a_row_per_code():
    from helpers import figures

    figures.apply_style()
    units = units_frame(["t"] * 4)
    table = ag.agreement_table(coded([("T1:0", "x", "", 0, 1)]), coded([("T1:0", "x", "", 0, 1)]), units,
                               codes=["x", "unused"])
    fig = ag.plot_agreement(table, labels={"x": "Code X"}, note="n = 4 segments")
    ax = fig.axes[0]
    assert ax.get_title() == "Agreement per code, counted by segments"
    assert ax.get_xlabel() and [t.get_text() for t in ax.get_yticklabels()] == ["Code X", "unused", ag.POOLED]
    assert [t.get_text() for t in ax.texts] == ["undefined: no unit coded by either side"]
    assert any(t.get_text() == "n = 4 segments" for t in fig.texts)


# ----------------------------------------------------------------------------- command line
def test_cli_agree_matches_sklearn_and_filters_coders(tmp_path):
    rng = np.random.default_rng(3)
    texts = ["some words here"] * 40
    turns = units_frame(texts).drop(columns="segment_id").assign(
        speaker="P", role="participant", timestamp="", source="t.txt", line=1)
    turns["participant_id"] = "C01"
    turns.to_csv(tmp_path / "turns.csv", index=False)
    pd.DataFrame({"participant_id": ["C01"], "group": ["client"], "collection": ["interview"],
                  "transcript_id": ["T1"]}).to_csv(tmp_path / "participants.csv", index=False)
    units = units_frame(texts)
    xa, xb = rng.random((40, 2)) < 0.4, rng.random((40, 2)) < 0.5
    from_matrix(xa, units, ["p", "q"]).to_csv(tmp_path / "a.csv", index=False)
    b = pd.concat([from_matrix(xb, units, ["p", "q"]).assign(coder="ann"),
                   from_matrix(~xb, units, ["p", "q"]).assign(coder="bob")])
    b.to_csv(tmp_path / "b.csv", index=False)
    common = ["--corpus", str(tmp_path / "turns.csv"), "--participants", str(tmp_path / "participants.csv"),
              "--codebook", str(tmp_path / "none.yaml")]
    (tmp_path / "none.yaml").write_text("themes:\n  - code: p\n    label: P\n    keywords: [some]\n"
                                        "  - code: q\n    label: Q\n    keywords: [words]\n", encoding="utf-8")
    proc = run_cli("agree", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"), "--b-coder", "ann",
                   "--out", str(tmp_path / "agree.csv"), *common)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "agree.csv")
    assert table["code"].tolist() == ["p", "q", ag.MACRO, ag.POOLED]
    assert table.loc[0, "kappa"] == pytest.approx(cohen_kappa_score(xa[:, 0], xb[:, 0]), abs=1e-12)
    assert table.loc[3, "kappa"] == pytest.approx(cohen_kappa_score(xa.ravel(), xb.ravel()), abs=1e-12)
    assert ("segment level, 40 segments of 1 participants in 1 transcripts (T1); overall rows over 2 code(s) used "
            "by either side: pooled kappa") in proc.stderr
    proc = run_cli("agree", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"), "--b-coder", "carol",
                   *common)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("no codings by coder 'carol'; coders there: ann, bob")
