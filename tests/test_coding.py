"""Theme coding: hand-checked offsets for every rule kind, excludes, flat codebooks, sentence units,
prevalence, quotes, coverage, diagnostics, the matrix export and the `code` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import codebook, coding, corpus, paths
from helpers.__main__ import main
from helpers.errors import InputError

from conftest import run_cli

BOOK = {
    "themes": [
        {"code": "a", "label": "Theme A", "subthemes": [
            {"code": "word", "label": "Word", "keywords": ["pain"]},
            {"code": "prefix", "label": "Prefix", "keywords": ["anxi*"]},
            {"code": "suffix", "label": "Suffix", "keywords": ["*ache"]},
            {"code": "infix", "label": "Infix", "keywords": ["*fibro*"]},
            {"code": "phrase", "label": "Phrase", "keywords": ["good days and bad days"]},
            {"code": "regex", "label": "Regex", "patterns": [r"\bcan.t cope\b", r"end\W+start"]},
            {"code": "excluded", "label": "Excluded", "keywords": ["work"], "exclude": ["homework"]},
        ]},
        {"code": "b", "label": "Theme B", "keywords": ["GP"], "exclude": ["private"], "subthemes": [
            {"code": "clinic", "label": "Clinic", "keywords": ["clinic*"]},
        ]},
    ],
}

TEXTS = [
    "Pain, PAIN and painful.",                                           # s0: word, case
    "Anxious? No, anxiety.",                                             # s1: prefix
    "My back ache and headache.",                                        # s2: suffix
    "Fibromyalgia and fibro fog",                                        # s3: infix
    "Good days and bad days, [laughs] good days and [pause] bad days.",  # s4: phrase across notes
    "I can\u2019t cope. I CAN'T COPE.",                                  # s5: regex, curly apostrophe, case
    "Work and homework.",                                                # s6: excluded subtheme
    "work at home",                                                      # s7: same rule, no exclude
    "The GP clinic, not private.",                                       # s8: theme exclude removes all of b
    "The GP clinics.",                                                   # s9: theme rule + subtheme rule
    "It was good days and",                                              # s10: phrase must not cross into s11
    "bad days, the end",                                                 # s11
    "start again [NAME-1] pain",                                         # s12: regex must not cross from s11
]


def make_segments(texts, participants=None, groups=None) -> pd.DataFrame:
    """A segments table of hand-made texts, one transcript T, turns 0..n-1."""
    n = len(texts)
    participants = participants or ["P1"] * n
    groups = groups or ["client"] * n
    return pd.DataFrame({
        "segment_id": [f"T:{i}" for i in range(n)], "transcript_id": "T", "turn": range(n), "sentence": 0,
        "participant_id": participants, "role": "participant", "group": groups, "text": texts,
    })


@pytest.fixture(scope="module")
def book():
    return codebook.parse_codebook(BOOK, "test")


@pytest.fixture(scope="module")
def coded(book):
    segs = make_segments(TEXTS)
    return segs, coding.code_segments(segs, book)


def spans(codings, segment_id):
    """(subtheme, term, start, end) of a segment's codings."""
    rows = codings[codings["segment_id"] == segment_id]
    return [tuple(r) for r in rows[["subtheme", "term", "start", "end"]].itertuples(index=False)]


def test_columns_are_the_codings_table(coded):
    _, codings = coded
    assert list(codings.columns) == ["segment_id", "transcript_id", "participant_id", "group", "theme",
                                     "subtheme", "term", "start", "end"]
    assert codings["start"].dtype == np.int64 and codings["end"].dtype == np.int64


def test_exact_word_ignores_case_and_does_not_match_longer_words(coded):
    assert spans(coded[1], "T:0") == [("word", "pain", 0, 4), ("word", "pain", 6, 10)]


def test_prefix_wildcard(coded):
    assert spans(coded[1], "T:1") == [("prefix", "anxi*", 0, 7), ("prefix", "anxi*", 13, 20)]


def test_suffix_wildcard(coded):
    assert spans(coded[1], "T:2") == [("suffix", "*ache", 8, 12), ("suffix", "*ache", 17, 25)]


def test_infix_wildcard(coded):
    assert spans(coded[1], "T:3") == [("infix", "*fibro*", 0, 12), ("infix", "*fibro*", 17, 22)]


