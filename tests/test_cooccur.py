"""Co-occurrence of codes: counts and measures (hand-computed and brute force), permutation test, figures, CLI."""

from __future__ import annotations

import math
from itertools import combinations
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import cooccur
from helpers.errors import InputError

from conftest import run_cli


def make_codings(rows) -> pd.DataFrame:
    """Codings from (segment_id, participant_id, group, theme, subtheme) tuples."""
    df = pd.DataFrame(rows, columns=["segment_id", "participant_id", "group", "theme", "subtheme"])
    df.insert(1, "transcript_id", df["segment_id"].str.split(":").str[0])
    df["term"], df["start"], df["end"] = "x", 0, 1
    return df


def make_segments(ids, participants: dict) -> pd.DataFrame:
    """A segments table (DESIGN.md §2 subset) for segment ids; participant per transcript."""
    df = pd.DataFrame({"segment_id": ids})
    df["transcript_id"] = df["segment_id"].str.split(":").str[0]
    turn_sentence = df["segment_id"].str.split(":").str[1].str.split(".")
    df["turn"] = turn_sentence.str[0].astype(int)
    df["sentence"] = turn_sentence.map(lambda parts: int(parts[1]) if len(parts) > 1 else 0)
    df["participant_id"] = df["transcript_id"].map(participants)
    df["group"] = df["participant_id"].str[0].map({"C": "client", "E": "esw", "H": "hcp"})
    df["text"] = "words"
    return df


# A small corpus: T1 (C01) has turns 0-3, T2 (E01) turns 0-1. Segment T1:2 carries no code.
SMALL = make_codings([
    ("T1:0", "C01", "client", "a", "a1"), ("T1:0", "C01", "client", "b", ""),
    ("T1:1", "C01", "client", "a", "a2"), ("T1:3", "C01", "client", "c", "c1"),
    ("T2:0", "E01", "esw", "a", "a1"), ("T2:0", "E01", "esw", "b", "b1"), ("T2:0", "E01", "esw", "a", "a1"),
    ("T2:1", "E01", "esw", "b", "b1"),
])
SMALL_SEGMENTS = make_segments(["T1:0", "T1:1", "T1:2", "T1:3", "T2:0", "T2:1"], {"T1": "C01", "T2": "E01"})


def row(table, a, b):
    """The one row of a pair table for codes a, b."""
    hit = table[(table["code_a"] == a) & (table["code_b"] == b)]
    assert len(hit) == 1
    return hit.iloc[0]


