"""Apply a codebook to segments -> codings (DESIGN.md §2, §4); prevalence, quotes, diagnostics.

The engine is vectorised: segments are tokenised once (a segment over LONG_ROW_CHARS piece by
piece); each distinct keyword word is looked up once in the vocabulary by integer token code,
and phrases are checked one position at a time over all candidates at once (match_keywords).
Each literal a regular expression needs becomes such a phrase (an anchor, matched in the same
pass): a pattern runs only on the segments that hold its anchors, and, when its matches have a
bounded length, only in windows around them (`_windows`), in runs of about PATTERN_CHUNK_CHARS
characters, each search within a time limit (PATTERN_SECONDS): a pattern that backtracks for
ever, such as (a|a)+$, is an InputError naming its rule instead of a hang. Nothing loops over
segments x rules in Python.

A segment is coded with a (sub)theme wherever one of its keywords or patterns matches, unless
one of its exclude rules matches somewhere in the same segment (a theme's exclude also keeps
its subthemes off). A theme is coded when it or any of its subthemes is.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import regex

from . import paths
from .codebook import WORD_COLUMNS, Codebook, load_codebook
from .corpus import check_coded_segments
from .errors import InputError
from .tables import highlight_spans
from .text import APOSTROPHES, NOTE_RE, SPACE_RE, TOKEN_RE, mask_notes, slice_edges, token_codes, tokenize_series
from .text import word_counts as text_word_counts

CODINGS_COLUMNS = ["segment_id", "transcript_id", "participant_id", "group", "theme", "subtheme",
                   "term", "start", "end"]
SEGMENT_KEYS = ["segment_id", "transcript_id", "participant_id", "group"]
SEPARATOR = "\x00"  # joins segment texts for pattern search; a match across it is dropped
UNITS = ("turn", "sentence")
# A pattern searches the segments joined in runs of about PATTERN_CHUNK_CHARS characters, each run
# within PATTERN_SECONDS of processor time (a single longer segment: as long per PATTERN_CHUNK_CHARS
# characters; the `regex` package counts the process's processor time, so a busy machine only
# stretches the wait). The slowest pattern of the shipped codebook needs about 3 ms for such a run,
# a careless but real one such as (?:\w+\s*)+pain about 0.2 s; a catastrophic one such as (a|a)+$,
# or (a+)+$ on a long run of a's, never ends.
PATTERN_CHUNK_CHARS = 100_000
PATTERN_SECONDS = 2.0
NO_GROUP = "(none)"  # shown for segments with an empty grouping value (e.g. interviewers' group)


# ----------------------------------------------------------------------------- matching
def _empty_matches() -> pd.DataFrame:
    """A match table with no rows: row, rule_id, start, end."""
    return pd.DataFrame({c: np.empty(0, dtype=np.int64) for c in ("row", "rule_id", "start", "end")})


class _Vocabulary:
    """The distinct tokens of a token table, each between newlines in one text, searched as a whole
    for a literal (fast, in C) rather than token by token."""

    def __init__(self, vocab: list[str]):
        self.words = vocab
        self.text = "\n" + "\n".join(vocab) + "\n"
        lengths = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))
        self.starts = np.concatenate([[1], 1 + np.cumsum(lengths + 1)[:-1]]).astype(np.int64) if vocab else lengths
        self._index = None

    def matching(self, mode: str, stem: str) -> np.ndarray:
        """Codes of the tokens a keyword word matches: exact, prefix (stem*), suffix (*stem) or infix (*stem*)."""
        if mode == "exact":
            if self._index is None:
                self._index = {w: i for i, w in enumerate(self.words)}
            code = self._index.get(stem)
            return np.array([] if code is None else [code], dtype=np.int64)
        # a newline before the stem: it starts a token; after it: it ends one (tokens hold no newline)
        literal = {"prefix": "\n" + stem, "suffix": stem + "\n", "infix": stem}[mode]
        inside = 1 if mode == "prefix" else 0  # from where the literal is found to a character of the token
        found = np.fromiter((m.start() + inside for m in re.finditer(re.escape(literal), self.text)), dtype=np.int64)
        return np.unique(np.searchsorted(self.starts, found, side="right") - 1)


def _member(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """True where a query is one of the sorted `keys`."""
    if len(keys) == 0:
        return np.zeros(len(queries), dtype=bool)
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return keys[at] == queries


def match_keywords(tokens: pd.DataFrame, words: pd.DataFrame) -> pd.DataFrame:
    """Where keyword rules match: row, rule_id, start, end (a phrase spans its first to last token).

    `tokens` is a token table in text order (helpers.text.tokenize_series); `words` is a
    codebook's word table (rule_id, position, mode, stem). A phrase matches consecutive tokens
    of one row (transcription notes between words do not break it). Rows follow the tokens'
    order, then rule_id.

    On integer token codes: each distinct keyword word is looked up once in the vocabulary;
    the tokens that can start a rule are found in one pass, and each further word of a phrase
    is one vectorised comparison over the candidates still alive.
    """
    if tokens.empty or words.empty:
        return _empty_matches()
    codes, vocab = token_codes(tokens["token"])
    n_tokens, n_vocab = len(codes), len(vocab)
    lexicon = _Vocabulary(vocab)
    word_keys = pd.MultiIndex.from_arrays([words["mode"], words["stem"]])
    word_id, distinct = pd.factorize(word_keys)
    hits = [lexicon.matching(mode, stem) for mode, stem in distinct]
    # member_keys: sorted word_id * n_vocab + code, one per (keyword word, token it matches)
    member_keys = np.sort(np.concatenate([np.empty(0, dtype=np.int64)] +
                                         [w * n_vocab + h for w, h in enumerate(hits)]))
    rule_ids, rule_of = np.unique(words["rule_id"].to_numpy(dtype=np.int64), return_inverse=True)
    positions = words["position"].to_numpy(dtype=np.int64)
    n_words = np.zeros(len(rule_ids), dtype=np.int64)
    np.maximum.at(n_words, rule_of, positions + 1)
    word_at = np.full((len(rule_ids), int(n_words.max())), -1, dtype=np.int64)  # -1: a gap never matches
    word_at[rule_of, positions] = word_id
    # first words: the rules (indices into rule_ids) each vocabulary code can start, code by code
    starts_rule = [np.full(len(hits[w]), r, dtype=np.int64) if w >= 0 else np.empty(0, dtype=np.int64)
                   for r, w in enumerate(word_at[:, 0])]
    start_code = np.concatenate([hits[w] if w >= 0 else np.empty(0, dtype=np.int64) for w in word_at[:, 0]])
    starts_rule = np.concatenate(starts_rule)
    order = np.lexsort((starts_rule, start_code))
    start_code, starts_rule = start_code[order], starts_rule[order]
    first = np.searchsorted(start_code, np.arange(n_vocab + 1))
    n_starts = np.diff(first)
    # a token is a candidate if it starts a one-word rule, or the next token of its row can be a second word
    one_word = np.zeros(n_vocab, dtype=bool)
    one_word[start_code[n_words[starts_rule] == 1]] = True
    second = np.zeros(n_vocab, dtype=bool)
    for w in np.unique(word_at[n_words > 1, 1:2]):
        if w >= 0:
            second[hits[w]] = True
    rows = tokens["row"].to_numpy()
    idx = np.flatnonzero((n_starts > 0)[codes])
    nxt = np.minimum(idx + 1, n_tokens - 1)
    idx = idx[one_word[codes[idx]] | ((idx + 1 < n_tokens) & (rows[nxt] == rows[idx]) & second[codes[nxt]])]
    # one (token, rule) pair per rule each candidate can start
    code_at = codes[idx].astype(np.int64)
    counts = n_starts[code_at]
    pair_idx = np.repeat(idx, counts)
    offset = np.arange(len(pair_idx), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_rule = starts_rule[np.repeat(first[code_at], counts) + offset]
    for k in range(1, word_at.shape[1]):
        need = np.flatnonzero(n_words[pair_rule] > k)
        at = pair_idx[need] + k
        ok = at < n_tokens
        at = np.where(ok, at, 0)
        ok &= rows[at] == rows[pair_idx[need]]
        ok &= _member(member_keys, word_at[pair_rule[need], k] * n_vocab + codes[at])
        keep = np.ones(len(pair_idx), dtype=bool)
        keep[need[~ok]] = False
        pair_idx, pair_rule = pair_idx[keep], pair_rule[keep]
    last = pair_idx + n_words[pair_rule] - 1
    return pd.DataFrame({
        "row": rows[pair_idx].astype(np.int64),
        "rule_id": rule_ids[pair_rule],
        "start": tokens["start"].to_numpy()[pair_idx].astype(np.int64),
        "end": tokens["end"].to_numpy()[last].astype(np.int64),
    })


def _pattern_text_of(text: str) -> str:
    """One text as patterns search it (see pattern_text); ASCII text is never copied for the apostrophes."""
    masked = mask_notes(text) if "[" in text or "(" in text else text  # every note starts with one of them
    return masked if masked.isascii() else masked.translate(APOSTROPHES)


def pattern_text(texts: pd.Series) -> pd.Series:
    """The text patterns search: notes and placeholders blanked, curly apostrophes straight (same offsets)."""
    return pd.Series([_pattern_text_of(t) for t in texts.fillna("").astype(str).tolist()], index=texts.index,
                     dtype=object)


def _literal_runs(items) -> tuple[list[set[str]], str]:
    """Necessary literals of a parsed regex sequence: (clauses, leading literal).

    Each clause is a set of alternative lower-case strings, one of which every match contains;
    the leading literal is the run of literal characters the sequence starts with.
    """
    from re import _constants as C

    clauses, run, lead, leading = [], [], None, True

    def close():
        nonlocal run, lead
        if lead is None:
            lead = "".join(run)
        if len(run) >= 3:
            clauses.append({"".join(run)})
        run = []

    for op, arg in items:
        if op is C.LITERAL:
            run.append(chr(arg).lower())
            continue
        if op is C.AT and not run and leading:
            continue  # \b or ^ before the first literal does not break the leading run
        close()
        leading = False
        if op is C.SUBPATTERN:
            clauses.extend(_literal_runs(arg[-1])[0])
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT) and arg[0] >= 1:
            clauses.extend(_literal_runs(arg[2])[0])
        elif op is C.BRANCH:
            alternatives = [_literal_runs(branch)[1] for branch in arg[1]]
            if all(len(a) >= 2 for a in alternatives):
                clauses.append(set(alternatives))
    close()
    return clauses, lead or ""


def _re_flags(rx) -> int:
    """The flags of a compiled pattern (`re` or `regex`) as `re` flags, for re's parser."""
    engine = regex if isinstance(rx, regex.Pattern) else re
    return sum(int(getattr(re, name)) for name in ("IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII")
               if rx.flags & getattr(engine, name))