def test_phrase_spans_first_to_last_word_and_skips_transcription_notes(coded):
    phrase = "good days and bad days"
    assert spans(coded[1], "T:4") == [("phrase", phrase, 0, 22), ("phrase", phrase, 33, 63)]


def test_regex_is_case_insensitive_and_sees_straight_apostrophes(coded):
    rx = r"\bcan.t cope\b"
    assert spans(coded[1], "T:5") == [("regex", rx, 2, 12), ("regex", rx, 16, 26)]


def test_exclude_removes_the_subtheme_from_the_whole_segment(coded):
    assert spans(coded[1], "T:6") == []
    assert spans(coded[1], "T:7") == [("excluded", "work", 0, 4)]


def test_theme_exclude_removes_the_theme_and_its_subthemes(coded):
    assert spans(coded[1], "T:8") == []
    assert spans(coded[1], "T:9") == [("", "GP", 4, 6), ("clinic", "clinic*", 7, 14)]


def test_matches_never_cross_segments(coded):
    assert spans(coded[1], "T:10") == [] and spans(coded[1], "T:11") == []
    assert spans(coded[1], "T:12") == [("word", "pain", 21, 25)]


def test_offsets_point_at_the_matched_words(coded):
    segs, codings = coded
    texts = segs.set_index("segment_id")["text"]
    found = [texts[s][a:b] for s, a, b in codings[["segment_id", "start", "end"]].itertuples(index=False)]
    assert found[:4] == ["Pain", "PAIN", "Anxious", "anxiety"]
    assert "can\u2019t cope" in found and "CAN'T COPE" in found and "clinics" in found


def test_same_input_gives_the_same_table_and_order_follows_segments(book):
    segs = make_segments(TEXTS)
    first = coding.code_segments(segs, book)
    shuffled_rules = codebook.parse_codebook({"themes": list(reversed(BOOK["themes"]))})
    again = coding.code_segments(segs, book)
    pd.testing.assert_frame_equal(first, again)
    assert first["segment_id"].map(lambda s: int(s.split(":")[1])).is_monotonic_increasing
    other = coding.code_segments(segs, shuffled_rules)
    assert sorted(map(tuple, other.values.tolist())) == sorted(map(tuple, first.values.tolist()))


def test_overlapping_rules_each_give_a_row_in_codebook_order():
    book = codebook.parse_codebook({"themes": [
        {"code": "x", "label": "X", "keywords": ["pain clinic"], "subthemes": [
            {"code": "y", "label": "Y", "keywords": ["clinic*", "pain"]}]}]})
    codings = coding.code_segments(make_segments(["the pain clinic"]), book)
    assert spans(codings, "T:0") == [("y", "pain", 4, 8), ("", "pain clinic", 4, 15), ("y", "clinic*", 9, 15)]


def test_flat_codebook_without_subthemes():
    book = codebook.parse_codebook({"themes": [
        {"code": "pain", "label": "Pain", "keywords": ["pain*", "ache"]},
        {"code": "work", "label": "Work", "patterns": [r"\bjobs?\b"]}]})
    segs = make_segments(["Painful ache at my job", "no codes here", "jobs and pains"], ["P1", "P1", "P2"],
                         ["client", "client", "esw"])
    codings = coding.code_segments(segs, book)
    assert codings[["segment_id", "theme", "subtheme", "term", "start", "end"]].values.tolist() == [
        ["T:0", "pain", "", "pain*", 0, 7], ["T:0", "pain", "", "ache", 8, 12], ["T:0", "work", "", r"\bjobs?\b", 19, 22],
        ["T:2", "work", "", r"\bjobs?\b", 0, 4], ["T:2", "pain", "", "pain*", 9, 14]]
    prev = coding.prevalence(segs, codings, book)
    row = prev[(prev["theme"] == "work") & (prev["group"] == "all")].iloc[0]
    assert (row["segments_coded"], row["participants_coded"], row["n_of_N"]) == (2, 2, "2 of 2")
    matrix = coding.coding_matrix(segs, codings, book)
    assert matrix[["pain", "work"]].values.tolist() == [[1, 1], [0, 0], [1, 1]]


