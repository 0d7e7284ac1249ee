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


CHUNK_CHARS = 1_000_000  # texts are tokenised in slices of about this many characters (bounded memory)

# Character classes of the tokeniser, one byte per code point: the class in the low bits, and
# CLAUSE_BREAK_BIT when the character ends a clause. Filled lazily (ASCII first, then each new
# non-ASCII character once), from the same regular expressions as TOKEN_RE, so both agree.
OTHER, LETTER, DIGIT, WORD_JOINER, NUMBER_JOINER = 0, 1, 2, 3, 4
CLAUSE_BREAK_BIT, UNKNOWN = 8, 255
_LETTER_RE, _DIGIT_RE = re.compile(r"[^\W\d_]"), re.compile(r"\d")
_CHAR_TABLE = np.full(0x110000, UNKNOWN, dtype=np.uint8)


def _char_info(ch: str) -> int:
    """The tokeniser's class of one character (see _CHAR_TABLE)."""
    kind = (LETTER if _LETTER_RE.fullmatch(ch) else DIGIT if _DIGIT_RE.fullmatch(ch)
            else WORD_JOINER if ch in "'’‘ʼ-" else NUMBER_JOINER if ch in ".,:" else OTHER)
    return kind | (CLAUSE_BREAK_BIT if CLAUSE_BREAK_RE.fullmatch(ch) else 0)


def _char_classes(text: str, points: np.ndarray) -> np.ndarray:
    """The _CHAR_TABLE byte of each character of `text` (code points `points`), classifying
    characters not seen before. ASCII goes through bytes.translate (one C pass, no index array);
    the few other characters are looked up one by one."""
    if _CHAR_TABLE[0] == UNKNOWN:
        _CHAR_TABLE[:128] = [_char_info(chr(c)) for c in range(128)]
    ascii_table = bytes(_CHAR_TABLE[:128].tolist()) + bytes(128)
    # one byte per character ('?' stands in for each non-ASCII one, then is overwritten)
    info = np.frombuffer(bytearray(text.encode("ascii", "replace").translate(ascii_table)), dtype=np.uint8)
    wide = np.flatnonzero(points >= 128)
    if len(wide):
        found = points[wide]
        new = np.unique(found)
        new = new[_CHAR_TABLE[new] == UNKNOWN]
        _CHAR_TABLE[new] = [_char_info(chr(c)) for c in new.tolist()]
        info[wide] = _CHAR_TABLE[found]
    return info


def _token_bounds(info: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (code point indices) of each token, from the character classes.

    A word is a run of letters in which single apostrophes or hyphens may stand between two
    letters; a number, a run of digits with single . , : between two digits (as TOKEN_RE).
    """
    kind = info & 7
    padded = np.zeros(len(info) + 2, dtype=np.uint8)  # 1 in a word, 2 in a number, 0 elsewhere
    inner = padded[1:-1]
    np.multiply(kind, kind <= DIGIT, out=inner)  # letters (1) and digits (2) as they are, the rest 0
    for joiner, run in ((WORD_JOINER, 1), (NUMBER_JOINER, 2)):
        at = np.flatnonzero(kind == joiner)  # neighbours of inner[i] are padded[i] and padded[i + 2]
        inner[at[(padded[at] == run) & (padded[at + 2] == run)]] = run
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return change[padded[1:][change] != 0], change[padded[change] != 0]


def _token_codes_in(joined: str, points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer code of each token (joined[starts[i]:ends[i]]) and the distinct tokens, in order of first use.

    The tokens are hashed by pyarrow's dictionary encoding over their UTF-32 bytes (`points`),
    so no Python string is made per token; only the distinct ones are cut from `joined`.
    """
    import pyarrow as pa

    small = 4 * len(points) < 2**31 - 1  # 32-bit offsets suffice
    offsets = np.zeros(2 * len(starts) + 1, dtype=np.int32 if small else np.int64)  # gap, token, gap, token …
    offsets[1::2], offsets[2::2] = 4 * starts, 4 * ends
    kind = pa.binary() if small else pa.large_binary()
    pieces = pa.Array.from_buffers(kind, 2 * len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(points)])
    encoded = pieces.take(pa.array(np.arange(1, 2 * len(starts), 2, dtype=np.int32 if small else np.int64)))
    encoded = encoded.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    running = np.maximum.accumulate(codes) if len(codes) else codes
    first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]]) if len(codes) else codes
    if len(first) != len(encoded.dictionary) or (codes[first] != np.arange(len(first))).any():
        first = np.unique(codes, return_index=True)[1]  # codes not numbered in order of first use
    return codes, [joined[a:b] for a, b in zip(starts[first].tolist(), ends[first].tolist())]