# ----------------------------------------------------------------------------- hand-computed cases
def test_segment_unit_counts_and_measures_by_hand():
    t = cooccur.cooccurrence(SMALL, unit="segment", segments=SMALL_SEGMENTS)
    assert list(t.columns[:7]) == ["code_a", "code_b", "n_a", "n_b", "n_ab", "jaccard", "npmi"]
    assert list(zip(t["code_a"], t["code_b"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    ab = row(t, "a", "b")
    # a in T1:0, T1:1, T2:0; b in T1:0, T2:0, T2:1; N = 6 segments (T1:2 uncoded counts too)
    assert (ab.n_a, ab.n_b, ab.n_ab, ab.n_units) == (3, 3, 2, 6)
    assert ab.jaccard == pytest.approx(2 / (3 + 3 - 2))
    assert ab.npmi == pytest.approx(math.log((2 / 6) / ((3 / 6) * (3 / 6))) / -math.log(2 / 6))
    assert ab.npmi == pytest.approx(0.2618595071429148, abs=1e-12)
    ac = row(t, "a", "c")
    assert (ac.n_a, ac.n_b, ac.n_ab) == (3, 1, 0)
    assert ac.jaccard == 0.0 and math.isnan(ac.npmi)
    assert not t["unbalanced"].any()
    assert t["p_value"].isna().all() and t["expected_n_ab"].isna().all()


def test_without_segments_n_counts_only_coded_segments():
    t = cooccur.cooccurrence(SMALL, unit="segment")
    ab = row(t, "a", "b")
    assert (ab.n_a, ab.n_b, ab.n_ab, ab.n_units) == (3, 3, 2, 5)
    assert ab.jaccard == pytest.approx(0.5)  # Jaccard does not depend on N
    assert ab.npmi == pytest.approx(math.log((2 / 5) / ((3 / 5) * (3 / 5))) / -math.log(2 / 5))


def test_participant_unit_and_npmi_of_one_when_every_unit_has_both():
    t = cooccur.cooccurrence(SMALL, unit="participant", segments=SMALL_SEGMENTS)
    ab = row(t, "a", "b")
    assert (ab.n_a, ab.n_b, ab.n_ab, ab.n_units) == (2, 2, 2, 2)
    assert ab.jaccard == 1.0 and ab.npmi == 1.0
    ac = row(t, "a", "c")
    assert (ac.n_ab, ac.jaccard) == (1, 0.5)
    assert ac.npmi == pytest.approx(0.0, abs=1e-12)  # ln((1/2) / (1 * 1/2)) = 0


def test_transcript_unit_equals_participant_unit_for_interviews():
    by_t = cooccur.cooccurrence(SMALL, unit="transcript", segments=SMALL_SEGMENTS)
    by_p = cooccur.cooccurrence(SMALL, unit="participant", segments=SMALL_SEGMENTS)
    pd.testing.assert_frame_equal(by_t, by_p)


def test_window_unit_slides_over_k_consecutive_turns():
    inc = cooccur.incidence(SMALL, unit="window", window=2, segments=SMALL_SEGMENTS)
    assert inc.unit_ids == ["T1:0-1", "T1:1-2", "T1:2-3", "T2:0-1"]
    x = pd.DataFrame(inc.matrix.toarray(), index=inc.unit_ids, columns=inc.codes)
    assert x.to_dict("list") == {"a": [1, 1, 0, 1], "b": [1, 0, 0, 1], "c": [0, 0, 1, 0]}
    t = cooccur.cooccurrence(SMALL, unit="window", window=2, segments=SMALL_SEGMENTS)
    ab = row(t, "a", "b")
    assert (ab.n_a, ab.n_b, ab.n_ab, ab.n_units) == (3, 2, 2, 4)
    assert ab.jaccard == pytest.approx(2 / 3)


def test_window_longer_than_a_transcript_is_one_window():
    inc = cooccur.incidence(SMALL, unit="window", window=10, segments=SMALL_SEGMENTS)
    assert inc.unit_ids == ["T1:0-9", "T2:0-9"]


def test_sentence_segments_share_their_turn_window():
    cod = make_codings([("T1:0.0", "C01", "client", "a", ""), ("T1:0.1", "C01", "client", "b", ""),
                        ("T1:2.0", "C01", "client", "b", "")])
    seg = make_segments(["T1:0.0", "T1:0.1", "T1:1.0", "T1:2.0"], {"T1": "C01"})
    seg_table = cooccur.cooccurrence(cod, unit="segment", segments=seg)
    assert row(seg_table, "a", "b").n_ab == 0
    win = cooccur.cooccurrence(cod, unit="window", window=1, segments=seg)
    assert (row(win, "a", "b").n_ab, row(win, "a", "b").n_units) == (1, 3)


def test_subtheme_level_counts_a_themes_own_rule_as_the_theme():
    t = cooccur.cooccurrence(SMALL, level="subtheme", segments=SMALL_SEGMENTS)
    assert cooccur.code_order(t) == ["a1", "a2", "b", "b1", "c1"]
    assert row(t, "a1", "b").n_ab == 1 and row(t, "a1", "b1").n_ab == 1 and row(t, "a2", "b").n_ab == 0


def test_explicit_codes_keep_their_order_and_unused_codes():
    t = cooccur.cooccurrence(SMALL, codes=["c", "a", "z"], segments=SMALL_SEGMENTS)
    assert list(zip(t["code_a"], t["code_b"])) == [("c", "a"), ("c", "z"), ("a", "z")]
    cz = row(t, "c", "z")
    assert (cz.n_a, cz.n_b, cz.n_ab, cz.jaccard) == (1, 0, 0, 0.0)
    assert not cz.unbalanced  # a code that never occurs is not "unbalanced", just absent


def test_unbalanced_flag_is_more_than_five_times():
    ids = [f"T1:{i}" for i in range(6)]
    rows = [(s, "C01", "client", "a", "") for s in ids] + [("T1:0", "C01", "client", "b", "")]
    t = cooccur.cooccurrence(make_codings(rows))
    assert row(t, "a", "b").unbalanced  # 6 > 5 x 1
    t5 = cooccur.cooccurrence(make_codings(rows[1:]))
    assert (row(t5, "a", "b").n_a, row(t5, "a", "b").unbalanced) == (5, False)  # 5 is not more than 5 x 1


def test_measures_formula_on_arrays():
    m = cooccur.measures([4, 10, 0, 3], [2, 10, 0, 3], [1, 10, 0, 0], 10)
    assert m["jaccard"].tolist()[:2] == [pytest.approx(1 / 5), 1.0]
    assert math.isnan(m["jaccard"][2]) and m["jaccard"][3] == 0.0
    assert m["npmi"][0] == pytest.approx(math.log(0.1 / (0.4 * 0.2)) / -math.log(0.1))
    assert m["npmi"][1] == 1.0 and math.isnan(m["npmi"][2]) and math.isnan(m["npmi"][3])


# ----------------------------------------------------------------------------- empty and single-code input
def test_empty_codings_give_an_empty_table_with_the_columns():
    empty = SMALL.iloc[0:0]
    t = cooccur.cooccurrence(empty)
    assert t.empty and list(t.columns) == cooccur.COLUMNS + cooccur.EXTRA_COLUMNS
    t = cooccur.cooccurrence(empty, segments=SMALL_SEGMENTS, permutations=50)
    assert t.empty
    g = cooccur.cooccurrence(empty, by="group")
    assert g.empty and list(g.columns) == ["group"] + cooccur.COLUMNS + cooccur.EXTRA_COLUMNS


def test_single_code_has_no_pairs_but_a_count():
    one = SMALL[SMALL["theme"] == "a"]
    t = cooccur.cooccurrence(one, segments=SMALL_SEGMENTS, permutations=20)
    assert t.empty
    counts = cooccur.code_counts(one, segments=SMALL_SEGMENTS)
    assert counts.to_dict("list") == {"code": ["a"], "n": [3], "n_units": [6], "share": [0.5]}


def test_bad_unit_level_window_and_unknown_segment_are_refused():
    with pytest.raises(InputError, match="unit 'sentence'"):
        cooccur.cooccurrence(SMALL, unit="sentence")
    with pytest.raises(InputError, match="level 'code'"):
        cooccur.cooccurrence(SMALL, level="code")
    with pytest.raises(InputError, match="window 0"):
        cooccur.cooccurrence(SMALL, unit="window", window=0)
    with pytest.raises(InputError, match=r"1 coded segment\(s\) are not among the corpus segments \('T2:1'\)"):
        cooccur.cooccurrence(SMALL, segments=SMALL_SEGMENTS.iloc[:-1])
    with pytest.raises(InputError, match="lacks column"):
        cooccur.cooccurrence(SMALL.drop(columns="theme"))


# ----------------------------------------------------------------------------- grouped
def test_by_group_counts_within_each_group():
    t = cooccur.cooccurrence(SMALL, by="group", segments=SMALL_SEGMENTS)
    assert t.columns[0] == "group" and t["group"].unique().tolist() == ["client", "esw"]
    client, esw = t[t["group"] == "client"], t[t["group"] == "esw"]
    assert (row(client, "a", "b").n_ab, row(client, "a", "b").n_units) == (1, 4)
    assert (row(esw, "a", "b").n_a, row(esw, "a", "b").n_b, row(esw, "a", "b").n_ab) == (1, 2, 1)
    assert (row(esw, "a", "c").n_b, row(esw, "a", "c").n_units) == (0, 2)  # same pairs in every group


def test_by_an_unknown_column_lists_the_available_ones():
    with pytest.raises(InputError, match="--by 'site'.*available: transcript_id, participant_id, group"):
        cooccur.cooccurrence(SMALL, by="site", segments=SMALL_SEGMENTS)


# ----------------------------------------------------------------------------- brute force (property-based)
def brute_force(codings, segments, level, unit, k):
    """Pure-Python counts: unit -> set of codes, then n_a, n_b, n_ab per pair and N."""
    code = {"theme": codings["theme"], "subtheme": codings["subtheme"].where(codings["subtheme"] != "",
                                                                               codings["theme"])}[level]
    seg_codes: dict[str, set] = {s: set() for s in segments["segment_id"]}
    for s, c in zip(codings["segment_id"], code):
        seg_codes[s].add(c)
    units: dict[str, set] = {}
    for s in segments.itertuples():
        if unit == "segment":
            keys = [s.segment_id]
        elif unit == "participant":
            keys = [s.participant_id]
        elif unit == "transcript":
            keys = [s.transcript_id]
        else:
            last = segments.loc[segments["transcript_id"] == s.transcript_id, "turn"].max()
            n_windows = max(last - k + 2, 1)
            keys = [f"{s.transcript_id}:{w}" for w in range(n_windows) if w <= s.turn <= w + k - 1]
        for key in keys:
            units.setdefault(key, set()).update(seg_codes[s.segment_id])
    if unit == "window":  # windows holding no segment at all still count
        for t, turns in segments.groupby("transcript_id")["turn"]:
            for w in range(max(turns.max() - k + 2, 1)):
                units.setdefault(f"{t}:{w}", set())
    codes = sorted(set(code))
    out = {}
    for a, b in combinations(codes, 2):
        n_a = sum(a in u for u in units.values())
        n_b = sum(b in u for u in units.values())
        n_ab = sum(a in u and b in u for u in units.values())
        out[(a, b)] = (n_a, n_b, n_ab)
    return out, len(units)


@st.composite
def random_corpus(draw):
    """Up to 3 transcripts of up to 8 turns (some turns split into sentences), random codes."""
    ids, participants = [], {}
    sentences = draw(st.booleans())
    for t in range(draw(st.integers(1, 3))):
        participants[f"T{t}"] = f"C0{t}" if draw(st.booleans()) else f"E0{t}"
        turns = sorted(draw(st.sets(st.integers(0, 7), min_size=1, max_size=6)))
        for turn in turns:
            if sentences:
                ids += [f"T{t}:{turn}.{s}" for s in range(draw(st.integers(1, 2)))]
            else:
                ids.append(f"T{t}:{turn}")
    segments = make_segments(ids, participants)
    themes = ["a", "b", "c", "d"]
    rows = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(themes), st.sampled_from(["", "x", "y"])),
                         max_size=25))
    codings = make_codings([(s, participants[s.split(":")[0]], "g", th, (th + sub) if sub else "")
                            for s, th, sub in rows])
    return codings, segments


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_corpus(), level=st.sampled_from(cooccur.LEVELS), unit=st.sampled_from(cooccur.UNITS),
       k=st.integers(1, 4))
