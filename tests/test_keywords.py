"""Keyword analysis (helpers.keywords): keyness arithmetic by hand, frequencies, n-grams, KWIC,
collocations, figures and the `keyness` / `kwic` commands, on small hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import figures, keywords as kw
from helpers.errors import InputError

from conftest import run_cli


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test's figures are closed after it (no 'more than 20 figures' warning)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

LN2, LN3 = math.log(2), math.log(3)


def chi2_sf_1df(x: float) -> float:
    """P(chi-square with 1 df > x) = erfc(sqrt(x / 2)): computed without scipy."""
    return math.erfc(math.sqrt(x / 2))


def segs(*rows) -> pd.DataFrame:
    """A segments table from (segment_id, participant_id, group, text) tuples."""
    return pd.DataFrame(rows, columns=["segment_id", "participant_id", "group", "text"])


TWO_GROUPS = segs(("T1:1", "C01", "client", "pain pain pain work"),
                  ("T2:0", "E01", "esw", "work work work employer"))


# ----------------------------------------------------------------------------- keyness arithmetic
def test_g2_p_and_log_ratio_for_a_small_table():
    # a=10, b=5, c=1000, d=2000: E1 = 1000*15/3000 = 5, E2 = 2000*15/3000 = 10
    # G2 = 2(10 ln(10/5) + 5 ln(5/10)) = 2(10 ln2 - 5 ln2) = 10 ln2
    # Log Ratio = log2((10/1000) / (5/2000)) = log2(4) = 2
    got = kw.keyness_scores([10], [5], 1000, 2000).iloc[0]
    assert got["g2"] == pytest.approx(10 * LN2, abs=1e-9)
    assert got["p_value"] == pytest.approx(chi2_sf_1df(10 * LN2), abs=1e-9)
    assert got["log_ratio"] == pytest.approx(2.0, abs=1e-9)


def test_zero_count_in_the_target():
    # a=0, b=8, c=1000, d=3000: E2 = 3000*8/4000 = 6; the a-term contributes 0
    # G2 = 2(8 ln(8/6)) = 16 ln(4/3); Log Ratio = log2((0.5/1000) / (8/3000)) = log2(3/16)
    got = kw.keyness_scores([0], [8], 1000, 3000).iloc[0]
    assert got["g2"] == pytest.approx(16 * math.log(4 / 3), abs=1e-9)
    assert got["p_value"] == pytest.approx(chi2_sf_1df(16 * math.log(4 / 3)), abs=1e-9)
    assert got["log_ratio"] == pytest.approx(math.log2(3 / 16), abs=1e-9)
    assert got["log_ratio"] < 0


def test_zero_count_in_the_reference():
    # a=6, b=0, c=500, d=1500: E1 = 500*6/2000 = 1.5; G2 = 2(6 ln(6/1.5)) = 12 ln4 = 24 ln2
    # Log Ratio = log2((6/500) / (0.5/1500)) = log2(36)
    got = kw.keyness_scores([6], [0], 500, 1500).iloc[0]
    assert got["g2"] == pytest.approx(24 * LN2, abs=1e-9)
    assert got["p_value"] == pytest.approx(chi2_sf_1df(24 * LN2), abs=1e-9)
    assert got["log_ratio"] == pytest.approx(math.log2(36), abs=1e-9)


def test_equal_relative_frequencies_give_zero():
    got = kw.keyness_scores([5], [10], 100, 200).iloc[0]
    assert got["g2"] == pytest.approx(0.0, abs=1e-12)
    assert got["p_value"] == pytest.approx(1.0, abs=1e-12)
    assert got["log_ratio"] == pytest.approx(0.0, abs=1e-12)


def test_benjamini_hochberg_by_hand():
    # sorted p: 0.01 (rank 1), 0.03 (2), 0.04 (3), 0.2 (4); m = 4
    # p*m/rank: 0.04, 0.06, 0.05333…, 0.2; running minimum from the largest rank down:
    # rank 4: 0.2; rank 3: 0.16/3; rank 2: min(0.06, 0.16/3) = 0.16/3; rank 1: 0.04
    got = kw.bh_adjust([0.01, 0.04, 0.03, 0.2])
    assert got == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2], abs=1e-12)
    assert kw.bh_adjust([0.9, 0.8]) == pytest.approx([0.9, 0.9], abs=1e-12)
    assert kw.bh_adjust([0.6, 0.7, 0.9]).max() <= 1.0
    assert len(kw.bh_adjust([])) == 0


def test_keyness_table_of_two_groups_by_hand():
    tokens = kw.segment_tokens(TWO_GROUPS)
    table = kw.keyness(tokens, "group", target="client", min_count=1)
    assert list(table.columns) == ["term", "target", "reference", "target_count", "reference_count", "target_total",
                                   "reference_total", "g2", "p_value", "p_adjusted", "log_ratio"]
    # c = d = 4 tokens. pain: a=3, b=0, E1=1.5 -> G2 = 2*3 ln2 = 6 ln2
    # employer: a=0, b=1, E2=0.5 -> G2 = 2*1 ln2 = 2 ln2
    # work: a=1, b=3, E1=E2=2 -> G2 = 2(ln(1/2) + 3 ln(3/2)) = 6 ln3 - 8 ln2
    g2 = {"pain": 6 * LN2, "employer": 2 * LN2, "work": 6 * LN3 - 8 * LN2}
    p = {t: chi2_sf_1df(v) for t, v in g2.items()}
    # BH over 3 terms, ranks by p: pain 1, employer 2, work 3
    adj_work = p["work"]
    adj_employer = min(p["employer"] * 3 / 2, adj_work)
    adj_pain = min(p["pain"] * 3 / 1, adj_employer)
    assert adj_employer == adj_work  # the monotone step matters here
    lr = {"pain": math.log2((3 / 4) / (0.5 / 4)), "employer": math.log2((0.5 / 4) / (1 / 4)),
          "work": math.log2((1 / 4) / (3 / 4))}
    assert table["term"].tolist() == ["pain", "employer", "work"]  # by G2, largest first
    assert table["target"].unique().tolist() == ["client"] and table["reference"].unique().tolist() == ["rest"]
    assert table["target_count"].tolist() == [3, 0, 1]
    assert table["reference_count"].tolist() == [0, 1, 3]
    assert set(table["target_total"]) == {4} and set(table["reference_total"]) == {4}
    assert table["g2"].tolist() == pytest.approx([g2[t] for t in table["term"]], abs=1e-9)
    assert table["p_value"].tolist() == pytest.approx([p[t] for t in table["term"]], abs=1e-9)
    assert table["p_adjusted"].tolist() == pytest.approx([adj_pain, adj_employer, adj_work], abs=1e-9)
    assert table["log_ratio"].tolist() == pytest.approx([lr[t] for t in table["term"]], abs=1e-9)
    assert lr["pain"] == pytest.approx(math.log2(6)) and lr["work"] == pytest.approx(-math.log2(3))


def test_every_group_against_the_rest_mirrors_for_two_groups():
    table = kw.keyness(kw.segment_tokens(TWO_GROUPS), "group", min_count=1)
    client = table[table.target == "client"].set_index("term")
    esw = table[table.target == "esw"].set_index("term").loc[client.index]
    assert esw["g2"].to_numpy() == pytest.approx(client["g2"].to_numpy(), abs=1e-12)
    assert esw["log_ratio"].to_numpy() == pytest.approx(-client["log_ratio"].to_numpy(), abs=1e-12)
    assert esw["target_count"].tolist() == client["reference_count"].tolist()


def test_min_count_filter_and_adjustment_over_tested_terms_only():
    table = kw.keyness(kw.segment_tokens(TWO_GROUPS), "group", target="client", min_count=4)
    assert table["term"].tolist() == ["work"]  # pain 3+0, employer 0+1 are below 4
    assert table["p_adjusted"].iloc[0] == pytest.approx(table["p_value"].iloc[0], abs=1e-15)
    assert table["target_total"].iloc[0] == 4  # totals still count every token


def test_reference_group_rest_totals_and_pairwise():
    three = pd.concat([TWO_GROUPS, segs(("F1:3", "H01", "hcp", "pain clinic"))], ignore_index=True)
    tokens = kw.segment_tokens(three)
    rest = kw.keyness(tokens, "group", target="client", min_count=1)
    assert set(rest["reference_total"]) == {6}  # esw 4 + hcp 2
    vs_esw = kw.keyness(tokens, "group", target="client", reference="esw", min_count=1)
    assert set(vs_esw["reference"]) == {"esw"} and set(vs_esw["reference_total"]) == {4}
    assert "clinic" not in set(vs_esw["term"])  # seen only in hcp: 0 + 0
    pairs = kw.pairwise_keyness(tokens, "group", min_count=1)
    assert pairs[["target", "reference"]].drop_duplicates().values.tolist() == [
        ["client", "esw"], ["client", "hcp"], ["esw", "hcp"]]
    client_hcp = pairs[(pairs.target == "client") & (pairs.reference == "hcp")].set_index("term")
    # pain: a=3 of 4, b=1 of 2; E1 = 4*4/6 = 8/3, E2 = 2*4/6 = 4/3
    assert client_hcp.loc["pain", "g2"] == pytest.approx(2 * (3 * math.log(3 / (8 / 3)) + 1 * math.log(1 / (4 / 3))),
                                                         abs=1e-9)
    assert client_hcp.loc["pain", "log_ratio"] == pytest.approx(math.log2((3 / 4) / (1 / 2)), abs=1e-9)


def test_totals_are_counted_after_stopword_and_note_filtering():
    s = segs(("A:1", "C01", "client", "Um, the pain [laughs], you know, pain"),
             ("B:1", "E01", "esw", "The placement, I mean the placement and the employer"))
    tokens = kw.segment_tokens(s, stopwords={"um", "the", "you know", "i mean", "and"})
    table = kw.keyness(tokens, "group", target="client", min_count=1)
    assert set(table["target_total"]) == {2} and set(table["reference_total"]) == {3}


def test_keyness_bad_input_names_the_problem():
    tokens = kw.segment_tokens(TWO_GROUPS)
    with pytest.raises(InputError, match=r"--by 'site': no such column; choose one of: participant_id, group$"):
        kw.keyness(tokens, "site")
    with pytest.raises(InputError, match=r"--target 'hcp': no tokens with group = 'hcp'; values of group: client, esw"):
        kw.keyness(tokens, "group", target="hcp")
    with pytest.raises(InputError, match="both 'client'"):
        kw.keyness(tokens, "group", target="client", reference="client")
    with pytest.raises(InputError, match="at least 1"):
        kw.keyness(tokens, "group", min_count=0)
    one = kw.segment_tokens(TWO_GROUPS.iloc[:1])
    with pytest.raises(InputError, match="at least two values"):
        kw.keyness(one, "group")


def test_empty_group_values_are_not_compared():
    s = pd.concat([TWO_GROUPS, segs(("I:0", "", "", "pain pain pain"))], ignore_index=True)
    table = kw.keyness(kw.segment_tokens(s), "group", min_count=1)
    assert set(table["target"]) == {"client", "esw"}
    assert set(table["target_total"]) == {4}


def test_top_key_terms_ranks_by_g2_and_marks_significance():
    table = pd.DataFrame({"term": ["a", "b", "c", "d"], "target": "x", "reference": "rest",
                          "g2": [9.0, 5.0, 7.0, 1.0], "p_adjusted": [0.001, 0.2, 0.01, 0.5],
                          "log_ratio": [1.0, 2.0, -1.0, 0.5]})
    top = kw.top_key_terms(table, top_n=2, alpha=0.05)
    assert top["term"].tolist() == ["a", "b"] and top["significant"].tolist() == [True, False]
    assert kw.top_key_terms(table, 5, over_used=False)["term"].tolist() == ["c"]
    assert kw.top_key_terms(table, 5, significant_only=True)["term"].tolist() == ["a"]


# ----------------------------------------------------------------------------- frequencies and n-grams
def test_frequencies_per_group_and_per_participant():
    s = segs(("A:1", "C01", "client", "pain pain work"), ("A:2", "C02", "client", "pain"),
             ("B:1", "E01", "esw", "work"))
    tokens = kw.segment_tokens(s)
    freq = kw.frequencies(tokens, "group")
    assert freq[["group", "term", "count", "total"]].values.tolist() == [
        ["client", "pain", 3, 4], ["client", "work", 1, 4], ["esw", "work", 1, 1]]
    assert freq["per_10k"].tolist() == pytest.approx([7500.0, 2500.0, 10000.0], abs=1e-9)
    per = kw.frequencies(tokens, ["group", "participant_id"])
    assert per[["participant_id", "term", "count", "total"]].values.tolist() == [
        ["C01", "pain", 2, 3], ["C01", "work", 1, 3], ["C02", "pain", 1, 1], ["E01", "work", 1, 1]]
    wide = kw.rate_table(freq, ["work", "pain", "absent"])
    assert wide.loc["work"].tolist() == pytest.approx([2500.0, 10000.0])
    assert wide.loc["absent"].tolist() == [0, 0]


def test_ngrams_stay_inside_clauses_and_skip_filtered_words():
    s = segs(("A:1", "C01", "client", "back pain clinic, back pain"), ("A:2", "C01", "client", "the pain clinic"))
    tokens = kw.segment_tokens(s, stopwords={"the"})
    bigrams = kw.ngrams(tokens, 2)
    assert bigrams["token"].tolist() == ["back pain", "pain clinic", "back pain", "pain clinic"]
    assert [s.text[r][a:b] for r, a, b in zip(bigrams["row"], bigrams["start"], bigrams["end"])] == [
        "back pain", "pain clinic", "back pain", "pain clinic"]
    assert kw.ngrams(tokens, 3)["token"].tolist() == ["back pain clinic"]
    gapped = kw.segment_tokens(segs(("A:1", "C01", "client", "fit the note")), stopwords={"the"})
    assert kw.ngrams(gapped, 2).empty


def test_ngram_rates_use_word_totals_and_top_frequencies_cut_per_group():
    s = segs(("A:1", "C01", "client", "back pain, back pain, bad day"), ("B:1", "E01", "esw", "job search"))
    tokens = kw.segment_tokens(s)
    bigrams = kw.frequencies(kw.ngrams(tokens, 2), "group", totals=tokens)
    assert bigrams[["group", "term", "count", "total"]].values.tolist() == [
        ["client", "back pain", 2, 6], ["client", "bad day", 1, 6], ["esw", "job search", 1, 2]]
    assert bigrams["per_10k"].tolist() == pytest.approx([2 / 6 * 1e4, 1 / 6 * 1e4, 1 / 2 * 1e4], abs=1e-9)
    assert kw.top_frequencies(bigrams, "group", 1)["term"].tolist() == ["back pain", "job search"]


def test_token_summary_counts_words_before_and_after_filtering():
    s = segs(("A:1", "C01", "client", "Um, the pain [laughs]"), ("A:2", "C02", "client", "pain"),
             ("B:1", "E01", "esw", "the job"))
    tokens = kw.segment_tokens(s, stopwords={"um", "the"})
    summary = kw.token_summary(s, tokens, "group")
    assert summary.index.tolist() == ["client", "esw", "Total"]
    assert summary[["participants", "segments", "words", "tokens_counted"]].values.tolist() == [
        [2, 2, 4, 2], [1, 1, 2, 1], [3, 3, 6, 3]]
    assert summary["share_counted"].tolist() == [0.5, 0.5, 0.5]


def test_check_grouping_lists_usable_columns():
    s = TWO_GROUPS.assign(site="A")
    kw.check_grouping(s, "site")
    with pytest.raises(InputError, match=r"by = 'text': no such column in the segments; choose one of: "
                                         r"participant_id, group, site$"):
        kw.check_grouping(s, "text")


# ----------------------------------------------------------------------------- KWIC
KWIC_SEGS = segs(("A:1", "C01", "client", "Well, my fit note ran out [laughs] and the GP said fit notes are easy."),
                 ("B:2", "E01", "esw", "Fit notes? I never see them."))


def test_kwic_of_a_phrase_with_wildcard():
    lines = kw.kwic(KWIC_SEGS, "fit note*", window=2)
    assert list(lines.columns) == ["term", "segment_id", "participant_id", "group", "left", "match", "right",
                                   "start", "end"]
    assert lines[["segment_id", "participant_id", "group", "left", "match", "right"]].values.tolist() == [
        ["A:1", "C01", "client", "Well, my", "fit note", "ran out"],
        ["A:1", "C01", "client", "GP said", "fit notes", "are easy."],  # reaches the end: rest of the text
        ["B:2", "E01", "esw", "", "Fit notes", "? I never"],
    ]
    for (seg_id, start, end, match) in lines[["segment_id", "start", "end", "match"]].itertuples(index=False):
        assert KWIC_SEGS.set_index("segment_id").text[seg_id][start:end] == match


def test_kwic_window_counts_words_and_keeps_notes_in_context():
    assert kw.kwic(KWIC_SEGS, "ran", window=3)["right"].tolist() == ["out [laughs] and the"]
    none = kw.kwic(KWIC_SEGS, "ran", window=0)
    assert none[["left", "match", "right"]].values.tolist() == [["", "ran", ""]]
    with pytest.raises(InputError, match="--window -1"):
        kw.kwic(KWIC_SEGS, "ran", window=-1)


def test_kwic_with_stems_and_without_hits():
    assert kw.kwic(KWIC_SEGS, "note", stem=True)["match"].tolist() == ["note", "notes", "notes"]
    empty = kw.kwic(KWIC_SEGS, "placement")
    assert empty.empty and list(empty.columns) == kw.KWIC_COLUMNS


def test_kwic_display_shows_left_context_keyword_and_right_context_as_in_the_source():
    shown = kw.kwic_display(kw.kwic(KWIC_SEGS, "fit note*", window=2))
    assert shown[["left context", "keyword", "right context"]].values.tolist() == [
        ["Well, my", "fit note", "ran out"], ["GP said", "fit notes", "are easy."], ["", "Fit notes", "? I never"]]


def test_kwic_many_keeps_term_order_and_spreads_the_sample():
    s = segs(*[(f"A:{i}", "C01", "client", f"pain number {i}") for i in range(10)])
    lines = kw.kwic_many(s, ["number", "pain"], window=1, per_term=3)
    assert lines["term"].tolist() == ["number"] * 3 + ["pain"] * 3
    assert lines["segment_id"].tolist()[:3] == ["A:0", "A:4", "A:9"]


def test_key_terms_in_context_quotes_each_group_from_its_own_segments():
    s = segs(("A:1", "C01", "client", "my pain is bad, pain every day pain"), ("A:2", "C02", "client", "pain again"),
             ("B:1", "E01", "esw", "the job and the job"), ("B:2", "E02", "esw", "job job job"))
    tokens = kw.segment_tokens(s)
    key = kw.keyness(tokens, "group", min_count=1)
    # client: pain 4 of 10 words, never in esw -> top G2; esw: job 5 of 8, never in client
    quotes = kw.key_terms_in_context(s, key, top_n=1, per_term=2, window=1)
    # 2 of 4 (5) hits, spread: the first and the last
    assert quotes[["target", "term", "segment_id", "left", "match", "right"]].values.tolist() == [
        ["client", "pain", "A:1", "my", "pain", "is"], ["client", "pain", "A:2", "", "pain", "again"],
        ["esw", "job", "B:1", "the", "job", "and"], ["esw", "job", "B:2", "job", "job", ""]]
    assert (quotes["log_ratio"] > 0).all()
    assert list(quotes.columns)[:2] == ["target", "term"]


def test_hits_by_group_in_the_order_of_the_terms():
    lines = kw.kwic_many(KWIC_SEGS, ["never", "fit note*", "absent"])
    table = kw.hits_by_group(lines, ["never", "fit note*", "absent"])
    assert table.index.tolist() == ["never", "fit note*", "absent"]
    assert table.to_dict("list") == {"client": [0, 2, 0], "esw": [1, 1, 0]}


# ----------------------------------------------------------------------------- collocations
def test_bigram_collocations_by_hand():
    s = segs(("A:1", "C01", "client", "fit note"), ("A:2", "C01", "client", "fit note"),
             ("A:3", "C01", "client", "pain clinic"))
    got = kw.collocations(kw.segment_tokens(s), "group", n=2, min_freq=1).set_index("ngram")
    assert got.index.tolist() == ["fit note", "pain clinic"]
    # N = 6 words; fit note: n_ii = 2, n_i. = n_.i = 2 -> PMI = log2(2*6 / (2*2)) = log2 3
    # 2x2 table [[2, 0], [0, 4]], expected e_ii = 2*2/6, e_oo = 4*4/6:
    # LR = 2(2 ln(2 / (2/3)) + 4 ln(4 / (8/3))) = 2(2 ln3 + 4 ln1.5)
    assert got.loc["fit note", "count"] == 2
    assert got.loc["fit note", "pmi"] == pytest.approx(math.log2(3), abs=1e-9)
    assert got.loc["fit note", "likelihood_ratio"] == pytest.approx(2 * (2 * LN3 + 4 * math.log(1.5)), abs=1e-9)
    # pain clinic: n_ii = 1, PMI = log2(1*6 / 1) ; LR = 2(ln 6 + 5 ln(5 / (25/6)))
    assert got.loc["pain clinic", "pmi"] == pytest.approx(math.log2(6), abs=1e-9)
    assert got.loc["pain clinic", "likelihood_ratio"] == pytest.approx(2 * (math.log(6) + 5 * math.log(6 / 5)),
                                                                       abs=1e-9)
    floor = kw.collocations(kw.segment_tokens(s), "group", n=2, min_freq=2)
    assert floor["ngram"].tolist() == ["fit note"]


def test_collocations_do_not_cross_filtered_words_commas_or_segments():
    s = segs(("A:1", "C01", "client", "fit the note"), ("A:2", "C01", "client", "fit, note"),
             ("A:3", "C01", "client", "fit"), ("A:4", "C01", "client", "note"))
    got = kw.collocations(kw.segment_tokens(s, stopwords={"the"}), "group", n=2, min_freq=1)
    assert got.empty and list(got.columns) == ["group", "ngram", "count", "likelihood_ratio", "pmi"]


def test_trigram_collocations_per_group():
    s = segs(("A:1", "C01", "client", "pain management programme"), ("A:2", "C01", "client", "pain management programme"),
             ("B:1", "E01", "esw", "job search support, job search support"))
    got = kw.collocations(kw.segment_tokens(s), "group", n=3, min_freq=2)
    assert got[["group", "ngram", "count"]].values.tolist() == [
        ["client", "pain management programme", 2], ["esw", "job search support", 2]]
    assert np.isfinite(got["pmi"]).all() and (got["likelihood_ratio"] > 0).all()
    with pytest.raises(InputError, match="use 2"):
        kw.collocations(kw.segment_tokens(s), "group", n=4)


# ----------------------------------------------------------------------------- figures
def test_key_terms_figure_has_title_labels_and_marks_significance(tmp_path):
    figures.apply_style()
    table = kw.keyness(kw.segment_tokens(TWO_GROUPS), "group", min_count=1)
    fig = kw.plot_key_terms(table, top_n=3, under_n=1, note="n = 2 segments from 2 participants")
    assert fig._suptitle.get_text().startswith("Key terms")
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("Log Ratio") and ax.get_ylabel() == "Term"
    assert "Clients" in ax.get_title()
    assert all(bar.get_hatch() == "///" for bar in ax.patches)  # nothing significant with 8 tokens
    assert any("n = 2 segments" in t.get_text() for t in fig.texts)
    first = figures.save_figure(fig, "kt", folder=tmp_path / "a")
    second = figures.save_figure(kw.plot_key_terms(table, top_n=3, under_n=1, note="n = 2 segments from 2 participants"),
                                 "kt", folder=tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_frequency_and_word_size_figures():
    figures.apply_style()
    freq = kw.frequencies(kw.segment_tokens(TWO_GROUPS), "group")
    fig = kw.plot_frequency_comparison(freq, ["pain", "work"], note="n")
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() == "Occurrences per 10,000 tokens" and ax.get_ylabel() == "Term"
    top_label = max(ax.get_yticklabels(), key=lambda t: t.get_position()[1]).get_text()
    assert top_label == "pain"  # terms read top-down in the order given
    colours = {tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in ax.patches}
    assert len(colours) == 2  # one colour per group
    cloud = kw.plot_word_sizes(freq, "group", top_n=10, note="n")
    sizes = {t.get_text(): t.get_fontsize() for t in cloud.axes[0].texts}
    assert sizes["pain"] > sizes["work"]  # client: pain 3, work 1


def test_word_layout_fits_the_box_and_is_repeatable():
    words = [f"word{i}" for i in range(40)]
    counts = np.arange(40, 0, -1)
    first = kw._word_layout(words, counts, 300.0, 200.0)
    assert first == kw._word_layout(words, counts, 300.0, 200.0)
    assert [w for w, *_ in first] == words  # every word placed, biggest first
    sizes = [size for _, size, _, _ in first]
    assert sizes == sorted(sizes, reverse=True)
    assert all(0 <= x <= 300 and 0 <= y <= 200 for _, _, x, y in first)


# ----------------------------------------------------------------------------- command line
TURNS = """transcript_id,turn,speaker,participant_id,role,group,timestamp,text,source,line
T1,0,Interviewer,,interviewer,,,How is the pain at work?,T1.txt,1
T1,1,C01,C01,participant,client,,pain pain pain work,T1.txt,2
T2,0,E01,E01,participant,esw,,work work work employer,T2.txt,1
"""
PARTICIPANTS = """participant_id,group,collection,transcript_id,gender
C01,client,interview,T1,female
E01,esw,interview,T2,male
"""


@pytest.fixture()
def corpus_files(tmp_path):
    (tmp_path / "turns.csv").write_text(TURNS, encoding="utf-8")
    (tmp_path / "p.csv").write_text(PARTICIPANTS, encoding="utf-8")
    return tmp_path


def test_cli_keyness_writes_the_design_table(corpus_files):
    out = corpus_files / "k.csv"
    proc = run_cli("keyness", "--corpus", str(corpus_files / "turns.csv"), "--participants",
                   str(corpus_files / "p.csv"), "--by", "group", "--target", "client", "--min-count", "1",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == kw.KEYNESS_COLUMNS
    assert table["term"].tolist() == ["pain", "employer", "work"]  # interviewer's turn not counted
    assert table["g2"].tolist() == pytest.approx([6 * LN2, 2 * LN2, 6 * LN3 - 8 * LN2], abs=1e-9)
    assert set(table["reference"]) == {"rest"}


def test_cli_keyness_by_a_participant_attribute_to_stdout(corpus_files):
    proc = run_cli("keyness", "--corpus", str(corpus_files / "turns.csv"), "--participants",
                   str(corpus_files / "p.csv"), "--by", "gender", "--min-count", "1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ",".join(kw.KEYNESS_COLUMNS)
    assert lines[1].startswith("pain,female,rest,3,0,4,4,")


def test_cli_keyness_bad_by_column_exits_2_and_writes_nothing(corpus_files):
    out = corpus_files / "k.csv"
    proc = run_cli("keyness", "--corpus", str(corpus_files / "turns.csv"), "--participants",
                   str(corpus_files / "p.csv"), "--by", "nope", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --by 'nope': no such column")
    assert "group" in proc.stderr and "gender" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_keyness_unknown_target_exits_2(corpus_files):
    proc = run_cli("keyness", "--corpus", str(corpus_files / "turns.csv"), "--participants",
                   str(corpus_files / "p.csv"), "--by", "group", "--target", "hcp")
    assert proc.returncode == 2
    assert "error: --target 'hcp': no tokens with group = 'hcp'; values of group: client, esw" in proc.stderr


def test_cli_kwic_columns_and_window(corpus_files):
    out = corpus_files / "kwic.csv"
    proc = run_cli("kwic", "--corpus", str(corpus_files / "turns.csv"), "--participants", str(corpus_files / "p.csv"),
                   "--term", "employ*", "--window", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = pd.read_csv(out, keep_default_na=False)
    assert list(lines.columns) == kw.KWIC_COLUMNS
    assert lines[["segment_id", "participant_id", "group", "left", "match", "right"]].values.tolist() == [
        ["T2:0", "E01", "esw", "work", "employer", ""]]


def test_cli_keyness_min_length_below_one_is_a_usage_error(corpus_files, capsys):
    from helpers.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["keyness", "--corpus", str(corpus_files / "turns.csv"), "--participants", str(corpus_files / "p.csv"),
              "--by", "group", "--min-length", "0"])
    assert exit_.value.code == 2
    assert "argument --min-length: 0 must be 1 or more" in capsys.readouterr().err


def test_count_matrix_counts_terms_per_group_from_codes():
    tokens = pd.DataFrame({"token": ["pain", "work", None, "pain", "cope", "work", "pain"],
                           "group": ["hcp", "client", "client", None, " ", "client", "client"]})
    counts = kw.count_matrix(tokens)
    # the missing term, the missing group and the blank group are not counted; 'cope' only had the blank group
    assert counts.index.tolist() == ["pain", "work"] and counts.columns.tolist() == ["client", "hcp"]
    assert counts.to_numpy().tolist() == [[1, 1], [2, 0]]
    assert counts.index.name == "term" and counts.columns.name == "group"
    # categorical columns (as the tokeniser gives them) count the same
    as_categories = tokens.astype({"token": "category", "group": "category"})
    pd.testing.assert_frame_equal(kw.count_matrix(as_categories), counts, check_index_type=False,
                                  check_column_type=False)


def test_keyword_figures_are_drawn_at_page_width_and_wrap_many_groups(tmp_path):
    from PIL import Image

    figures.apply_style()
    many = segs(*[(f"{g}:{i}", f"{g}{i}", g, "pain and work and the fit note again") for g in "abcde" for i in range(2)])
    table = kw.keyness(kw.segment_tokens(many), "group", min_count=1)
    freq = kw.frequencies(kw.segment_tokens(many), "group")
    for name, fig, panels in (("kt", kw.plot_key_terms(table, top_n=3, under_n=1), (2, 3)),
                              ("ws", kw.plot_word_sizes(freq, "group", top_n=5), (3, 2)),
                              ("fc", kw.plot_frequency_comparison(freq, ["pain", "work"]), (1, 1))):
        assert figures.page_box(fig)[1] == figures.FIGURE_DPI  # drawn at page width, not scaled down
        grid = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
        assert grid == panels  # five groups: key terms 3 a row, word sizes 2 a row
        with Image.open(figures.save_figure(fig, name, tmp_path)[0]) as image:
            assert image.size[0] == figures.FIGURE_WIDTH_PX


def test_frequencies_by_a_column_named_twice_count_once():
    tokens = kw.segment_tokens(TWO_GROUPS)
    twice = kw.frequencies(tokens, ["participant_id", "participant_id"])
    pd.testing.assert_frame_equal(twice, kw.frequencies(tokens, "participant_id"))
