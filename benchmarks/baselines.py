"""Straightforward baselines for `python -m helpers bench`: the code one would write first.

Each function does the same job as one step of the pipeline with plain Python loops and NLTK,
so the benchmark can print how much faster the vectorised implementation is. Not used by the
analysis itself. tests/test_baselines.py checks that each computes what our step computes.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

from nltk import FreqDist
from nltk.tokenize import TreebankWordTokenizer

LABEL = re.compile(r"^([^:\n]{1,60}):\s*(.*)$")
WORDISH = re.compile(r"\w")
_TREEBANK = TreebankWordTokenizer()


def ingest(folder) -> list[tuple[str, str, str]]:
    """(transcript, speaker, text) per turn: read each file, split lines on 'Label: text'."""
    turns = []
    for path in sorted(Path(folder).glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        body = lines[lines.index("---", 1) + 1:] if lines and lines[0] == "---" else lines
        for line in body:
            m = LABEL.match(line)
            if m:
                turns.append([path.stem, m.group(1), m.group(2)])
            elif line.strip() and turns:
                turns[-1][2] += "\n" + line
    return [tuple(t) for t in turns]


def tokenise(texts: list[str]) -> list[list[str]]:
    """NLTK Treebank tokens per text, lower-cased, punctuation dropped."""
    return [[t.lower() for t in _TREEBANK.tokenize(text) if WORDISH.search(t)] for text in texts]


def _rule_regex(keyword: str) -> re.Pattern:
    parts = []
    for word in keyword.lower().split():
        core = re.escape(word.strip("*"))
        parts.append(("\\w*" if word.startswith("*") else "") + core + ("\\w*" if word.endswith("*") else ""))
    return re.compile(r"\b" + r"\W+".join(parts) + r"\b", re.IGNORECASE)


def code(texts: list[str], book) -> list[tuple[int, str, str, int, int]]:
    """(segment, theme, subtheme, start, end) per match: a loop over segments x rules."""
    rules = []
    for _, r in book.rules.iterrows():
        if r["kind"] == "keyword":
            rules.append((r["theme"], r["subtheme"], _rule_regex(r["term"])))
        elif r["kind"] == "pattern":
            rules.append((r["theme"], r["subtheme"], re.compile(r["term"], re.IGNORECASE)))
    out = []
    for i, text in enumerate(texts):
        for theme, subtheme, rx in rules:
            for m in rx.finditer(text):
                out.append((i, theme, subtheme, m.start(), m.end()))
    return out


def stopword_sets(stopwords) -> tuple[set[str], dict[str, list[list[str]]]]:
    """The single stopwords, and the stopword phrases ("you know") by their first word."""
    single, phrases = set(), {}
    for entry in stopwords:
        words = entry.split()
        if len(words) == 1:
            single.add(entry)
        elif words:
            phrases.setdefault(words[0], []).append(words)
    return single, phrases


def drop_stopwords(toks: list[str], single: set[str], phrases: dict[str, list[list[str]]]) -> list[str]:
    """The tokens that are neither a stopword nor part of a stopword phrase (both words of "you know")."""
    drop = [t in single for t in toks]
    for i, t in enumerate(toks):
        for words in phrases.get(t, ()):
            if toks[i:i + len(words)] == words:
                for k in range(i, i + len(words)):
                    drop[k] = True
    return [t for t, d in zip(toks, drop) if not d]


def keyness(tokens: list[list[str]], groups: list[str], stopwords) -> list[tuple]:
    """G² and Log Ratio of each group against the rest, from NLTK FreqDists, term by term."""
    single, phrases = stopword_sets(stopwords)
    dists: dict[str, FreqDist] = {}
    for toks, g in zip(tokens, groups):
        dists.setdefault(g, FreqDist()).update(drop_stopwords(toks, single, phrases))
    total = FreqDist()
    for d in dists.values():
        total.update(d)
    out = []
    for g, d in dists.items():
        c, n = d.N(), total.N()
        for term, all_count in total.items():
            a = d[term]
            b = all_count - a
            dd = n - c
            if a + b < 5:
                continue
            e1, e2 = c * (a + b) / n, dd * (a + b) / n
            g2 = 2 * ((a * math.log(a / e1) if a else 0) + (b * math.log(b / e2) if b else 0))
            lr = math.log2(((a or 0.5) / c) / ((b or 0.5) / dd))
            out.append((g, term, a, b, g2, lr))
    return out


def cooccurrence(codings: list[tuple[str, str]], n_units: int) -> dict:
    """n_a, n_b, n_ab, Jaccard, NPMI per pair of codes from (segment_id, code) rows: a loop over
    the codings to collect each unit's codes, then over units and their code pairs."""
    units: dict[str, set[str]] = {}
    for segment_id, code in codings:
        units.setdefault(segment_id, set()).add(code)
    single, pairs = Counter(), Counter()
    for codes in units.values():
        single.update(codes)
        pairs.update(combinations(sorted(codes), 2))
    out = {}
    for a, b in combinations(sorted(single), 2):
        nab = pairs[(a, b)]
        jac = nab / (single[a] + single[b] - nab)
        if nab == 0:
            npmi = None
        elif nab == n_units:  # every unit has both codes: the limit, 1
            npmi = 1.0
        else:
            npmi = (math.log((nab / n_units) / ((single[a] / n_units) * (single[b] / n_units)))
                    / -math.log(nab / n_units))
        out[(a, b)] = (single[a], single[b], nab, jac, npmi)
    return out