def test_counts_and_measures_match_brute_force(data, level, unit, k):
    codings, segments = data
    table = cooccur.cooccurrence(codings, level=level, unit=unit, window=k, segments=segments)
    expected, n_units = brute_force(codings, segments, level, unit, k)
    assert len(table) == len(expected)
    for r in table.itertuples():
        n_a, n_b, n_ab = expected[(r.code_a, r.code_b)]
        assert (r.n_a, r.n_b, r.n_ab, r.n_units) == (n_a, n_b, n_ab, n_units)
        union = n_a + n_b - n_ab
        assert r.jaccard == pytest.approx(n_ab / union)
        if n_ab == 0:
            assert math.isnan(r.npmi)
        elif n_ab == n_units:
            assert r.npmi == 1.0
        else:
            p_ab, p_a, p_b = n_ab / n_units, n_a / n_units, n_b / n_units
            assert r.npmi == pytest.approx(math.log(p_ab / (p_a * p_b)) / -math.log(p_ab))
        assert r.unbalanced == (min(n_a, n_b) > 0 and max(n_a, n_b) > 5 * min(n_a, n_b))


# ----------------------------------------------------------------------------- permutation test
def one_transcript(n_segments: int, both: int, only_a: int = 0, only_b: int = 0):
    """Codings in one transcript: `both` segments with a and b, then a-only, then b-only segments."""
    rows = []
    for i in range(both):
        rows += [(f"T1:{i}", "C01", "client", "a", ""), (f"T1:{i}", "C01", "client", "b", "")]
    rows += [(f"T1:{both + i}", "C01", "client", "a", "") for i in range(only_a)]
    rows += [(f"T1:{both + only_a + i}", "C01", "client", "b", "") for i in range(only_b)]
    seg = make_segments([f"T1:{i}" for i in range(n_segments)], {"T1": "C01"})
    return make_codings(rows), seg