TOKEN_COLUMNS = ["row", "start", "end", "position"]  # the integer columns of a token table, besides `token`


def slice_edges(lengths: np.ndarray, size: int) -> list[int]:
    """Where to cut a run of texts (their `lengths`) into consecutive slices of about `size`
    characters, each text counting one more for a separator: [0, …, len(lengths)]."""
    bounds = np.searchsorted(np.cumsum(lengths + 1), np.arange(size, int(lengths.sum()) + len(lengths) + 1, size),
                             side="right")
    return [0, *sorted(set(int(b) for b in bounds if 0 < b < len(lengths))), len(lengths)]


SPACE_RE = re.compile(r"\s")


def _mask_for_tokens(text: str) -> str:
    """Transcription notes and placeholders replaced by NUL characters (clause breaks), same length."""
    return NOTE_RE.sub(lambda m: "\x00" * (m.end() - m.start()), text)


def _pieces(masked: str) -> list[tuple[int, int]]:
    """(start, end) of the pieces a long masked text is tokenised in, about CHUNK_CHARS apart: each
    piece after the first starts at a white-space character, which no token or note contains."""
    bounds = [0]
    while len(masked) - bounds[-1] > CHUNK_CHARS:
        space = SPACE_RE.search(masked, bounds[-1] + CHUNK_CHARS)
        if space is None:
            break
        bounds.append(space.start())
    return list(zip(bounds, bounds[1:] + [len(masked)]))


def _slices(values: list[str], lengths: np.ndarray):
    """The slices `_raw_tokens` scans, in text order: (first row, texts, offset in the text, masked).

    Runs of texts are grouped into slices of about CHUNK_CHARS characters; a text longer than that is
    masked once and cut into pieces (`_pieces`), each a slice of its own with its offset in the text
    (its entry in `values`, a list of the caller's own, is emptied then)."""
    start = 0
    for long_row in [*np.flatnonzero(lengths > CHUNK_CHARS).tolist(), len(values)]:
        edges = slice_edges(lengths[start:long_row], CHUNK_CHARS) if long_row > start else []
        for a, b in zip(edges[:-1], edges[1:]):
            yield start + a, values[start + a:start + b], 0, False
        if long_row < len(values):
            masked = _mask_for_tokens(values[long_row])
            values[long_row] = ""  # the unmasked copy is not needed any more: one copy of a long text at a time
            for a, b in _pieces(masked):
                yield long_row, [masked[a:b]], a, True
        start = long_row + 1


