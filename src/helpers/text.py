"""Tokenising, normalising and stopwords (NLTK components that need no downloads).

Tokens keep their character offsets in the segment text, so coding and KWIC can point back
at the exact words. Transcription notes ([laughs], [inaudible 00:12:31], (pause)) and
pseudonym placeholders ([NAME-1]) stay in the text but never become tokens.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import InputError

# Words: letters with inner apostrophes (straight, curly or modifier) or hyphens (can't, flare-ups,
# O'Neill); numbers separately.
WORD = r"[^\W\d_]+(?:['’‘ʼ][^\W\d_]+)*(?:-[^\W\d_]+(?:['’‘ʼ][^\W\d_]+)*)*"
NUMBER = r"\d+(?:[.,:]\d+)*"
TOKEN_RE = re.compile(rf"(?P<word>{WORD})|(?P<number>{NUMBER})")
TOKEN_ANY_RE = re.compile(rf"{WORD}|{NUMBER}")  # the same tokens, without groups (for findall/split)
NOTE_WORDS = ("pause|long pause|short pause|laughs|laughing|laughter|laugh|sighs|sigh|coughs|cough|"
              "crosstalk|cross-talk|inaudible|unclear|indistinct|overlapping|interruption|interrupted|"
              "silence|crying|cries|tearful|clears throat|phone rings|door|noise|redacted")
# Square brackets are always notes or pseudonyms; round brackets only when they hold a known note.
NOTE_RE = re.compile(rf"\[[^\[\]\n]*\](?:['’]s\b)?|\((?:{NOTE_WORDS})(?:[ \d:.,]*)\)", re.IGNORECASE)
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


def mask_notes(text: str) -> str:
    """Replace transcription notes and placeholders with spaces (same length, so offsets hold)."""
    return NOTE_RE.sub(lambda m: " " * (m.end() - m.start()), text)


def normalise_token(token: str, lowercase: bool = True) -> str:
    """One spelling per word: curly apostrophes made straight, optionally lower-cased."""
    token = token.translate(APOSTROPHES)
    return token.lower() if lowercase else token


def token_spans(text: str, lowercase: bool = True, numbers: bool = True) -> list[tuple[str, int, int]]:
    """(token, start, end) for each word (and number, if kept) outside transcription notes."""
    masked = mask_notes(text)
    return [(normalise_token(m.group(), lowercase), m.start(), m.end())
            for m in TOKEN_RE.finditer(masked) if numbers or m.lastgroup == "word"]


# Between two words, any of these (or a transcription note) ends a clause: n-grams and phrases
# never reach across it.
CLAUSE_BREAK_RE = re.compile(r"[.!?;:,…()\[\]{}\-–—/\x00]")


CHUNK_CHARS = 4_000_000  # texts are tokenised in slices of about this many characters (bounded memory)


def _raw_tokens(texts: pd.Series, lowercase: bool) -> pd.DataFrame:
    """Every word and number of every text (notes masked): row, token, start, end, position.

    `position` counts tokens within the text and takes one extra step at each clause break
    (punctuation such as . , ? ; : or a transcription note between two words). Texts are
    scanned in slices of about CHUNK_CHARS characters, each as one string (joined by line
    breaks, which no token or note crosses); rows, offsets and positions come from numpy.
    """
    values = texts.fillna("").astype(str).tolist()
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    bounds = np.searchsorted(np.cumsum(lengths + 1), np.arange(CHUNK_CHARS, int(lengths.sum()) + len(values) + 1,
                                                               CHUNK_CHARS), side="right")
    edges = [0, *sorted(set(int(b) for b in bounds if 0 < b < len(values))), len(values)]
    parts = [_raw_token_slice(values[a:b], lengths[a:b], a, lowercase) for a, b in zip(edges[:-1], edges[1:])]
    columns = {c: np.concatenate([p[c] for p in parts]) for c in ("row", "token", "start", "end", "position")}
    columns["token"] = pd.Series(columns["token"], dtype=object)
    return pd.DataFrame(columns)


def _raw_token_slice(values: list[str], lengths: np.ndarray, first_row: int, lowercase: bool) -> dict:
    """The columns of `_raw_tokens` (numpy arrays) for one slice of texts, rows numbered from `first_row`."""
    offsets = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    masked = NOTE_RE.sub(lambda m: "\x00" * (m.end() - m.start()), "\n".join(values))
    # findall + split (C loops, no match objects): token i starts after gaps 0..i and tokens 0..i-1
    words = TOKEN_ANY_RE.findall(masked)
    gaps = TOKEN_ANY_RE.split(masked)
    n = len(words)
    word_len = np.fromiter(map(len, words), dtype=np.int64, count=n)
    gap_len = np.fromiter(map(len, gaps), dtype=np.int64, count=len(gaps))
    starts = np.cumsum(gap_len[:-1]) + np.concatenate([[0], np.cumsum(word_len)[:-1]]).astype(np.int64)
    ends = starts + word_len
    codes, uniques = pd.factorize(pd.Series(words, dtype=object), sort=False)
    spelled = np.asarray([normalise_token(u, lowercase) for u in uniques], dtype=object)
    rows = np.searchsorted(offsets, starts, side="right") - 1
    # a clause break lies between tokens i-1 and i when the gap between them holds one; the
    # distinct gaps are few (" ", ", ", ". " …), so each is tested once
    step = np.ones(n, dtype=np.int64)
    if n > 1:
        gap_codes, distinct_gaps = pd.factorize(pd.Series(gaps[1:n], dtype=object), sort=False)
        breaking = np.fromiter((CLAUSE_BREAK_RE.search(g) is not None for g in distinct_gaps), dtype=bool,
                               count=len(distinct_gaps))
        step[1:] += breaking[gap_codes]
    is_first = np.r_[True, rows[1:] != rows[:-1]] if n else np.zeros(0, dtype=bool)
    row_first = np.maximum.accumulate(np.where(is_first, np.arange(n), 0)) if n else np.zeros(0, dtype=np.int64)
    running = np.cumsum(step)
    return {
        "row": (rows + first_row).astype(np.int64),
        "token": spelled[codes] if n else np.empty(0, dtype=object),
        "start": (starts - offsets[rows]).astype(np.int64),
        "end": (ends - offsets[rows]).astype(np.int64),
        "position": (running - running[row_first]).astype(np.int64),
    }


def token_table(texts: pd.Series, lowercase: bool = True, numbers: bool = True, *, stem: bool = False,
                min_length: int = 1, stopwords=None) -> pd.DataFrame:
    """Tokens of many texts with their filters applied: `row`, `token`, `start`, `end`, `position`.

    `position` numbers ALL words and numbers of a text (before any filter), taking one extra step at
    each clause break (. , ? ! ; : dashes, brackets, transcription notes): consecutive positions mean
    the words stood next to each other in one clause (n-grams and phrases use this).
    Options: `lowercase`; `numbers` (keep number tokens); `min_length` (drop shorter tokens);
    `stopwords` (an iterable of words and phrases, e.g. from `stopword_list`; matched ignoring case,
    phrases removed only as consecutive words); `stem` (Snowball English stems, applied last and
    always lower-case).
    """
    return filter_tokens(_raw_tokens(texts, lowercase), numbers, stem=stem, min_length=min_length,
                         stopwords=stopwords)


def filter_tokens(raw: pd.DataFrame, numbers: bool = True, *, stem: bool = False, min_length: int = 1,
                  stopwords=None) -> pd.DataFrame:
    """The filters of `token_table` applied to an unfiltered token table (rows kept in text order)."""
    if int(min_length) < 1:
        raise ValueError("min_length must be at least 1")
    keep = np.ones(len(raw), dtype=bool)
    if not numbers or min_length > 1:
        # decided once per distinct token, then spread to every occurrence
        codes, uniques = pd.factorize(raw["token"].astype(object), sort=False)
        distinct = pd.Series(uniques, dtype=object)
        ok = np.ones(len(distinct), dtype=bool)
        if not numbers:
            ok &= ~distinct.str.match(r"\d").to_numpy(dtype=bool)
        if min_length > 1:
            ok &= distinct.str.len().to_numpy() >= min_length
        keep &= ok[codes]
    if stopwords:
        keep &= ~stopword_mask(raw, stopwords)
    out = raw.loc[keep].reset_index(drop=True)
    if stem:
        out["token"] = stem_tokens(out["token"])
    return out


def tokenize_series(texts: pd.Series, lowercase: bool = True, numbers: bool = True, *, stem: bool = False,
                    min_length: int = 1, stopwords=None) -> pd.DataFrame:
    """Token table for many texts: `row` (0-based position in `texts`), `token`, `start`, `end`.

    With no keyword options every word and number outside transcription notes is a token; the
    options (stemming, minimum length, stopwords) are those of `token_table`.
    """
    table = token_table(texts, lowercase, numbers, stem=stem, min_length=min_length, stopwords=stopwords)
    return table.drop(columns="position")


def word_counts(texts: pd.Series) -> np.ndarray:
    """Words and numbers of each text (transcription notes and placeholders not counted), in `texts` order."""
    rows = _raw_tokens(texts, lowercase=False)["row"].to_numpy()
    return np.bincount(rows, minlength=len(texts)).astype(np.int64)


def normalise_phrase(entry: str) -> str:
    """A stopword or search phrase in canonical form: lower case, straight apostrophes, single spaces."""
    return " ".join(str(entry).translate(APOSTROPHES).lower().split())


def load_stopwords(path: str | Path | None = None) -> set[str]:
    """Stopwords from a file (one per line, '#' comments); multi-word entries are kept as phrases."""
    path = paths.resolve(path) if path else paths.STOPWORDS
    try:
        content = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{paths.relative(path)}: stopword file not found; create it (one word or phrase "
                         f"per line) or give another file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{paths.relative(path)}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    words = set()
    for line in content.splitlines():
        word = normalise_phrase(line.split("#", 1)[0])
        if word:
            words.add(word)
    return words


def stopword_list(path: str | Path | None = None, add=(), remove=()) -> frozenset[str]:
    """The stopwords of a file (default data/stopwords.txt) plus `add`, minus `remove` (words or phrases)."""
    words = load_stopwords(path) | {normalise_phrase(w) for w in add if normalise_phrase(w)}
    return frozenset(words - {normalise_phrase(w) for w in remove})


def stopword_mask(tokens: pd.DataFrame, stopwords) -> np.ndarray:
    """True for each token that is a stopword or part of a stopword phrase (consecutive, same row).

    `tokens` needs `row` and `token` columns in text order (and uses `position`, when present, to
    keep phrases inside one clause); matching ignores case. Works on integer codes of the distinct
    words, so it stays fast on millions of tokens.
    """
    entries = {normalise_phrase(w) for w in stopwords}
    codes, vocab = _word_codes(tokens["token"])
    index = {w: i for i, w in enumerate(vocab)}
    singles = pd.Index(vocab).isin([w for w in entries if " " not in w])
    mask = singles[codes] if len(codes) else np.zeros(0, dtype=bool)
    rows, positions = tokens["row"].to_numpy(), _positions(tokens)
    for phrase in sorted(w for w in entries if " " in w):
        words = phrase.split()
        if any(w not in index for w in words) or len(codes) < len(words):
            continue
        n, size = len(words), len(codes) - len(words) + 1
        hit = adjacent(rows, positions, n)
        for k, w in enumerate(words):
            hit &= codes[k:k + size] == index[w]
        first = np.flatnonzero(hit)
        for k in range(n):
            mask[first + k] = True
    return mask


def _word_codes(tokens: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code of each token and the distinct tokens, lower-cased with straight apostrophes."""
    codes, uniques = pd.factorize(tokens.astype(object), sort=False)
    vocab = [normalise_phrase(u) for u in uniques]
    if len(set(vocab)) < len(vocab):  # 'Pain' and 'pain' fold into one code
        codes2, vocab_index = pd.factorize(pd.Series(vocab, dtype=object), sort=False)
        return codes2[codes].astype(np.int64), list(vocab_index)
    return codes.astype(np.int64), vocab


