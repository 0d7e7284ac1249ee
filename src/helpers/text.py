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

# Words: letters with inner apostrophes or hyphens (can't, flare-ups, O'Neill); numbers separately.
WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*"
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


def tokenize_series(texts: pd.Series, lowercase: bool = True, numbers: bool = True) -> pd.DataFrame:
    """Token table for many texts: `row` (0-based position in `texts`), `token`, `start`, `end`."""
    rows, toks, starts, ends = [], [], [], []
    for i, text in enumerate(texts.fillna("").astype(str).tolist()):
        for tok, s, e in token_spans(text, lowercase, numbers):
            rows.append(i)
            toks.append(tok)
            starts.append(s)
            ends.append(e)
    return pd.DataFrame({
        "row": np.asarray(rows, dtype=np.int64),
        "token": pd.Series(toks, dtype=object),
        "start": np.asarray(starts, dtype=np.int64),
        "end": np.asarray(ends, dtype=np.int64),
    })


def load_stopwords(path: str | Path | None = None) -> set[str]:
    """Stopwords from a file (one per line, '#' comments); multi-word entries are kept as phrases."""
    path = paths.resolve(path) if path else paths.STOPWORDS
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip().lower().translate(APOSTROPHES)
        if word:
            words.add(word)
    return words
