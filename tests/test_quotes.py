"""Exemplar quotes are about their subtheme: dense segments beat introductions and one-word matches,
and one segment never serves two subthemes."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import codebook, coding

BOOK = codebook.parse_codebook({"themes": [{"code": "care", "label": "Care", "subthemes": [
    {"code": "hcp_support", "label": "Support from healthcare professionals",
     "keywords": ["physio*", "nurse*", "gp", "pain clinic", "listened"]},
    {"code": "pacing", "label": "Pacing", "keywords": ["pacing", "pace", "breaks", "stretches"]}]}]})

INTRO = "I'm a physio, I do the MSK and the pain service, and I help run the programme. Five years qualified now."
DENSE = ("The physio at the pain clinic listened, and the nurse rang me after, and my GP finally listened too, "
         "so it was the first time the physio and the nurse and me were on the same page.")
ONE_WORD = "It was alright I suppose, the nurse said hello and then we talked about the weather and the car park."
PACING = "Pacing is the thing: I pace the day, take breaks, do the stretches, and pace again after lunch, pacing."


def segments(texts, people, groups=None, turns=None) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame({"segment_id": [f"T{p}:{t}" for p, t in zip(people, turns or [1] * n)],
                         "transcript_id": [f"T{p}" for p in people], "turn": turns or [1] * n, "sentence": 0,
                         "participant_id": people, "role": "participant", "group": groups or ["hcp"] * n,
                         "text": texts})


def quotes(segs, per_code=1, min_words=5):
    return coding.exemplar_quotes(segs, coding.code_segments(segs, BOOK), BOOK, per_code=per_code, min_words=min_words)


def test_a_dense_segment_beats_an_introduction_with_a_weak_match():
    segs = segments([INTRO, DENSE], ["H07", "H08"], turns=[0, 5])
    picked = quotes(segs)
    assert picked["segment_id"].tolist() == ["TH08:5"]
    assert picked.iloc[0]["label"] == "Support from healthcare professionals"
    assert picked.iloc[0]["matches"] == 8


def test_an_introduction_is_weighted_down_but_still_quoted_when_nothing_else_speaks():
    segs = segments([INTRO, ONE_WORD], ["H07", "H08"], turns=[0, 5])
    # densities: the introduction 1/21, the one-word turn 1/20: both single matches (x 0.5), the
    # introduction also x 0.25, so the ordinary turn comes first
    picked = quotes(segs, per_code=2)
    assert picked["segment_id"].tolist() == ["TH08:5", "TH07:0"]
    assert picked["score"].tolist() == pytest.approx([1 / 20 * 0.5, 1 / 21 * 0.5 * 0.25])


def test_a_one_word_match_loses_to_a_longer_denser_turn():
    segs = segments([ONE_WORD, DENSE], ["H01", "H02"])
    assert quotes(segs)["segment_id"].tolist() == ["TH02:1"]


def test_introductions_are_found_early_in_a_transcript_only():
    segs = segments([INTRO, "And I'm a GP, at a practice in town. Ten years or so.", "Fine, thanks.", "Yes.",
                     "I'm a different man now.", "My name is Sam and I work at the café.",
                     "So I think the physio was great."],
                    ["H07", "H08", "C01", "C01", "C01", "C02", "C03"], turns=[0, 2, 1, 3, 40, 1, 1])
    # C01's "I'm a different man" is their third turn: not an introduction
    assert coding.is_introduction(segs).tolist() == [True, True, False, False, False, True, False]


BOTH = ("The physio showed me the pacing, and the nurse checked the breaks, the physio and the nurse, "
        "stretches and pace and pacing every single day.")  # 25 words: support 4 matches, pacing 5
SUPPORT = "The physio was kind to me and the nurse as well, and I felt that they listened to me at last."
PACED = "I learned to take breaks at work when I can, and to do some gentle stretches in the afternoon."


def test_one_segment_never_serves_two_subthemes():
    segs = segments([BOTH, SUPPORT, PACED], ["C01", "C02", "C03"], ["client"] * 3)
    codings = coding.code_segments(segs, BOOK)
    assert codings.groupby("subtheme")["segment_id"].unique().map(sorted).to_dict() == {
        "hcp_support": ["TC01:1", "TC02:1"], "pacing": ["TC01:1", "TC03:1"]}
    picked = quotes(segs, per_code=1)
    # BOTH is the best segment of both subthemes (support 4/25, pacing 5/25; SUPPORT 3/21, PACED 2/19
    # x 1); pacing's claim is the stronger, so it takes BOTH and support takes its next best
    assert dict(zip(picked["subtheme"], picked["segment_id"])) == {"hcp_support": "TC02:1", "pacing": "TC01:1"}
    assert picked["score"].tolist() == pytest.approx([3 / 21, 5 / 25])  # SUPPORT: physio, nurse, listened
    more = quotes(segs, per_code=3)
    assert more["segment_id"].is_unique and len(more) == 3  # three segments: three quotes in all
    assert more.groupby("subtheme")["segment_id"].apply(list).to_dict() == {
        "hcp_support": ["TC02:1"], "pacing": ["TC01:1", "TC03:1"]}


def test_one_quote_per_participant_per_subtheme_and_groups_in_turn():
    texts = [DENSE, DENSE + " Again the physio.", DENSE + " The nurse.", DENSE]
    segs = segments(texts, ["C01", "C01", "C02", "E01"], ["client", "client", "client", "esw"], turns=[1, 2, 1, 1])
    picked = quotes(segs, per_code=3)
    support = picked[picked["subtheme"] == "hcp_support"]
    # scores: C02 9/39, C01's second turn 9/40, C01's first and E01 8/37: the best client, then the
    # esw (each group before a second client), then C01 by their better turn
    assert support["segment_id"].tolist() == ["TC02:1", "TE01:1", "TC01:2"]
    assert support["participant_id"].is_unique