def necessary_literals(rx) -> list[set[str]]:
    """Substring clauses (AND of ORs, lower case) that every match of a compiled regex contains.

    Used only to skip texts that cannot match, so it errs on the side of fewer clauses: an
    expression it cannot read gives no clause and is run on every text. Codebook patterns are
    in `re` syntax (checked on loading), so re's parser reads them.
    """
    items = _parsed(rx)
    return [] if items is None else [c for c in _literal_runs(list(items))[0] if all(a.isascii() and a for a in c)]


def _parsed(rx):
    """A compiled pattern read by re's parser (None if it cannot read it); read once per pattern."""
    return _parse(rx.pattern, _re_flags(rx))


@functools.lru_cache(maxsize=4096)
def _parse(pattern: str, flags: int):
    """re's parse of a pattern (not to be changed by callers), or None."""
    import re._parser as parser

    try:
        return parser.parse(pattern, flags)
    except Exception:  # pragma: no cover - the pattern compiled already
        return None


class PatternTimeout(Exception):
    """A pattern ran past its time limit on one text: `rule_id`, `row` (position in the texts), `seconds`."""

    def __init__(self, rule_id: int, row: int, seconds: float):
        super().__init__(f"pattern {rule_id} ran past {seconds:g} s on text {row}")
        self.rule_id, self.row, self.seconds = rule_id, row, seconds


def pattern_time_limit(n_chars: int) -> float:
    """Seconds a pattern may search `n_chars` characters: PATTERN_SECONDS per PATTERN_CHUNK_CHARS
    characters, and at least PATTERN_SECONDS."""
    return PATTERN_SECONDS * max(1.0, n_chars / PATTERN_CHUNK_CHARS)


def _spans(rx, text: str) -> np.ndarray:
    """(start, end) of each match of `rx` in `text`, searched within its time limit (TimeoutError past it)."""
    found = [m.span() for m in rx.finditer(text, timeout=pattern_time_limit(len(text)))]
    return np.array(found, dtype=np.int64).reshape(-1, 2)


def _run_spans(rx, texts: list[str], rows: np.ndarray, rule_id: int) -> np.ndarray:
    """Match spans of `rx` in `texts` joined by SEPARATOR (offsets in the joined text).

    Past the time limit each text is searched alone: the first that takes too long raises
    PatternTimeout; when none does (many merely slow texts), their spans are the result.
    """
    try:
        return _spans(rx, SEPARATOR.join(texts))
    except TimeoutError:
        if len(texts) == 1:
            raise PatternTimeout(rule_id, int(rows[0]), pattern_time_limit(len(texts[0]))) from None
    found, offset = [], 0
    for text, row in zip(texts, rows.tolist()):
        try:
            found.append(_spans(rx, text) + offset)
        except TimeoutError:
            raise PatternTimeout(rule_id, row, pattern_time_limit(len(text))) from None
        offset += len(text) + 1
    return np.concatenate(found)


# ----------------------------------------------------------------------------- where patterns can match
# A text longer than LONG_ROW_CHARS is tokenised in pieces of about that size (cut at white space
# outside notes) and searched by a pattern only in windows around the places that can hold a match,
# so coding it needs memory for a piece, not for copies of the whole text.
LONG_ROW_CHARS = 1_000_000
REACH_LIMIT = 10_000  # a pattern whose match (with what its assertions read) may be longer searches whole texts
# lower-case letters an ASCII letter of a case-insensitive pattern matches (ı, ſ, and the dot of İ
# lower-cased) although no lower-cased token holds that ASCII letter: texts with them are searched whole
UNCASED = ("\u0131", "\u017f", "\u0307")


def _literal_words(literal: str) -> list[tuple[str, str]] | None:
    """The keyword words (mode, stem) whose consecutive tokens hold every occurrence of a literal
    (lower case): 'i got it' -> *i got it*; ' hours' -> hours*. None when a piece between white
    space is not a whole token ('it,')."""
    chunks = literal.split()
    if not chunks or not all(TOKEN_RE.fullmatch(c) for c in chunks):
        return None
    words = []
    for i, chunk in enumerate(chunks):
        starts = i > 0 or literal[0].isspace()  # white space before it: a token starts where it starts
        ends = i < len(chunks) - 1 or literal[-1].isspace()
        words.append(("exact" if starts and ends else "prefix" if starts else "suffix" if ends else "infix", chunk))
    return words


def _parsed_parts(value):
    """The parsed subpatterns inside one argument of a parsed regex node."""
    from re._parser import SubPattern

    if isinstance(value, SubPattern):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _parsed_parts(item)


def _lookaround_width(items) -> int:
    """Characters the lookahead and lookbehind assertions of a parsed regex may read, added up."""
    from re import _constants as C

    total = 0
    for op, arg in items:
        if op in (C.ASSERT, C.ASSERT_NOT):
            total += arg[1].getwidth()[1]
        total += sum(_lookaround_width(part) for part in _parsed_parts(arg))
    return total


def pattern_reach(rx) -> int | None:
    """How far from a character inside a match of `rx` the search reads: the longest match plus what
    its assertions (lookarounds, \\b, ^, $) read; None when unbounded or past REACH_LIMIT."""
    items = _parsed(rx)
    if items is None:  # pragma: no cover - the pattern compiled already
        return None
    reach = items.getwidth()[1] + _lookaround_width(items) + 1
    return reach if reach <= REACH_LIMIT else None


