"""The benchmark's baselines (benchmarks/baselines.py) compute what our implementation computes.

The bench prints a speed-up of ours over each baseline; that number only means something when
both do the same job. Each test runs a baseline and our step on the same small input and
compares the results, so a baseline that silently does a different job fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import bench, codebook, coding, cooccur, corpus, keywords, paths, text

R = 999  # permutations in the generated-corpus test, as the bench and pipeline run them


@pytest.fixture(scope="module")
def base():
    return bench.load_baselines()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """~6000 words in ~10 transcripts (so the permutation test has several strata), segmented and coded."""
    folder, people_csv, _ = bench.generate_corpus(tmp_path_factory.mktemp("corpus"), 6000, seed=0,
                                                   words_per_transcript=600)
    people = corpus.load_participants(people_csv)
    turns = corpus.load_corpus(folder, people)
    segs = corpus.segments(turns, people)
    codings = coding.code_segments(segs, codebook.load_codebook(paths.CODEBOOK))
    return {"folder": folder, "turns": turns, "segments": segs, "codings": codings}


def _units_and_rows(segs: pd.DataFrame, codings: pd.DataFrame, code: str = "theme"):
    """The baselines' inputs, as bench.run_baselines builds them."""
    return list(zip(segs["segment_id"], segs["transcript_id"])), list(zip(codings["segment_id"], codings[code]))