def participants_table() -> pd.DataFrame:
    return pd.DataFrame({"participant_id": ["C01", "E01"], "group": ["client", "esw"],
                         "collection": ["interview", "interview"], "transcript_id": ["T1", "T2"],
                         "gender": ["female", "male"]})


def turns_table() -> pd.DataFrame:
    records = [
        ("T1", 0, "Interviewer", "", "interviewer", "", float("nan"), "Any pain or anxiety?", "t1.txt", 1),
        ("T1", 1, "C01", "C01", "participant", "client", float("nan"), "I feel anxious. My GP helped.", "t1.txt", 3),
        ("T2", 0, "E01", "E01", "participant", "esw", float("nan"), "The GP clinic refers.", "t2.txt", 1),
    ]
    return corpus.turns_frame(records)


def test_sentence_units_give_offsets_inside_each_sentence():
    book = codebook.parse_codebook({"themes": [
        {"code": "mood", "label": "Mood", "keywords": ["anxi*"]}, {"code": "hcp", "label": "HCP", "keywords": ["GP"]}]})
    segs = corpus.segments(turns_table(), participants_table(), unit="sentence")
    codings = coding.code_segments(segs, book)
    assert codings[["segment_id", "theme", "start", "end"]].values.tolist() == [
        ["T1:1.0", "mood", 7, 14], ["T1:1.1", "hcp", 3, 5], ["T2:0.0", "hcp", 4, 6]]
    turn_level = coding.code_segments(corpus.segments(turns_table(), participants_table()), book)
    assert turn_level[["segment_id", "start", "end"]].values.tolist() == [["T1:1", 7, 14], ["T1:1", 19, 21],
                                                                          ["T2:0", 4, 6]]


def test_interviewer_turns_are_coded_only_when_asked():
    book = codebook.parse_codebook({"themes": [{"code": "pain", "label": "Pain", "keywords": ["pain"]}]})
    turns, people = turns_table(), participants_table()
    assert coding.code_segments(corpus.segments(turns, people), book).empty
    with_int = coding.code_segments(corpus.segments(turns, people, include_interviewer=True), book)
    assert with_int[["segment_id", "participant_id", "start", "end"]].values.tolist() == [["T1:0", "", 4, 8]]


def test_missing_segment_columns_are_an_input_error(book):
    with pytest.raises(InputError, match="segments: missing column"):
        coding.code_segments(pd.DataFrame({"text": ["pain"]}), book)


# ----------------------------------------------------------------------------- derived tables
PREV_BOOK = {"themes": [{"code": "t", "label": "T", "subthemes": [
    {"code": "s1", "label": "S one", "keywords": ["pain"]},
    {"code": "s2", "label": "S two", "keywords": ["job"]}]}]}
# 6 segments, 3 participants: C1, C2 (client), E1 (esw)
PREV_TEXTS = ["pain pain pain", "a job here now", "nothing at all", "pain and a job", "no", "the job"]
PREV_PEOPLE = ["C1", "C1", "C2", "C2", "E1", "E1"]
PREV_GROUPS = ["client", "client", "client", "client", "esw", "esw"]


@pytest.fixture(scope="module")
def prev_case():
    book = codebook.parse_codebook(PREV_BOOK)
    segs = make_segments(PREV_TEXTS, PREV_PEOPLE, PREV_GROUPS)
    return book, segs, coding.code_segments(segs, book)


def test_prevalence_counts_segments_participants_and_words(prev_case):
    book, segs, codings = prev_case
    prev = coding.prevalence(segs, codings, book).set_index(["theme", "subtheme", "group"])
    # client words: 3 + 4 + 3 + 4 = 14; esw words: 1 + 2 = 3
    s1 = prev.loc[("t", "s1", "client")]
    assert (s1["segments_coded"], s1["segments_total"], s1["participants_coded"], s1["participants_total"]) == (2, 4, 2, 2)
    assert s1["n_of_N"] == "2 of 2" and s1["words_coded"] == 7 and math.isclose(s1["word_share"], 7 / 14)
    s2 = prev.loc[("t", "s2", "client")]
    assert (s2["segments_coded"], s2["participants_coded"], s2["words_coded"]) == (2, 2, 8)
    theme = prev.loc[("t", "", "client")]
    assert (theme["segments_coded"], theme["words_coded"]) == (3, 11)  # a segment with both counts once
    assert math.isclose(theme["segment_share"], 3 / 4)
    esw = prev.loc[("t", "s1", "esw")]
    assert (esw["segments_coded"], esw["participants_coded"], esw["n_of_N"]) == (0, 0, "0 of 1")
    everyone = prev.loc[("t", "s2", "all")]
    assert (everyone["segments_coded"], everyone["n_of_N"], everyone["words_total"]) == (3, "3 of 3", 17)
    assert list(pd.unique(prev.reset_index()["group"])) == ["client", "esw", "all"]