@dataclass
class _PatternPlan:
    """How one pattern is searched: the anchor rules of each clause of literals it needs that is
    used (a text must hold one anchor of every used clause; the first is the rarest) and its reach
    (pattern_reach)."""

    rule_id: int
    rx: object
    clauses: list[list[int]]
    reach: int | None


COMMON_CLAUSE_SHARE = 0.01  # a clause whose anchors are more common than this share of the tokens is not used
USED_CLAUSES = 3  # at most this many clauses of a pattern are used, the rarest first


class _WordCounts:
    """How many tokens of a token table each keyword word (mode, stem) matches."""

    def __init__(self, tokens: pd.DataFrame):
        codes, vocab = token_codes(tokens["token"])
        self.counts = np.bincount(codes.astype(np.int64), minlength=len(vocab))
        self.lexicon = _Vocabulary(vocab)
        self.total = len(codes)
        self._cache: dict[tuple[str, str], int] = {}

    def phrase(self, words) -> float:
        """About how many matches a phrase has: its words' counts as if they followed each other at random."""
        for word in words:
            if word not in self._cache:
                self._cache[word] = int(self.counts[self.lexicon.matching(*word)].sum())
        return float(np.prod([self._cache[word] / max(self.total, 1) for word in words])) * self.total


def _pattern_plans(patterns: dict, first_id: int, counts: _WordCounts) -> tuple[list[_PatternPlan], list[int], pd.DataFrame]:
    """The plans of the patterns, the anchor rules of the UNCASED letters, and the word table of all
    anchor rules (numbered from `first_id`): each literal of a used clause, as a keyword phrase.
    Clauses are used rarest first (by `counts`), the rarest always, the others while their anchors
    are rarer than COMMON_CLAUSE_SHARE of the tokens (common ones narrow little and cost a lot)."""
    ids: dict[tuple, int] = {}
    words: list[tuple] = []

    def anchor(phrase: tuple) -> int:
        if phrase not in ids:
            ids[phrase] = first_id + len(ids)
            words.extend((ids[phrase], pos, mode, stem) for pos, (mode, stem) in enumerate(phrase))
        return ids[phrase]

    uncased = [anchor((("infix", letter),)) for letter in UNCASED]
    plans = []
    for rule_id, rx in sorted(patterns.items()):
        clauses = []
        for clause in necessary_literals(rx):
            phrases = [_literal_words(literal) for literal in sorted(clause)]
            if all(phrases):
                clauses.append((sum(counts.phrase(p) for p in phrases), [tuple(p) for p in phrases]))
        clauses.sort(key=lambda c: c[0])
        used = [c for i, c in enumerate(clauses[:USED_CLAUSES]) if i == 0 or c[0] <= COMMON_CLAUSE_SHARE * counts.total]
        plans.append(_PatternPlan(int(rule_id), rx, [[anchor(p) for p in phrases] for _, phrases in used],
                                  pattern_reach(rx)))
    return plans, uncased, pd.DataFrame(words, columns=WORD_COLUMNS).astype({"rule_id": "int64", "position": "int64"})


def _note_spans(text: str) -> np.ndarray:
    """(start, end) of each transcription note of a text, as mask_notes finds them."""
    found = np.fromiter((x for m in NOTE_RE.finditer(text) for x in m.span()), dtype=np.int64)
    return found.reshape(-1, 2)


def _safe_cut(text: str, at: int, notes: np.ndarray) -> int:
    """The first white-space character at or after `at` outside every note (len(text) if none): a
    cut there splits no token and no note."""
    while at < len(text):
        space = SPACE_RE.search(text, at)
        if space is None:
            break
        at = space.start()
        i = int(np.searchsorted(notes[:, 0], at, side="right")) - 1
        if i < 0 or notes[i, 1] <= at:
            return at
        at = int(notes[i, 1])
    return len(text)


def _outside_notes(at: np.ndarray, notes: np.ndarray, side: int) -> np.ndarray:
    """Each position of `at`, or the start (side 0) or end (side 1) of the note it falls inside."""
    if len(notes) == 0:
        return at
    i = np.searchsorted(notes[:, 0], at, side="right") - 1
    j = np.maximum(i, 0)
    inside = (i >= 0) & (notes[j, 0] < at) & (at < notes[j, 1])
    return np.where(inside, notes[j, side], at)


class _Texts:
    """The texts being coded, with what is worked out once: their tokens (`tokens`, a ready token
    table of all of them, or made here for the texts up to LONG_ROW_CHARS long), the note spans of
    long texts, and the text as patterns search it (pattern_text) for texts searched whole."""

    def __init__(self, texts: pd.Series, tokens: pd.DataFrame | None = None):
        self.values = texts.fillna("").astype(str).tolist()
        self.lengths = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        self.tokens = tokens
        self.short = np.flatnonzero(self.lengths <= LONG_ROW_CHARS)
        self.long = np.flatnonzero(self.lengths > LONG_ROW_CHARS)
        self._short_tokens: pd.DataFrame | None = None
        self._notes: dict[int, np.ndarray] = {}
        self._searched: dict[int, str] = {}

    def short_tokens(self) -> pd.DataFrame:
        """The token table of the texts up to LONG_ROW_CHARS long (rows numbered among them)."""
        if self._short_tokens is None:
            self._short_tokens = tokenize_series(pd.Series([self.values[i] for i in self.short], dtype=object))
        return self._short_tokens

    def sample(self) -> pd.DataFrame:
        """Tokens to count words on: all of them, or those of the short texts, or of the first long text's first piece."""
        if self.tokens is not None:
            return self.tokens
        if len(self.short) or not len(self.long):
            return self.short_tokens()
        text = self.values[self.long[0]]
        return tokenize_series(pd.Series([text[:_safe_cut(text, LONG_ROW_CHARS, self.notes(int(self.long[0])))]]))

    def notes(self, row: int) -> np.ndarray:
        if row not in self._notes:
            self._notes[row] = _note_spans(self.values[row])
        return self._notes[row]

    def searched(self, row: int, start: int, end: int) -> str:
        """The text patterns search (pattern_text) between `start` and `end`: a long text masked
        between those (cut outside notes), any other masked whole once and cut."""
        if self.lengths[row] > LONG_ROW_CHARS and not (start == 0 and end == self.lengths[row]):
            return _pattern_text_of(self.values[row][start:end])
        if row not in self._searched:
            self._searched[row] = _pattern_text_of(self.values[row])
        text = self._searched[row]
        return text if start == 0 and end == len(text) else text[start:end]


def _long_text_matches(texts: _Texts, row: int, words: pd.DataFrame) -> pd.DataFrame:
    """match_keywords on one long text, tokenised piece by piece: each piece reaches far enough past
    its end for a phrase that starts in it, and keeps only the matches that start in it."""
    text, notes, frames = texts.values[row], texts.notes(row), []
    longest = int(words["position"].max()) + 1
    cut = 0
    while cut < len(text):
        end = _safe_cut(text, cut + LONG_ROW_CHARS, notes)
        margin = 1000
        while True:  # reach on until the longest phrase starting before `end` fits
            stop = _safe_cut(text, end + margin, notes) if end < len(text) else end
            tokens = tokenize_series(pd.Series([text[cut:stop]], dtype=object))
            if stop >= len(text) or int((tokens["start"].to_numpy() >= end - cut).sum()) >= longest - 1:
                break
            margin *= 8
        found = match_keywords(tokens, words)
        found = found[found["start"].to_numpy() < end - cut]
        frames.append(found.assign(row=np.int64(row), start=found["start"] + cut, end=found["end"] + cut))
        cut = end
    return pd.concat(frames, ignore_index=True)