def _tiny(segment_codes: dict[str, list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments and codings tables from {segment_id: [codes]} (ids TRANSCRIPT:TURN; [] = uncoded)."""
    segs = pd.DataFrame({"segment_id": list(segment_codes)})
    segs["transcript_id"] = segs["segment_id"].str.split(":").str[0]
    segs["participant_id"] = segs["transcript_id"] + "-P1"
    rows = [(s, c) for s, codes in segment_codes.items() for c in codes]
    codings = pd.DataFrame(rows, columns=["segment_id", "theme"])
    codings["transcript_id"] = codings["segment_id"].str.split(":").str[0]
    codings["participant_id"] = codings["transcript_id"] + "-P1"
    codings["subtheme"] = ""
    return segs, codings


# ----------------------------------------------------------------------------- co-occurrence counts
def _assert_counts_equal(ours: pd.DataFrame, theirs: dict) -> None:
    assert sorted(theirs) == sorted(zip(ours["code_a"], ours["code_b"]))
    for row in ours.itertuples(index=False):
        n_a, n_b, n_ab, jaccard, npmi = theirs[(row.code_a, row.code_b)]
        assert (n_a, n_b, n_ab) == (row.n_a, row.n_b, row.n_ab)
        assert jaccard == row.jaccard
        assert (npmi is None and math.isnan(row.npmi)) or npmi == row.npmi, (row.code_a, row.code_b, npmi, row.npmi)


def test_cooccurrence_counts_match_ours_on_a_generated_corpus(base, generated):
    segs, codings = generated["segments"], generated["codings"]
    ours = cooccur.cooccurrence(codings, level="theme", unit="segment", segments=segs)
    _, rows = _units_and_rows(segs, codings)
    theirs = base.cooccurrence(rows, len(segs))
    assert len(ours) == 6 and (ours["n_ab"] > 0).sum() >= 5  # four themes, nearly every pair meets
    _assert_counts_equal(ours, theirs)


def test_cooccurrence_counts_match_ours_at_the_edges(base):
    """n_ab = 0 (NPMI undefined), n_ab = N (NPMI 1) and uncoded segments counting in N."""
    segs, codings = _tiny({"T1:0": ["A", "B"], "T1:1": ["A", "B"]})
    ours = cooccur.cooccurrence(codings, segments=segs)
    assert ours["npmi"].tolist() == [1.0]
    _assert_counts_equal(ours, base.cooccurrence(_units_and_rows(segs, codings)[1], len(segs)))
    segs, codings = _tiny({"T1:0": ["A", "B"], "T1:1": ["C"], "T1:2": ["A"], "T2:0": [], "T2:1": ["B"]})
    ours = cooccur.cooccurrence(codings, segments=segs)
    assert ours["npmi"].isna().tolist() == [False, True, True]
    _assert_counts_equal(ours, base.cooccurrence(_units_and_rows(segs, codings)[1], len(segs)))


# ----------------------------------------------------------------------------- permutation test
def test_cooccurrence_test_equals_ours_where_every_shuffle_gives_the_same_count(base):
    # T1: A on every segment, so A and B meet exactly as often as B occurs in T1 (1), whatever the
    # shuffle; C is on every segment of T2, so B and C meet once there; A and C never share a
    # transcript. Shuffled within transcripts, every permutation repeats the observed counts:
    # expected n_ab = observed, p = 1. (Shuffling across transcripts would move A into T2/T3.)
    segs, codings = _tiny({"T1:0": ["A", "B"], "T1:1": ["A"], "T1:2": ["A"],
                           "T2:0": ["B", "C"], "T2:1": ["C"], "T2:2": ["C"], "T3:0": [], "T3:1": []})
    ours = cooccur.cooccurrence(codings, segments=segs, permutations=50, seed=0)
    theirs = base.cooccurrence_test(*_units_and_rows(segs, codings), permutations=50, seed=0)
    expected = {("A", "B"): (1, 1.0, 1.0), ("A", "C"): (0, 0.0, 1.0), ("B", "C"): (1, 1.0, 1.0)}
    assert theirs == expected
    assert {(r.code_a, r.code_b): (r.n_ab, r.expected_n_ab, r.p_value) for r in ours.itertuples()} == expected


def _exact_permutation_moments(segs: pd.DataFrame, codings: pd.DataFrame, a: str, b: str) -> tuple[float, float]:
    """Mean and variance of n_ab over all within-transcript shuffles: per transcript with m segments,
    a_t of them coded a and b_t coded b, the overlap is hypergeometric (mean a_t b_t / m,
    variance a_t b_t (m - a_t)(m - b_t) / (m² (m - 1))); transcripts shuffle independently."""
    mean = var = 0.0
    for t, ids in segs.groupby("transcript_id")["segment_id"]:
        m = len(ids)
        n_a = codings.loc[(codings["theme"] == a) & codings["segment_id"].isin(ids), "segment_id"].nunique()
        n_b = codings.loc[(codings["theme"] == b) & codings["segment_id"].isin(ids), "segment_id"].nunique()
        mean += n_a * n_b / m
        var += n_a * n_b * (m - n_a) * (m - n_b) / (m * m * (m - 1)) if m > 1 else 0.0
    return mean, var


def test_cooccurrence_test_agrees_with_ours_and_with_the_exact_expectation(base, generated):
    """Ours (numpy) and the baseline (random.Random) draw different shuffles, so their expected n_ab
    differ by Monte Carlo error. Both must lie within 4 standard errors (sd of n_ab / sqrt(R)) of the
    exact permutation mean; the test also checks that this band is narrow enough to reject a
    baseline that shuffled across transcripts (mean n_a n_b / N) or left out uncoded segments."""
    segs, codings = generated["segments"], generated["codings"]
    assert segs["transcript_id"].nunique() >= 5 and (~segs["segment_id"].isin(codings["segment_id"])).any()
    ours = cooccur.cooccurrence(codings, level="theme", unit="segment", segments=segs, permutations=R, seed=0)
    theirs = base.cooccurrence_test(*_units_and_rows(segs, codings), permutations=R, seed=0)
    assert sorted(theirs) == sorted(zip(ours["code_a"], ours["code_b"]))
    coded = segs[segs["segment_id"].isin(codings["segment_id"])]
    rejects_unstratified = rejects_coded_only = 0
    for row in ours.itertuples(index=False):
        observed, expected, p = theirs[(row.code_a, row.code_b)]
        mean, var = _exact_permutation_moments(segs, codings, row.code_a, row.code_b)
        band = 4 * math.sqrt(var / R)
        assert var > 0 and observed == row.n_ab
        assert abs(row.expected_n_ab - mean) <= band, (row.code_a, row.code_b, row.expected_n_ab, mean, band)
        assert abs(expected - mean) <= band, (row.code_a, row.code_b, expected, mean, band)
        # p: each is a binomial proportion over R shuffles; their difference has sd sqrt(2 p (1 - p) / R)
        p_mean = (p + row.p_value) / 2
        assert abs(p - row.p_value) <= 4 * math.sqrt(2 * p_mean * (1 - p_mean) / R) + 2 / (R + 1)
        rejects_unstratified += abs(row.n_a * row.n_b / len(segs) - mean) > band
        rejects_coded_only += abs(_exact_permutation_moments(coded, codings, row.code_a, row.code_b)[0] - mean) > band
    assert rejects_unstratified >= 3 and rejects_coded_only == len(ours)


# ----------------------------------------------------------------------------- keyness
def _clauses(raw: pd.DataFrame, groups: list[str]) -> tuple[list[list[str]], list[str]]:
    """Token lists per clause (consecutive `position`s in one segment), with each clause's group.

    Our stopword phrases ("you know") match only inside a clause; the baseline matches them
    anywhere in the token list it is given, so it gets one list per clause to do the same.
    """
    rows, positions = raw["row"].to_numpy(), raw["position"].to_numpy()
    starts = np.r_[True, (np.diff(rows) != 0) | (np.diff(positions) != 1)] if len(raw) else np.array([], bool)
    lists, owners = [], []
    for token, row, start in zip(raw["token"], rows, starts):
        if start:
            lists.append([])
            owners.append(groups[row])
        lists[-1].append(token)
    return lists, owners


def test_keyness_matches_ours_on_the_same_tokens(base, generated):
    """G² and Log Ratio of each group against the rest, with the project stopwords (words and phrases).

    The bench feeds the baseline NLTK Treebank tokens ("n't", "'s", "now." at a sentence end
    inside a turn), so there its counts differ from ours; the keyness arithmetic and the stopword
    filtering are compared here on our tokens.
    """
    segs = generated["segments"]
    stopwords = text.stopword_list()
    raw = text.token_table(segs["text"])
    singles_only = text.stopword_mask(raw, {w for w in stopwords if " " not in w})
    assert (text.stopword_mask(raw, stopwords) & ~singles_only).any()  # the corpus has stopword phrases
    kept = raw.loc[~text.stopword_mask(raw, stopwords)]
    tokens = pd.DataFrame({"token": kept["token"].to_numpy(), "group": segs["group"].to_numpy()[kept["row"]]})
    ours = keywords.keyness(tokens, by="group", min_count=5).set_index(["target", "term"])
    theirs = pd.DataFrame(base.keyness(*_clauses(raw, segs["group"].tolist()), stopwords),
                          columns=["target", "term", "a", "b", "g2", "log_ratio"]).set_index(["target", "term"])
    assert len(ours) > 50 and sorted(theirs.index) == sorted(ours.index)
    theirs = theirs.loc[ours.index]
    assert (theirs["a"].to_numpy() == ours["target_count"].to_numpy()).all()
    assert (theirs["b"].to_numpy() == ours["reference_count"].to_numpy()).all()
    np.testing.assert_allclose(theirs["g2"], ours["g2"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(theirs["log_ratio"], ours["log_ratio"], rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------- word network
def test_word_network_edges_match_ours_on_the_same_tokens(base, generated):
    """Same top terms (count, then alphabetical), same edges and Jaccard values, same cut at max_edges.

    Given its own Treebank tokens the baseline ranks other words ("'s", "n't"); compared on ours.
    """
    segs = generated["segments"]
    stopwords = text.stopword_list()
    raw = text.token_table(segs["text"])
    graph = cooccur.word_network(segs["text"], stopwords, 60, 60, tokens=raw)
    per_segment = [[] for _ in range(len(segs))]
    for row, token in zip(raw["row"], raw["token"]):
        per_segment[row].append(token)
    ours = {tuple(sorted((u, v))): data["jaccard"] for u, v, data in graph.edges(data=True)}
    theirs = {(a, b): jaccard for a, b, jaccard in base.word_network(per_segment, stopwords, 60, 60)}
    assert len(ours) == 60
    assert theirs == ours


# ----------------------------------------------------------------------------- ingest
def test_ingest_returns_the_turns_of_load_corpus(base, generated):
    turns = generated["turns"]
    theirs = base.ingest(generated["folder"])
    assert len(theirs) == len(turns) > 20
    assert [t for t, _, _ in theirs] == turns["transcript_id"].tolist()
    assert [" ".join(s.split()) for _, _, s in theirs] == [" ".join(s.split()) for s in turns["text"]]