def test_prevalence_table_is_n_of_n_per_group(prev_case):
    book, segs, codings = prev_case
    wide = coding.prevalence_table(coding.prevalence(segs, codings, book))
    assert wide[["label", "Clients", "Employment support workers", "All participants"]].values.tolist() == [
        ["T", "2 of 2", "1 of 1", "3 of 3"], ["   S one", "2 of 2", "0 of 1", "2 of 3"],
        ["   S two", "2 of 2", "1 of 1", "3 of 3"]]


def test_prevalence_by_unknown_column_is_an_input_error(prev_case):
    book, segs, codings = prev_case
    with pytest.raises(InputError, match="prevalence by 'site': no such segment column"):
        coding.prevalence(segs, codings, book, by="site")


def test_coverage_and_longest_uncoded(prev_case):
    _, segs, codings = prev_case
    cov = coding.coverage(segs, codings).set_index("group")
    assert cov.loc["client", ["segments", "segments_coded", "words", "words_coded"]].tolist() == [4, 3, 14, 11]
    assert cov.loc["all", ["segments", "segments_coded"]].tolist() == [6, 4]
    assert math.isclose(cov.loc["esw", "segment_share"], 0.5)
    longest = coding.uncoded_segments(segs, codings, top_n=5)
    assert longest[["segment_id", "n_words"]].values.tolist() == [["T:2", 3], ["T:4", 1]]


def test_exemplar_quotes_one_per_participant_spread_across_groups():
    book = codebook.parse_codebook({"themes": [{"code": "t", "label": "T", "keywords": ["pain"]}]})
    texts = ["pain pain", "pain and more", "pain x", "one pain here today", "pain it is"]
    segs = make_segments(texts, ["C1", "C1", "C2", "C3", "E1"], ["client", "client", "client", "client", "esw"])
    codings = coding.code_segments(segs, book)
    quotes = coding.exemplar_quotes(segs, codings, book, per_code=3, min_words=1)
    # densities: T:0 1.0 (C1), T:1 1/3 (C1), T:2 0.5 (C2), T:3 0.25 (C3), T:4 1/3 (E1)
    assert quotes["segment_id"].tolist() == ["T:0", "T:4", "T:2"]  # best client, best esw, next client
    assert quotes["participant_id"].is_unique
    assert quotes["matches"].tolist() == [2, 1, 1]
    assert quotes.iloc[0]["quote_html"] == "<mark>pain</mark> <mark>pain</mark>"
    assert quotes.iloc[0]["label"] == "T"
    assert coding.exemplar_quotes(segs, codings, book, per_code=3, min_words=4)["segment_id"].tolist() == ["T:3"]


def test_quote_html_escapes_text():
    book = codebook.parse_codebook({"themes": [{"code": "t", "label": "T", "keywords": ["pain"]}]})
    segs = make_segments(["<b>pain</b> & more"])
    quotes = coding.exemplar_quotes(segs, coding.code_segments(segs, book), book, min_words=1)
    assert quotes.iloc[0]["quote_html"] == "&lt;b&gt;<mark>pain</mark>&lt;/b&gt; &amp; more"


def test_rule_diagnostics_matches_unmatched_and_excludes(book, coded):
    segs, codings = coded
    diag = coding.rule_diagnostics(book, codings, segs).set_index("term")
    assert diag.loc["pain", ["matches", "segments", "participants"]].tolist() == [3, 2, 1]
    assert diag.loc["homework", "kind"] == "exclude" and diag.loc["homework", "segments"] == 1
    assert diag.loc["private", "segments"] == 1
    assert math.isnan(diag.loc["homework", "theme_share"])
    theme_a = diag[(diag["theme"] == "a") & (diag["kind"] != "exclude")]
    assert math.isclose(theme_a["theme_share"].sum(), 1.0)
    assert diag.loc["pain", "theme_share"] == pytest.approx(3 / theme_a["matches"].sum())
    never = coding.unmatched_rules(coding.rule_diagnostics(book, codings.iloc[0:0], segs))
    assert len(never) == len(book.rules[book.rules["kind"] != "exclude"])


