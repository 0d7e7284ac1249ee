"""Keyword analysis: frequencies, n-grams, keyness between groups, KWIC and collocations.

Every function takes tidy tables (segments or their tokens) and returns a DataFrame or a
matplotlib Figure. Keyness follows DESIGN.md §6 exactly: G² (log-likelihood) with p from
chi-square on 1 df, Benjamini-Hochberg adjusted p per comparison, and Log Ratio as effect size.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from . import corpus, paths, text
from .errors import InputError

PER = 10_000  # rates are per this many tokens
UNDER_USED = "#AAAAAA"  # bars of terms a group uses less than the reference
REST = "rest"  # reference label when a group is compared with all the others
KEYNESS_COLUMNS = ["term", "target", "reference", "target_count", "reference_count", "target_total",
                   "reference_total", "g2", "p_value", "p_adjusted", "log_ratio"]
KWIC_COLUMNS = ["term", "segment_id", "participant_id", "group", "left", "match", "right", "start", "end"]
KWIC_DISPLAY_LEFT, KWIC_DISPLAY_KEYWORD, KWIC_DISPLAY_RIGHT = "left context", "keyword", "right context"
SEGMENT_COLUMNS = ["segment_id", "participant_id", "group", "text"]
NOT_GROUPING = {"segment_id", "text", "turn", "sentence", "start", "end", "timestamp", "line", "source",
                "token", "position", "row"}  # the last three: columns of token tables


# ----------------------------------------------------------------------------- tokens
def segment_tokens(segments: pd.DataFrame, *, columns=None, text_column: str = "text", lowercase: bool = True,
                   numbers: bool = True, stem: bool = False, min_length: int = 1, stopwords=None) -> pd.DataFrame:
    """Tokens of every segment with the segment's descriptive columns alongside.

    Returns `segment_id`, the `columns` asked for (default participant_id and group), `token`,
    `start`, `end` (offsets in the segment text), `position` (place among all the segment's words,
    one extra step at each clause break: see `text.token_table`) and `row` (the segment's position in `segments`). Filtering options are those of
    `text.token_table`.
    """
    columns = ["participant_id", "group"] if columns is None else [c for c in _as_list(columns)]
    _require_columns(segments, ["segment_id", text_column, *columns], "segments")
    table = text.token_table(segments[text_column], lowercase, numbers, stem=stem, min_length=min_length,
                             stopwords=stopwords)
    rows = table["row"].to_numpy()
    meta = {c: segments[c].to_numpy()[rows] for c in dict.fromkeys(["segment_id", *columns])}
    out = pd.DataFrame(meta)
    for c in ["token", "start", "end", "position", "row"]:
        out[c] = table[c].to_numpy()
    out["token"] = out["token"].astype(object)
    return out


def token_summary(segments: pd.DataFrame, tokens: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Per value of `by`: participants, segments, words (every token) and tokens counted (after filters)."""
    _check_by(segments, by)
    seg = segments.assign(_words=text.word_counts(segments["text"]))
    seg = seg.loc[seg[by].notna() & (seg[by].astype(str).str.strip() != "")]
    out = seg.groupby(by, sort=True, observed=True).agg(
        participants=("participant_id", lambda s: s[s != ""].nunique()),
        segments=("segment_id", "size"), words=("_words", "sum"))
    out["tokens_counted"] = tokens.groupby(by, observed=True).size().reindex(out.index, fill_value=0)
    out["share_counted"] = (out["tokens_counted"] / out["words"].where(out["words"] > 0)).round(3)
    out.loc["Total"] = [seg.loc[seg["participant_id"] != "", "participant_id"].nunique(), len(seg),
                        out["words"].sum(), out["tokens_counted"].sum(),
                        round(out["tokens_counted"].sum() / max(1, out["words"].sum()), 3)]
    for c in ["participants", "segments", "words", "tokens_counted"]:
        out[c] = out[c].astype(np.int64)
    return out


def ngrams(tokens: pd.DataFrame, n: int, term_column: str = "token") -> pd.DataFrame:
    """n-grams of words that stood next to each other in one clause of a segment (no filtered word,
    punctuation mark or transcription note between them).

    Same columns as `tokens`; `term_column` holds the words joined by single spaces, `start` is the
    first word's start and `end` the last word's end.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if n == 1 or len(tokens) < n:
        return tokens.iloc[: len(tokens) if n == 1 else 0].reset_index(drop=True)
    first = np.flatnonzero(text.adjacent(tokens["row"].to_numpy(), tokens["position"].to_numpy(), n))
    words = tokens[term_column].to_numpy(dtype=object)
    joined = words[first]
    for k in range(1, n):
        joined = joined + " " + words[first + k]
    out = tokens.iloc[first].reset_index(drop=True)
    out[term_column] = pd.Series(joined, dtype=object)
    out["end"] = tokens["end"].to_numpy()[first + n - 1]
    return out


# ----------------------------------------------------------------------------- frequencies
def frequencies(tokens: pd.DataFrame, by="group", term_column: str = "token", totals: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Count of each term per group (or per several columns), with the group's token total and the
    rate per 10,000 tokens. Columns: the `by` columns, `term`, `count`, `total`, `per_10k`; sorted by
    group, then count (descending), then term. `totals`: another token table whose size per group
    is the denominator (e.g. the word tokens when counting n-grams).
    """
    by = list(dict.fromkeys(_as_list(by)))  # [group, participant_id] with group = participant_id: once
    _require_columns(tokens, [*by, term_column], "tokens")
    counts = (tokens.groupby([*by, term_column], sort=True, observed=True).size()
              .rename("count").reset_index().rename(columns={term_column: "term"}))
    base = tokens if totals is None else totals
    sizes = base.groupby(by, sort=True, observed=True).size().rename("total").reset_index()
    out = counts.merge(sizes, on=by, how="left")
    out["count"] = out["count"].astype(np.int64)
    out["total"] = out["total"].fillna(0).astype(np.int64)
    out["per_10k"] = out["count"] / out["total"] * PER
    out = out.sort_values([*by, "count", "term"], ascending=[True] * len(by) + [False, True], kind="mergesort")
    return out.reset_index(drop=True)


def top_frequencies(freq: pd.DataFrame, by="group", top_n: int = 15) -> pd.DataFrame:
    """The `top_n` most frequent terms of each group of a `frequencies` table (ties by term)."""
    return freq.groupby(_as_list(by), sort=False, observed=True).head(top_n).reset_index(drop=True)


def rate_table(freq: pd.DataFrame, terms, by: str = "group", value: str = "per_10k") -> pd.DataFrame:
    """Wide table: one row per term (in the order given), one column per group, `value` in the cells."""
    wide = freq.pivot_table(index="term", columns=by, values=value, aggfunc="sum", fill_value=0, observed=True)
    wide = wide.reindex(index=list(dict.fromkeys(terms)), fill_value=0)
    wide.columns.name = by
    return wide


# ----------------------------------------------------------------------------- keyness
def keyness_scores(a, b, c, d) -> pd.DataFrame:
    """G², its p value (chi-square, 1 df) and Log Ratio for counts a (target) and b (reference) out of
    token totals c and d, element-wise (DESIGN.md §6). A zero count adds 0 to G² and is taken as 0.5
    in the Log Ratio. Returns columns `g2`, `p_value`, `log_ratio` (positive = over-used in target).
    """
    from scipy import special, stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    c, d = np.broadcast_to(np.asarray(c, dtype=float), a.shape), np.broadcast_to(np.asarray(d, dtype=float), a.shape)
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        g2 = 2.0 * (special.xlogy(a, a / e1) + special.xlogy(b, b / e2))
    g2 = np.where((a + b) > 0, np.maximum(g2, 0.0), 0.0)
    p = stats.chi2.sf(g2, 1)
    log_ratio = np.log2((np.where(a == 0, 0.5, a) / c) / (np.where(b == 0, 0.5, b) / d))
    return pd.DataFrame({"g2": g2, "p_value": p, "log_ratio": log_ratio})


def bh_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (step-up, monotone, capped at 1), in the input order."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _group_values(tokens: pd.DataFrame, by: str) -> list:
    """Distinct non-empty values of a grouping column, sorted as text."""
    values = tokens[by].dropna()
    values = values[values.astype(str).str.strip() != ""]
    return sorted(pd.unique(values), key=str)


def count_matrix(tokens: pd.DataFrame, by: str = "group", term_column: str = "token") -> pd.DataFrame:
    """Terms x groups matrix of counts (rows sorted by term, columns by group); empty groups left out.

    Counted with numpy over integer codes of terms and groups (a categorical term column, as
    text.token_table gives it, is used as it is).
    """
    _require_columns(tokens, [by, term_column], "tokens")
    group_codes, group_values = text.token_codes(tokens[by])
    named = np.array([str(g).strip() != "" for g in group_values], dtype=bool)
    keep = (group_codes >= 0) & named[group_codes] if len(group_values) else np.zeros(len(tokens), dtype=bool)
    codes, vocab = text.token_codes(tokens[term_column])
    keep &= codes >= 0  # missing terms are not counted
    if not keep.all():
        codes, group_codes = codes[keep], group_codes[keep]
    codes = codes.astype(np.int64)
    present = np.flatnonzero(np.bincount(group_codes, minlength=len(group_values)))
    groups = sorted((group_values[i] for i in present), key=str)
    column = np.full(len(group_values), -1, dtype=np.int64)
    column[[list(group_values).index(g) for g in groups]] = np.arange(len(groups))
    flat = np.bincount(codes * len(groups) + column[group_codes], minlength=len(vocab) * len(groups))
    counts = flat.reshape(len(vocab), len(groups)).astype(np.int64)
    used = np.flatnonzero(counts.sum(axis=1))
    terms = np.asarray(vocab, dtype=object)[used]
    order = np.argsort(terms.astype(str), kind="stable") if len(terms) else used
    return pd.DataFrame(counts[used][order], index=pd.Index(terms[order], dtype=object, name="term"),
                        columns=pd.Index(groups, name=by))


def compare(counts: pd.DataFrame, target, reference, min_count: int = 5) -> pd.DataFrame:
    """One keyness comparison from a `count_matrix`: `target` group against `reference` (a group, a
    list of groups, or None for all the other groups). Terms with target + reference count below
    `min_count` are not tested; p values are adjusted over the tested terms. Sorted by G², then term.
    """
    if min_count < 1:
        raise InputError(f"--min-count {min_count}: must be at least 1")
    ref_groups = [g for g in counts.columns if g != target] if reference is None else _as_list(reference)
    a = counts[target].to_numpy()
    b = counts[ref_groups].to_numpy().sum(axis=1)
    c, d = int(a.sum()), int(b.sum())
    tested = (a + b) >= min_count
    scores = keyness_scores(a[tested], b[tested], c, d)
    terms = counts.index.to_numpy(dtype=object)[tested]
    g2 = scores["g2"].to_numpy()
    # by G² (highest first), then term: one numpy sort instead of a sort on the strings
    alphabetical = np.argsort(np.argsort(terms.astype(str), kind="stable"), kind="stable")
    order = np.lexsort((alphabetical, -g2))
    p_value = scores["p_value"].to_numpy()
    return pd.DataFrame({
        "term": terms[order],
        "target": str(target),
        "reference": REST if reference is None else "+".join(map(str, ref_groups)),
        "target_count": a[tested].astype(np.int64)[order],
        "reference_count": b[tested].astype(np.int64)[order],
        "target_total": np.int64(c),
        "reference_total": np.int64(d),
        "g2": g2[order],
        "p_value": p_value[order],
        "p_adjusted": bh_adjust(p_value)[order],
        "log_ratio": scores["log_ratio"].to_numpy()[order],
    }, columns=KEYNESS_COLUMNS)


def keyness(tokens: pd.DataFrame, by: str = "group", target=None, reference=None, min_count: int = 5,
            term_column: str = "token") -> pd.DataFrame:
    """Keyness table (DESIGN.md §6). No target: every group against the rest; a target: it against the
    rest, or against `reference` when given. Token totals are those of `tokens` (already filtered).
    """
    _check_by(tokens, by)
    counts = count_matrix(tokens, by, term_column)
    groups = list(counts.columns)
    problems = []
    for label, value in (("--target", target), ("--reference", reference)):
        if value is not None and value not in groups:
            problems.append(f"{label} {value!r}: no tokens with {by} = {value!r}; values of {by}: "
                            f"{', '.join(map(str, groups)) or '(none)'}")
    if target is None and reference is not None:
        problems.append("--reference needs --target: name the group to compare with it")
    if target is not None and target == reference:
        problems.append(f"--target and --reference are both {target!r}: give two different values")
    if len(groups) < 2:
        problems.append(f"{by}: keyness needs at least two values, found {len(groups)} "
                        f"({', '.join(map(str, groups)) or 'none'})")
    if problems:
        raise InputError(problems)
    targets = groups if target is None else [target]
    parts = [compare(counts, t, reference, min_count) for t in targets]
    return pd.concat(parts, ignore_index=True)  # each part has the KEYNESS_COLUMNS


def pairwise_keyness(tokens: pd.DataFrame, by: str = "group", min_count: int = 5,
                     term_column: str = "token") -> pd.DataFrame:
    """Keyness of every pair of groups (first in sort order = target; negative Log Ratio = key for
    the reference group)."""
    _check_by(tokens, by)
    counts = count_matrix(tokens, by, term_column)
    parts = [compare(counts, t, r, min_count) for t, r in itertools.combinations(counts.columns, 2)]
    if not parts:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    return pd.concat(parts, ignore_index=True)  # each part has the KEYNESS_COLUMNS


def top_key_terms(table: pd.DataFrame, top_n: int = 15, alpha: float = 0.05, over_used: bool = True,
                  significant_only: bool = False) -> pd.DataFrame:
    """The `top_n` terms of each comparison by G² that are over-used (or under-used) in the target,
    with a `significant` column (BH-adjusted p below `alpha`)."""
    side = table["log_ratio"] > 0 if over_used else table["log_ratio"] < 0
    sub = table.loc[side].copy()
    sub["significant"] = sub["p_adjusted"] < alpha
    if significant_only:
        sub = sub.loc[sub["significant"]]
    sub = sub.sort_values(["target", "reference", "g2", "term"], ascending=[True, True, False, True],
                          kind="mergesort")
    return sub.groupby(["target", "reference"], sort=False).head(top_n).reset_index(drop=True)


# ----------------------------------------------------------------------------- KWIC
def kwic(segments: pd.DataFrame, pattern: str, window: int = 8, stem: bool = False,
         text_column: str = "text", tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Concordance of a word, wildcard (`pain*`, `*ache`, `?`) or phrase (`fit note*`) in the segments.

    `window` words of context on each side (within the segment; reaching the segment's edge takes
    the rest of its text). With `stem`, words match when their Snowball stems do (for stemmed key
    terms). Columns: term, segment_id, participant_id, group, left, match, right, start, end
    (character offsets of the match in the segment text); in segment order. `tokens`: the
    segments' `kwic_tokens`, when several terms are searched in the same segments.
    """
    if window < 0:
        raise InputError(f"--window {window}: must be 0 or more")
    _require_columns(segments, [*SEGMENT_COLUMNS, text_column], "segments")
    if tokens is None:
        tokens = kwic_tokens(segments, stem, text_column)
    hits = text.match_term(tokens, pattern, column="stem" if stem else "token")
    if hits.empty:
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in ("start", "end") else object)
                             for c in KWIC_COLUMNS})
    rows = tokens["row"].to_numpy()
    starts, ends = tokens["start"].to_numpy(), tokens["end"].to_numpy()
    bounds = tokens.groupby("row").size()
    row_first = np.zeros(len(segments), dtype=np.int64)
    row_last = np.zeros(len(segments), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(bounds.to_numpy())])
    row_first[bounds.index.to_numpy()] = offsets[:-1]
    row_last[bounds.index.to_numpy()] = offsets[1:] - 1
    first, last = hits["first"].to_numpy(), hits["last"].to_numpy()
    hit_rows = rows[first]
    texts = segments[text_column].fillna("").astype(str).to_numpy(dtype=object)
    left, match, right = kwic_context(texts, hit_rows, starts[first], ends[last], first, last,
                                      row_first[hit_rows], row_last[hit_rows], starts, ends, window)
    out = pd.DataFrame({
        "term": pattern,
        "segment_id": segments["segment_id"].to_numpy(dtype=object)[hit_rows],
        "participant_id": segments["participant_id"].to_numpy(dtype=object)[hit_rows],
        "group": segments["group"].to_numpy(dtype=object)[hit_rows],
        "left": pd.Series(left, dtype=object),
        "match": pd.Series(match, dtype=object),
        "right": pd.Series(right, dtype=object),
        "start": starts[first].astype(np.int64),
        "end": ends[last].astype(np.int64),
    })
    return out[KWIC_COLUMNS]


def kwic_context(texts, rows, span_starts, span_ends, first, last, row_first, row_last, tok_starts, tok_ends,
                 window: int) -> tuple[list[str], list[str], list[str]]:
    """Left context, match and right context of character spans in texts (white space squashed).

    Per span: its text row, its characters [span_start, span_end), the first token at or after its start
    and the last token starting inside it (`first`, `last`; last < first when no token starts inside),
    and the first and last token of its row; `tok_starts`/`tok_ends` are every token's offsets. The
    context is `window` tokens each side within the row; reaching the row's first or last token takes
    the rest of its text (punctuation, notes)."""
    left, match, right = [], [], []
    for r, s, e, f, l_, rf, rl in zip(rows, span_starts, span_ends, first, last, row_first, row_last):
        lt, rt = max(f - window, rf), min(max(l_, f - 1) + window, rl)
        seg = texts[r]
        lo = 0 if window and lt == rf else (tok_starts[lt] if lt < f else s)
        hi = len(seg) if window and rt == rl else (tok_ends[rt] if rt > l_ else e)
        left.append(_squash(seg[lo:s]))
        match.append(_squash(seg[s:e]))
        right.append(_squash(seg[e:hi]))
    return left, match, right


def kwic_tokens(segments: pd.DataFrame, stem: bool = False, text_column: str = "text") -> pd.DataFrame:
    """Every word of the segments (nothing filtered), with Snowball stems in `stem` if asked: what
    `kwic` searches."""
    tokens = text.token_table(segments[text_column])
    if stem:
        tokens["stem"] = text.stem_tokens(tokens["token"])
    return tokens


def _squash(s: str) -> str:
    """Whitespace (line breaks, tabs, runs of spaces) made single spaces, ends trimmed."""
    return re.sub(r"\s+", " ", s).strip()


def kwic_many(segments: pd.DataFrame, patterns, window: int = 8, per_term: int | None = None,
              stem: bool = False) -> pd.DataFrame:
    """KWIC for several terms, one block per term in the order given (at most `per_term` lines each,
    spread evenly over the hits so one talkative participant does not fill the table)."""
    parts = []
    tokens = kwic_tokens(segments, stem)
    for pattern in dict.fromkeys(patterns):
        lines = kwic(segments, pattern, window=window, stem=stem, tokens=tokens)
        if per_term is not None and len(lines) > per_term:
            pick = np.unique(np.linspace(0, len(lines) - 1, per_term).round().astype(int))
            lines = lines.iloc[pick]
        parts.append(lines)
    if not parts:
        return kwic(segments.iloc[:0], "x", window)
    return pd.concat(parts, ignore_index=True)


def kwic_display(lines: pd.DataFrame) -> pd.DataFrame:
    """KWIC lines for a report table: left context | keyword | right context, each cell the source text
    as `kwic` gives it (nothing joined, so no space is added or lost at the keyword), then who said
    it. `attrs["align"]` right-aligns the left context and centres the keyword, so the keyword
    column lines up (tables.interactive_table reads it)."""
    out = pd.DataFrame({
        "term": lines["term"].to_numpy(dtype=object),
        KWIC_DISPLAY_LEFT: lines["left"].to_numpy(dtype=object),
        KWIC_DISPLAY_KEYWORD: lines["match"].to_numpy(dtype=object),
        KWIC_DISPLAY_RIGHT: lines["right"].to_numpy(dtype=object),
        "group": lines["group"].to_numpy(dtype=object),
        "participant_id": lines["participant_id"].to_numpy(dtype=object),
        "segment_id": lines["segment_id"].to_numpy(dtype=object),
    })
    out.attrs["align"] = {KWIC_DISPLAY_LEFT: "right", KWIC_DISPLAY_KEYWORD: "center"}
    return out


def key_terms_in_context(segments: pd.DataFrame, table: pd.DataFrame, by: str = "group", top_n: int = 5,
                         per_term: int = 4, window: int = 8, alpha: float = 0.05, stem: bool = False) -> pd.DataFrame:
    """Quotes for each group's key terms: the top `top_n` over-used terms of every target in a keyness
    table, each with up to `per_term` concordance lines from that group's own segments.

    Columns: those of `kwic` plus `target`, `log_ratio`, `p_adjusted`, `significant`, in key-term order.
    """
    _check_by(segments, by)
    top = top_key_terms(table, top_n, alpha)
    parts = []
    for (target, _), terms in top.groupby(["target", "reference"], sort=False):
        own = segments.loc[segments[by].astype(str) == str(target)].reset_index(drop=True)
        lines = kwic_many(own, terms["term"].tolist(), window=window, per_term=per_term, stem=stem)
        stats_ = terms.set_index("term")[["log_ratio", "p_adjusted", "significant"]]
        lines = lines.join(stats_, on="term")
        lines.insert(0, "target", target)
        parts.append(lines)
    if not parts:
        return pd.DataFrame(columns=["target", *KWIC_COLUMNS, "log_ratio", "p_adjusted", "significant"])
    return pd.concat(parts, ignore_index=True)


def hits_by_group(lines: pd.DataFrame, terms=None, by: str = "group") -> pd.DataFrame:
    """Concordance hits counted per search term (rows, in the order given) and group (columns)."""
    terms = list(dict.fromkeys(terms if terms is not None else lines["term"]))
    table = pd.crosstab(lines["term"], lines[by]).reindex(index=terms, fill_value=0)
    table.columns.name, table.index.name = by, "term"
    return table.astype(np.int64)


# ----------------------------------------------------------------------------- collocations
def collocations(tokens: pd.DataFrame, by: str = "group", n: int = 2, min_freq: int = 3,
                 term_column: str = "token") -> pd.DataFrame:
    """Collocations per group with NLTK's likelihood-ratio and PMI association measures.

    Only words that stood next to each other in one segment form an n-gram (filtered words and
    segment ends break the chain). n-grams seen fewer than `min_freq` times in a group are dropped.
    Columns: the `by` column, `ngram`, `count`, `likelihood_ratio`, `pmi`; sorted by group, then
    likelihood ratio (descending), then n-gram. Bigrams are counted on integer codes with numpy
    (`_bigram_counts`) and scored by NLTK's own measures, so the table is the one NLTK's
    BigramCollocationFinder gives; trigrams go through NLTK's TrigramCollocationFinder.
    """
    from nltk.metrics import BigramAssocMeasures, TrigramAssocMeasures

    if n not in (2, 3):
        raise InputError(f"collocations: n = {n}; use 2 (bigrams) or 3 (trigrams)")
    if min_freq < 1:
        raise InputError(f"collocations: min_freq = {min_freq}; must be at least 1")
    _check_by(tokens, by)
    groups = _group_values(tokens, by)
    counted = _bigram_counts(tokens, by, groups, min_freq, term_column) if n == 2 else None
    if counted is None:
        counted = _finder_counts(tokens, by, groups, n, min_freq, term_column)
    measures = BigramAssocMeasures if n == 2 else TrigramAssocMeasures
    parts = []
    for group, grams, counts, marginals in counted:
        if not grams:
            continue
        parts.append(pd.DataFrame({
            by: group,
            "ngram": [" ".join(g) for g in grams],
            "count": np.array(counts, dtype=np.int64),
            "likelihood_ratio": np.array([measures.likelihood_ratio(*m) for m in marginals], dtype=float),
            "pmi": np.array([measures.pmi(*m) for m in marginals], dtype=float),
        }))
    if not parts:
        return pd.DataFrame({by: pd.Series(dtype=object), "ngram": pd.Series(dtype=object),
                             "count": pd.Series(dtype=np.int64), "likelihood_ratio": pd.Series(dtype=float),
                             "pmi": pd.Series(dtype=float)})
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values([by, "likelihood_ratio", "ngram"], ascending=[True, False, True], kind="mergesort")
    return out.reset_index(drop=True)


def _finder_counts(tokens: pd.DataFrame, by: str, groups: list, n: int, min_freq: int, term_column: str):
    """Per group: (group, n-grams seen `min_freq` times or more in sorted order, their counts, the
    marginals NLTK's association measures take), counted by NLTK's collocation finder."""
    from nltk.collocations import BigramCollocationFinder, TrigramCollocationFinder

    finder_cls = BigramCollocationFinder if n == 2 else TrigramCollocationFinder
    for group in groups:
        finder = finder_cls.from_words(_word_stream(tokens.loc[tokens[by] == group], term_column))
        finder.apply_freq_filter(min_freq)
        grams = sorted(finder.ngram_fd)
        yield group, grams, [finder.ngram_fd[g] for g in grams], [_finder_marginals(finder, g) for g in grams]


def _finder_marginals(finder, gram: tuple) -> tuple:
    """The arguments `finder.score_ngram` passes to an association measure for `gram`."""
    captured = []
    finder.score_ngram(lambda *m: captured.append(m), *gram)
    return captured[0]


def _bigram_counts(tokens: pd.DataFrame, by: str, groups: list, min_freq: int, term_column: str):
    """Per group, what `_finder_counts` gives for bigrams, counted with numpy on integer codes: each
    group's tokens in table order, a bigram wherever two of them are adjacent (`text.adjacent`),
    the pair coded first * V + second and counted with np.unique; the marginals are NLTK's (bigram
    count as a float, each word's count in the group, the group's number of words). None when a
    term or group value is missing (NLTK then counts, as it would)."""
    words, vocab = text.token_codes(tokens[term_column])
    group_codes, group_values = text.token_codes(tokens[by])
    if len(words) and (words.min() < 0 or group_codes.min() < 0):
        return None
    words = words.astype(np.int64)
    size = max(1, len(vocab))
    code_of = {v: i for i, v in enumerate(group_values)}
    if any(g not in code_of for g in groups):
        return None
    order = np.argsort(group_codes, kind="stable")  # each group's tokens together, in table order
    bounds = np.searchsorted(group_codes[order], np.arange(len(group_values) + 1))
    rows, positions = tokens["row"].to_numpy(), tokens["position"].to_numpy()
    vocab = np.asarray(vocab, dtype=object)
    out = []
    for group in groups:
        code = code_of[group]
        take = order[bounds[code]:bounds[code + 1]]
        sub = words[take]
        pairs = np.flatnonzero(text.adjacent(rows[take], positions[take], 2))
        keys, counts = np.unique(sub[pairs] * size + sub[pairs + 1], return_counts=True)
        keep = counts >= min_freq
        keys, counts = keys[keep], counts[keep]
        first, second = keys // size, keys % size
        word_counts = np.bincount(sub, minlength=size)
        grams = list(zip(vocab[first].tolist(), vocab[second].tolist()))
        ranked = sorted(range(len(grams)), key=grams.__getitem__)  # NLTK's tuples in sorted order
        total = len(sub)
        firsts, seconds, counts = word_counts[first].tolist(), word_counts[second].tolist(), counts.tolist()
        out.append((group, [grams[i] for i in ranked], [counts[i] for i in ranked],
                    [(counts[i] / 1.0, (firsts[i], seconds[i]), total) for i in ranked]))
    return out


def _word_stream(tokens: pd.DataFrame, term_column: str) -> list:
    """The tokens as one list with None wherever words were not adjacent (new segment, filtered word)."""
    words = tokens[term_column].to_numpy(dtype=object)
    if len(words) == 0:
        return []
    gap = np.flatnonzero(~text.adjacent(tokens["row"].to_numpy(), tokens["position"].to_numpy(), 2)) + 1
    return np.insert(words, gap, None).tolist() + [None]


# ----------------------------------------------------------------------------- figures
def source_note(segments: pd.DataFrame, extra: str = "") -> str:
    """'n = S segments from P participants' (+ extra) for a figure's source note."""
    people = segments["participant_id"].replace("", np.nan).dropna().nunique()
    note = f"n = {len(segments):,} segments from {people} participants"
    return f"{note}; {extra}" if extra else note


KEY_TERM_PANELS_PER_ROW = 3  # panels of key terms side by side at page width; more wrap into rows
WORD_SIZE_PANELS_PER_ROW = 2  # word-size pictures side by side

def plot_key_terms(table: pd.DataFrame, top_n: int = 15, under_n: int = 5, alpha: float = 0.05,
                   note: str = ""):
    """Diverging bars: each target's top over-used terms (by G²) and a few under-used ones, by Log
    Ratio; solid bars are significant after Benjamini-Hochberg, hatched ones are not."""
    from matplotlib.patches import Patch

    from .figures import add_source_note, group_label, group_palette, new_figure

    over = top_key_terms(table, top_n, alpha, over_used=True)
    under = top_key_terms(table, under_n, alpha, over_used=False) if under_n else over.iloc[:0]
    pairs = table[["target", "reference"]].drop_duplicates().itertuples(index=False, name=None)
    pairs = list(pairs)
    palette = group_palette([t for t, _ in pairs])
    height = max(3.0, 0.24 * (top_n + under_n) + 1.6)
    ncols = min(KEY_TERM_PANELS_PER_ROW, max(1, len(pairs)))
    nrows = -(-max(1, len(pairs)) // ncols)
    fig, axes = new_figure(height * nrows, nrows, ncols, squeeze=False)
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    for ax, (target, reference) in zip(axes.flat, pairs):
        rows = pd.concat([over.loc[(over.target == target) & (over.reference == reference)],
                          under.loc[(under.target == target) & (under.reference == reference)]])
        rows = rows.sort_values(["log_ratio", "term"], ascending=[True, True], kind="mergesort")
        colours = [palette[target] if lr > 0 else UNDER_USED for lr in rows["log_ratio"]]
        bars = ax.barh(np.arange(len(rows)), rows["log_ratio"], color=colours, edgecolor=colours, linewidth=1)
        for bar, sig in zip(bars, rows["significant"]):
            if not sig:
                bar.set_facecolor("white")
                bar.set_hatch("///")
        ax.set_yticks(np.arange(len(rows)), rows["term"])
        ax.axvline(0, color="#333333", linewidth=0.8)
        against = "the rest" if reference == REST else group_label(reference)
        ax.set_title(f"{group_label(target)}\nvs {against}", fontsize=11)
        ax.set_xlabel("Log Ratio: log₂(rate in group / rate in rest)" if reference == REST
                      else f"Log Ratio: log₂(rate in group / rate in {reference})")
        ax.set_ylabel("Term" if ax in axes[:, 0] else "")
    handles = [Patch(facecolor="#333333", edgecolor="#333333", label=f"solid: significant (BH-adjusted p < {alpha:g})"),
               Patch(facecolor="white", edgecolor="#333333", hatch="///", label="hatched: not significant"),
               Patch(facecolor=UNDER_USED, edgecolor=UNDER_USED, label="grey: used less than by the rest")]
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.01), fontsize=9)
    fig.suptitle("Key terms of each group (by G², shown by Log Ratio)", fontweight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    if note:
        add_source_note(fig, note)
    return fig


def plot_frequency_comparison(freq: pd.DataFrame, terms, by: str = "group", note: str = ""):
    """Grouped horizontal bars: rate per 10,000 tokens of each term in each group."""

    from .figures import add_source_note, group_label, group_palette, new_figure

    wide = rate_table(freq, terms, by)
    groups = list(wide.columns)
    palette = group_palette(groups)
    n_terms, n_groups = len(wide), max(1, len(groups))
    fig, ax = new_figure(max(3.0, 0.15 * n_terms * n_groups + 1.8))
    height = 0.8 / n_groups
    y = np.arange(n_terms)[::-1]
    for k, g in enumerate(groups):
        ax.barh(y + (n_groups - 1 - k - (n_groups - 1) / 2) * height, wide[g].to_numpy(), height=height,
                color=palette[g], label=group_label(g))
    ax.set_yticks(y, wide.index)
    ax.set_title("Frequency of key terms across groups", pad=30)
    ax.set_xlabel("Occurrences per 10,000 tokens")
    ax.set_ylabel("Term")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=n_groups, fontsize=9)
    if note:
        add_source_note(fig, note)
    fig.tight_layout()
    return fig


def plot_word_sizes(freq: pd.DataFrame, by: str = "group", top_n: int = 40, note: str = ""):
    """A simple, deterministic 'word cloud' per group: the top terms in centred rows, font size by count.

    Words are laid out in order of frequency with matplotlib text (no random placement, no extra
    package such as wordcloud), so the same table always gives the same picture.
    """

    from .figures import add_source_note, group_label, group_palette, new_figure

    groups = _group_values(freq, by)
    palette = group_palette(groups)
    ncols = min(WORD_SIZE_PANELS_PER_ROW, max(1, len(groups)))
    nrows = -(-max(1, len(groups)) // ncols)
    fig, axes = new_figure(4.2 * nrows, nrows, ncols, squeeze=False)
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    tops = {}
    for ax, g in zip(axes.flat, groups):
        tops[g] = freq.loc[freq[by] == g].sort_values(["count", "term"], ascending=[False, True],
                                                      kind="mergesort").head(top_n)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(group_label(g), fontsize=11)
        ax.set_xlabel(f"font size grows with count; top {len(tops[g])} terms")
        ax.set_ylabel("")
    fig.suptitle("Most frequent terms per group", fontweight="bold")
    fig.tight_layout()
    for ax, g in zip(axes.flat, groups):
        box = ax.get_position()
        w_pt, h_pt = box.width * fig.get_figwidth() * 72, box.height * fig.get_figheight() * 72
        ax.set_xlim(0, w_pt)
        ax.set_ylim(0, h_pt)
        for word, size, x, y in _word_layout(tops[g]["term"].tolist(), tops[g]["count"].to_numpy(),
                                             w_pt * 0.94, h_pt * 0.94):
            ax.text(x + w_pt * 0.03, y + h_pt * 0.03, word, fontsize=size, color=palette[g], ha="left",
                    va="baseline")
    if note:
        add_source_note(fig, note)
    return fig


def _word_layout(words, counts, width: float, height: float, smallest: float = 8.0, largest: float = 40.0):
    """(word, font size, x, y) in points: centred rows of words, biggest first, font size growing with
    the square root of the count. Text widths are measured from the font's glyph outlines; the whole
    picture shrinks step by step until every word fits, so nothing depends on chance."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if len(words) == 0:
        return []
    font = FontProperties(family="DejaVu Sans")
    unit = {w: TextPath((0, 0), w, size=1, prop=font).get_extents().width for w in words}
    counts = np.asarray(counts, dtype=float)
    lo, hi = np.sqrt(counts.min()), np.sqrt(counts.max())
    share = (np.sqrt(counts) - lo) / (hi - lo) if hi > lo else np.ones_like(counts)
    for scale in 0.9 ** np.arange(40):
        sizes = np.round((smallest + (largest - smallest) * share) * scale, 2)
        rows, row, x = [], [], 0.0
        for word, size in zip(words, sizes):
            w, gap = unit[word] * size, 0.45 * size
            if row and x + w > width:
                rows.append(row)
                row, x = [], 0.0
            row.append((word, float(size), x, w))
            x += w + gap
        rows.append(row)
        heights = [max(sz for _, sz, _, _ in r) * 1.2 for r in rows]
        widest = max(r[-1][2] + r[-1][3] for r in rows)
        if sum(heights) <= height and widest <= width:
            break
    placed, y = [], height - (height - sum(heights)) / 2
    for r, h in zip(rows, heights):
        y -= h
        shift = (width - (r[-1][2] + r[-1][3])) / 2
        placed.extend((word, size, x + shift, y + 0.25 * h) for word, size, x, _ in r)
    return placed


# ----------------------------------------------------------------------------- small utilities
def _as_list(value) -> list:
    """A column name or a list of them, as a list."""
    return [value] if isinstance(value, str) or not hasattr(value, "__iter__") else list(value)


def _require_columns(df: pd.DataFrame, columns, what: str) -> None:
    """InputError naming every missing column."""
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        raise InputError([f"{what}: missing column {c!r}; columns are: {', '.join(map(str, df.columns))}"
                          for c in missing])


def check_grouping(segments: pd.DataFrame, by: str, label: str = "by =", place: str = " in the segments") -> None:
    """InputError unless `by` is a column that can split the segments or tokens (group, gender, site …);
    the message starts `{label} 'by': no such column{place}` and lists the usable columns."""
    valid = grouping_columns(segments)
    if by not in valid:
        raise InputError(f"{label} {by!r}: no such column{place}; choose one of: {', '.join(valid)}")


def _check_by(tokens: pd.DataFrame, by: str) -> None:
    """`check_grouping` for a function's `by` argument (the message names it as --by)."""
    check_grouping(tokens, by, "--by", "")


# ----------------------------------------------------------------------------- command line
def grouping_columns(segments: pd.DataFrame) -> list[str]:
    """Columns of a segments (or token) table that can split the corpus for keyness (group, gender, site …)."""
    return [c for c in segments.columns if c not in NOT_GROUPING]


def _cli_segments(args) -> pd.DataFrame:
    """The segments of the turns file named by --corpus, with participant attributes joined."""
    turns = corpus.read_turns(args.corpus)
    participants = corpus.participants_for(args.participants, turns)
    return corpus.segments(turns, participants, unit="turn", include_interviewer=args.include_interviewer)


def command_keyness(args) -> int:
    """`keyness`: the DESIGN.md §6 table for a turns file, split by a column."""
    import sys

    segs = _cli_segments(args)
    check_grouping(segs, args.by, "--by", f" in {args.corpus} (with participant attributes)")
    stopwords = None if args.no_stopwords else text.stopword_list(args.stopwords)
    tokens = segment_tokens(segs, columns=["participant_id", args.by], numbers=args.numbers, stem=args.stem,
                            min_length=args.min_length, stopwords=stopwords)
    unlabelled = tokens[args.by].isna() | (tokens[args.by].astype(str).str.strip() == "")
    if unlabelled.any():
        print(f"note: {int(unlabelled.sum())} tokens from segments with an empty {args.by} are not compared",
              file=sys.stderr)
    table = keyness(tokens, args.by, args.target, args.reference, args.min_count)
    corpus.emit_table(table, args.out, "keyness")
    return 0


def command_kwic(args) -> int:
    """`kwic`: concordance lines for a word, wildcard or phrase."""
    segs = _cli_segments(args)
    lines = kwic(segs, args.term, window=args.window, stem=args.stem)
    corpus.emit_table(lines, args.out, "kwic")
    return 0


def _at_least(minimum: int):
    """argparse type: an integer >= `minimum`."""
    import argparse

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be {minimum} or more")
        return n

    return parse


def add_commands(sub) -> None:
    """Register `keyness` and `kwic` on the command line."""
    common = []
    p = sub.add_parser("keyness", help="keyness table (G², BH-adjusted p, Log Ratio) of groups in a turns table")
    common.append(p)
    p.add_argument("--by", required=True, metavar="COLUMN",
                   help="column splitting the corpus: group, or a participant attribute (gender, site …)")
    p.add_argument("--target", default=None, metavar="VALUE", help="the group to describe (default: every group)")
    p.add_argument("--reference", default=None, metavar="VALUE",
                   help="compare the target with this group (default: all other groups together)")
    p.add_argument("--min-count", type=int, default=5, metavar="N",
                   help="test only terms seen at least N times in target and reference together (default 5)")
    p.add_argument("--stopwords", default=None, metavar="FILE",
                   help="stopword list file (default: the built-in English list, spoken fillers included)")
    p.add_argument("--no-stopwords", action="store_true", help="count every word, stopwords and fillers too")
    p.add_argument("--min-length", type=_at_least(1), default=2, metavar="N", help="shortest word counted (default 2)")
    p.add_argument("--numbers", action="store_true", help="count numbers as terms too")
    p.add_argument("--out", default=None, metavar="FILE", help="output .csv or .parquet (default: CSV on stdout)")
    p.set_defaults(func=command_keyness)

    p = sub.add_parser("kwic", help="concordance (key word in context) of a word, wildcard or phrase")
    common.append(p)
    p.add_argument("--term", required=True, metavar="PATTERN",
                   help="a word, a wildcard (pain*, *ache, ?) or a phrase ('fit note*')")
    p.add_argument("--window", type=_at_least(0), default=8, metavar="N",
                   help="words of context on each side (default 8)")
    p.add_argument("--out", default=None, metavar="FILE", help="output .csv or .parquet (default: CSV on stdout)")
    p.set_defaults(func=command_kwic)

    for p in common:
        p.add_argument("--corpus", required=True, metavar="TURNS", help="turns table (.csv or .parquet, from `ingest`)")
        p.add_argument("--participants", default=None, metavar="CSV",
                       help="participants.csv for attribute columns (default: the participants the turns table names)")
        p.add_argument("--include-interviewer", action="store_true", help="analyse interviewer turns too")
        p.add_argument("--stem", action="store_true", help="Snowball stems instead of word forms")