def _positions(tokens: pd.DataFrame) -> np.ndarray | None:
    """The `position` column as an array, or None when the table has none."""
    return tokens["position"].to_numpy() if "position" in tokens.columns else None


def adjacent(rows: np.ndarray, positions: np.ndarray | None, n: int) -> np.ndarray:
    """For each i: tokens i..i+n-1 lie in one row (and, with positions, in one clause, side by side)."""
    size = len(rows) - n + 1
    ok = rows[:size] == rows[n - 1:n - 1 + size]
    if positions is not None:
        ok &= positions[n - 1:n - 1 + size] - positions[:size] == n - 1
    return ok


def stem_tokens(tokens: pd.Series) -> pd.Series:
    """Snowball (Porter2) English stems; each distinct token is stemmed once."""
    from nltk.stem.snowball import SnowballStemmer

    stemmer = SnowballStemmer("english")
    values = tokens.astype(object)
    stems = {t: stemmer.stem(t) for t in pd.unique(values)}
    return values.map(stems).astype(object)


def term_regexes(pattern: str) -> list[re.Pattern]:
    """One compiled regular expression per word of a search term (word, wildcard or phrase).

    `*` stands for any letters (also none) and `?` for exactly one, inside one word; words of a
    phrase are separated by spaces. Matching is on lower-cased tokens with straight apostrophes.
    """
    parts = normalise_phrase(pattern).split()
    if not parts:
        raise InputError(f"search term {pattern!r} is empty; give a word, a wildcard like 'pain*' or a phrase")
    allowed = re.compile(r"(?:[^\W_]|['\-.,:*?])+")
    regexes = []
    for part in parts:
        if not allowed.fullmatch(part):
            raise InputError(f"search term {pattern!r}: {part!r} is not a word; use letters, digits, inner "
                             f"hyphens or apostrophes, and * or ? as wildcards")
        body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in part)
        regexes.append(re.compile(body, re.DOTALL))
    return regexes


def match_term(tokens: pd.DataFrame, pattern: str, column: str = "token") -> pd.DataFrame:
    """Where a search term occurs in a token table: `first`, `last` (token indices) of each match.

    A phrase matches consecutive tokens of the same row (and clause, when `tokens` has the
    `position` column of `token_table`). `tokens` is in text order (as
    `token_table` returns it); matching ignores case.
    """
    regexes = term_regexes(pattern)
    n = len(regexes)
    size = len(tokens) - n + 1
    if size <= 0:
        return pd.DataFrame({"first": np.empty(0, dtype=np.int64), "last": np.empty(0, dtype=np.int64)})
    codes, vocab = _word_codes(tokens[column])
    hit = adjacent(tokens["row"].to_numpy(), _positions(tokens), n)
    for k, rx in enumerate(regexes):
        matching = np.fromiter((rx.fullmatch(w) is not None for w in vocab), dtype=bool, count=len(vocab))
        hit &= matching[codes[k:k + size]]
    first = np.flatnonzero(hit).astype(np.int64)
    return pd.DataFrame({"first": first, "last": first + n - 1})