def test_cross_theme_rules_find_rules_of_two_themes_on_the_same_words():
    book = codebook.parse_codebook({"themes": [
        {"code": "a", "label": "A", "keywords": ["pain clinic"]},
        {"code": "b", "label": "B", "keywords": ["clinic*"], "subthemes": [
            {"code": "b1", "label": "B1", "keywords": ["pain"]}]}]})
    segs = make_segments(["the pain clinic and the clinic", "pain clinic"])
    codings = coding.code_segments(segs, book)
    cross = coding.cross_theme_rules(segs, codings)
    assert cross[["theme_a", "term_a", "theme_b", "subtheme_b", "term_b", "shared", "example"]].values.tolist() == [
        ["a", "pain clinic", "b", "", "clinic*", 2, "pain clinic"],
        ["a", "pain clinic", "b", "b1", "pain", 2, "pain clinic"]]


def test_matrix_has_ids_attributes_words_and_one_column_per_code(prev_case):
    book, segs, codings = prev_case
    segs = segs.assign(site=["A", "A", "B", "B", "A", "A"])
    matrix = coding.coding_matrix(segs, codings, book)
    assert list(matrix.columns) == ["segment_id", "transcript_id", "turn", "sentence", "participant_id", "role",
                                    "group", "site", "n_words", "t", "s1", "s2"]
    assert matrix[["t", "s1", "s2"]].values.tolist() == [[1, 1, 0], [1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0],
                                                         [1, 0, 1]]
    assert matrix["n_words"].tolist() == [3, 4, 3, 4, 1, 2]


def test_figures_have_titles_labels_and_a_source_note(prev_case):
    import matplotlib

    matplotlib.use("Agg")
    book, segs, codings = prev_case
    prev = coding.prevalence(segs, codings, book)
    heat = coding.plot_prevalence_heatmap(prev)
    ax = heat.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() == "Subtheme"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["S one", "S two"]
    assert any("n = 6 segments from 3 participants" in t.get_text() for t in heat.texts)
    bars = coding.plot_participant_counts(prev)
    assert len(bars.axes) == 2 and bars.axes[0].get_xlabel() == "Participants mentioning it"
    labels = [t.get_text() for t in bars.axes[1].texts]
    assert labels == ["0 of 1", "1 of 1"]


# ----------------------------------------------------------------------------- command line
def write_inputs(tmp_path):
    turns = turns_table()
    turns.to_csv(tmp_path / "turns.csv", index=False)
    participants_table().to_csv(tmp_path / "participants.csv", index=False)
    (tmp_path / "book.yaml").write_text(
        "themes:\n  - code: mood\n    label: Mood\n    keywords: ['anxi*']\n"
        "  - code: hcp\n    label: HCP\n    keywords: [GP]\n    subthemes:\n"
        "      - code: clinic\n        label: Clinic\n        keywords: ['clinic*']\n", encoding="utf-8")


