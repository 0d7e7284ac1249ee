"""The paper tables (helpers.paper) on small hand-made inputs, with values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import codebook, keywords as kw, paper
from helpers.corpus import read_text_csv


# ----------------------------------------------------------------------------- rounding
@pytest.mark.parametrize("p, shown", [
    (0.0123456, "0.0123"), (0.5, "0.500"), (1.0, "1.00"), (0.001, "0.00100"), (0.000999, "<0.001"),
    (1.16e-05, "<0.001"), (0.04995, "0.0500"), (float("nan"), ""), (None, ""), (np.float64(0.25), "0.250"),
])
def test_p_values_have_three_significant_digits_or_a_floor(p, shown):
    assert paper.p_text(p) == shown


def test_percent_is_a_whole_percentage_and_blank_without_a_whole():
    assert [paper.percent(7, 11), paper.percent(11, 11), paper.percent(0, 4), paper.percent(0, 0)] == [
        "64%", "100%", "0%", ""]


def test_names_read_as_words():
    assert [paper.words(w) for w in ("age_band", "focus_group", "site")] == ["Age band", "Focus group", "Site"]


# ----------------------------------------------------------------------------- Table 1
def _participants():
    return pd.DataFrame({
        "participant_id": ["C01", "C02", "H01", "H02", "H03", "E01"],
        "group": ["client", "client", "hcp", "hcp", "hcp", "esw"],
        "collection": ["interview", "interview", "focus_group", "focus_group", "interview", "interview"],
        "transcript_id": ["C01", "C02", "FG1", "FG1", "H03", "E01"],
        "speaker_labels": ["C01", "P", "H01", "H02", "H03", "E01"],
        "gender": ["female", "male", "female", "female", "", "male"],
        "pain_years": ["4", "12", "", "", "", ""],
    })


def test_table1_counts_groups_by_method_and_summarises_attributes():
    got = paper.table1_participants(_participants())
    want = pd.DataFrame({
        "Group": ["Clients", "Employment support workers", "Healthcare professionals", "All participants"],
        "Participants": [2, 1, 3, 6],
        "Interview": [2, 1, 1, 4],
        "Focus group": [0, 0, 2, 2],
        "Transcripts": [2, 1, 2, 5],
        "Gender": ["female 1, male 1", "male 1", "female 2, not recorded 1", "female 3, male 2, not recorded 1"],
        # median of 4 and 12 is 8; nobody but the clients has a value
        "Pain years, median (range)": ["8 (4–12)", "", "", "8 (4–12), not recorded 4"],
    })
    pd.testing.assert_frame_equal(got, want)


def test_table1_by_another_attribute_counts_the_groups_as_an_attribute():
    got = paper.table1_participants(_participants().drop(columns=["pain_years"]), by="gender")
    assert list(got["Gender"]) == ["(no group)", "female", "male", "All participants"]
    assert list(got["Participants"]) == [1, 3, 2, 6]
    assert list(got["Group"]) == ["hcp 1", "client 1, hcp 2", "client 1, esw 1", "client 2, esw 1, hcp 3"]


# ----------------------------------------------------------------------------- prevalence
def _prevalence():
    rows = []
    codes = [("theme", "work", "", "Work"), ("subtheme", "work", "paid", "Paid work"),
             ("subtheme", "work", "placement", "Placements")]
    coded = {"client": [2, 1, 0], "hcp": [3, 3, 2], "all": [5, 4, 2]}
    totals = {"client": 3, "hcp": 4, "all": 7}
    for level, theme, sub, label in codes:
        for group in ("hcp", "client", "all"):  # not in the project's order on purpose
            n = coded[group][[c[2] for c in codes].index(sub)]
            rows.append({"level": level, "theme": theme, "subtheme": sub, "code": sub or theme, "label": label,
                         "group": group, "participants_coded": n, "participants_total": totals[group]})
    return pd.DataFrame(rows)


def test_prevalence_reads_n_of_N_with_whole_percentages_in_group_order():
    got = paper.prevalence_table(_prevalence())
    want = pd.DataFrame({
        "Theme": ["Work", "Work", "Work"],
        "Subtheme": ["", "Paid work", "Placements"],
        "Clients": ["2 of 3 (67%)", "1 of 3 (33%)", "0 of 3 (0%)"],
        "Healthcare professionals": ["3 of 4 (75%)", "3 of 4 (75%)", "2 of 4 (50%)"],
        "All participants": ["5 of 7 (71%)", "4 of 7 (57%)", "2 of 7 (29%)"],
    })
    pd.testing.assert_frame_equal(got, want)


def test_prevalence_of_two_codings_keeps_both_and_puts_the_whole_corpus_last():
    both = pd.concat([_prevalence().assign(group=lambda d: d["group"] + f" ({side})") for side in ("auto", "human")])
    got = paper.prevalence_table(both)
    assert list(got.columns[2:]) == ["Clients (auto)", "Clients (human)", "Healthcare professionals (auto)",
                                     "Healthcare professionals (human)", "All participants (auto)",
                                     "All participants (human)"]


def test_prevalence_of_participants_without_a_group_names_them_as_table1_does():
    prev = _prevalence().replace({"group": {"client": "(none)"}})
    assert list(paper.prevalence_table(prev).columns[2:]) == ["Healthcare professionals", "(no group)",
                                                             "All participants"]
    assert paper.table1_participants(_participants().assign(group="")).loc[0, "Group"] == "(no group)"


# ----------------------------------------------------------------------------- keyness
def test_keyness_of_a_hand_counted_term():
    # client: 100 counted words, 10 of them "pain"; hcp: 200 words, 2 "pain".
    # E1 = 100 * 12 / 300 = 4, E2 = 8; G² = 2 (10 ln(10/4) + 2 ln(2/8)) = 12.78; Log Ratio = log2(0.1 / 0.01) = 3.32
    tokens = pd.DataFrame({"group": ["client"] * 100 + ["hcp"] * 200,
                           "token": ["pain"] * 10 + ["x"] * 90 + ["pain"] * 2 + ["x"] * 198})
    key = kw.keyness(tokens, "group", min_count=1)
    got = paper.keyness_table(kw.top_key_terms(key, 5))
    pain = got[got["Term"] == "pain"].iloc[0]
    assert pain["Group"] == "Clients" and pain["Compared with"] == "the other groups"
    assert (pain["Count in group"], pain["Count in comparison"]) == (10, 2)
    assert (pain["Per 10,000 words in group"], pain["Per 10,000 words in comparison"]) == (1000.0, 100.0)
    assert pain["G²"] == round(2 * (10 * math.log(10 / 4) + 2 * math.log(2 / 8)), 2) == 12.78
    assert pain["Log ratio"] == 3.32
    assert pain["P value"] == "<0.001"  # chi² with 1 df at 12.78: 0.00035


def test_keyness_rows_follow_group_order_then_g2_then_term():
    key = pd.DataFrame({
        "term": ["b", "a", "c", "d"], "target": ["hcp", "hcp", "client", "hcp"], "reference": "rest",
        "target_count": [5, 5, 4, 1], "reference_count": [0, 0, 1, 9], "target_total": 100, "reference_total": 0,
        "g2": [3.0, 3.0, 2.0, 1.234], "p_value": [0.0834, 0.0834, 0.157, 0.2663], "p_adjusted": [0.2, 0.2, 0.3, 0.5],
        "log_ratio": [2.5, 2.5, 1.0, -1.2345],
    })
    got = paper.keyness_table(key)
    assert list(got["Term"]) == ["c", "a", "b", "d"]
    assert list(got["Group"]) == ["Clients", "Healthcare professionals", "Healthcare professionals",
                                  "Healthcare professionals"]
    assert list(got["P value"]) == ["0.157", "0.0834", "0.0834", "0.266"]
    assert list(got["Log ratio"]) == [1.0, 2.5, 2.5, -1.23]
    assert got["Per 10,000 words in comparison"].isna().all()  # no words on that side: no rate, not a crash


def test_keyness_by_another_column_is_headed_by_its_name():
    key = pd.DataFrame({"term": ["a"], "target": ["female"], "reference": ["rest"], "target_count": [5],
                        "reference_count": [1], "target_total": [50], "reference_total": [100], "g2": [5.0],
                        "p_value": [0.02], "p_adjusted": [0.02], "log_ratio": [3.0]})
    got = paper.keyness_table(key, by="gender")
    assert list(got.columns[:3]) == ["Gender", "Compared with", "Term"] and got.loc[0, "Gender"] == "female"


def test_keyness_against_a_named_group_says_which():
    key = pd.DataFrame({"term": ["a"], "target": ["client"], "reference": ["esw+hcp"], "target_count": [5],
                        "reference_count": [1], "target_total": [50], "reference_total": [100], "g2": [5.0],
                        "p_value": [0.02], "p_adjusted": [0.02], "log_ratio": [3.0]})
    assert paper.keyness_table(key)["Compared with"].tolist() == [
        "Employment support workers and Healthcare professionals"]


# ----------------------------------------------------------------------------- quotes
def test_quotes_are_plain_text_with_participant_and_labels(tmp_path):
    (tmp_path / "book.yaml").write_text(
        "themes:\n  - code: mood\n    label: Mood\n    keywords: ['anxi*']\n"
        "  - code: hcp\n    label: Health care\n    keywords: [GP]\n    subthemes:\n"
        "      - code: clinic\n        label: Pain clinics\n        keywords: ['clinic*']\n", encoding="utf-8")
    book = codebook.load_codebook(tmp_path / "book.yaml")
    quotes = pd.DataFrame({"theme": ["hcp", "mood"], "subtheme": ["clinic", ""], "label": ["Pain clinics", "Mood"],
                           "participant_id": ["H01", "C02"], "group": ["hcp", "client"],
                           "segment_id": ["FG1:4", "C02:7"], "matches": [1, 1], "rules": [1, 1], "n_words": [24, 31],
                           "density": [0.04, 0.03], "quote": ["The clinic was far.", "=I felt anxious."],
                           "quote_html": ["The <mark>clinic</mark> was far.", "=I felt <mark>anxious</mark>."]})
    got = paper.quotes_table(quotes, book)
    want = pd.DataFrame({"Theme": ["Health care", "Mood"], "Subtheme": ["Pain clinics", ""],
                         "Participant": ["H01", "C02"], "Group": ["Healthcare professionals", "Clients"],
                         "Quote": ["The clinic was far.", "=I felt anxious."], "Words": [24, 31],
                         "Segment": ["FG1:4", "C02:7"]})
    pd.testing.assert_frame_equal(got, want)


# ----------------------------------------------------------------------------- co-occurrence
def _pairs():
    return pd.DataFrame({
        "code_a": ["paid", "paid", "place", "paid"], "code_b": ["place", "mood", "mood", "pain"],
        "n_a": [10, 10, 8, 10], "n_b": [8, 6, 6, 2], "n_ab": [4, 5, 0, 2],
        "jaccard": [4 / 14, 5 / 11, 0.0, 2 / 10], "npmi": [0.1, 0.2, np.nan, 0.3], "n_units": 40,
        "expected_n_ab": [2.04, 1.55, 1.2, np.nan], "p_value": [0.012, 0.012, 1.0, np.nan],
        "unbalanced": [False, False, False, True],
    })


def test_cooccurrence_sorted_by_p_then_jaccard_with_words_for_headers():
    got = paper.cooccurrence_table(_pairs(), {"paid": "Paid work", "place": "Placements"}, alpha=0.05)
    want = pd.DataFrame({
        "Code A": ["Paid work", "Paid work", "Placements", "Paid work"],
        "Code B": ["Mood", "Placements", "Mood", "Pain"],
        "Segments with A": [10, 10, 8, 10], "Segments with B": [6, 8, 6, 2], "Segments with both": [5, 4, 0, 2],
        "Expected with both": [1.6, 2.0, 1.2, np.nan],  # 2.04 -> 2.0, 1.55 -> 1.6
        "Jaccard": [0.45, 0.29, 0.0, 0.2],
        "P value": ["0.0120", "0.0120", "1.00", ""],
        "More than chance": ["yes", "yes", "no", ""],
        "Segments in all": [40, 40, 40, 40],
    })
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_cooccurrence_headers_name_the_unit():
    got = paper.cooccurrence_table(_pairs(), unit="participant")
    assert list(got.columns[2:5]) == ["Participants with A", "Participants with B", "Participants with both"]


# ----------------------------------------------------------------------------- writing
def test_save_table_writes_spreadsheet_safe_csv_into_the_processed_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IPS_PROCESSED_DIR", str(tmp_path / "processed"))
    key = pd.DataFrame({"term": ["=cmd"], "target": ["client"], "reference": ["rest"], "target_count": [5],
                        "reference_count": [1], "target_total": [50], "reference_total": [100], "g2": [5.0],
                        "p_value": [0.0001], "p_adjusted": [0.02], "log_ratio": [-3.456]})
    written = paper.save_table(paper.keyness_table(key), "paper_keyness.csv")
    assert written == tmp_path / "processed" / "paper_keyness.csv"
    lines = written.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("Group,Compared with,Term,Count in group,Count in comparison,Per 10,000 words in group,"
                        "Per 10,000 words in comparison,G²,P value,P adjusted,Log ratio").replace(
        "Per 10,000 words in group", '"Per 10,000 words in group"').replace(
        "Per 10,000 words in comparison", '"Per 10,000 words in comparison"')
    assert lines[1] == "Clients,the other groups,'=cmd,5,1,1000.0,100.0,5.0,<0.001,0.0200,-3.46"
    back = read_text_csv(written, "paper_keyness.csv", "table")
    assert back.loc[0, "Log ratio"] == "-3.46"  # a number, not neutralised like the formula-like term


def test_save_table_refuses_a_name_that_is_not_a_paper_table(tmp_path, monkeypatch):
    monkeypatch.setenv("IPS_PROCESSED_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="paper table 'codings.csv': not one of paper_table1_participants.csv"):
        paper.save_table(pd.DataFrame(), "codings.csv")
    assert not list(tmp_path.iterdir())
