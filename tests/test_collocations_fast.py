"""keywords.collocations counts bigrams with numpy: the table must be exactly what NLTK's
BigramCollocationFinder gives on the same word streams (same bigrams, counts, scores, order)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import bench, corpus, keywords as kw, paths, text


def nltk_table(tokens: pd.DataFrame, by: str, min_freq: int) -> pd.DataFrame:
    """The reference: NLTK's finder per group on the word streams, scored by NLTK, sorted as ours."""
    from nltk.collocations import BigramCollocationFinder
    from nltk.metrics import BigramAssocMeasures as measures

    parts = []
    for group in kw._group_values(tokens, by):
        finder = BigramCollocationFinder.from_words(kw._word_stream(tokens.loc[tokens[by] == group], "token"))
        finder.apply_freq_filter(min_freq)
        lr = dict(finder.score_ngrams(measures.likelihood_ratio))
        pmi = dict(finder.score_ngrams(measures.pmi))
        grams = sorted(lr)
        parts.append(pd.DataFrame({by: group, "ngram": [" ".join(g) for g in grams],
                                   "count": np.array([finder.ngram_fd[g] for g in grams], dtype=np.int64),
                                   "likelihood_ratio": np.array([lr[g] for g in grams], dtype=float),
                                   "pmi": np.array([pmi[g] for g in grams], dtype=float)}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return kw.collocations(tokens.iloc[:0], by, 2, min_freq)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values([by, "likelihood_ratio", "ngram"], ascending=[True, False, True], kind="mergesort")
    return out.reset_index(drop=True)


def same_as_nltk(tokens: pd.DataFrame, by: str = "group", min_freq: int = 1) -> pd.DataFrame:
    got = kw.collocations(tokens, by, n=2, min_freq=min_freq)
    pd.testing.assert_frame_equal(got, nltk_table(tokens, by, min_freq), check_exact=True)
    return got


def segs(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["segment_id", "participant_id", "group", "text"])


def test_hand_made_texts_exact_scores_and_ties():
    s = segs(("A:1", "C01", "client", "fit note, fit note. pain clinic pain clinic"),
             ("A:2", "C01", "client", "back pain back pain and fit note"),
             ("A:3", "C02", "client", "note fit note fit"),  # tied bigrams both ways round
             ("B:1", "E01", "esw", "job search job search support job"),
             ("B:2", "E01", "esw", "search job"),
             ("B:3", "E02", "", "fit note fit note"),  # no group: not counted
             ("B:4", "E02", "esw", "a"))
    tokens = kw.segment_tokens(s)
    got = same_as_nltk(tokens)
    assert got.loc[got["group"] == "client", "ngram"].iloc[0] == "fit note"
    # ties in likelihood ratio are ordered by the bigram, as NLTK's sorted list is
    ties = got.groupby(["group", "likelihood_ratio"]).filter(lambda part: len(part) > 1)
    assert len(ties) and (ties.groupby(["group", "likelihood_ratio"])["ngram"]
                          .apply(lambda x: list(x) == sorted(x)).all())
    for floor in (2, 3, 10):
        same_as_nltk(tokens, min_freq=floor)
    same_as_nltk(kw.segment_tokens(s, stopwords={"and", "a"}), min_freq=1)
    assert kw.collocations(tokens, "group", n=2, min_freq=10).empty


def test_categorical_tokens_interleaved_groups_and_other_grouping_columns():
    s = segs(("A:1", "C01", "client", "fit note fit note"), ("B:1", "E01", "esw", "fit note job search"),
             ("A:2", "C01", "client", "job search fit note"), ("B:2", "E01", "esw", "fit note"))
    tokens = kw.segment_tokens(s, columns=["participant_id", "group"])
    same_as_nltk(tokens)
    same_as_nltk(tokens, by="participant_id")
    cat = tokens.assign(token=tokens["token"].astype("category"), group=tokens["group"].astype("category"))
    same_as_nltk(cat)
    shuffled = tokens.sample(frac=1.0, random_state=3).reset_index(drop=True)  # rows out of order
    same_as_nltk(shuffled)


def test_a_missing_token_is_counted_as_nltk_counts_it():
    s = segs(("A:1", "C01", "client", "fit note fit note"))
    tokens = kw.segment_tokens(s)
    tokens.loc[1, "token"] = None
    same_as_nltk(tokens)


def test_demo_corpus_same_as_nltk():
    people = corpus.load_participants(paths.PARTICIPANTS)
    seg = corpus.segments(corpus.load_corpus(paths.TRANSCRIPTS, people), people)
    tokens = kw.segment_tokens(seg, stopwords=text.stopword_list())
    for floor in (1, 3):
        assert len(same_as_nltk(tokens, min_freq=floor))


@pytest.fixture(scope="module")
def million(tmp_path_factory):
    folder, people_csv, _ = bench.generate_corpus(tmp_path_factory.mktemp("bench"), 1_000_000, seed=1)
    people = corpus.load_participants(people_csv)
    return corpus.segments(corpus.load_corpus(folder, people), people)


def test_generated_million_words_same_as_nltk(million):
    raw = text.token_table(million["text"])
    kept = text.filter_mask(raw, stopwords=text.stopword_list())
    tokens = bench.grouped_tokens(raw, million["group"], kept).assign(
        row=raw["row"].to_numpy()[kept], position=raw["position"].to_numpy()[kept])
    assert len(same_as_nltk(tokens, min_freq=3)) > 1000