def test_cli_writes_codings_and_matrix(tmp_path):
    write_inputs(tmp_path)
    proc = run_cli("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(tmp_path / "book.yaml"),
                   "--participants", str(tmp_path / "participants.csv"), "--out", str(tmp_path / "codings.csv"),
                   "--matrix", str(tmp_path / "matrix.csv"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "codings.csv").read_text(encoding="utf-8") == (
        "segment_id,transcript_id,participant_id,group,theme,subtheme,term,start,end\n"
        "T1:1,T1,C01,client,mood,,anxi*,7,14\n"
        "T1:1,T1,C01,client,hcp,,GP,19,21\n"
        "T2:0,T2,E01,esw,hcp,,GP,4,6\n"
        "T2:0,T2,E01,esw,hcp,clinic,clinic*,7,13\n")
    matrix = pd.read_csv(tmp_path / "matrix.csv")
    assert matrix[["segment_id", "gender", "mood", "hcp", "clinic"]].values.tolist() == [
        ["T1:1", "female", 1, 1, 0], ["T2:0", "male", 0, 1, 1]]
    assert "coded 2 segments: 4 matches in 2 segments; 1 of 1 subthemes found" in proc.stderr


def test_cli_sentence_unit_and_stdout(tmp_path, capsys):
    write_inputs(tmp_path)
    code = main(["code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(tmp_path / "book.yaml"),
                 "--participants", str(tmp_path / "participants.csv"), "--unit", "sentence"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1:3] == ["T1:1.0,T1,C01,client,mood,,anxi*,7,14", "T1:1.1,T1,C01,client,hcp,,GP,3,5"]


def test_cli_bad_codebook_exits_2_with_every_problem(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / "bad.yaml").write_text("themes:\n  - code: Bad\n    label: X\n    patterns: ['(']\n", encoding="utf-8")
    proc = run_cli("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(tmp_path / "bad.yaml"),
                   "--participants", str(tmp_path / "participants.csv"), "--out", str(tmp_path / "out.csv"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert lines[0].endswith(":2: themes[0].code: invalid code 'Bad'; use lower-case letters, digits and _ only "
                             "(e.g. complex_needs)")
    assert ":4: themes[0].patterns[0]: bad regex '('" in lines[1]
    assert "Traceback" not in proc.stderr and not (tmp_path / "out.csv").exists()


def test_cli_bad_turns_file_and_bad_output_name_exit_2(tmp_path, capsys):
    write_inputs(tmp_path)
    (tmp_path / "bad.csv").write_text("transcript_id,turn,text\nT1,one,hello\n", encoding="utf-8")
    common = ["--codebook", str(tmp_path / "book.yaml"), "--participants", str(tmp_path / "participants.csv")]
    assert main(["code", "--corpus", str(tmp_path / "bad.csv"), *common]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("error: ") for line in err)
    assert any("bad.csv:1: missing column 'participant_id'" in line for line in err)
    assert main(["code", "--corpus", str(tmp_path / "turns.csv"), *common, "--out", str(tmp_path / "x.txt")]) == 2
    assert capsys.readouterr().err == f"error: --out {tmp_path / 'x.txt'}: name a .csv or .parquet file\n"


def test_every_subtheme_of_the_shipped_codebook_is_found_in_the_demo_corpus():
    participants, turns = corpus.load_inputs(paths.TRANSCRIPTS, paths.PARTICIPANTS)
    segs = corpus.segments(turns, participants)
    book = codebook.load_codebook(paths.CODEBOOK)
    prev = coding.prevalence(segs, coding.code_segments(segs, book), book)
    subs = prev[prev["level"] == "subtheme"]
    everyone = subs[subs["group"] == "all"].set_index("subtheme")["participants_coded"]
    assert set(everyone.index) == set(book.subthemes())
    assert everyone.min() >= 5, everyone.sort_values().head().to_dict()
    per_group = subs[subs["group"] != "all"].groupby("subtheme")["participants_coded"].max()
    assert per_group.min() >= 2, per_group[per_group < 2].to_dict()  # each subtheme is a pattern in some group


def test_interviewer_turns_form_their_own_group_in_prevalence_and_coverage():
    book = codebook.parse_codebook({"themes": [{"code": "pain", "label": "Pain", "keywords": ["pain"]}]})
    segs = corpus.segments(turns_table(), participants_table(), include_interviewer=True)
    codings = coding.code_segments(segs, book)
    prev = coding.prevalence(segs, codings, book).set_index("group")
    assert list(prev.index) == ["client", "esw", "(none)", "all"]
    assert prev.loc["(none)", ["segments_coded", "segments_total"]].tolist() == [1, 1]
    assert coding.coverage(segs, codings)["group"].tolist() == ["client", "esw", "(none)", "all"]


def test_codings_from_another_corpus_are_refused(prev_case):
    book, segs, codings = prev_case
    with pytest.raises(InputError, match=r"1 coded segment\(s\) are not among the corpus segments \('X:9'\)"):
        coding.coding_matrix(segs, codings.assign(segment_id="X:9").head(1), book)
