"""The synthetic demo corpus keeps the study's shape and behaves like real interviews (issue 18).

Shape: 9 client and 5 ESW interviews, 3 HCP focus groups, 25 participants, realistic lengths.
Variety: no phrase of four or more words, beyond everyday speech, in more than three files.
Codebook: every subtheme found at least once, and in every group at least one participant is not
coded with each theme (keyword coding on real-length interviews does not code everyone with everything).
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from helpers import codebook, coding, corpus, paths, text

INTERVIEW_WORDS = (4_000, 7_000)
FOCUS_GROUP_WORDS = (8_000, 12_000)
TOTAL_WORDS = (90_000, 115_000)
MAX_FILES_PER_PHRASE = 3
# Everyday phrases with a content word that any two speakers may share (all-stopword phrases such
# as "i don't know if" are everyday by definition, see `_everyday`).
EVERYDAY = {"the end of", "the middle of", "in the first place", "a lot of", "a couple of", "able to", "what to do with"}
WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@pytest.fixture(scope="module")
def demo():
    participants, turns = corpus.load_inputs(paths.TRANSCRIPTS, paths.PARTICIPANTS)
    return participants, turns


def _words_per_transcript(turns):
    counts = text.word_counts(turns["text"].fillna(""))
    return turns.assign(n_words=counts).groupby("transcript_id")["n_words"].sum()


def test_shape_follows_the_study(demo):
    participants, turns = demo
    assert participants["group"].value_counts().to_dict() == {"hcp": 11, "client": 9, "esw": 5}
    per_transcript = participants.groupby("transcript_id").agg(group=("group", "first"),
                                                              collection=("collection", "first"),
                                                              n=("participant_id", "size"))
    interviews = per_transcript[per_transcript["collection"] == "interview"]
    groups = per_transcript[per_transcript["collection"] == "focus_group"]
    assert interviews["group"].value_counts().to_dict() == {"client": 9, "esw": 5}
    assert (interviews["n"] == 1).all()
    assert sorted(groups["n"]) == [3, 4, 4] and set(groups["group"]) == {"hcp"}
    assert sorted(turns["transcript_id"].unique()) == sorted(per_transcript.index)


def test_lengths_are_those_of_real_interviews(demo):
    participants, turns = demo
    words = _words_per_transcript(turns)
    kind = participants.drop_duplicates("transcript_id").set_index("transcript_id")["collection"]
    for tid, n in words.items():
        low, high = INTERVIEW_WORDS if kind[tid] == "interview" else FOCUS_GROUP_WORDS
        assert low <= n <= high, f"{tid}: {n} words, expected {low}-{high}"
    assert TOTAL_WORDS[0] <= words.sum() <= TOTAL_WORDS[1]


def _everyday(gram: tuple[str, ...], stop: frozenset[str]) -> bool:
    phrase = " ".join(gram)
    return all(w in stop for w in gram) or any(e in phrase for e in EVERYDAY)


def repeated_phrases(turns, n: int = 4, max_files: int = MAX_FILES_PER_PHRASE) -> dict[str, list[str]]:
    """Phrases of `n` words (beyond everyday speech) found in more than `max_files` transcripts, with their files."""
    stop = text.stopword_list()
    files = defaultdict(set)
    for tid, body in turns.groupby("transcript_id")["text"]:
        for turn in body.fillna(""):
            for clause in re.split(r"[.!?;:,…()\"\-–—]+", text.mask_notes(turn).lower().replace("’", "'")):
                words = WORD_RE.findall(clause)
                for i in range(len(words) - n + 1):
                    files[tuple(words[i:i + n])].add(tid)
    return {" ".join(g): sorted(f) for g, f in files.items() if len(f) > max_files and not _everyday(g, stop)}


def test_repeated_phrase_check_finds_a_stock_phrase():
    import pandas as pd
    turns = pd.DataFrame({"transcript_id": ["A", "B", "C", "D", "E"],
                          "text": ["It was one size fits all, honestly.", "Well, one size fits all.",
                                   "[laughs] One size fits all again", "one-size fits all? one size fits all",
                                   "I don't know if it was a lot of the time."]})
    assert repeated_phrases(turns) == {"one size fits all": ["A", "B", "C", "D"]}
    assert repeated_phrases(turns.iloc[1:]) == {}  # three files is allowed


def test_no_stock_phrase_in_more_than_three_files(demo):
    _, turns = demo
    found = repeated_phrases(turns)
    assert not found, "phrases in more than three transcripts: " + "; ".join(
        f"{p!r} in {', '.join(f)}" for p, f in sorted(found.items()))


@pytest.fixture(scope="module")
def coded(demo):
    participants, turns = demo
    segs = corpus.segments(turns, participants)
    book = codebook.load_codebook(paths.CODEBOOK)
    return participants, segs, book, coding.code_segments(segs, book)


def test_every_subtheme_is_found(coded):
    _, _, book, codings = coded
    found = set(codings.loc[codings["subtheme"] != "", "subtheme"])
    assert set(book.subthemes()) - found == set()


def test_no_theme_codes_everyone_in_a_group(coded):
    participants, _, book, codings = coded
    for group, people in participants.groupby("group"):
        for theme in book.themes:
            coded_people = set(codings.loc[(codings["theme"] == theme) & (codings["group"] == group), "participant_id"])
            assert len(coded_people) < len(people), f"{theme}: every {group} participant is coded"


def test_codebook_quotes_no_sentence():
    book = codebook.load_codebook(paths.CODEBOOK)
    rules = book.rules
    long_keywords = rules[(rules["kind"] != "pattern") & (rules["n_words"] > 4)]
    assert long_keywords.empty, long_keywords["term"].tolist()
    literal_run = re.compile(r"(?:[A-Za-z']+ ){3}[A-Za-z']+")  # four plain words in a row
    quoting = [t for t in rules.loc[rules["kind"] == "pattern", "term"]
               if literal_run.search(re.sub(r"\(\?[^)]*\)|\\b", " ", t))]
    assert quoting == []
