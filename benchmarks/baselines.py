"""Straightforward baselines for `python -m helpers bench`: the code one would write first.

Each function does the same job as one step of the pipeline with plain Python loops and NLTK,
so the benchmark can print how much faster the vectorised implementation is. Not used by the
analysis itself.
"""

from __future__ import annotations

import math
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


def keyness(tokens: list[list[str]], groups: list[str], stopwords) -> list[tuple]:
    """G² and Log Ratio of each group against the rest, from NLTK FreqDists, term by term."""
    stop = set(stopwords)
    dists: dict[str, FreqDist] = {}
    for toks, g in zip(tokens, groups):
        dists.setdefault(g, FreqDist()).update(t for t in toks if t not in stop)
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
        npmi = (math.log((nab / n_units) / ((single[a] / n_units) * (single[b] / n_units)))
                / -math.log(nab / n_units)) if 0 < nab < n_units else None
        out[(a, b)] = (single[a], single[b], nab, jac, npmi)
    return out


def word_network(tokens: list[list[str]], stopwords, top_terms: int = 60, max_edges: int = 60) -> list[tuple]:
    """Top terms by FreqDist, Jaccard over segments for every pair found in a segment, strongest edges."""
    stop = set(stopwords)
    freq = FreqDist(t for toks in tokens for t in toks if t not in stop and len(t) > 1 and not t.isdigit())
    top = {t for t, _ in freq.most_common(top_terms)}
    docs, pairs = Counter(), Counter()
    for toks in tokens:
        present = sorted(top.intersection(toks))
        docs.update(present)
        pairs.update(combinations(present, 2))
    edges = [(a, b, n / (docs[a] + docs[b] - n)) for (a, b), n in pairs.items()]
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    return edges[:max_edges]