def test_permutation_test_is_deterministic_with_a_seed():
    cod, seg = one_transcript(20, both=3, only_a=2, only_b=4)
    first = cooccur.cooccurrence(cod, segments=seg, permutations=300, seed=11)
    again = cooccur.cooccurrence(cod, segments=seg, permutations=300, seed=11)
    other = cooccur.cooccurrence(cod, segments=seg, permutations=300, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert first["expected_n_ab"].iloc[0] != other["expected_n_ab"].iloc[0]


def test_permutation_results_do_not_depend_on_batches_or_threads(monkeypatch):
    cod, seg = one_transcript(20, both=3, only_a=2, only_b=4)
    whole = cooccur.cooccurrence(cod, segments=seg, permutations=300, seed=11)
    # the same shuffles drawn by one generator, batch after batch, in one thread
    inc = cooccur.incidence(cod, "theme", "segment", 3, seg, sorted(cod["theme"].unique()))
    rng = np.random.default_rng(11)
    base = inc.base.toarray().astype(np.float32)
    keys = rng.random((300, *base.shape)) + inc.strata[None, :, None]
    shuffled = np.take_along_axis(np.broadcast_to(base, keys.shape), np.argsort(keys, axis=1), axis=1)
    counts = (shuffled[:, :, 0] * shuffled[:, :, 1]).sum(axis=1).astype(np.int64)
    assert whole["expected_n_ab"].iloc[0] == pytest.approx(counts.mean(), abs=1e-12)
    assert whole["p_value"].iloc[0] == pytest.approx((1 + (counts >= 3).sum()) / 301, abs=1e-12)
    monkeypatch.setattr(cooccur, "PERMUTATION_CELLS", 7 * 2 * 20)  # batches of 7 permutations
    for cores in (1, 3):
        monkeypatch.setattr(cooccur.os, "cpu_count", lambda cores=cores: cores)
        pd.testing.assert_frame_equal(cooccur.cooccurrence(cod, segments=seg, permutations=300, seed=11), whole)


def test_permutation_expected_count_is_the_hypergeometric_mean():
    # one stratum of 20 segments, n_a = n_b = 5: E[n_ab] = 5 * 5 / 20 = 1.25
    cod, seg = one_transcript(20, both=1, only_a=4, only_b=4)
    t = cooccur.cooccurrence(cod, segments=seg, permutations=4000, seed=1)
    assert t["expected_n_ab"].iloc[0] == pytest.approx(1.25, abs=0.05)
    # p = P(n_ab >= 1) = 1 - C(15,5)/C(20,5) under the null
    assert t["p_value"].iloc[0] == pytest.approx(1 - math.comb(15, 5) / math.comb(20, 5), abs=0.03)


def test_strong_association_gets_a_small_p_and_the_smallest_possible():
    cod, seg = one_transcript(20, both=5)
    t = cooccur.cooccurrence(cod, segments=seg, permutations=999, seed=3)
    # only 1 in C(20,5) = 15504 shuffles puts b exactly on a's segments: p = 1 / (1 + 999)
    assert t["p_value"].iloc[0] == pytest.approx(1 / 1000)


def test_shuffles_stay_within_transcripts():
    # each transcript has one segment: no shuffle can move a code, so expected = observed, p = 1
    cod = make_codings([("T1:0", "C01", "client", "a", ""), ("T1:0", "C01", "client", "b", ""),
                        ("T2:0", "C02", "client", "a", ""), ("T3:0", "C03", "client", "b", "")])
    t = cooccur.cooccurrence(cod, permutations=100, seed=0)
    assert (t["expected_n_ab"].iloc[0], t["p_value"].iloc[0]) == (1.0, 1.0)


def test_participant_shuffle_keeps_each_codes_prevalence():
    # 4 participants, a in 2, b in 2, together in 1: shuffling whole participants gives E = 2 * 2 / 4 = 1
    cod = make_codings([("T1:0", "C01", "client", "a", ""), ("T1:1", "C01", "client", "b", ""),
                        ("T2:0", "C02", "client", "a", ""), ("T3:0", "C03", "client", "b", "")])
    seg = make_segments(["T1:0", "T1:1", "T2:0", "T3:0", "T4:0"], {"T1": "C01", "T2": "C02", "T3": "C03", "T4": "C04"})
    t = cooccur.cooccurrence(cod, unit="participant", segments=seg, permutations=3000, seed=5)
    assert t["n_units"].iloc[0] == 4
    assert t["expected_n_ab"].iloc[0] == pytest.approx(1.0, abs=0.05)


def test_window_permutation_shuffles_segments_then_rebuilds_windows():
    # with k = 1 and a segment on every turn, windows are the segments: same counts, same shuffles
    cod, seg = one_transcript(12, both=2, only_a=3, only_b=3)
    win = cooccur.cooccurrence(cod, unit="window", window=1, segments=seg, permutations=200, seed=2)
    per_segment = cooccur.cooccurrence(cod, unit="segment", segments=seg, permutations=200, seed=2)
    cols = ["n_a", "n_b", "n_ab", "n_units", "expected_n_ab", "p_value"]
    pd.testing.assert_frame_equal(win[cols], per_segment[cols])
    wide = cooccur.cooccurrence(cod, unit="window", window=3, segments=seg, permutations=200, seed=2)
    assert 1 / 201 <= wide["p_value"].iloc[0] <= 1.0 and wide["expected_n_ab"].iloc[0] > 0


# ----------------------------------------------------------------------------- networks and figures
def test_code_network_keeps_only_significant_edges_and_round_trips_graphml(tmp_path):
    table = pd.DataFrame({"code_a": ["a", "a", "b"], "code_b": ["b", "c", "c"], "n_a": [4, 4, 3], "n_b": [3, 2, 2],
                          "n_ab": [3, 1, 0], "jaccard": [0.75, 0.2, 0.0], "npmi": [0.5, -0.1, np.nan],
                          "n_units": [10, 10, 10], "expected_n_ab": [1.2, 0.8, 0.6], "p_value": [0.01, 0.4, 1.0],
                          "unbalanced": [False, False, False]})
    g = cooccur.code_network(table, alpha=0.05)
    assert sorted(g.nodes) == ["a", "b", "c"] and list(g.edges) == [("a", "b")]
    assert g.nodes["a"]["share"] == 0.4 and g.edges["a", "b"]["jaccard"] == 0.75
    path = cooccur.write_graphml(g, tmp_path / "net.graphml")
    back = nx.read_graphml(path)
    assert sorted(back.nodes) == ["a", "b", "c"] and back.edges["a", "b"]["n_ab"] == 3
    untested = cooccur.code_network(table.assign(p_value=np.nan))
    assert sorted(untested.edges) == [("a", "b"), ("a", "c")]


def test_word_network_jaccard_over_texts_strongest_edges_and_communities():
    texts = pd.Series(["pain pain work", "pain work", "job centre", "job centre advisor", "the pain"])
    g = cooccur.word_network(texts, stopwords={"the"}, top_terms=10, max_edges=3, min_count=1)
    # texts per term: pain 3, work 2, job 2, centre 2, advisor 1
    # pairs: job-centre 2/2 = 1.0; pain-work 2/3; job-advisor = centre-advisor = 1/2
    assert sorted(tuple(sorted(e)) for e in g.edges) == [("advisor", "centre"), ("centre", "job"), ("pain", "work")]
    assert g.edges["job", "centre"]["jaccard"] == 1.0
    assert g.edges["pain", "work"]["jaccard"] == pytest.approx(2 / 3)
    assert g.number_of_edges() == 3 and "the" not in g
    assert g.nodes["pain"]["frequency"] == 4 and g.nodes["pain"]["texts"] == 3
    assert g.nodes["pain"]["community"] == g.nodes["work"]["community"] != g.nodes["job"]["community"]


def test_word_network_tie_break_is_alphabetical_and_min_count_applies():
    texts = pd.Series(["pain pain work", "pain work", "job centre", "job centre advisor", "the pain"])
    g = cooccur.word_network(texts, stopwords={"the"}, top_terms=10, max_edges=3, min_count=1)
    assert ("advisor", "centre") in {tuple(sorted(e)) for e in g.edges}  # beats advisor-job alphabetically
    g2 = cooccur.word_network(texts, stopwords={"the"}, top_terms=10, max_edges=60, min_count=2)
    assert "advisor" not in g2 and set(g2.nodes) == {"pain", "work", "job", "centre"}


def test_word_network_leaves_out_words_of_stopword_phrases_even_when_phrases_overlap():
    texts = pd.Series(["you know what i mean the pain", "know pain work", "kind of work", "kind pain"])
    sw = {"you know", "know what i mean", "kind of", "the"}
    g = cooccur.word_network(texts, stopwords=sw, top_terms=10, max_edges=60, min_count=1)
    # 'know' sits in two overlapping phrases in text 0 (removed once, not twice) and stands alone in
    # text 1; 'kind' is removed inside 'kind of' only; 'i', 'you', 'of' and 'mean' only occur in phrases
    assert {n: g.nodes[n]["frequency"] for n in g.nodes} == {"pain": 3, "work": 2, "know": 1, "kind": 1}
    assert g.nodes["know"]["texts"] == 1 and g.nodes["pain"]["texts"] == 3


def test_word_networks_per_theme_use_that_themes_segments():
    seg = SMALL_SEGMENTS.assign(text=["back pain work", "back pain", "nothing", "job centre", "work job", "job"])
    nets = cooccur.word_networks(seg, SMALL, min_count=1)
    assert sorted(nets) == ["a", "b", "c"]
    assert set(nets["a"].nodes) == {"back", "pain", "work", "job"} and nets["a"].graph["texts"] == 3
    assert nets["c"].number_of_edges() == 1 and set(nets["c"].nodes) == {"job", "centre"}


def test_figures_have_titles_labels_and_notes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from helpers import figures

    figures.apply_style()
    t = cooccur.cooccurrence(SMALL, segments=SMALL_SEGMENTS, permutations=50)
    tg = cooccur.cooccurrence(SMALL, by="group", segments=SMALL_SEGMENTS, permutations=20)
    figs = [cooccur.plot_heatmaps(t), cooccur.plot_group_heatmaps(tg, "group"),
            cooccur.plot_code_network(cooccur.code_network(t, alpha=1.0)),
            cooccur.plot_word_network(cooccur.word_networks(SMALL_SEGMENTS.assign(text="pain work job"), SMALL,
                                                            min_count=1)["a"]),
            cooccur.plot_heatmaps(t.iloc[0:0])]
    for fig in figs:
        assert fig.axes[0].get_title() and fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
        assert any(txt.get_text().startswith("n = ") or ": n = " in txt.get_text() for txt in fig.texts)
    heat = figs[0].axes[0]
    assert [t_.get_text().rstrip("*") for t_ in heat.texts] == ["2", "0", "0"]  # lower triangle: a-b, a-c, b-c
    files = figures.save_figure(figs[0], "cooc_test", tmp_path)
    assert all(f.stat().st_size > 0 for f in files)


# ----------------------------------------------------------------------------- codebook order, tables for reading
BOOK = SimpleNamespace(codes=pd.DataFrame({
    "theme": ["b", "b", "a", "a"], "subtheme": ["", "b1", "", "a1"], "level": ["theme", "subtheme", "theme", "subtheme"],
    "code": ["b", "b1", "a", "a1"], "label": ["Theme B", "Sub B1", "Theme A", "Sub A1"]}))


def test_codebook_codes_follow_the_codebook_and_keep_unknown_codes_last():
    assert cooccur.codebook_codes(BOOK, SMALL, "theme") == ["b", "a", "c"]
    # subtheme level: every subtheme, plus theme b whose own rule matched (T1:0), plus codes not in the book
    assert cooccur.codebook_codes(BOOK, SMALL, "subtheme") == ["b", "b1", "a1", "a2", "c1"]
    assert cooccur.codebook_labels(BOOK)["a1"] == "Sub A1" and cooccur.codebook_themes(BOOK)["b1"] == "b"


def test_readable_table_sorts_by_p_then_jaccard_and_uses_labels():
    table = pd.DataFrame({"code_a": ["a", "a", "b"], "code_b": ["b", "c", "c"], "n_a": [4, 4, 3], "n_b": [3, 2, 2],
                          "n_ab": [1, 2, 2], "jaccard": [1 / 6, 0.5, 2 / 3], "npmi": [0.1, 0.2, 0.3],
                          "n_units": [9, 9, 9], "expected_n_ab": [1.0, 1.0, 1.0], "p_value": [0.5, 0.01, 0.01],
                          "unbalanced": [False, True, False]})
    out = cooccur.readable(table, {"a": "Alpha"}, alpha=0.05)
    assert out[["code_a", "code_b"]].values.tolist() == [["b", "c"], ["Alpha", "c"], ["Alpha", "b"]]
    assert out["more_than_chance"].tolist() == ["yes", "yes", "no"]
    assert out["unbalanced"].tolist() == ["", "yes (> 5x)", ""] and out["jaccard"].iloc[0] == 0.667
    untested = cooccur.readable(table.assign(p_value=np.nan))
    assert "p_value" not in untested and untested["code_b"].tolist() == ["c", "c", "b"]


def test_unit_comparison_puts_each_unit_side_by_side():
    out = cooccur.unit_comparison(SMALL, segments=SMALL_SEGMENTS, window=2)
    assert list(out.columns) == ["code_a", "code_b", "segment", "window_2", "participant", "transcript"]
    ab = out[(out["code_a"] == "a") & (out["code_b"] == "b")].iloc[0]
    assert (ab.segment, ab.window_2, ab.participant) == (0.5, pytest.approx(2 / 3), 1.0)


def test_network_layout_is_seeded_and_puts_the_largest_component_first():
    g = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("x", "y")])
    g.add_node("z")
    first, again = cooccur.network_layout(g, seed=3), cooccur.network_layout(g, seed=3)
    assert set(first) == set(g.nodes) and all(np.array_equal(first[n], again[n]) for n in g.nodes)
    big = np.array([first[n] for n in "abcd"])
    assert np.allclose(big.mean(axis=0), 0) and np.abs(big).max() == pytest.approx(1.0)
    assert first["x"][0] > 1.0 and first["z"][0] > 1.0  # islands packed to the right of the main component