def _raw_tokens(texts: pd.Series, lowercase: bool) -> pd.DataFrame:
    """Every word and number of every text (notes masked): row, token, start, end, position.

    `token` is categorical (categories: the distinct spellings, sorted). `position` counts tokens
    within the text and takes one extra step at each clause break (punctuation such as . , ? ; :
    or a transcription note between two words). Texts are scanned in slices of about
    CHUNK_CHARS characters, each as one string (joined by line breaks, which no token or note
    crosses), with numpy over the code points: no Python object per token. A longer text is
    scanned in pieces cut at white space (`_slices`), its positions and offsets carried on from
    piece to piece, so memory stays bounded by the slice size plus the table itself.
    """
    values = texts.fillna("").astype(str).tolist()
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    columns = _TokenColumns(int(lengths.sum()) // 4 + 1024)  # about one token per five characters in speech
    slices = []  # (first token, end, vocabulary) of each slice
    carried = {"next": 0, "seen": False, "pending": False}  # within a long text: next position, break pending
    for first_row, group, offset, masked in _slices(values, lengths):
        part = _raw_token_slice(group, lengths[first_row:first_row + len(group)] if not masked
                                else np.array([len(group[0])]), first_row, lowercase, masked)
        if masked:
            if offset == 0:
                carried = {"next": 0, "seen": False, "pending": False}
            _carry_on(part, offset, carried)
        slices.append((*columns.append(part), part["vocab"]))
    # one vocabulary for all slices, sorted, so the categories do not depend on the slicing
    spellings = [w for _, _, spelled in slices for w in spelled]
    global_codes, vocab = pd.factorize(pd.Series(spellings, dtype=object), sort=True)
    global_codes = global_codes.astype(np.int16 if len(vocab) < 2**15 else np.int32)
    local, shift = columns.pop("codes"), 0
    codes = np.empty(columns.size, dtype=global_codes.dtype)
    for a, b, spelled in slices:
        codes[a:b] = global_codes[local[a:b].astype(np.int64) + shift]
        shift += len(spelled)
    del local
    table = pd.DataFrame({name: columns.pop(name) for name in TOKEN_COLUMNS}, copy=False)
    table.insert(1, "token", pd.Categorical.from_codes(codes, categories=pd.Index(vocab, dtype=object)))
    return table


class _TokenColumns:
    """The int32 columns of a token table and the slices' own token codes, filled slice by slice
    into one growing buffer each: no per-slice arrays kept and joined at the end (which holds the
    table twice and leaves the memory in holes)."""

    NAMES = (*TOKEN_COLUMNS, "codes")

    def __init__(self, capacity: int):
        self.buffers = {name: np.empty(capacity, dtype=np.int32) for name in self.NAMES}
        self.size = 0

    def append(self, part: dict) -> tuple[int, int]:
        """Copy one slice's columns in; return its (first, end) token index."""
        n = len(part["row"])
        if self.size + n > len(self.buffers["row"]):
            capacity = max(self.size + n, len(self.buffers["row"]) * 3 // 2)
            for name in self.NAMES:
                grown = np.empty(capacity, dtype=np.int32)
                grown[:self.size] = self.buffers[name][:self.size]
                self.buffers[name] = grown
        for name in self.NAMES:
            self.buffers[name][self.size:self.size + n] = part[name]
        self.size += n
        return self.size - n, self.size

    def pop(self, name: str) -> np.ndarray:
        """One filled column (a view of its buffer; the unused end of the buffer was never touched)."""
        return self.buffers.pop(name)[:self.size]


def _carry_on(part: dict, offset: int, carried: dict) -> None:
    """Make a piece of a long text continue the pieces before it: offsets from the text's start,
    positions on from the last token (one more step when a clause break lies between)."""
    part["start"] += offset
    part["end"] += offset
    if len(part["position"]):
        step = 1 if carried["seen"] and (carried["pending"] or part["lead_break"]) else 0
        part["position"] += carried["next"] + step
        carried.update(next=int(part["position"][-1]) + 1, seen=True, pending=part["trail_break"])
    else:
        carried["pending"] = carried["pending"] or part["lead_break"]


def _raw_token_slice(values: list[str], lengths: np.ndarray, first_row: int, lowercase: bool,
                     masked: bool = False) -> dict:
    """One slice of texts (rows numbered from `first_row`; `masked`: notes already masked) for
    `_raw_tokens`: the columns TOKEN_COLUMNS as int32 arrays, the tokens as `codes` into the slice's
    `vocab`, and whether a clause break stands before its first token (`lead_break`) or after its
    last (`trail_break`)."""
    offsets = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    joined = "\n".join(values)
    text = joined if masked else _mask_for_tokens(joined)
    del joined
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    info = _char_classes(text, points)
    starts, ends = _token_bounds(info)
    codes, spelled = _token_codes_in(text, points, starts, ends)
    del points, text
    # fold spellings that normalise alike ('Pain'/'pain' when lower-casing, curly/straight apostrophes)
    folded, vocab = pd.factorize(pd.Series([normalise_token(w, lowercase) for w in spelled], dtype=object))
    n = len(starts)
    # texts start at `offsets`; each owns the tokens from its first one up to the next text's first
    first_of_text = np.searchsorted(starts, offsets)
    rows = np.repeat(np.arange(len(values), dtype=np.int64), np.diff(np.r_[first_of_text, n]))
    # a clause break lies between tokens i-1 and i when a breaking character (outside any token)
    # stands between them: each such character marks the token after it
    breaks = np.flatnonzero(info & CLAUSE_BREAK_BIT)
    del info
    breaks = breaks[np.searchsorted(ends, breaks, side="right") == np.searchsorted(starts, breaks, side="right")]
    after = np.searchsorted(starts, breaks)
    out = {name: np.empty(n, dtype=np.int32) for name in TOKEN_COLUMNS}  # 32 bits: offsets and counts in one text
    position = out["position"]
    position[:] = 1
    position[after[(after > 0) & (after < n)]] = 2
    np.cumsum(position, out=position)
    position -= position[first_of_text[rows]]
    text_start = offsets[rows]
    np.add(rows, first_row, out=out["row"], casting="unsafe")
    np.subtract(starts, text_start, out=out["start"], casting="unsafe")
    np.subtract(ends, text_start, out=out["end"], casting="unsafe")
    small = np.int16 if len(vocab) < 2**15 else np.int32  # codes into the slice's vocabulary, kept small
    out.update(codes=folded.astype(small)[codes] if n else np.zeros(0, dtype=small), vocab=list(vocab),
               lead_break=bool((after == 0).any()), trail_break=bool((after == n).any()))
    return out


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
    keep = filter_mask(raw, numbers, min_length=min_length, stopwords=stopwords)
    out = raw if keep.all() else raw.loc[keep].reset_index(drop=True)
    if stem:
        out = out.assign(token=stem_tokens(out["token"]))
    return out


def filter_mask(raw: pd.DataFrame, numbers: bool = True, *, min_length: int = 1, stopwords=None) -> np.ndarray:
    """True for each token of an unfiltered token table that the filters of `token_table` keep."""
    codes, _, ok, in_phrase = filter_parts(raw, numbers, min_length=min_length, stopwords=stopwords)
    keep = ok[codes]
    keep[in_phrase] = False
    return keep


def filter_parts(raw: pd.DataFrame, numbers: bool = True, *, min_length: int = 1, stopwords=None):
    """The filters of `token_table` without touching each token: (codes, vocabulary, ok, in_phrase).

    `codes`/`vocabulary` as `token_codes` gives them; `ok` says per distinct token whether it is
    kept (numbers, minimum length, one-word stopwords); `in_phrase` holds the indices of tokens
    removed as part of a stopword phrase. Token i is kept when ok[codes[i]] and i not in in_phrase.
    """
    if int(min_length) < 1:
        raise ValueError("min_length must be at least 1")
    codes, uniques = token_codes(raw["token"])
    ok = np.ones(len(uniques), dtype=bool)
    distinct = pd.Series(uniques, dtype=object)
    if not numbers:
        ok &= ~distinct.str.match(r"\d").to_numpy(dtype=bool)
    if min_length > 1:
        ok &= distinct.str.len().to_numpy() >= min_length
    in_phrase = np.zeros(0, dtype=np.int64)
    if stopwords:
        single, in_phrase = _stopword_hits(raw, codes, uniques, stopwords)
        ok &= ~single
    return codes, uniques, ok, in_phrase


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
    """Stopwords from a file (one per line, '#' comments; none or "" = the built-in English list with spoken
    fillers); multi-word entries are kept as phrases."""
    path = paths.resolve(path) if path else paths.BUILTIN_STOPWORDS
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
    """The stopwords of a file (none or "" = the built-in English list) plus `add`, minus `remove` (words or phrases)."""
    words = load_stopwords(path) | {normalise_phrase(w) for w in add if normalise_phrase(w)}
    return frozenset(words - {normalise_phrase(w) for w in remove})


def stopword_mask(tokens: pd.DataFrame, stopwords) -> np.ndarray:
    """True for each token that is a stopword or part of a stopword phrase (consecutive, same row).

    `tokens` needs `row` and `token` columns in text order (and uses `position`, when present, to
    keep phrases inside one clause); matching ignores case. Works on integer codes of the distinct
    words, so it stays fast on millions of tokens.
    """
    codes, uniques = token_codes(tokens["token"])
    single, in_phrase = _stopword_hits(tokens, codes, uniques, stopwords)
    mask = single[codes]
    mask[in_phrase] = True
    return mask


def _stopword_hits(tokens: pd.DataFrame, codes: np.ndarray, uniques: list, stopwords) -> tuple[np.ndarray, np.ndarray]:
    """For `stopword_mask`: per distinct token (`uniques`, as coded by `codes`) whether it is a
    one-word stopword, and the indices of the tokens that stand in a stopword phrase."""
    entries = {normalise_phrase(w) for w in stopwords}
    spelled = [normalise_phrase(u) for u in uniques]
    single = pd.Index(spelled, dtype=object).isin([w for w in entries if " " not in w])
    none = np.zeros(0, dtype=np.int64)
    # phrases are matched on one code per normalised spelling ('You'/'you' alike)
    folded, vocab = pd.factorize(pd.Series(spelled, dtype=object), sort=False)
    index = {w: i for i, w in enumerate(vocab)}
    phrases = [p.split() for p in sorted(w for w in entries if " " in w)]
    phrases = [words for words in phrases if all(w in index for w in words) and len(words) <= len(codes)]
    if not phrases:
        return single, none
    words_of = folded[codes] if len(vocab) < len(spelled) else codes
    rows, positions = tokens["row"].to_numpy(), _positions(tokens)
    # tokens that may start a phrase: the first word of one, followed by the second word of one
    opens, seconds = np.zeros(len(vocab), dtype=bool), np.zeros(len(vocab), dtype=bool)
    opens[[index[words[0]] for words in phrases]] = True
    seconds[[index[words[1]] for words in phrases]] = True
    candidates = np.flatnonzero(opens[words_of])
    candidates = candidates[candidates < len(words_of) - 1]
    candidates = candidates[seconds[words_of[candidates + 1]]]
    # grouped by their first two words, so each phrase looks only at its own candidates
    pair = words_of[candidates].astype(np.int64) * len(vocab) + words_of[candidates + 1]
    order = np.argsort(pair, kind="stable")
    pair, candidates = pair[order], candidates[order]
    found = [none]
    for words in phrases:
        n = len(words)
        lo, hi = np.searchsorted(pair, [index[words[0]] * len(vocab) + index[words[1]] + d for d in (0, 1)])
        at = candidates[lo:hi]
        at = at[at <= len(codes) - n]
        ok = rows[at] == rows[at + n - 1]
        if positions is not None:
            ok &= positions[at + n - 1] - positions[at] == n - 1
        for k, w in enumerate(words[1:], 1):
            ok &= words_of[at + k] == index[w]
        found.extend(at[ok] + k for k in range(n))
    return single, np.unique(np.concatenate(found))  # a token in two overlapping phrases counts once


def token_codes(tokens: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code of each token and the distinct tokens: the categories of a categorical column
    (as `token_table` returns it, no work; the codes keep its small integer type, so cast them
    before arithmetic), else the tokens factorised in order of first use."""
    if isinstance(tokens.dtype, pd.CategoricalDtype):
        return tokens.cat.codes.to_numpy(), list(tokens.cat.categories)
    codes, uniques = pd.factorize(tokens.astype(object), sort=False)
    return codes.astype(np.int64), list(uniques)


def _word_codes(tokens: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code of each token and the distinct tokens, lower-cased with straight apostrophes."""
    codes, uniques = token_codes(tokens)
    vocab = [normalise_phrase(u) for u in uniques]
    if len(set(vocab)) < len(vocab):  # 'Pain' and 'pain' fold into one code
        codes2, vocab_index = pd.factorize(pd.Series(vocab, dtype=object), sort=False)
        return codes2[codes].astype(np.int64), list(vocab_index)
    return codes, vocab


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