def _token_matches(texts: _Texts, words: pd.DataFrame) -> pd.DataFrame:
    """match_keywords over all the texts: on their ready token table when given, else on tokens made
    here (a text longer than LONG_ROW_CHARS piece by piece). Rows in text order."""
    if texts.tokens is not None or words.empty:
        return match_keywords(texts.tokens if texts.tokens is not None else pd.DataFrame(), words)
    found = match_keywords(texts.short_tokens(), words)
    if not len(texts.long):
        return found
    frames = [found.assign(row=texts.short[found["row"].to_numpy()])]
    frames += [_long_text_matches(texts, row, words) for row in texts.long.tolist()]
    return pd.concat(frames, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)


def _rows_with(anchors: dict, ids: list[int]) -> np.ndarray:
    """Rows holding a match of any of the anchor rules `ids` (sorted, distinct)."""
    parts = [anchors[i][0] for i in ids if i in anchors]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)


def _windows(plan: _PatternPlan, texts: _Texts, anchors: dict, uncased: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where one pattern is searched: (row, start, end) of each window, in text order.

    Only texts that hold an anchor of every used clause can hold a match (and those with an UNCASED
    letter, searched whole). A pattern of bounded reach is searched only around the anchors of its
    rarest clause, `reach` characters either side, windows that overlap merged (in a long text
    widened to lie outside notes): every match contains an anchor of that clause, and all the
    search reads for it lies inside the anchor's window, so each window finds exactly the matches
    the whole text has there. Other patterns search each of those texts whole.
    """
    if not plan.clauses:
        rows = np.arange(len(texts.values), dtype=np.int64)
    else:
        rows = _rows_with(anchors, plan.clauses[0])
        for clause in plan.clauses[1:]:
            rows = np.intersect1d(rows, _rows_with(anchors, clause), assume_unique=True)
        rows = np.union1d(rows, uncased)
    if plan.reach is None or not plan.clauses:
        return rows, np.zeros(len(rows), dtype=np.int64), texts.lengths[rows]
    whole = np.intersect1d(rows, uncased, assume_unique=True)
    parts = [anchors[i] for i in plan.clauses[0] if i in anchors]
    row, start, end = (np.concatenate([np.empty(0, dtype=np.int64)] + [p[k] for p in parts]) for k in range(3))
    keep = np.isin(row, rows) & ~np.isin(row, whole)
    row, start = row[keep], np.maximum(start[keep] - plan.reach, 0)
    end = np.minimum(end[keep] + plan.reach, texts.lengths[row])
    for r in np.intersect1d(row, texts.long).tolist():  # a long text is masked window by window
        at = row == r
        start[at] = _outside_notes(start[at], texts.notes(r), 0)
        end[at] = _outside_notes(end[at], texts.notes(r), 1)
    # merge windows that overlap or touch, text by text (offsets made distinct across texts)
    stride = int(texts.lengths.max()) + 1
    order = np.lexsort((start, row))
    row, start, end = row[order], start[order] + row[order] * stride, end[order] + row[order] * stride
    reached = np.maximum.accumulate(end)
    first = np.flatnonzero(np.r_[True, start[1:] > reached[:-1]]) if len(row) else np.empty(0, dtype=np.int64)
    last = np.append(first[1:], len(row))[:len(first)] - 1
    w_row = row[first]
    all_rows = np.r_[whole, w_row]
    all_start = np.r_[np.zeros(len(whole), dtype=np.int64), start[first] - w_row * stride]
    all_end = np.r_[texts.lengths[whole], reached[last] - w_row * stride]
    order = np.lexsort((all_start, all_rows))
    return all_rows[order], all_start[order], all_end[order]


def _search(plan: _PatternPlan, texts: _Texts, windows: tuple[np.ndarray, ...]) -> pd.DataFrame:
    """Matches of one pattern in its windows: the windows joined by SEPARATOR in runs of about
    PATTERN_CHUNK_CHARS characters, each run searched within its time limit; a match is mapped back to
    its window by binary search, and one that would cross from one window into the next is dropped."""
    rows, first, last = windows
    lengths = last - first
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    edges = slice_edges(lengths, PATTERN_CHUNK_CHARS)
    spans = [np.empty((0, 2), dtype=np.int64)]
    for a, b in zip(edges[:-1], edges[1:]):
        run = [texts.searched(r, s, e) for r, s, e in zip(rows[a:b].tolist(), first[a:b].tolist(), last[a:b].tolist())]
        spans.append(_run_spans(plan.rx, run, rows[a:b], plan.rule_id) + starts[a])
    spans = np.concatenate(spans)
    which = np.searchsorted(starts, spans[:, 0], side="right") - 1
    local_start, local_end = spans[:, 0] - starts[which], spans[:, 1] - starts[which]
    ok = (local_end <= lengths[which]) & (local_end > local_start)
    return pd.DataFrame({"row": rows[which[ok]], "rule_id": np.int64(plan.rule_id),
                         "start": local_start[ok] + first[which[ok]], "end": local_end[ok] + first[which[ok]]})


def _pattern_matches(texts: _Texts, plans: list[_PatternPlan], uncased: list[int], anchors: pd.DataFrame) -> pd.DataFrame:
    """Matches of each planned pattern, searched in its windows (`_windows`), given the anchor matches."""
    if not plans:
        return _empty_matches()
    rule_ids = anchors["rule_id"].to_numpy(dtype=np.int64)
    order = np.argsort(rule_ids, kind="stable")
    ids, bounds = np.unique(rule_ids[order], return_index=True)
    columns = [anchors[c].to_numpy(dtype=np.int64)[order] for c in ("row", "start", "end")]
    cuts = np.r_[bounds[1:], len(anchors)]
    by_rule = {int(i): tuple(c[a:b] for c in columns) for i, a, b in zip(ids, bounds, cuts)}
    uncased_rows = _rows_with(by_rule, uncased)
    frames = [_search(plan, texts, _windows(plan, texts, by_rule, uncased_rows)) for plan in plans]
    out = pd.concat(frames, ignore_index=True)
    return out.astype({c: np.int64 for c in out.columns})


def match_patterns(texts: pd.Series, patterns: dict, tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where regular expressions match: row, rule_id, start, end (offsets inside each text).

    `patterns` are compiled with the `regex` package (as a codebook holds them). Each pattern is
    searched only where it can match: in the texts that hold, for each clause of literals every
    match contains (necessary_literals), one of them as consecutive tokens (found with
    match_keywords), and in a long text only around those places (`_windows`); each search
    within its time limit (a pattern past it raises PatternTimeout naming the text). Notes such
    as [laughs] and placeholders such as [NAME-1] are blanked first. `tokens` may pass the token
    table of `texts` (tokenize_series) when it is at hand.
    """
    if not patterns or texts.empty:
        return _empty_matches()
    searched = _Texts(texts, tokens)
    plans, uncased, anchor_words = _pattern_plans(patterns, 0, _WordCounts(searched.sample()))
    return _pattern_matches(searched, plans, uncased, _token_matches(searched, anchor_words))


def _check_segments(segments: pd.DataFrame, text_col: str) -> None:
    """The columns coding needs; an InputError naming the missing ones."""
    missing = [c for c in [*SEGMENT_KEYS, text_col] if c not in segments.columns]
    if missing:
        raise InputError(f"segments: missing column(s) {', '.join(missing)}; build segments with "
                         f"helpers.corpus.segments")


def _timeout_problem(codebook: Codebook, segments: pd.DataFrame, exc: PatternTimeout) -> str:
    """The one-line error for a pattern past its time limit: codebook line, rule path, segment, transcript."""
    rule = codebook.rules.loc[codebook.rules["rule_id"] == exc.rule_id].iloc[0]
    segment = segments.iloc[exc.row]
    return codebook.problem(rule["path"], f"pattern {rule['term']!r} ran past its time limit of {exc.seconds:g} s "
                            f"on segment {segment['segment_id']} of transcript {segment['transcript_id']}; "
                            f"rewrite it without nested or overlapping repeats such as (a+)+ or (a|a)*")


def _code_order(codebook: Codebook) -> pd.DataFrame:
    """theme, subtheme -> rank in codebook order (themes before their subthemes)."""
    order = codebook.codes[["theme", "subtheme"]].copy()
    order["code_rank"] = np.arange(len(order), dtype=np.int64)
    return order


def keywords_only(codebook: Codebook) -> Codebook:
    """The codebook with its keyword rules alone (no patterns, no excludes): what `code_segments`
    costs for keywords, to set against the full codebook (bench)."""
    from dataclasses import replace

    keep = codebook.rules["kind"] == "keyword"
    ids = codebook.rules.loc[keep, "rule_id"]
    return replace(codebook, rules=codebook.rules[keep].reset_index(drop=True),
                   words=codebook.words[codebook.words["rule_id"].isin(ids)].reset_index(drop=True), patterns={})


def code_segments(segments: pd.DataFrame, codebook: Codebook, text_col: str = "text",
                  tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apply a codebook to segments: the codings table, one row per rule match, sorted.

    Columns: segment_id, transcript_id, participant_id, group, theme, subtheme ("" for a theme's
    own rule), term (the rule as written), start, end (character offsets in the segment text).
    Rows follow the segments' order, then start, end, codebook order and rule order.
    `tokens` may pass a ready token table of `segments[text_col]` (tokenize_series).
    """
    _check_segments(segments, text_col)
    segments = segments.reset_index(drop=True)
    texts = _Texts(segments[text_col], tokens)
    rules = codebook.rules
    first_anchor = int(rules["rule_id"].max()) + 1 if len(rules) else 0
    plans, uncased, anchor_words = _pattern_plans(codebook.patterns, first_anchor, _WordCounts(texts.sample()))
    # keywords, excludes and the anchors of the patterns in one pass over the tokens
    found = _token_matches(texts, pd.concat([codebook.words, anchor_words], ignore_index=True))
    is_anchor = found["rule_id"].to_numpy() >= first_anchor
    try:
        pattern_found = _pattern_matches(texts, plans, uncased, found[is_anchor])
    except PatternTimeout as exc:
        raise InputError(_timeout_problem(codebook, segments, exc)) from None
    found = found[~is_anchor]
    matches = {c: np.concatenate([found[c].to_numpy(dtype=np.int64), pattern_found[c].to_numpy(dtype=np.int64)])
               for c in ("row", "rule_id", "start", "end")}
    # per rule (by position in codebook.rules): its code's rank in codebook order and its theme's
    ranked = rules.merge(_code_order(codebook), on=["theme", "subtheme"], how="left")
    code_rank = ranked["code_rank"].to_numpy(dtype=np.int64)
    theme_rank = ranked[["theme"]].merge(_code_order(codebook).query("subtheme == ''"), on="theme",
                                         how="left")["code_rank"].to_numpy(dtype=np.int64)
    position = pd.Index(rules["rule_id"]).get_indexer(matches["rule_id"])
    excluded = (rules["kind"] == "exclude").to_numpy()[position]
    # an exclude match keeps its (sub)theme off its segment: keys row x code, theme-wide or one subtheme
    stride = len(codebook.codes) + 1
    whole_theme = excluded & (rules["subtheme"] == "").to_numpy()[position]
    off_theme = np.unique(matches["row"][whole_theme] * stride + theme_rank[position[whole_theme]])
    off_code = np.unique(matches["row"][excluded & ~whole_theme] * stride + code_rank[position[excluded & ~whole_theme]])
    keep = ~excluded
    keep &= ~np.isin(matches["row"] * stride + theme_rank[position], off_theme)
    keep &= ~np.isin(matches["row"] * stride + code_rank[position], off_code)
    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((matches["rule_id"][kept], code_rank[position[kept]], matches["end"][kept],
                             matches["start"][kept], matches["row"][kept]))]
    keys = segments[SEGMENT_KEYS].iloc[matches["row"][order]].reset_index(drop=True)
    picked = {c: rules[c].to_numpy(dtype=object)[position[order]] for c in ("theme", "subtheme", "term")}
    out = pd.concat([keys, pd.DataFrame({**picked, "start": matches["start"][order], "end": matches["end"][order]})],
                    axis=1)
    for col in SEGMENT_KEYS + ["theme", "subtheme", "term"]:
        out[col] = out[col].fillna("").astype(str)
    for col in ("start", "end"):
        out[col] = out[col].astype(np.int64)
    return out[CODINGS_COLUMNS]


# ----------------------------------------------------------------------------- derived tables
def word_counts(segments: pd.DataFrame, text_col: str = "text") -> pd.Series:
    """Words (tokens outside notes) per segment, aligned with the segments' index (text.word_counts)."""
    return pd.Series(text_word_counts(segments[text_col]), index=segments.index, name="n_words")


def _with_words(segments: pd.DataFrame, text_col: str = "text") -> pd.DataFrame:
    """Segments with an `n_words` column (computed unless present)."""
    segments = segments.reset_index(drop=True)
    if "n_words" not in segments.columns:
        segments = segments.assign(n_words=word_counts(segments, text_col))
    return segments


def coded_pairs(codings: pd.DataFrame) -> pd.DataFrame:
    """Distinct (segment_id, theme, subtheme) codes: each theme once, each subtheme once, per segment."""
    themes = codings[["segment_id", "theme"]].assign(subtheme="")
    subs = codings.loc[codings["subtheme"] != "", ["segment_id", "theme", "subtheme"]]
    return pd.concat([themes, subs], ignore_index=True).drop_duplicates().reset_index(drop=True)


def coding_matrix(segments: pd.DataFrame, codings: pd.DataFrame, codebook: Codebook,
                  text_col: str = "text") -> pd.DataFrame:
    """Segment x code 0/1 matrix with the segment's ids, participant attributes and word count.

    One column per theme and per subtheme (named by its code, in codebook order); 1 when the
    segment is coded with it. For mixed-methods work in R, SPSS or Excel.
    """
    segments = _with_words(segments, text_col)
    check_coded_segments(segments, codings)
    codes = codebook.codes.assign(column=codebook.codes["code"])
    clash = sorted(set(codes["column"]) & set(segments.columns))
    if clash:
        raise InputError(f"codebook code(s) {', '.join(clash)} are also segment columns; rename the code(s)")
    pairs = coded_pairs(codings).merge(codes[["theme", "subtheme", "column"]], on=["theme", "subtheme"])
    pos = pd.Series(np.arange(len(segments)), index=segments["segment_id"].to_numpy())
    col_pos = pd.Series(np.arange(len(codes)), index=codes["column"].to_numpy())
    grid = np.zeros((len(segments), len(codes)), dtype=np.int64)
    grid[pos.reindex(pairs["segment_id"]).to_numpy(), col_pos.reindex(pairs["column"]).to_numpy()] = 1
    meta = segments.drop(columns=[c for c in (text_col, "start", "end") if c in segments.columns])
    return pd.concat([meta, pd.DataFrame(grid, columns=codes["column"].tolist())], axis=1)


def _grouping(segments: pd.DataFrame, by: str) -> pd.Series:
    """The grouping column as text; an empty value (e.g. interviewers' group) becomes "(none)"."""
    return segments[by].fillna("").astype(str).replace("", NO_GROUP)


def _group_order(values) -> list:
    """Groups in the project's fixed order (client, esw, hcp, then others sorted)."""
    from .figures import group_order

    return group_order(values)


def prevalence(segments: pd.DataFrame, codings: pd.DataFrame, codebook: Codebook, by: str = "group",
               text_col: str = "text", include_all: bool = True) -> pd.DataFrame:
    """Per theme and subtheme x group: segments coded, participants "n of N", share of words.

    Columns: level, theme, subtheme, code, label, BY, segments_coded, segments_total,
    segment_share, participants_coded, participants_total, participant_share, n_of_N,
    words_coded, words_total, word_share. Shares are fractions of the group's segments,
    participants and words (words in coded segments). `include_all` adds rows with BY = "all".
    """
    if by not in segments.columns:
        raise InputError(f"prevalence by {by!r}: no such segment column; use one of "
                         f"{', '.join(c for c in segments.columns if c != text_col)}")
    segments = _with_words(segments, text_col)
    check_coded_segments(segments, codings)
    segments[by] = _grouping(segments, by)
    frames = [segments]
    if include_all:
        frames.append(segments.assign(**{by: "all"}))
    seg = pd.concat(frames, ignore_index=True)[["segment_id", "participant_id", by, "n_words"]]
    totals = seg.groupby(by).agg(segments_total=("segment_id", "size"),
                                 participants_total=("participant_id", "nunique"),
                                 words_total=("n_words", "sum"))
    hit = coded_pairs(codings).merge(seg, on="segment_id")
    counts = hit.groupby(["theme", "subtheme", by]).agg(segments_coded=("segment_id", "nunique"),
                                                         participants_coded=("participant_id", "nunique"),
                                                         words_coded=("n_words", "sum"))
    groups = _group_order(segments[by]) + (["all"] if include_all else [])
    codes = codebook.codes[["level", "theme", "subtheme", "code", "label"]]
    grid = codes.merge(pd.DataFrame({by: groups}), how="cross")
    out = grid.merge(counts.reset_index(), on=["theme", "subtheme", by], how="left")
    out = out.merge(totals.reset_index(), on=by, how="left")
    for col in ("segments_coded", "participants_coded", "words_coded"):
        out[col] = out[col].fillna(0).astype(np.int64)
    out["segment_share"] = out["segments_coded"] / out["segments_total"]
    out["participant_share"] = out["participants_coded"] / out["participants_total"]
    out["word_share"] = out["words_coded"] / out["words_total"]
    out["n_of_N"] = out["participants_coded"].astype(str) + " of " + out["participants_total"].astype(str)
    cols = ["level", "theme", "subtheme", "code", "label", by, "segments_coded", "segments_total",
            "segment_share", "participants_coded", "participants_total", "participant_share", "n_of_N",
            "words_coded", "words_total", "word_share"]
    return out[cols].reset_index(drop=True)


def prevalence_table(prev: pd.DataFrame, by: str = "group", value: str = "n_of_N") -> pd.DataFrame:
    """Wide view of `prevalence`: one row per theme/subtheme (label), one column per group."""
    groups = list(pd.unique(prev[by]))
    rows = prev.drop_duplicates(["theme", "subtheme"])[["level", "theme", "subtheme", "label"]]
    wide = prev.pivot(index=["theme", "subtheme"], columns=by, values=value)[groups]
    out = rows.merge(wide.reset_index(), on=["theme", "subtheme"])
    out["label"] = np.where(out["level"] == "subtheme", "   " + out["label"], out["label"].str.upper())
    out.columns.name = None
    if by == "group":  # stakeholder groups by their names, as in the figures
        from .figures import group_label

        out = out.rename(columns={g: group_label(g) for g in groups})
    return out.drop(columns=["level"])


# Exemplar quotes: rule density (matches per word), weighted against segments that are only weakly
# about the code: a single matched word, or a speaker introducing themselves ("I'm a physio, I do
# the MSK ..."), where a job title matches a rule without the segment being about the subtheme.
ONE_MATCH_WEIGHT = 0.5
INTRODUCTION_WEIGHT = 0.25
INTRODUCTION = re.compile(
    r"^\W*(?:(?:and|so|well|yeah|yes|ok|okay|right|hi|hello|er+m?|um+|uh+)\b\W*)*"
    r"(?:(?:i'?m|i am)\s+(?:a|an|the)\b|my name(?:'s| is)\b|i work as\b|i'?ve been (?:a|an|working as)\b"
    r"|my (?:role|job) is\b)", re.IGNORECASE)


INTRODUCTION_TURNS = 2  # a self-introduction is one of the speaker's first turns in the transcript


def is_introduction(segments: pd.DataFrame, text_col: str = "text") -> pd.Series:
    """True where a segment opens with the speaker introducing themselves ("I'm a physio, ...",
    "And I'm a GP at ...", "My name is ...") in one of their first INTRODUCTION_TURNS turns of the
    transcript (so "I'm a different man" late in an interview is not one)."""
    straight = segments[text_col].fillna("").astype(str).str.slice(0, 200).str.translate(APOSTROPHES)
    opens = straight.map(lambda t: INTRODUCTION.match(t) is not None).astype(bool)
    if {"transcript_id", "participant_id", "turn"} <= set(segments.columns):
        rank = segments.groupby(["transcript_id", "participant_id"], sort=False)["turn"].rank(method="dense")
        opens &= (rank <= INTRODUCTION_TURNS).to_numpy()
    return opens


def _pick_quotes(candidates: pd.DataFrame, per_code: int) -> pd.DataFrame:
    """Up to `per_code` quotes per code, each segment quoted for one code only (one quote never serves
    two codes) and each participant once per code. In each round every code takes one quote, the code
    with the strongest remaining candidate first; within a code the groups take turns (the group with
    fewest quotes so far, then the highest score)."""
    by_code = {key: part for key, part in candidates.groupby("code_rank", sort=True)}
    used_segments: set = set()
    taken: dict = {key: [] for key in by_code}
    people: dict = {key: set() for key in by_code}
    groups: dict = {key: {} for key in by_code}

    def best(key):
        part = by_code[key]
        free = part[~part["segment_id"].isin(used_segments) & ~part["participant_id"].isin(people[key])]
        if free.empty:
            return None
        turns = free["group"].map(groups[key]).fillna(0)
        return free.assign(_turns=turns).sort_values(["_turns", "score", "seg_rank"],
                                                     ascending=[True, False, True], kind="stable").iloc[0]

    for _ in range(per_code):
        nominees = [(key, best(key)) for key in by_code if len(taken[key]) < per_code]
        nominees = [(key, row) for key, row in nominees if row is not None]
        for key, _row in sorted(nominees, key=lambda kr: (-kr[1]["score"], kr[0])):
            row = best(key)  # again: a code earlier in this round may have taken its first choice
            if row is None:
                continue
            taken[key].append(row.name)
            used_segments.add(row["segment_id"])
            people[key].add(row["participant_id"])
            groups[key][row["group"]] = groups[key].get(row["group"], 0) + 1
    order = [index for key in sorted(taken) for index in taken[key]]
    return candidates.loc[order].reset_index(drop=True)


def exemplar_quotes(segments: pd.DataFrame, codings: pd.DataFrame, codebook: Codebook, per_code: int = 3,
                    min_words: int = 20, text_col: str = "text") -> pd.DataFrame:
    """The strongest quotes for each coded (sub)theme, matched words highlighted.

    Score = rule density (matches of the code in the segment / words in the segment), times
    ONE_MATCH_WEIGHT when a single word matched and INTRODUCTION_WEIGHT when the speaker is
    introducing themselves (is_introduction), among segments with at least `min_words` words.
    At most one quote per participant per code, and each segment quotes one code only (the code
    whose round comes first, strongest candidates first); quotes are picked round-robin across
    groups. Columns: theme, subtheme, label, participant_id, group, segment_id, matches, rules,
    n_words, density, score, quote, quote_html (with <mark> around matches).
    """
    segments = _with_words(segments, text_col)
    seg = segments[["segment_id", "participant_id", "group", "n_words", text_col]].assign(
        seg_rank=np.arange(len(segments)), introduction=is_introduction(segments, text_col).to_numpy())
    per = (codings.groupby(["theme", "subtheme", "segment_id"], sort=False)
           .agg(matches=("term", "size"), rules=("term", "nunique")).reset_index())
    per = per.merge(seg, on="segment_id")
    per = per[per["n_words"] >= min_words]
    per["density"] = per["matches"] / per["n_words"]
    per["score"] = (per["density"] * np.where(per["matches"] > 1, 1.0, ONE_MATCH_WEIGHT)
                    * np.where(per["introduction"], INTRODUCTION_WEIGHT, 1.0))
    per = per.merge(_code_order(codebook), on=["theme", "subtheme"])
    picked = _pick_quotes(per.reset_index(drop=True), per_code)
    spans = codings.merge(picked[["theme", "subtheme", "segment_id"]], on=["theme", "subtheme", "segment_id"])
    span_lists = spans.groupby(["theme", "subtheme", "segment_id"])[["start", "end"]].apply(
        lambda g: list(zip(g["start"], g["end"])))
    keys = list(zip(picked["theme"], picked["subtheme"], picked["segment_id"]))
    picked["quote"] = picked[text_col].astype(str)
    picked["quote_html"] = [highlight_spans(text, span_lists.get(key, []))
                            for text, key in zip(picked["quote"], keys)]
    picked["label"] = [codebook.label(t, s) for t, s in zip(picked["theme"], picked["subtheme"])]
    cols = ["theme", "subtheme", "label", "participant_id", "group", "segment_id", "matches", "rules",
            "n_words", "density", "score", "quote", "quote_html"]
    return picked.reindex(columns=cols)


def coverage(segments: pd.DataFrame, codings: pd.DataFrame, by: str = "group", text_col: str = "text") -> pd.DataFrame:
    """Share of segments (and words) coded by any theme, per group and for all: BY, segments,
    segments_coded, segment_share, words, words_coded, word_share."""
    segments = _with_words(segments, text_col)
    coded = segments["segment_id"].isin(codings["segment_id"])
    table = pd.DataFrame({by: _grouping(segments, by), "coded": coded.astype(np.int64),
                          "n_words": segments["n_words"]})
    table["words_coded"] = table["n_words"] * table["coded"]
    rows = pd.concat([table, table.assign(**{by: "all"})], ignore_index=True)
    out = rows.groupby(by).agg(segments=("coded", "size"), segments_coded=("coded", "sum"),
                               words=("n_words", "sum"), words_coded=("words_coded", "sum"))
    out = out.reindex(_group_order(table[by]) + ["all"]).reset_index()
    out["segment_share"] = out["segments_coded"] / out["segments"]
    out["word_share"] = out["words_coded"] / out["words"]
    return out[[by, "segments", "segments_coded", "segment_share", "words", "words_coded", "word_share"]]


def uncoded_segments(segments: pd.DataFrame, codings: pd.DataFrame, top_n: int = 10,
                     text_col: str = "text") -> pd.DataFrame:
    """The longest segments no theme coded (to refine the codebook): segment_id, participant_id,
    group, n_words, text."""
    segments = _with_words(segments, text_col)
    rest = segments[~segments["segment_id"].isin(codings["segment_id"])]
    rest = rest.assign(seg_rank=np.arange(len(rest))).sort_values(
        ["n_words", "seg_rank"], ascending=[False, True], kind="stable")
    return rest[["segment_id", "participant_id", "group", "n_words", text_col]].head(top_n).reset_index(drop=True)


def excluded_segments(segments: pd.DataFrame, codebook: Codebook, text_col: str = "text") -> pd.DataFrame:
    """Segments each exclude rule matched: rule_id, theme, subtheme, term, segment_id."""
    segments = segments.reset_index(drop=True)
    rules = codebook.rules
    ids = rules.loc[rules["kind"] == "exclude", "rule_id"]
    found = match_keywords(tokenize_series(segments[text_col]), codebook.words[codebook.words["rule_id"].isin(ids)])
    found = found.drop_duplicates(["row", "rule_id"]).merge(rules[["rule_id", "theme", "subtheme", "term"]],
                                                            on="rule_id")
    found["segment_id"] = segments["segment_id"].to_numpy()[found["row"].to_numpy()]
    return found[["rule_id", "theme", "subtheme", "term", "segment_id"]].sort_values(
        ["rule_id", "segment_id"], kind="stable").reset_index(drop=True)


def rule_diagnostics(codebook: Codebook, codings: pd.DataFrame, segments: pd.DataFrame | None = None,
                     text_col: str = "text") -> pd.DataFrame:
    """Which rules drive each theme: one row per rule with matches, segments, participants and
    its share of the theme's matches; exclude rules show the segments they removed (needs
    `segments`). Rules that never match have 0 matches."""
    rules = codebook.rules
    per = codings.groupby(["theme", "subtheme", "term"]).agg(
        matches=("segment_id", "size"), segments=("segment_id", "nunique"),
        participants=("participant_id", "nunique")).reset_index()
    out = rules.merge(per, on=["theme", "subtheme", "term"], how="left")
    out.loc[out["kind"] == "exclude", ["matches", "segments", "participants"]] = np.nan
    if segments is not None:
        ex = excluded_segments(segments, codebook, text_col)
        counts = ex.groupby("rule_id")["segment_id"].nunique()
        is_ex = out["kind"] == "exclude"
        out.loc[is_ex, "segments"] = out.loc[is_ex, "rule_id"].map(counts).fillna(0).to_numpy()
        out.loc[is_ex, "matches"] = out.loc[is_ex, "segments"]
    for col in ("matches", "segments", "participants"):
        out[col] = out[col].fillna(0).astype(np.int64)
    theme_total = out[out["kind"] != "exclude"].groupby("theme")["matches"].sum()
    out["theme_share"] = np.where(out["kind"] == "exclude", np.nan,
                                  out["matches"] / out["theme"].map(theme_total).replace(0, np.nan))
    return out[["rule_id", "theme", "subtheme", "kind", "term", "matches", "segments", "participants",
                "theme_share", "path"]]


def unmatched_rules(diagnostics: pd.DataFrame) -> pd.DataFrame:
    """Rules that never matched (keywords and patterns), from `rule_diagnostics`."""
    rows = diagnostics[(diagnostics["matches"] == 0) & (diagnostics["kind"] != "exclude")]
    return rows[["theme", "subtheme", "kind", "term", "path"]].reset_index(drop=True)


def cross_theme_rules(segments: pd.DataFrame, codings: pd.DataFrame, text_col: str = "text") -> pd.DataFrame:
    """Pairs of rules from different themes that match the same words (overlapping spans).

    Columns: theme_a, subtheme_a, term_a, theme_b, subtheme_b, term_b, shared (overlapping
    matches), example (the words of one shared match). Sorted by shared, most first.
    """
    cols = ["theme_a", "subtheme_a", "term_a", "theme_b", "subtheme_b", "term_b", "shared", "example"]
    c = codings[["segment_id", "theme", "subtheme", "term", "start", "end"]].reset_index(drop=True)
    pairs = c.merge(c, on="segment_id", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["theme_a"] < pairs["theme_b"]) & (pairs["start_a"] < pairs["end_b"])
                  & (pairs["start_b"] < pairs["end_a"])]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    texts = segments.set_index("segment_id")[text_col]
    lo = np.minimum(pairs["start_a"], pairs["start_b"])
    hi = np.maximum(pairs["end_a"], pairs["end_b"])
    pairs = pairs.assign(example=[texts[s][a:b] for s, a, b in zip(pairs["segment_id"], lo, hi)])
    keys = ["theme_a", "subtheme_a", "term_a", "theme_b", "subtheme_b", "term_b"]
    out = pairs.groupby(keys).agg(shared=("segment_id", "size"), example=("example", "first")).reset_index()
    return out.sort_values(["shared", *keys], ascending=[False] + [True] * 6, kind="stable").reset_index(drop=True)[cols]


def prevalence_display(prev: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Prevalence for reading: code label, group, "n of N" participants, segments and words as percentages."""
    out = pd.DataFrame({
        "theme": prev["theme"], "code": np.where(prev["level"] == "subtheme", prev["subtheme"], prev["theme"]),
        "label": prev["label"], by: prev[by],
        "participants": prev["n_of_N"],
        "segments": prev["segments_coded"].astype(str) + " of " + prev["segments_total"].astype(str),
        "% participants": (100 * prev["participant_share"]).round(1),
        "% segments": (100 * prev["segment_share"]).round(1),
        "% words": (100 * prev["word_share"]).round(1),
    })
    return out.reset_index(drop=True)


def quotes_display(quotes: pd.DataFrame) -> pd.DataFrame:
    """Exemplar quotes for an HTML table: subtheme, who said it, the highlighted quote, matches, words."""
    from .figures import group_label

    return pd.DataFrame({
        "subtheme": quotes["label"], "participant": quotes["participant_id"],
        "group": quotes["group"].map(group_label), "quote": quotes["quote_html"],
        "matches": quotes["matches"], "words": quotes["n_words"], "segment_id": quotes["segment_id"],
    }).reset_index(drop=True)


# ----------------------------------------------------------------------------- figures
def _leaf_rows(prev: pd.DataFrame, by: str) -> pd.DataFrame:
    """Prevalence rows for the figure: subthemes (or themes in a flat codebook), groups only."""
    level = "subtheme" if (prev["level"] == "subtheme").any() else "theme"
    return prev[(prev["level"] == level) & (prev[by] != "all")]


def _group_title(group: str, by: str, n: int) -> str:
    """A group's name for a figure, wrapped to short lines, with its number of participants."""
    import textwrap

    from .figures import group_label, human_label, split_variant

    name = group_label(group) if by == "group" or split_variant(group)[0] == "all" else human_label(group)
    return textwrap.fill(name, 13, break_long_words=False) + f"\n(N = {n})"


def _source_note(rows: pd.DataFrame, by: str) -> str:
    """'n = S segments from P participants' for the groups in a figure."""
    from .figures import split_variant

    totals = rows.drop_duplicates(by)
    base = totals[by].map(lambda v: split_variant(v)[0])
    # one row per real group: not the 'all' column, and one variant when codings are shown side by side
    totals = totals[base != "all"].assign(_base=base).drop_duplicates("_base")
    return (f"n = {int(totals['segments_total'].sum())} segments from "
            f"{int(totals['participants_total'].sum())} participants")


def plot_prevalence_heatmap(prev: pd.DataFrame, by: str = "group"):
    """Heatmap subtheme x group (and all participants, last) of the share of each group's participants
    who mention it: each cell shows the percentage and "n of N"; colours from figures.share_cmap (no
    solid dark blocks), text black or white by contrast with its cell."""
    from .figures import add_source_note, human_label, new_figure, share_cmap, split_variant, text_colour_for

    rows = prev[prev["level"] == ("subtheme" if (prev["level"] == "subtheme").any() else "theme")]
    order = list(pd.unique(rows["label"]))
    values = list(pd.unique(rows[by]))
    groups = [g for g in values if split_variant(g)[0] != "all"] + [g for g in values if split_variant(g)[0] == "all"]
    share = rows.pivot(index="label", columns=by, values="participant_share").loc[order, groups]
    coded = rows.pivot(index="label", columns=by, values="participants_coded").loc[order, groups]
    totals = rows.drop_duplicates(by).set_index(by)["participants_total"]
    cmap = share_cmap()
    fig, ax = new_figure(1.9 + 0.5 * len(order))
    image = ax.imshow(share.to_numpy(dtype=float) * 100, cmap=cmap, vmin=0, vmax=100, aspect="auto",
                      interpolation="nearest")
    for (y, x), value in np.ndenumerate(share.to_numpy(dtype=float)):
        colour = text_colour_for(cmap(value if np.isfinite(value) else 0.0))
        ax.text(x, y, f"{100 * value:.0f}%\n{coded.iat[y, x]} of {int(totals[groups[x]])}", ha="center",
                va="center", fontsize=8.5, color=colour, linespacing=1.1)
    ax.set_xticks(np.arange(len(groups)), [_group_title(g, by, int(totals[g])) for g in groups])
    ax.set_yticks(np.arange(len(order)), order)
    ax.tick_params(axis="both", length=0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(len(groups) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(order) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    themes = rows.drop_duplicates("label")["theme"].to_numpy()
    for y in np.flatnonzero(themes[1:] != themes[:-1]) + 1:
        ax.axhline(y - 0.5, color="white", linewidth=5)
    first_all = next((i for i, g in enumerate(groups) if split_variant(g)[0] == "all"), None)
    if first_all:
        ax.axvline(first_all - 0.5, color="white", linewidth=5)
    colourbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, shrink=min(1.0, 6 / max(len(order), 1)))
    colourbar.set_label("% of the group's participants")
    colourbar.outline.set_visible(False)
    ax.set_title("Who mentions each subtheme: share of participants per group")
    ax.set_xlabel(human_label(by))
    ax.set_ylabel("Subtheme")
    add_source_note(fig, _source_note(_leaf_rows(prev, by), by)
                    + "; cell: % of the group's participants who mention it (n of N)")
    fig.tight_layout()
    return fig


def plot_participant_counts(prev: pd.DataFrame, by: str = "group", per_row: int = 3):
    """One panel per group, at most `per_row` to a row: how many of the group's N participants mention
    each subtheme ("n of N")."""
    from .figures import add_source_note, group_palette, new_figure

    rows = _leaf_rows(prev, by)
    order = list(pd.unique(rows["label"]))
    groups = list(pd.unique(rows[by]))
    palette = group_palette(groups)
    ncols = max(1, min(per_row, len(groups)))
    nrows = -(-max(1, len(groups)) // ncols)
    fig, axes = new_figure(nrows * (1.5 + 0.36 * len(order)) + 0.4, nrows, ncols, sharey=True, squeeze=False)
    ypos = np.arange(len(order))
    for ax, group in zip(axes.flat, groups):
        part = rows[rows[by] == group].set_index("label").loc[order]
        total = int(part["participants_total"].iloc[0])
        ax.barh(ypos, part["participants_coded"], color=palette[group], height=0.7)
        ax.barh(ypos, [total] * len(order), color="none", edgecolor="#bbbbbb", height=0.7)
        for y, n in zip(ypos, part["participants_coded"]):
            ax.text(total * 1.03, y, f"{n} of {total}", va="center", fontsize=8)
        ax.set_xlim(0, total * 1.5)
        ax.set_xticks(range(0, total + 1, max(1, -(-total // 4))))
        ax.set_title(_group_title(group, by, total), fontsize=11)
        ax.set_xlabel("Participants mentioning it", fontsize=9)
        ax.grid(axis="y", visible=False)
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    axes[0][0].set_yticks(ypos, order)
    axes[0][0].invert_yaxis()
    for row in axes:
        row[0].set_ylabel("Subtheme")
    fig.suptitle("How many participants mention each subtheme (n of N)", fontweight="bold")
    add_source_note(fig, _source_note(rows, by))
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- command line
def _command_code(args) -> int:
    """`code`: codings table (and optionally the 0/1 matrix) for a turns file and a codebook."""
    from . import corpus

    for option, value in (("--out", args.out), ("--matrix", args.matrix)):
        if value and Path(value).suffix.lower() not in (".csv", *corpus.PARQUET_SUFFIXES):
            raise InputError(f"{option} {value}: name a .csv or .parquet file")
    book = load_codebook(args.codebook)
    turns = corpus.read_turns(args.corpus)
    participants = corpus.participants_for(args.participants, turns)
    segs = corpus.segments(turns, participants, unit=args.unit, include_interviewer=args.include_interviewer)
    codings = code_segments(segs, book)
    if args.matrix:
        corpus.write_table(coding_matrix(segs, codings, book), args.matrix)
    corpus.emit_table(codings, args.out, "codings")
    found = coded_pairs(codings)
    n_sub = (book.codes["level"] == "subtheme").sum()
    n_found = found.loc[found["subtheme"] != "", "subtheme"].nunique()
    print(f"coded {len(segs)} segments: {len(codings)} matches in {codings['segment_id'].nunique()} segments; "
          f"{n_found} of {n_sub} subthemes found", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register `code` on the command line."""
    p = sub.add_parser("code", help="apply a codebook to a turns table -> codings table")
    p.add_argument("--corpus", required=True, metavar="TURNS", help="turns table (CSV or Parquet, from `ingest`)")
    p.add_argument("--codebook", required=True, metavar="YAML", help="codebook YAML file")
    p.add_argument("--participants", default=None, metavar="CSV",
                   help="participants.csv for attributes in the matrix (default: the participants the turns table names)")
    p.add_argument("--unit", choices=UNITS, default="turn", help="segment unit (default turn)")
    p.add_argument("--include-interviewer", action="store_true", help="also code interviewer turns")
    p.add_argument("--out", default=None, metavar="FILE", help="codings table .csv or .parquet (default: stdout)")
    p.add_argument("--matrix", default=None, metavar="FILE", help="also write the segment x code 0/1 matrix")
    p.set_defaults(func=_command_code)