def test_read_units_segments_the_turns_like_the_codings(tmp_path):
    (tmp_path / "turns.csv").write_text(TURNS_CSV.replace("pain and job", "Pain here. And a job there."),
                                        encoding="utf-8")
    (tmp_path / "participants.csv").write_text(PARTICIPANTS_CSV, encoding="utf-8")
    cod = make_codings([("T1:1.1", "C01", "client", "outcomes", "")])
    units = cooccur.read_units(tmp_path / "turns.csv", cod, tmp_path / "participants.csv")
    assert units["segment_id"].tolist() == ["E1:0.0", "E1:2.0", "T1:1.0", "T1:1.1", "T1:2.0", "T1:3.0"]
    assert units["site"].tolist() == ["Site B", "Site B", "Site A", "Site A", "Site A", "Site A"]


# ----------------------------------------------------------------------------- command line
CODINGS_CSV = """segment_id,transcript_id,participant_id,group,theme,subtheme,term,start,end
T1:1,T1,C01,client,situations,complex_needs,pain,0,4
T1:1,T1,C01,client,outcomes,,job,5,8
T1:3,T1,C01,client,situations,,pain,0,4
E1:2,E1,E01,esw,outcomes,employment,job,0,3
E1:2,E1,E01,esw,activities,placements,placement,4,9
"""
TURNS_CSV = """transcript_id,turn,speaker,participant_id,role,group,timestamp,text,source,line
T1,0,I,,interviewer,,,Hello?,t1.txt,1
T1,1,C01,C01,participant,client,,pain and job,t1.txt,2
T1,2,C01,C01,participant,client,,nothing coded here,t1.txt,3
T1,3,C01,C01,participant,client,,pain,t1.txt,4
E1,0,E01,E01,participant,esw,,hello,e1.txt,1
E1,2,E01,E01,participant,esw,,job placement,e1.txt,3
"""
PARTICIPANTS_CSV = """participant_id,group,collection,transcript_id,site
C01,client,interview,T1,Site A
E01,esw,interview,E1,Site B
"""


