"""The libraries a researcher would otherwise use for each step: `python -m helpers bench --peers`.

Each function does one step's work with a peer library, on the same inputs our step gets, and
returns a result that `helpers.bench` compares with ours. The peers are optional (`pip install -e
.[bench]`: spaCy, scikit-learn, scattertext; NLTK is a dependency anyway): each function imports
its library when called, so a missing one raises ImportError and the benchmark reports the row as
skipped. Setting up a peer (loading the library, building its pattern Docs) is not timed; each
`prepare_*` returns the callable that is.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter

import numpy as np
import pandas as pd


# ----------------------------------------------------------------------------- tokenise
def prepare_spacy_tokenise():
    """spaCy's rule-based English tokenizer (spacy.blank('en'), no model): number of tokens of all texts."""
    import spacy

    tokenizer = spacy.blank("en").tokenizer

    def run(texts: list[str]) -> int:
        return sum(len(doc) for doc in tokenizer.pipe(texts, batch_size=1000))

    return run


def prepare_sklearn_tokenise():
    """scikit-learn's CountVectorizer analyzer (lower-case, default token pattern): tokens per text."""
    from sklearn.feature_extraction.text import CountVectorizer

    analyze = CountVectorizer().build_analyzer()

    def run(texts: list[str]) -> list[list[str]]:
        return [analyze(t) for t in texts]

    return run


# ----------------------------------------------------------------------------- keyness
def g2_rest(counts: np.ndarray) -> np.ndarray:
    """G² of each term (row) in each group (column) against all other groups, from a count matrix."""
    counts = np.asarray(counts, dtype=float)
    a = counts
    b = counts.sum(axis=1, keepdims=True) - a
    c = a.sum(axis=0, keepdims=True)
    d = c.sum() - c
    e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        g2 = 2.0 * (np.where(a > 0, a * np.log(a / e1), 0.0) + np.where(b > 0, b * np.log(b / e2), 0.0))
    return np.maximum(g2, 0.0)


def prepare_sklearn_keyness(stopwords, min_count: int = 5):
    """CountVectorizer document-term counts, summed per group with one sparse product, and G² in numpy
    (every group against the rest; terms seen fewer than `min_count` times in all are not tested).
    Returns a long table: group, term, g2."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    words = sorted(w for w in stopwords if " " not in w)

    def run(texts: list[str], groups: list[str]) -> pd.DataFrame:
        vectorizer = CountVectorizer(token_pattern=r"(?u)\b\w+\b", stop_words=words)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stop words such as "don't" the token pattern would split
            x = vectorizer.fit_transform(texts)
        codes, names = pd.factorize(pd.Series(groups), sort=True)
        member = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(names), len(codes)))
        counts = np.asarray((member @ x).todense()).T  # term x group
        tested = counts.sum(axis=1) >= min_count
        g2 = g2_rest(counts[tested])
        terms = vectorizer.get_feature_names_out()[tested]
        return pd.DataFrame({"group": np.repeat(np.asarray(names, dtype=object)[None, :], len(terms), axis=0).ravel(),
                             "term": np.repeat(terms, len(names)), "g2": g2.ravel()})

    return run


# ----------------------------------------------------------------------------- term counts per group
def prepare_scattertext_counts():
    """scattertext: CorpusFromPandas (its whitespace tokenizer, no spaCy model) and the term frequency
    table per category (unigrams and bigrams, as scattertext counts them)."""
    import scattertext as st

    def run(texts: list[str], groups: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame({"group": groups, "text": texts})
        built = st.CorpusFromPandas(frame, category_col="group", text_col="text",
                                    nlp=st.whitespace_nlp_with_sentences).build()
        return built.get_term_freq_df()

    return run


# ----------------------------------------------------------------------------- collocations
def prepare_nltk_bigrams(min_freq: int = 3):
    """NLTK's BigramCollocationFinder per group on the same word streams as ours (None where words were
    not adjacent), bigrams seen `min_freq` times or more, scored by likelihood ratio: {group: [(bigram, lr)]}."""
    from nltk.collocations import BigramCollocationFinder
    from nltk.metrics import BigramAssocMeasures

    def run(streams: dict) -> dict:
        out = {}
        for group, stream in streams.items():
            finder = BigramCollocationFinder.from_words(stream)
            finder.apply_freq_filter(min_freq)
            out[group] = [(" ".join(g), s) for g, s in finder.score_ngrams(BigramAssocMeasures.likelihood_ratio)]
        return out

    return run


# ----------------------------------------------------------------------------- keyword matching
def expand_rule(stems: list[tuple[str, str]], vocabulary: list[str], by_prefix: dict) -> list[list[str]]:
    """Every sequence of vocabulary words a keyword rule matches: its words (mode, stem) in order, each
    an exact word or a wildcard (prefix, suffix, infix) expanded to the words of `vocabulary` it fits."""
    options = []
    for mode, stem in stems:
        if mode == "exact":
            words = [stem] if stem in by_prefix["exact"] else []
        elif mode == "prefix":
            words = [w for w in by_prefix.get(stem[:1], ()) if w.startswith(stem)]
        elif mode == "suffix":
            words = [w for w in vocabulary if w.endswith(stem)]
        else:
            words = [w for w in vocabulary if stem in w]
        if not words:
            return []
        options.append(words)
    return [list(p) for p in itertools.product(*options)]


def prepare_spacy_matcher(words: pd.DataFrame, token_rows: list[list[str]]):
    """spaCy's PhraseMatcher (attr='LOWER') with one pattern per vocabulary expansion of each keyword rule,
    over Docs built from our tokens (so both see the same words). Building the Docs and patterns is not
    timed. Returns the timed callable: matches per rule_id (a Counter)."""
    import spacy
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    nlp = spacy.blank("en")
    docs = [Doc(nlp.vocab, words=toks) for toks in token_rows]
    vocabulary = sorted({w for toks in token_rows for w in toks})
    by_prefix = {"exact": set(vocabulary)}
    for w in vocabulary:
        by_prefix.setdefault(w[:1], []).append(w)
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for rule_id, rule in words.sort_values(["rule_id", "position"]).groupby("rule_id", sort=True):
        if rule["position"].tolist() != list(range(len(rule))):
            continue  # a rule with a gap never matches (as in coding.match_keywords)
        sequences = expand_rule(list(zip(rule["mode"], rule["stem"])), vocabulary, by_prefix)
        if sequences:
            matcher.add(str(rule_id), [Doc(nlp.vocab, words=s) for s in sequences])
    strings = nlp.vocab.strings

    def run() -> Counter:
        found = Counter()
        for doc in docs:
            for match_id, _, _ in matcher(doc):
                found[int(strings[match_id])] += 1
        return found

    return run