def cooccurrence_test(segments: list[tuple[str, str]], codings: list[tuple[str, str]], permutations: int = 999,
                      seed: int = 0) -> dict:
    """Permutation test per pair of codes, units = segments: (observed n_ab, expected n_ab, p).

    `segments` is (segment_id, transcript_id) for every analysed segment, coded or not;
    `codings` is (segment_id, code) rows. In each permutation every code's 0/1 list is shuffled
    on its own within each transcript, and n_ab recounted; expected n_ab is the mean over the
    permutations and p = (1 + #{permuted n_ab >= observed}) / (1 + permutations).
    """
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    coded: dict[str, set[str]] = {}
    for segment_id, code in codings:
        coded.setdefault(segment_id, set()).add(code)
    codes = sorted({code for _, code in codings})
    transcripts: dict[str, list[str]] = {}
    for segment_id, transcript_id in segments:
        transcripts.setdefault(transcript_id, []).append(segment_id)
    # per transcript, per code: a 0/1 list over the transcript's segments
    columns = [{c: [1 if c in coded.get(s, ()) else 0 for s in ids] for c in codes} for ids in transcripts.values()]
    pairs = list(combinations(codes, 2))

    def count(tables) -> dict:
        n_ab = dict.fromkeys(pairs, 0)
        for table in tables:
            for a, b in pairs:
                n_ab[(a, b)] += sum(1 for x, y in zip(table[a], table[b]) if x and y)
        return n_ab

    observed = count(columns)
    rng = random.Random(seed)
    total, at_least = dict.fromkeys(pairs, 0), dict.fromkeys(pairs, 0)
    for _ in range(permutations):
        shuffled = []
        for table in columns:
            new = {}
            for c in codes:
                values = table[c][:]
                rng.shuffle(values)
                new[c] = values
            shuffled.append(new)
        for pair, n in count(shuffled).items():
            total[pair] += n
            if n >= observed[pair]:
                at_least[pair] += 1
    return {pair: (observed[pair], total[pair] / permutations, (1 + at_least[pair]) / (1 + permutations))
            for pair in pairs}


def word_network(tokens: list[list[str]], stopwords, top_terms: int = 60, max_edges: int = 60,
                 min_count: int = 2) -> list[tuple]:
    """Top terms by FreqDist, Jaccard over segments for every pair found in a segment, strongest edges.

    Terms: no stopwords (or stopword phrases), at least two characters, not numbers, at least
    `min_count` times; ranked by count, then alphabetically. Edges: Jaccard, then shared segments,
    then alphabetically.
    """
    single, phrases = stopword_sets(stopwords)
    kept = [[t for t in drop_stopwords(toks, single, phrases) if len(t) > 1 and not t[0].isdigit()]
            for toks in tokens]
    freq = FreqDist(t for toks in kept for t in toks)
    ranked = sorted((item for item in freq.items() if item[1] >= min_count), key=lambda kv: (-kv[1], kv[0]))
    top = {t for t, _ in ranked[:top_terms]}
    docs, pairs = Counter(), Counter()
    for toks in kept:
        present = sorted(top.intersection(toks))
        docs.update(present)
        pairs.update(combinations(present, 2))
    edges = [(a, b, n / (docs[a] + docs[b] - n), n) for (a, b), n in pairs.items()]
    edges.sort(key=lambda e: (-e[2], -e[3], e[0], e[1]))
    return [(a, b, jaccard) for a, b, jaccard, _ in edges[:max_edges]]
