"""Tokenising, normalising, stopwords and term matching (helpers.text) on small hand-made texts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths, text
from helpers.errors import InputError


def tokens_of(s: str, **options) -> list[str]:
    return text.tokenize_series(pd.Series([s]), **options)["token"].tolist()


# ----------------------------------------------------------------------------- edge cases of tokenising
def test_contractions_stay_one_word_and_curly_apostrophes_are_straightened():
    assert tokens_of("I can't, you’re sure it‘s fine? Won’t.") == ["i", "can't", "you're", "sure", "it's", "fine",
                                                                   "won't"]


def test_apostrophes_inside_names_and_possessives_but_not_at_word_edges():
    assert tokens_of("O'Neill's clients' 'cause ‘quoted’") == ["o'neill's", "clients", "cause", "quoted"]


def test_hyphenated_words_are_one_token_but_a_spaced_dash_is_not_a_word():
    assert tokens_of("a flare-up, one-to-one - twenty-one -ish well--being") == [
        "a", "flare-up", "one-to-one", "twenty-one", "ish", "well", "being"]


def test_transcription_notes_and_placeholders_are_never_tokens():
    s = "Yes [laughs] I saw [NAME-1]'s GP (pause) at [PLACE-2] (inaudible 00:12:31) [crosstalk] (sometimes)"
    assert tokens_of(s) == ["yes", "i", "saw", "gp", "at", "sometimes"]


def test_numbers_are_tokens_unless_left_out():
    s = "In 2019 I worked 3.5 days, 10,000 steps, at 9:30, 24/7 - two jobs"
    assert tokens_of(s) == ["in", "2019", "i", "worked", "3.5", "days", "10,000", "steps", "at", "9:30", "24", "7",
                            "two", "jobs"]
    assert tokens_of(s, numbers=False) == ["in", "i", "worked", "days", "steps", "at", "two", "jobs"]


def test_non_ascii_letters_stay_inside_words():
    assert tokens_of("Zoë went to the café, naïve Señora ZOË") == ["zoë", "went", "to", "the", "café", "naïve",
                                                                 "señora", "zoë"]
    assert tokens_of("Zoë Café", lowercase=False) == ["Zoë", "Café"]


def test_offsets_point_at_the_original_characters():
    s = "Zoë’s [laughs] flare-up in 2019"
    table = text.tokenize_series(pd.Series([s]))
    assert [s[a:b] for a, b in zip(table["start"], table["end"])] == ["Zoë’s", "flare-up", "in", "2019"]
    assert table["token"].tolist() == ["zoë's", "flare-up", "in", "2019"]


def test_default_tokenize_series_is_the_token_spans_of_each_text():
    texts = pd.Series(["Um, I mean [laughs] it's OK.", None, "", "Kind of 12 things"])
    table = text.tokenize_series(texts)
    assert list(table.columns) == ["row", "token", "start", "end"]
    expected = [(i, *span) for i, t in enumerate(["Um, I mean [laughs] it's OK.", "", "", "Kind of 12 things"])
                for span in text.token_spans(t)]
    assert list(table.itertuples(index=False, name=None)) == expected


def test_minimum_length_counts_characters():
    assert tokens_of("I am ok at it, a b cd", min_length=2) == ["am", "ok", "at", "it", "cd"]
    assert tokens_of("I am ok", min_length=3) == []
    with pytest.raises(ValueError):
        tokens_of("x", min_length=0)


def test_snowball_stemming_applies_after_the_other_filters():
    assert tokens_of("Managing management placements Employers employed", stem=True) == [
        "manag", "manag", "placement", "employ", "employ"]
    assert tokens_of("the placements", stem=True, stopwords={"the"}) == ["placement"]


# ----------------------------------------------------------------------------- positions and clauses
# characters where the tokeniser's rules have edges: letters of several scripts, digits (ASCII and
# not), every joiner, clause breaks, notes, line breaks, a letter that lower-cases to two characters
EDGE_ALPHABET = "aZéİǅж中ʼ'’‘-.,:;!?()[]{}…—–/ \n\t\x0009٣²_😀"


def reference_tokens(texts: list[str], lowercase: bool = True) -> list[tuple]:
    """(row, token, start, end, position) from the regular expressions, one text and token at a time."""
    out = []
    for row, t in enumerate(texts):
        masked = text.NOTE_RE.sub(lambda m: "\x00" * (m.end() - m.start()), t)
        position, previous_end = -1, None
        for m in text.TOKEN_RE.finditer(masked):
            gap = masked[previous_end:m.start()] if previous_end is not None else ""
            position += 2 if text.CLAUSE_BREAK_RE.search(gap) else 1
            out.append((row, text.normalise_token(m.group(), lowercase), m.start(), m.end(), position))
            previous_end = m.end()
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=EDGE_ALPHABET, max_size=40), min_size=1, max_size=6), st.booleans())
def test_the_numpy_tokeniser_finds_what_the_regular_expressions_find(texts, lowercase):
    table = text.token_table(pd.Series(texts, dtype=object), lowercase=lowercase)
    rows = [(r, str(t), s, e, p) for r, t, s, e, p in table.itertuples(index=False, name=None)]
    assert rows == reference_tokens(texts, lowercase)


def test_tokens_come_as_a_categorical_of_the_sorted_spellings():
    table = text.token_table(pd.Series(["Pain, pain and PAIN", "and zest"]))
    assert isinstance(table["token"].dtype, pd.CategoricalDtype)
    assert list(table["token"].cat.categories) == ["and", "pain", "zest"]
    codes, vocab = text.token_codes(table["token"])
    assert codes.tolist() == [1, 1, 0, 1, 0, 2] and vocab == ["and", "pain", "zest"]
    # a plain column is factorised in order of first use
    codes, vocab = text.token_codes(pd.Series(["b", "a", "b"], dtype=object))
    assert codes.tolist() == [0, 1, 0] and vocab == ["b", "a"]


def test_phrase_stopwords_sharing_words_are_each_found():
    sw = {"you know", "know what i mean", "i mean", "sort of"}
    # overlapping phrases ('you know' + 'know what i mean') are both removed; a lone 'sort' stays
    assert tokens_of("you know what I mean, I mean sort of sort, you know", stopwords=sw) == ["sort"]
    assert tokens_of("what I mean, you what", stopwords=sw) == ["what", "you", "what"]


def test_positions_step_over_punctuation_and_notes():
    table = text.token_table(pd.Series(["fit note, pain [laughs] clinic. back pain"]))
    assert table["token"].tolist() == ["fit", "note", "pain", "clinic", "back", "pain"]
    assert table["position"].tolist() == [0, 1, 3, 5, 7, 8]


def test_filtered_tokens_keep_their_positions():
    table = text.token_table(pd.Series(["the pain clinic"]), stopwords={"the"})
    assert table[["token", "position"]].values.tolist() == [["pain", 1], ["clinic", 2]]


# ----------------------------------------------------------------------------- stopwords
def test_multi_word_stopwords_are_removed_only_as_phrases():
    sw = {"you know", "i mean", "kind of", "sort of", "a"}
    assert tokens_of("You know, I mean it was kind of a kind nurse", stopwords=sw) == [
        "it", "was", "kind", "nurse"]
    # 'kind of' matched; the later 'kind' (followed by 'nurse') kept; 'a' removed as a single word
    assert tokens_of("sort of, you, know, sort", stopwords=sw) == ["you", "know", "sort"]


def test_stopwords_match_ignoring_case_and_apostrophe_style():
    sw = {"you know", "don't"}
    assert tokens_of("You Know I DON’T Mind", lowercase=False, stopwords=sw) == ["I", "Mind"]
    # several spellings of one word in one text fold together
    assert tokens_of("you know, You Know, YOU KNOW, you Know me", lowercase=False, stopwords=sw) == ["me"]
    assert text.match_term(text.token_table(pd.Series(["Pain pain PAIN"]), lowercase=False), "pain")["first"].tolist() == [
        0, 1, 2]


def test_phrase_at_the_end_of_one_text_does_not_join_the_next():
    table = text.tokenize_series(pd.Series(["well you", "know it"]), stopwords={"you know"})
    assert table["token"].tolist() == ["well", "you", "know", "it"]


def test_load_stopwords_reads_comments_phrases_and_curly_apostrophes(tmp_path):
    f = tmp_path / "sw.txt"
    f.write_text("# a comment line\nThe\n  you   know  # filler\nDON’T\n\n#\n", encoding="utf-8")
    assert text.load_stopwords(f) == {"the", "you know", "don't"}


def test_stopword_list_adds_and_removes_by_parameter(tmp_path):
    f = tmp_path / "sw.txt"
    f.write_text("like\nthe\nyou know\n", encoding="utf-8")
    words = text.stopword_list(f, add=["Pain", " sort   OF "], remove=["LIKE", "you know"])
    assert words == frozenset({"the", "pain", "sort of"})


def test_missing_stopword_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match=r"nope\.txt: stopword file not found"):
        text.load_stopwords(tmp_path / "nope.txt")


def test_shipped_stopword_list_has_fillers_and_discourse_phrases():
    words = text.load_stopwords(paths.BUILTIN_STOPWORDS)
    for w in ["um", "erm", "er", "uh", "mm", "mhm", "yeah", "like", "okay", "right", "you know", "sort of",
              "kind of", "i mean", "the", "and", "don't"]:
        assert w in words, w
    for content in ["pain", "work", "job", "placement", "employer", "gp", "confidence"]:
        assert content not in words, content
    assert tokens_of("Um, yeah, I mean, you know, the pain is sort of constant, like.", stopwords=words) == [
        "pain", "constant"]


# ----------------------------------------------------------------------------- matching search terms
def match(texts, pattern, **kw):
    table = text.token_table(pd.Series(texts))
    hits = text.match_term(table, pattern, **kw)
    return [(int(table["row"][f]), " ".join(table["token"][f:l + 1])) for f, l in zip(hits["first"], hits["last"])]


def test_word_wildcard_and_phrase_matching():
    texts = ["Pain clinic and painkillers, back pain.", "a fit note; fit notes", "Fit, note"]
    assert match(texts, "pain") == [(0, "pain"), (0, "pain")]
    assert match(texts, "PAIN*") == [(0, "pain"), (0, "painkillers"), (0, "pain")]
    assert match(texts, "*ers") == [(0, "painkillers")]
    assert match(texts, "fit note?") == [(1, "fit notes")]
    assert match(texts, "fit note*") == [(1, "fit note"), (1, "fit notes")]  # never across ', '


def test_curly_apostrophe_in_a_search_term():
    assert match(["I can't cope", "can’t"], "can’t") == [(0, "can't"), (1, "can't")]


@pytest.mark.parametrize("bad", ["", "   ", "pain!", "(fit)"])
def test_bad_search_terms_are_input_errors(bad):
    with pytest.raises(InputError, match="search term"):
        text.term_regexes(bad)


def test_tokenising_in_slices_gives_the_same_table(monkeypatch):
    texts = pd.Series(["Good days, and bad days [laughs] you know.", "", "It’s a flare-up — again", None,
                       "Zoë went 3.5 miles (pause) home", "end"] * 7)
    whole = text.token_table(texts)
    monkeypatch.setattr(text, "CHUNK_CHARS", 25)
    sliced = text.token_table(texts)
    pd.testing.assert_frame_equal(sliced, whole)
    assert whole["row"].nunique() == 4 * 7  # the empty and missing texts have no tokens


def test_word_counts_per_text_leave_notes_out_and_keep_empty_texts():
    texts = pd.Series(["I can't cope [laughs] (pause) at 9 am", "", None, "[NAME-1] said so"], index=[7, 3, 5, 1])
    assert text.word_counts(texts).tolist() == [6, 0, 0, 2]
    assert text.word_counts(pd.Series([], dtype=object)).tolist() == []