@pytest.fixture
def cli_files(tmp_path):
    (tmp_path / "codings.csv").write_text(CODINGS_CSV, encoding="utf-8")
    (tmp_path / "turns.csv").write_text(TURNS_CSV, encoding="utf-8")
    (tmp_path / "participants.csv").write_text(PARTICIPANTS_CSV, encoding="utf-8")
    return tmp_path


def test_cli_writes_the_design_table_with_n_from_the_corpus(cli_files):
    out = cli_files / "co.csv"
    proc = run_cli("cooccur", "--codings", str(cli_files / "codings.csv"), "--level", "theme", "--unit", "segment",
                   "--corpus", str(cli_files / "turns.csv"), "--participants", str(cli_files / "participants.csv"),
                   "--by", "site", "--permutations", "50", "--seed", "4", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == ["site"] + cooccur.COLUMNS + cooccur.EXTRA_COLUMNS
    a = table[(table["site"] == "Site A") & (table["code_a"] == "outcomes") & (table["code_b"] == "situations")]
    assert a[["n_a", "n_b", "n_ab", "n_units"]].values.tolist() == [[1, 2, 1, 3]]  # T1:2 uncoded counts in N
    first = out.read_bytes()
    run_cli("cooccur", "--codings", str(cli_files / "codings.csv"), "--corpus", str(cli_files / "turns.csv"),
            "--participants", str(cli_files / "participants.csv"), "--by", "site", "--permutations", "50",
            "--seed", "4", "--out", str(out))
    assert out.read_bytes() == first  # same seed, byte-identical table


def test_cli_without_corpus_prints_csv_and_a_note(cli_files):
    proc = run_cli("cooccur", "--codings", str(cli_files / "codings.csv"), "--unit", "window", "--window", "2",
                   "--permutations", "0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == ",".join(cooccur.COLUMNS + cooccur.EXTRA_COLUMNS)
    assert "note: no --corpus given" in proc.stderr


def test_cli_bad_input_names_file_and_line_and_exits_2(cli_files, capsys):
    from helpers.__main__ import main

    bad = cli_files / "bad.csv"
    bad.write_text(CODINGS_CSV.replace("T1:3,T1", "T1-3,T1").replace("E1:2,E1,E01,esw,outcomes", "E1:2,E1,E01,esw,"),
                   encoding="utf-8")
    proc = run_cli("cooccur", "--codings", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].endswith("bad.csv:4: segment_id 'T1-3' is not TRANSCRIPT:TURN or TRANSCRIPT:TURN.SENTENCE; "
                             "re-run `python -m helpers code`")
    assert lines[1].endswith("bad.csv:5: empty theme; every coding needs the theme it belongs to")
    assert main(["cooccur", "--codings", str(bad), "--window", "2", "--permutations", "-1", "--out", "x.txt"]) == 2
    assert capsys.readouterr().err.splitlines() == ["error: --permutations -1: give 0 (no test) or more",
                                                    "error: --window 2 needs --unit window",
                                                    "error: --out x.txt: name a .csv or .parquet file"]
    (cli_files / "nocol.csv").write_text("segment_id,theme\nT1:1,a\n", encoding="utf-8")
    assert main(["cooccur", "--codings", str(cli_files / "nocol.csv")]) == 2
    assert "nocol.csv:1: missing column 'transcript_id'" in capsys.readouterr().err
    assert main(["cooccur", "--codings", str(cli_files / "missing.csv")]) == 2
    assert "missing.csv: codings file not found" in capsys.readouterr().err
    assert main(["cooccur", "--codings", str(cli_files / "codings.csv"), "--by", "shoe_size",
                 "--participants", str(cli_files / "participants.csv")]) == 2
    assert "--by 'shoe_size': not a column of the codings or of the participants; available: group, " \
           "collection, site" in capsys.readouterr().err


def test_codings_written_as_pq_are_read_back(tmp_path):
    from helpers import corpus

    codings = pd.DataFrame({"segment_id": ["T1:0", "T1:1"], "transcript_id": ["T1", "T1"],
                            "participant_id": ["P1", "P1"], "group": ["client", "client"],
                            "theme": ["a", "b"], "subtheme": ["", ""], "term": ["x", "y"],
                            "start": [0, 3], "end": [2, 5]})
    written = corpus.write_table(codings, tmp_path / "codings.pq")
    back = cooccur.read_codings(written)
    assert back[["segment_id", "theme"]].values.tolist() == [["T1:0", "a"], ["T1:1", "b"]]
