"""Pseudonymise raw transcripts against a register, and check any folder for leaked identifiers.

`anonymise` replaces every register entry (names, places, organisations, other) and every
pattern identifier (e-mail, UK phone number, UK postcode, NHS number, date of birth, URL) with a
consistent pseudonym such as [NAME-3], writes the copies in the source's own format, the key
(original -> pseudonym) to a file outside the output and outside git, an audit of counts that
holds no original, and a review list of capitalised words the register may have missed.
`leaks` scans text, CSV, JSON, HTML, notebooks, SVG and Word files for the same identifiers.

Numbering is deterministic: register entries are numbered per category in register order,
pattern identifiers in order of first appearance in the sorted source files.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zlib
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Iterator
from zipfile import BadZipFile, ZipFile

import pandas as pd

from . import paths
from .errors import InputError, raise_if
from .limits import ZipReader, check_zip, member_shown

REGISTER_COLUMNS = ["original", "category"]
# Register categories and their pseudonym tags; the pattern categories follow.
REGISTER_TAGS = {"name": "NAME", "place": "PLACE", "organisation": "ORG", "other": "OTHER"}
CATEGORY_ALIASES = {"organization": "organisation", "org": "organisation", "person": "name"}
PATTERN_TAGS = {"email": "EMAIL", "phone": "PHONE", "postcode": "POSTCODE", "nhs": "NHS", "dob": "DOB",
                "url": "URL"}
CATEGORIES = list(REGISTER_TAGS) + list(PATTERN_TAGS)
TAG_CATEGORY = {tag: cat for cat, tag in {**REGISTER_TAGS, **PATTERN_TAGS}.items()}
PSEUDONYM_RE = re.compile(r"\[([A-Z]+)-(\d+)\]")

TEXT_FORMATS = {".txt", ".md", ".markdown", ".srt", ".vtt", ".csv"}  # anonymised as text
DOCX = ".docx"
MARKER = ".anonymised"  # marks an output folder written by `anonymise` (replaced on a re-run)
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
MARKUP_FORMATS = {".html", ".htm", ".svg", ".xml", ".graphml", ".gexf"}
JSON_FORMATS = {".json", ".ipynb", ".geojson"}
NOTEBOOK = ".ipynb"
KNOWN_BINARY = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ico", ".pdf", ".zip",
                ".gz", ".bz2", ".xz", ".7z", ".pkl", ".pickle", ".npy", ".npz", ".mp3", ".wav", ".m4a",
                ".mp4", ".mov", ".doc", ".xls", ".xlsx", ".ppt", ".pptx", ".sqlite", ".db", ".woff",
                ".woff2", ".ttf", ".otf", ".pyc", ".so"}
# Hosts of namespaces and software sites that appear in generated files; never personal.
TECHNICAL_HOSTS = ("w3.org", "purl.org", "creativecommons.org", "openxmlformats.org", "graphdrawing.org",
                   "matplotlib.org", "jupyter.org", "ipython.org", "python.org", "pydata.org", "numpy.org",
                   "scipy.org", "nltk.org", "doi.org", "gexf.net")

# ----------------------------------------------------------------------------- word lists
# Common English words that are often capitalised mid-sentence (or are titles/roles): a name part
# that is one of these is matched only when capitalised, and the review list never proposes them.
COMMON_WORDS = set("""
i i'm i'd i've i'll im ive id ill ok okay oh ah eh mm mhm uh um erm er hmm yeah yes no yep nope
mr mrs ms miss mx dr doctor prof professor sir madam dame lord lady rev reverend nurse sister
mum mom dad mother father nan nana gran granny grandma grandad grandpa auntie aunt uncle son daughter
god jesus christ lord bible church christmas easter ramadan eid diwali new year
monday tuesday wednesday thursday friday saturday sunday weekend
january february march april may june july august september october november december
spring summer autumn winter
english british scottish welsh irish polish indian pakistani african caribbean european asian
britain england scotland wales ireland uk gb europe
interviewer facilitator cofacilitator co-facilitator moderator researcher respondent participant client
speaker person staff patient worker manager boss employer employee team
will may grace hope joy faith rose lily daisy ivy holly dawn summer april june august
bill pat sue mark frank ray rich pearl ruby amber crystal iris violet robin wren heather
brown white black green grey gray young king wood hill rose ford lane stone marsh field
the a an and or but if so then when where what who why how which that this these those there here
is am are was were be been being have has had do does did done can could shall should would must
it its it's he she they we you me him her them us my your his our their mine yours
not yes all any some every each both either neither more most much many few less least
one two three four five six seven eight nine ten first second third last next
good bad great fine well right sure really just also still even only very quite pretty
job work jobs working worker workers benefits benefit jobcentre universal credit pip esa access
health employment support allowance personal independence payment occupational service services
pain clinic hospital surgery practice programme program
internet google facebook twitter instagram whatsapp zoom teams skype youtube email e-mail
covid coronavirus lockdown
""".split())
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "rev", "nurse", "sister"}
NAME_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "la", "le", "st", "bin",
                  "ibn", "al", "el", "mac", "ap", "and", "of", "the"}
ABBREVIATIONS = {"st", "dr", "mr", "mrs", "ms", "prof", "rd", "ave", "ltd", "co", "inc", "plc"}

# ----------------------------------------------------------------------------- patterns
APOS = "['’‘ʼ]"
HYPHEN = "[-‐‑–]"
SEP = r"(?=\s)[^\S\n]*\n?[^\S\n]*"  # between words: spaces, or one line break inside a turn
# Paths and identifiers break into words at underscores, at '.' and '-' before a letter or digit, and
# at camelCase after two lower-case letters (`SarahJenkins`, `NHSEngland`; not `iPhone`), seen in
# Latin letters (ASCII and Latin-1): `Sarah_Jenkins_interviews`, `sarah.jenkins`, `sarah-jenkins`
# all hold the name. A letter right before or after still joins a word: `Painterly` is not `Painter`.
LOWER, UPPER = "a-zß-öø-ÿ", "A-ZÀ-ÖØ-Þ"
CAMEL = rf"(?<=[{LOWER}]{{2}})(?=[{UPPER}])|(?<=[{UPPER}])(?=[{UPPER}][{LOWER}])"
WORD_START = rf"(?:(?<![^\W\d_])|(?-i:{CAMEL}))"
WORD_END = rf"(?:(?![^\W\d_])|(?-i:{CAMEL}))"
BETWEEN_WORDS = rf"(?:{SEP}|_+|[.\-‐‑](?=[^\W_])|(?-i:{CAMEL}))"
SUFFIX = rf"(?P<suffix>(?i:{APOS}s|s{APOS}|es|s|{APOS}))?"  # possessives and plurals
MONTHS = {"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
          "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
          "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12}
MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
ORDINAL = r"(?:st|nd|rd|th)?"
EMAIL_RE = re.compile(r"(?<![\w.+%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
URL_RE = re.compile(
    r"(?<![\w@./-])(?=[fhw])(?:(?:https?|ftp)://|www\.)[^\s<>\"'(){}\[\]|\\^`]+"
    r"|(?<![\w@./:-])(?=[a-z0-9])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"\.(?:co\.uk|org\.uk|ac\.uk|gov\.uk|nhs\.uk|com|org|net|uk)(?![\w-])(?:/[^\s<>\"'(){}\[\]|\\^`]*)?",
    re.IGNORECASE)
NHS_RE = re.compile(r"(?<![\w+/.-])(\d{3})([ \u00a0\u202f-]?)(\d{3})\2(\d{4})(?![\w+/-]|\.\d)")
PHONE_RE = re.compile(
    r"(?<![\w+/.-])(?:\+44[ \u00a0-]?(?:\(0\)[ \u00a0-]?)?|\(0|0)(?P<a>\d{2,4})\)?[ \u00a0\u202f-]?(?P<b>\d{3,4})"
    r"[ \u00a0\u202f-]?(?P<c>\d{3,4})"
    r"(?![\w+/-]|\.\d)")
POSTCODE_RE = re.compile(
    r"(?<![\w+/-])(?P<out>[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|GIR)[^\S\n]?(?P<in>\d[ABD-HJLNP-UW-Z]{2})(?![\w+/-])",
    re.IGNORECASE)
DATE_RES = [
    ("dmy", re.compile(r"(?<![\w+./-])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
                       r"(?![\w/-]|\.\d)")),
    ("iso", re.compile(r"(?<![\w+./-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\w/-]|\.\d)")),
    ("dMy", re.compile(rf"(?<![\w+./-])(?P<d>\d{{1,2}}){ORDINAL}(?:\s+of)?\s+(?P<m>{MONTH}),?\s+(?P<y>\d{{4}})(?!\w)",
                       re.IGNORECASE)),
    ("Mdy", re.compile(rf"(?<![\w+./-])(?=[adfjmnos])(?P<m>{MONTH})\s+(?P<d>\d{{1,2}}){ORDINAL},?\s+(?P<y>\d{{4}})(?!\w)",
                       re.IGNORECASE)),
]
MIN_AGE_YEARS = 16  # a complete date at least this many years ago counts as a date of birth
PRIORITY = {cat: i for i, cat in enumerate(list(REGISTER_TAGS) + ["email", "url", "nhs", "phone", "dob", "postcode"])}


# ----------------------------------------------------------------------------- reader views
# Identifiers are matched in what a reader sees, not in the bytes: text in NFKC with invisible
# characters removed; then once more with inline HTML tags removed, so that highlighted pieces
# join (`Mr <mark>Pain</mark>ter`). Each view keeps the way back to
# offsets of the original text (worked out only when a match needs it), so line numbers and
# replacements land on the text as written. (Paths and identifiers are broken into words by the
# matchers themselves: see BETWEEN_WORDS.)
INVISIBLE = set("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0"
                + "".join(map(chr, range(0xFE00, 0xFE10))))  # default-ignorable, but not format (Cf)
# Elements that style a piece of running text: removed without a trace; any other tag is a space.
INLINE_TAGS = {"a", "abbr", "b", "bdi", "bdo", "big", "c", "cite", "code", "data", "del", "dfn", "em", "font",
               "i", "ins", "kbd", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
               "sup", "time", "tspan", "tt", "u", "var", "wbr"}
TAG = r"<(?P<close>/?)(?P<tag>[A-Za-z][A-Za-z0-9:-]*)(?:[\s.][^<>]{0,2000})?/?>"
TAG_RE = re.compile(TAG)
INLINE_TAG_RE = re.compile(r"</?(?:" + "|".join(sorted(INLINE_TAGS, key=len, reverse=True)) + r")(?=[\s.>/])",
                           re.IGNORECASE)
KEPT_IN_SPAN = re.compile(rf"\r\n|\n|\r|{TAG}")  # what a replacement keeps of the text it replaces


def _invisible(ch: str) -> bool:
    """A character that shows nothing: format characters (soft hyphen, zero-width space, bidi controls …)."""
    return ch in INVISIBLE or unicodedata.category(ch) == "Cf" or 0xE0100 <= ord(ch) <= 0xE01EF


@functools.cache
def _special() -> re.Pattern:
    """Runs of characters that NFKC changes, that join the letter before them, or that show nothing
    (every character beyond the BMP is looked at one by one)."""
    special, start = [], None
    for code in range(0x80, 0x10001):
        ch = chr(code) if code < 0x10000 else ""
        odd = ch != "" and not 0xD800 <= code <= 0xDFFF and (
            _invisible(ch) or unicodedata.combining(ch) or unicodedata.normalize("NFKC", ch) != ch)
        if odd and start is None:
            start = code
        elif not odd and start is not None:
            special.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    return re.compile("[" + "".join(special) + "\U00010000-\U0010ffff]+")


class TextView:
    """A text as matched, and where each of its pieces lies in the original (possibly through another view).

    Pieces are (view offset, original start, original end, exact): an exact piece is a copy, so
    offsets map one to one; any other piece (a replaced character, a removed tag) maps as a whole.
    They are worked out on first use from the edits that made the view: most texts have no match
    to map back."""

    def __init__(self, text: str, size: int, base: "TextView | None" = None, edits=()):
        self.text, self.size, self.base = text, size, base
        self._edits = edits
        self._pieces: list[tuple[int, int, int, bool]] | None = None
        self._offsets: list[int] = []

    @classmethod
    def of(cls, text: str) -> "TextView":
        """The text itself (every offset maps to itself)."""
        return cls(text, len(text))

    def _build(self) -> list[tuple[int, int, int, bool]]:
        pieces, size, pos = [], 0, 0

        def add(length: int, a: int, b: int, exact: bool) -> None:
            nonlocal size
            if length <= 0:
                return
            if exact and pieces and pieces[-1][3] and pieces[-1][2] == a:  # continues the last copy
                pieces[-1] = (pieces[-1][0], pieces[-1][1], b, True)
            else:
                pieces.append((size, a, b, exact))
            size += length

        for a, b, shown in self._edits:
            add(a - pos, pos, a, True)
            for text, pa, pb, exact in shown:
                add(len(text), pa, pb, exact)
            pos = b
        add(self.size - pos, pos, self.size, True)
        return pieces

    def _piece(self, i: int) -> tuple[int, int, int, bool] | None:
        if self._pieces is None:
            self._pieces = self._build()
            self._offsets = [p[0] for p in self._pieces]
        return self._pieces[max(bisect_right(self._offsets, i) - 1, 0)] if self._pieces else None

    def start(self, i: int) -> int:
        """Offset in the original of the view's character at i."""
        return self._original(i, after=False)

    def end(self, j: int) -> int:
        """Offset in the original just after a span of the view that ends (exclusively) at j."""
        return self.start(0) if j <= 0 else self._original(j - 1, after=True)

    def _original(self, i: int, after: bool) -> int:
        """Where the view's character at i lies in the original: its start, or (after) just after it."""
        piece = self._piece(i) if i < len(self.text) else None
        if piece is None:
            local = self.size
        else:
            v, a, b, exact = piece
            local = a + (i - v) + after if exact else (b if after else a)
        if self.base is None:
            return local
        return self.base.end(local) if after else self.base.start(local)


def _edited(source: str, edits: list, base: TextView | None = None) -> TextView | None:
    """A view of `source` with edits applied, or None without edits. Each edit is (start, end, pieces)
    in text order, not overlapping; its pieces (text, start, end, exact) stand for source[start:end]."""
    if not edits:
        return None
    parts, pos = [], 0
    for a, b, shown in edits:
        parts.append(source[pos:a])
        parts.extend(text for text, *_ in shown)
        pos = b
    parts.append(source[pos:])
    return TextView("".join(parts), len(source), base, edits)


def _replaced(source: str, regex: re.Pattern, replacement, base: TextView | None = None) -> TextView | None:
    """_edited with every match of `regex` replaced by replacement(match) (a string)."""
    return _edited(source, [(m.start(), m.end(), [(replacement(m), m.start(), m.end(), False)])
                            for m in regex.finditer(source)], base)


def _normalised(source: str, base: TextView | None = None) -> TextView | None:
    """_edited to NFKC, a letter and its accents at a time, invisible characters removed."""
    edits, done = [], 0
    for m in _special().finditer(source):
        a, b = m.start(), m.end()
        if a > done and unicodedata.combining(source[a]):
            a -= 1  # an accent joins the letter before it
        pieces, i = [], a
        while i < b:
            j = i + 1
            while j < b and unicodedata.combining(source[j]):
                j += 1
            seen = "".join(ch for ch in unicodedata.normalize("NFKC", source[i:j]) if not _invisible(ch))
            pieces.append((seen, i, j, seen == source[i:j]))
            i = j
        edits.append((a, b, pieces))
        done = b
    return _edited(source, edits, base)


def reader_view(text: str, strip_tags: bool = False) -> TextView:
    """What a reader sees of a text: NFKC, invisible characters removed; with `strip_tags`, inline
    HTML tags removed (so `Pain</mark>ter` joins) and any other tag shown as a space."""
    view = _replaced(text, TAG_RE, lambda m: "" if m["tag"].lower() in INLINE_TAGS else " ") if strip_tags else None
    seen = view.text if view else text
    if not seen.isascii():
        view = _normalised(seen, view) or view
    return view or TextView.of(text)


def reader_text(text: str) -> str:
    """The text a reader sees (tags removed): how a finding is shown."""
    return reader_view(text, strip_tags=True).text


# ----------------------------------------------------------------------------- register
def normalise(text: str) -> str:
    """One spelling for comparing identifiers: as a reader sees it (NFKC, no invisible characters),
    apostrophes/hyphens unified, dots dropped, spaces collapsed, casefolded."""
    text = re.sub(APOS, "'", text if text.isascii() else reader_view(text).text)
    text = re.sub(HYPHEN, "-", text).replace(".", "")
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Entry:
    """One identifier the register knows: a register row, or a first-name/surname part of one."""

    original: str
    category: str  # name | place | organisation | other
    pseudonym: str
    line: int  # line of the register CSV it comes from
    part_of: tuple[int, ...] = ()  # register lines of the full names this is a part of (parts only)


@dataclass(frozen=True)
class Match:
    """One identifier found in a text: span (incl. any suffix), category, identity and the text to keep."""

    start: int
    end: int
    category: str
    key: str  # normalised identity: which pseudonym it gets
    text: str  # the identifier as written (without a plural/possessive suffix)
    keep: str = ""  # possessive ending kept after the pseudonym ("'s", "'")


@dataclass
class Register:
    """The validated register with its compiled matchers."""

    path: Path
    entries: list[Entry]
    parts: list[Entry] = field(default_factory=list)
    lookup: dict[str, Entry] = field(default_factory=dict)
    any_case: re.Pattern | None = None
    capitalised: re.Pattern | None = None
    squashed: dict[str, Entry] = field(default_factory=dict)  # letters and digits only -> entry

    def entry(self, matched: str) -> Entry | None:
        """The entry a matched phrase is (`Sarah_Jenkins`, `SarahJenkins` are the entry `Sarah Jenkins`)."""
        return self.lookup.get(normalise(matched)) or self.squashed.get(_squash(matched))


def _squash(phrase: str) -> str:
    """A phrase without anything between its letters: how words joined in an identifier compare."""
    return "".join(ch for ch in normalise(phrase) if ch.isalnum())


def _word_pattern(phrase: str) -> str:
    """Regex for a register phrase: words joined as in text or in identifiers, apostrophe/hyphen
    variants, optional dots."""
    out = []
    for word in phrase.split():
        core = word[:-1] if word.endswith(".") and len(word) > 1 else word
        pat = "".join(APOS if ch in "'’‘ʼ" else HYPHEN if ch in "-‐‑–" else re.escape(ch) for ch in core)
        if word.endswith(".") or core.casefold() in ABBREVIATIONS:
            pat += r"\.?"
        out.append(pat)
    return BETWEEN_WORDS.join(out)


def _compile(phrases: list[str], flags: int) -> re.Pattern | None:
    """One matcher for many phrases: longest first, whole words (also inside identifiers),
    optional plural/possessive suffix.

    A look-ahead on the phrases' first letters lets the scan skip most positions quickly."""
    if not phrases:
        return None
    phrases = [reader_view(p).text for p in phrases]
    alts = sorted({_word_pattern(p) for p in phrases}, key=lambda a: (-len(a), a))
    firsts = set()
    for p in phrases:
        firsts |= set("'’‘ʼ") if p[0] in "'’‘ʼ" else set("-‐‑–") if p[0] in "-‐‑–" else {p[0]}
    if flags & re.IGNORECASE:
        firsts |= {c for f in firsts for c in (f.lower(), f.upper())}
    first = "[" + "".join(re.escape(c) for c in sorted(firsts)) + "]"
    return re.compile(rf"(?={first}){WORD_START}(?P<core>{'|'.join(alts)}){SUFFIX}{WORD_END}", flags)


def name_parts(full_name: str) -> list[str]:
    """First names and surnames of a full name: no titles, particles or initials; hyphenated halves too."""
    words = [w.strip(".,") for w in full_name.split()]
    parts = []
    for w in words:
        if len(w) < 2 or w.casefold() in TITLES or w.casefold() in NAME_PARTICLES:
            continue
        parts.append(w)
        if "-" in w:
            parts.extend(h for h in w.split("-") if len(h) >= 2)
    return parts


def _read_csv_rows(path: Path, shown: str) -> list[tuple[int, dict]]:
    """Rows of a CSV (UTF-8 or Windows-1252, as Excel saves it) with the line each starts on."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return []
        header = [h.strip().lower() for h in header]
        missing = [c for c in REGISTER_COLUMNS if c not in header]
        if missing:
            raise InputError([f"{shown}:1: missing column {c!r}; the register needs the columns "
                              f"original, category (and optionally pseudonym)" for c in missing])
        rows, start = [], reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                rows.append((start, dict(zip(header, [v.strip() for v in values]))))
            start = reader.line_num + 1
        return rows
    except csv.Error as exc:
        raise InputError(f"{shown}:{reader.line_num}: not valid CSV ({exc}); save the register as CSV") from None


def load_register(path: str | Path) -> Register:
    """Read and validate the register CSV (original, category[, pseudonym]); compile its matchers.

    Every problem is reported at once, each naming the file and line. Entries without a pseudonym
    are numbered per category in register order ([NAME-1], [NAME-2] …), skipping numbers that an
    explicit pseudonym already uses."""
    path = paths.resolve(path)
    shown = paths.relative(path)
    if not path.is_file():
        raise InputError(f"{shown}: register file not found; give --register with a CSV of original, category")
    rows = _read_csv_rows(path, shown)
    if not rows:
        raise InputError(f"{shown}: the register is empty; add one row per identifier (columns original, category)")
    problems, seen, valid = [], {}, []
    for line, row in rows:
        original = " ".join(row.get("original", "").split())
        category = row.get("category", "").strip().lower()
        category = CATEGORY_ALIASES.get(category, category)
        pseudonym = row.get("pseudonym", "").strip()
        if not original:
            problems.append(f"{shown}:{line}: empty original; write the identifier to replace, or delete the row")
            continue
        if len(normalise(original)) < 2:
            problems.append(f"{shown}:{line}: original {original!r} is too short to match safely (2+ characters)")
            continue
        if category not in REGISTER_TAGS:
            problems.append(f"{shown}:{line}: category {row.get('category', '')!r} of {original!r} is not one of "
                            f"{', '.join(REGISTER_TAGS)}")
            continue
        key = normalise(original)
        if key in seen:
            problems.append(f"{shown}:{line}: {original!r} is already in the register at line {seen[key]}; "
                            f"keep one row per identifier")
            continue
        seen[key] = line
        valid.append((line, original, category, pseudonym))
    explicit = {p for *_, p in valid if p}
    used = {(m.group(1), int(m.group(2))) for p in explicit for m in [PSEUDONYM_RE.fullmatch(p)] if m}
    counters: Counter = Counter()
    entries = []
    for line, original, category, pseudonym in valid:
        if not pseudonym:
            tag = REGISTER_TAGS[category]
            counters[tag] += 1
            while (tag, counters[tag]) in used:
                counters[tag] += 1
            pseudonym = f"[{tag}-{counters[tag]}]"
        entries.append(Entry(original, category, pseudonym, line))
    if problems:
        raise InputError(problems)
    register = _build_register(path, entries)
    for e in entries:
        if e.pseudonym in explicit:
            for m in register_matches(e.pseudonym, register):
                problems.append(f"{shown}:{e.line}: pseudonym {e.pseudonym!r} contains the identifier {m.text!r}; "
                                f"choose a pseudonym that reveals nothing")
    if problems:
        raise InputError(problems)
    return register


def _build_register(path: Path, entries: list[Entry]) -> Register:
    """Derive first-name/surname parts and compile the two matchers (any case; capitalised only)."""
    lookup = {normalise(e.original): e for e in entries}
    owners: dict[str, list[Entry]] = {}
    spelling: dict[str, str] = {}
    for e in entries:
        if e.category != "name":
            continue
        for part in name_parts(e.original):
            key = normalise(part)
            if key in lookup or key == normalise(e.original):
                continue
            owners.setdefault(key, [])
            if e not in owners[key]:
                owners[key].append(e)
            spelling.setdefault(key, part)
    counters = Counter()
    for e in entries:
        m = PSEUDONYM_RE.fullmatch(e.pseudonym)
        if m:
            counters[m.group(1)] = max(counters[m.group(1)], int(m.group(2)))
    parts = []
    for key, who in owners.items():  # insertion order = register order of the first owner
        pseudonyms = sorted({w.pseudonym for w in who})
        if len(pseudonyms) == 1:
            pseudonym = pseudonyms[0]
        else:  # a first name shared by several people: its own pseudonym, numbered after the register
            counters["NAME"] += 1
            pseudonym = f"[NAME-{counters['NAME']}]"
        parts.append(Entry(spelling[key], "name", pseudonym, who[0].line, tuple(w.line for w in who)))
    for p in parts:
        lookup[normalise(p.original)] = p
    any_case = [e.original for e in entries]
    capitalised = []
    for p in parts:
        if normalise(p.original) in COMMON_WORDS:
            word = p.original
            for variant in {word, word[:1].upper() + word[1:], word[:1].upper() + word[1:].lower(), word.upper()}:
                capitalised.append(variant)
        else:
            any_case.append(p.original)
    squashed: dict[str, Entry] = {}
    for phrase in any_case + capitalised:
        squashed.setdefault(_squash(phrase), lookup[normalise(phrase)])
    return Register(path, entries, parts, lookup, _compile(any_case, re.IGNORECASE), _compile(capitalised, 0),
                    squashed)


# ----------------------------------------------------------------------------- detectors
def nhs_number_valid(digits: str) -> bool:
    """NHS number check: 10 digits, Modulus 11 check digit (weights 10..2) equals the last digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _phone_key(match: re.Match) -> str | None:
    """National form of a UK phone number (0 + 9 or 10 digits, valid leading digit), else None."""
    digits = match["a"] + match["b"] + match["c"]
    if len(digits) not in (9, 10) or digits[0] not in "1235789":
        return None
    return "0" + digits


def _date_key(kind: str, match: re.Match, today: date) -> str | None:
    """ISO form of a complete date at least MIN_AGE_YEARS ago (a likely date of birth), else None."""
    raw_month = match["m"].rstrip(".").lower()
    month = MONTHS.get(raw_month) if not raw_month.isdigit() else int(raw_month)
    year = int(match["y"])
    if len(match["y"]) == 2:
        if kind != "dmy" or match["sep"] != "/":
            return None
        year += 2000 if year <= today.year % 100 else 1900
    try:
        when = date(year, month or 0, int(match["d"]))
    except ValueError:
        return None
    if not 1900 <= when.year <= today.year - MIN_AGE_YEARS:
        return None
    return when.isoformat()


def _url_key(url: str) -> str | None:
    """Normalised URL (no scheme, no www., no trailing slash), or None for technical hosts."""
    key = re.sub(r"^(?:https?|ftp)://", "", url.lower())
    key = key.removeprefix("www.").rstrip("/")
    host = key.split("/", 1)[0].split(":", 1)[0]
    if any(host == h or host.endswith("." + h) for h in TECHNICAL_HOSTS):
        return None
    return key


def pattern_matches(text: str, today: date | None = None) -> list[Match]:
    """Every e-mail, URL, NHS number, UK phone number, date of birth and UK postcode in a text."""
    today = today or date.today()
    found = []
    for m in EMAIL_RE.finditer(text):
        found.append(Match(m.start(), m.end(), "email", m.group().lower(), m.group()))
    for m in URL_RE.finditer(text):
        url = m.group().rstrip(".,;:!?'\"")
        key = _url_key(url)
        if key:
            found.append(Match(m.start(), m.start() + len(url), "url", key, url))
    for m in NHS_RE.finditer(text):
        digits = m.group(1) + m.group(3) + m.group(4)
        if nhs_number_valid(digits):
            found.append(Match(m.start(), m.end(), "nhs", digits, m.group()))
    for m in PHONE_RE.finditer(text):
        key = _phone_key(m)
        if key:
            found.append(Match(m.start(), m.end(), "phone", key, m.group()))
    for kind, regex in DATE_RES:
        for m in regex.finditer(text):
            key = _date_key(kind, m, today)
            if key:
                found.append(Match(m.start(), m.end(), "dob", key, m.group()))
    for m in POSTCODE_RE.finditer(text):
        found.append(Match(m.start(), m.end(), "postcode", (m["out"] + m["in"]).upper(), m.group()))
    return found


def _view_matches(view: TextView, register: Register) -> list[Match]:
    """Register matches in a view, whole words with plural/possessive suffixes, spans in the original."""
    text = view.text
    found = []
    for regex in (register.any_case, register.capitalised):
        if regex is None:
            continue
        for m in regex.finditer(text):
            entry = register.entry(m["core"])
            if entry is None:  # cannot happen: every alternative comes from the lookup
                continue
            if regex is register.capitalised and _sentence_start(text, m.start()):
                continue  # "Will I cope?": a common word opening a sentence; the review list shows it
            suffix = m["suffix"] or ""
            keep = suffix if suffix[:1] in "'’‘ʼ" else (suffix[-1] if suffix[-1:] in "'’‘ʼ" else "")
            found.append(Match(view.start(m.start()), view.end(m.end()), entry.category, normalise(entry.original),
                               m["core"], keep))
    return found


def _outermost(matches: list[Match]) -> list[Match]:
    """Matches in text order, without those lying inside another (one identifier seen in several views)."""
    kept, reach = [], -1
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if m.end > reach:
            kept.append(m)
            reach = m.end
    return kept


def register_matches(text: str, register: Register) -> list[Match]:
    """Every register entry (and name part) in a text as a reader sees it, spans in the text as written.

    Two readings: the text in NFKC without invisible characters, and the same without inline HTML
    tags (`Pain</mark>ter`); in both, paths and identifiers hold words (`Sarah_Jenkins`). A match
    lying inside a longer one is dropped."""
    views = [reader_view(text)]
    if "<" in text and INLINE_TAG_RE.search(text):
        views.append(reader_view(text, strip_tags=True))
    return _outermost([m for view in views for m in _view_matches(view, register)])


def pattern_matches_as_read(text: str, today: date | None = None) -> list[Match]:
    """pattern_matches in the text as a reader sees it (NFKC, no invisible characters), spans in the original."""
    view = reader_view(text)
    return [replace(m, start=view.start(m.start), end=view.end(m.end)) for m in pattern_matches(view.text, today)]


def find_identifiers(text: str, register: Register | None, today: date | None = None) -> list[Match]:
    """Register and pattern identifiers in a text, overlaps resolved (longest first), in text order."""
    candidates = (register_matches(text, register) if register else []) + pattern_matches_as_read(text, today)
    candidates.sort(key=lambda m: (m.start, -(m.end - m.start), PRIORITY[m.category]))
    chosen, end = [], -1
    for m in candidates:
        if m.start >= end:
            chosen.append(m)
            end = m.end
    return chosen


# ----------------------------------------------------------------------------- pseudonymiser
class Pseudonymiser:
    """Replaces identifiers with pseudonyms, numbering pattern identifiers by first appearance."""

    def __init__(self, register: Register, today: date | None = None):
        self.register = register
        self.today = today or date.today()
        self.patterns: dict[tuple[str, str], tuple[str, str]] = {}  # (category, key) -> (pseudonym, first text)
        self.counters: Counter = Counter()
        self.occurrences: Counter = Counter()  # (category, key) -> replacements made

    def pseudonym(self, m: Match) -> str:
        """The pseudonym of a match (register entries fixed; patterns numbered on first sight)."""
        if m.category in REGISTER_TAGS:
            return self.register.lookup[m.key].pseudonym
        ident = (m.category, m.key)
        if ident not in self.patterns:
            tag = PATTERN_TAGS[m.category]
            self.counters[tag] += 1
            self.patterns[ident] = (f"[{tag}-{self.counters[tag]}]", m.text)
        return self.patterns[ident][0]

    def spans(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, replacement, category) for every identifier in a text, in order."""
        out = []
        for m in find_identifiers(text, self.register, self.today):
            pseudonym = self.pseudonym(m)
            self.occurrences[(m.category, m.key)] += 1
            out.append((m.start, m.end, pseudonym + m.keep, m.category))
        return out

    def replace(self, text: str, counts: Counter | None = None) -> str:
        """The text with every identifier replaced; adds replacements per category to `counts`."""
        pieces, pos = [], 0
        for start, end, replacement, category in self.spans(text):
            pieces.append(text[pos:start])
            kept = "".join(k.group() for k in KEPT_IN_SPAN.finditer(text, start, end))  # line count, markup
            pieces.append(replacement + (self.replace(kept, counts) if "<" in kept else kept))  # tags inside too
            pos = end
            if counts is not None:
                counts[category] += 1
        pieces.append(text[pos:])
        return "".join(pieces)

    def key_table(self) -> pd.DataFrame:
        """The key: pseudonym, category, original, source, occurrences (register first, then patterns)."""
        rows = []
        for e in self.register.entries:
            rows.append((e.pseudonym, e.category, e.original, f"register line {e.line}",
                         self.occurrences[(e.category, normalise(e.original))]))
        for p in self.register.parts:
            lines = ", ".join(str(n) for n in p.part_of)
            rows.append((p.pseudonym, p.category, p.original, f"part of the name(s) at register line(s) {lines}",
                         self.occurrences[(p.category, normalise(p.original))]))
        for ident, (pseudonym, first) in self.patterns.items():
            rows.append((pseudonym, ident[0], first, f"{ident[0]} pattern", self.occurrences[ident]))
        return pd.DataFrame(rows, columns=["pseudonym", "category", "original", "source", "occurrences"])


# ----------------------------------------------------------------------------- docx
def _docx_xml_roots(doc) -> list:
    """XML roots of every part of a Word document that holds paragraphs (body, headers, notes …)."""
    from lxml import etree

    roots = []
    for part in doc.part.package.iter_parts():
        element = getattr(part, "element", None)
        if element is not None:
            roots.append((part, element))
        elif str(part.content_type).endswith(("footnotes+xml", "endnotes+xml", "comments+xml")):
            roots.append((part, etree.fromstring(part.blob)))
    return roots


DOCX_PROPERTIES = ("author", "title", "subject", "keywords", "comments", "last_modified_by", "category",
                   "content_status", "identifier", "version")


def _docx_properties(doc) -> list[tuple[str, str]]:
    """(name, value) of the document properties that hold free text and are not empty."""
    values = [(name, getattr(doc.core_properties, name, None)) for name in DOCX_PROPERTIES]
    return [(name, value) for name, value in values if isinstance(value, str) and value]


def _docx_app_parts(doc) -> list:
    """The extended-properties part (Company, Manager …), if the document has one."""
    return [part for part in doc.part.package.iter_parts() if str(part.partname) == "/docProps/app.xml"]


def _docx_paragraph_pieces(root, text_tag: str):
    """Per paragraph (document order): list of (w:t element or None, text); breaks/tabs as None pieces."""
    from docx.oxml.ns import qn

    tags = {qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:tab"): "\t"}
    para = qn("w:p")
    groups: dict = {}
    for el in root.iter(text_tag, *tags):
        parent = el.getparent()
        while parent is not None and parent.tag != para:
            parent = parent.getparent()
        if parent is None:
            continue
        piece = (el, el.text or "") if el.tag == text_tag else (None, tags[el.tag])
        groups.setdefault(parent, []).append(piece)
    return [pieces for pieces in groups.values() if any(el is not None and t for el, t in pieces)]


def _apply_to_pieces(pieces, spans) -> None:
    """Rewrite w:t texts so each span's replacement lands in the piece where the span starts."""
    from docx.oxml.ns import qn

    text = "".join(t for _, t in pieces)
    offset = 0
    for el, t in pieces:
        a, b = offset, offset + len(t)
        offset = b
        if el is None:
            continue
        out, pos = [], a
        for s, e, rep, _ in spans:
            if e <= a or s >= b:
                continue
            if s > pos:
                out.append(text[pos:s])
            if s >= a:
                out.append(rep)
            pos = max(pos, min(e, b))
        if pos < b:
            out.append(text[pos:b])
        new = "".join(out)
        if new != t:
            el.text = new
            if new != new.strip():
                el.set(qn("xml:space"), "preserve")


def pseudonymise_docx(src: Path, dst: Path, pseudonymiser: Pseudonymiser, counts: Counter) -> list[str]:
    """Write a pseudonymised copy of a .docx (paragraphs, tables, headers, notes, properties); return its lines."""
    import docx
    from docx.oxml.ns import qn
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    doc = docx.Document(str(src))
    lines = []
    for part, root in _docx_xml_roots(doc):
        changed = False
        for text_tag in (qn("w:t"), qn("w:delText")):
            for pieces in _docx_paragraph_pieces(root, text_tag):
                text = "".join(t for _, t in pieces)
                spans = pseudonymiser.spans(text)
                for *_, category in spans:
                    counts[category] += 1
                if spans:
                    _apply_to_pieces(pieces, spans)
                    changed = True
                if text_tag == qn("w:t"):
                    lines.append("".join(t if el is None else el.text or "" for el, t in pieces))
        if changed and not hasattr(part, "element"):
            from lxml import etree

            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    for name, value in _docx_properties(doc):
        setattr(doc.core_properties, name, pseudonymiser.replace(value, counts))
    for part in _docx_app_parts(doc):
        part._blob = pseudonymiser.replace(part.blob.decode("utf-8", errors="replace"), counts).encode("utf-8")
    package_rels = doc.part.package.rels
    for rid in [rid for rid, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
        del package_rels[rid]  # a picture of the first page would show the originals
    doc.save(str(dst))
    return lines


def docx_lines(source) -> list[str]:
    """Text of a .docx (a path or a file object, e.g. a .qdpx member) for scanning: one line per paragraph
    (all parts, deleted text too) and properties."""
    import docx
    from docx.oxml.ns import qn

    doc = docx.Document(str(source) if isinstance(source, (str, Path)) else source)
    lines = []
    for part, root in _docx_xml_roots(doc):
        for text_tag in (qn("w:t"), qn("w:delText")):
            for pieces in _docx_paragraph_pieces(root, text_tag):
                lines.append("".join(" " if el is None else t for el, t in pieces))
    lines.extend(value for _, value in _docx_properties(doc))
    for part in _docx_app_parts(doc):
        lines.extend(re.sub(r"<[^>]*>", " ", part.blob.decode("utf-8", errors="replace")).splitlines())
    return lines


# ----------------------------------------------------------------------------- review list
SENTENCE_END = set(".!?:;…>")  # before a sentence start ('>' ends a VTT voice tag or the cue arrow)
OPENERS = set("\"“”‘'([{*_#-–— \t\r\n")  # skipped when looking back for the previous word
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")


def _sentence_start(text: str, start: int) -> bool:
    """True when the word at `start` opens the text, a paragraph, a sentence, a labelled turn or a cue."""
    i, newlines, quoted = start - 1, 0, False
    while i >= 0 and text[i] in OPENERS:
        newlines += text[i] == "\n"
        quoted = quoted or text[i] in "\"“"
        i -= 1
    if i < 0 or newlines >= 2:
        return True
    if text[i] in SENTENCE_END or (newlines and text[i].isdigit()):  # after a timing or cue number
        return True
    line_start = text.rfind("\n", 0, i + 1) + 1
    before = text[line_start:i + 1].strip()
    if text[i] == "," and not newlines and (quoted or re.fullmatch(r"[^\s,]*,", before)):
        return True  # a quotation after a comma, or a CSV cell after a one-word first cell (H01,Text)
    return not newlines and bool(re.fullmatch(r"[A-Z]{1,4}\d{0,2}", before))  # after initials as a label


def review_candidates(text: str, stopwords: set[str] | None = None,
                      ambiguous: set[str] | None = None) -> list[tuple[int, str, str]]:
    """Likely names the register missed: (line, word, context) for capitalised words not at a sentence start.

    Skipped: words in COMMON_WORDS or the stopwords, all-capital acronyms, pseudonyms and notes
    in square brackets. Kept even so: a capitalised word used as a speaker label (`Word:` at a line
    start), and a name part that is also a common word (`ambiguous`, e.g. Will) at a sentence start."""
    from .text import mask_notes

    ambiguous = ambiguous or set()
    stop = COMMON_WORDS | (stopwords or set())
    masked = mask_notes(text)
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", masked)]
    out = []
    for m in WORD_RE.finditer(masked):
        word = m.group()
        bare = re.sub(r"['’]s$", "", word)
        if word[0].isupper() and normalise(bare) in ambiguous and _sentence_start(masked, m.start()):
            out.append(_candidate(text, masked, line_starts, m.start(), bare))
            continue
        singular = bare[:-1] if bare.endswith("s") else bare
        if not word[0].isupper() or len(bare) < 2 or bare.isupper() or singular.isupper():
            continue  # lower case, an initial, or an acronym (GP, GPs, NHS)
        if {normalise(bare), normalise(singular)} & stop:
            continue
        line_start = line_starts[bisect_right(line_starts, m.start()) - 1]
        is_label = masked[line_start:m.start()].strip() == "" and masked[m.end():m.end() + 1] == ":"
        if _sentence_start(masked, m.start()) and not is_label:
            continue
        out.append(_candidate(text, masked, line_starts, m.start(), bare))
    return out


def _candidate(text: str, masked: str, line_starts: list[int], start: int, word: str) -> tuple[int, str, str]:
    """(line, word, up to 40 characters of context either side) for the review list."""
    line_no = bisect_right(line_starts, start)
    line_start = line_starts[line_no - 1]
    line_end = masked.find("\n", start)
    line_text = text[line_start:line_end if line_end >= 0 else len(text)]
    col = start - line_start
    return line_no, word, line_text[max(0, col - 40):col + len(word) + 40].strip()


# ----------------------------------------------------------------------------- locations and files
def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def check_private_location(file: Path, label: str, out_dir: Path, src: Path) -> list[str]:
    """Problems with where an identifiable file (key, review list) would go: outside DIR and outside git."""
    problems = []
    shown = paths.relative(file)
    if _is_within(file, out_dir):
        problems.append(f"{label} {shown}: lies inside the output folder {paths.relative(out_dir)}; "
                        f"write it somewhere outside it (e.g. a secure folder outside the repository)")
        return problems
    if file.exists() and file.is_dir():
        problems.append(f"{label} {shown}: is a folder; give a file name")
        return problems
    folder = file.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None:  # no git: refuse anything inside the project except data/raw/
        if _is_within(file, paths.ROOT) and not _is_within(file, paths.RAW):
            problems.append(f"{label} {shown}: lies inside the project; write it outside the repository")
        return problems
    if top.returncode != 0:
        return problems  # not inside any git repository
    root = Path(top.stdout.strip())
    rel = file.resolve().relative_to(root.resolve()).as_posix()
    tracked = _git(["ls-files", "--error-unmatch", "--", rel], root)
    if tracked is not None and tracked.returncode == 0:
        problems.append(f"{label} {shown}: is a file tracked by git; write it outside the repository")
        return problems
    ignored = _git(["check-ignore", "-q", "--no-index", "--", rel], root)
    if ignored is None or ignored.returncode != 0:
        problems.append(f"{label} {shown}: lies inside the git repository {root} and is not git-ignored, so it "
                        f"could be committed; write it outside the repository (or in data/raw/)")
    return problems


def source_files(src: Path, exclude: set[Path]) -> tuple[list[Path], list[Path]]:
    """(files to anonymise, files skipped as not a transcript format) under SRC, sorted by relative path."""
    if src.is_file():
        candidates = [src]
    else:
        candidates = []
        for folder, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
            candidates.extend(Path(folder) / f for f in files if not f.startswith((".", "~$")))
    candidates = [p for p in candidates if p.resolve() not in exclude]
    base = src.parent if src.is_file() else src
    candidates.sort(key=lambda p: p.relative_to(base).as_posix())
    keep = [p for p in candidates if p.suffix.lower() in TEXT_FORMATS or p.suffix.lower() == DOCX]
    skipped = [p for p in candidates if p not in keep]
    return keep, skipped


def _default_companion(key: Path, prefix: str) -> Path:
    """review-KEY / audit-KEY next to the key (keeps the key's suffix, e.g. *.key.csv stays ignored)."""
    return key.with_name(f"{prefix}-{key.name}")


# ----------------------------------------------------------------------------- anonymise
@dataclass
class AnonymiseResult:
    """What `anonymise` wrote: the output folder, the key, review list and audit paths, and the tables."""

    out_dir: Path
    key: Path
    review: Path
    audit: Path
    audit_table: pd.DataFrame
    review_table: pd.DataFrame
    skipped: list[str]


def _check_targets(src: Path, register, out_dir: Path, key: Path, review: Path, audit: Path,
                   audit_default: bool) -> tuple[Register | None, list[str]]:
    """The register, and every problem with the source, output folder and private files, at once."""
    problems = []
    if not src.exists():
        problems.append(f"{paths.relative(src)}: no such file or folder; give the folder of raw transcripts")
    reg = register if isinstance(register, Register) else None
    if reg is None:
        try:
            reg = load_register(register)
        except InputError as exc:
            problems.extend(exc.problems)
    if src.exists():
        if out_dir.resolve() == src.resolve() or _is_within(out_dir, src):
            problems.append(f"--out {paths.relative(out_dir)}: lies inside the source {paths.relative(src)}; "
                            f"write the anonymised copies to a separate folder")
        elif _is_within(src, out_dir):
            problems.append(f"--out {paths.relative(out_dir)}: contains the source {paths.relative(src)}; "
                            f"write the anonymised copies to a separate folder")
    if out_dir.exists() and not out_dir.is_dir():
        problems.append(f"--out {paths.relative(out_dir)}: is a file; give a folder")
    elif out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        problems.append(f"--out {paths.relative(out_dir)}: exists and was not written by anonymise; "
                        f"give a new folder (or empty this one)")
    key_problems = check_private_location(key, "--key", out_dir, src)
    problems += key_problems
    if review != key and not key_problems:
        problems += check_private_location(review, "review list", out_dir, src)
    if _is_within(audit, out_dir) and not (audit_default and key_problems):
        problems.append(f"audit {paths.relative(audit)}: lies inside the output folder; write it elsewhere")
    if len({key.resolve(), review.resolve(), audit.resolve()}) < 3:
        problems.append("--key, --review and --audit must be three different files")
    return reg, problems


def _output_names(files: list[Path], base: Path, pseudo: Pseudonymiser) -> dict[str, Path]:
    """Pseudonymised relative output path -> source file (a file may be named after a person)."""
    outputs: dict[str, Path] = {}
    problems = []
    for f in files:
        new_rel = Path(*[pseudo.replace(part) for part in f.relative_to(base).parts]).as_posix()
        if new_rel in outputs:
            problems.append(f"{paths.relative(f)}: would be written as {new_rel}, like "
                            f"{paths.relative(outputs[new_rel])}; rename one of them")
        outputs[new_rel] = f
    if problems:
        raise InputError(problems)
    return outputs


def _pseudonymise_file(src: Path, dst: Path, pseudo: Pseudonymiser, counts: Counter, stopwords: set[str],
                       ambiguous: set[str]) -> list[tuple[int, str, str]]:
    """Write the pseudonymised copy of one file; return its review candidates (line, word, context)."""
    from docx.opc.exceptions import PackageNotFoundError

    from .transcripts import decode

    shown = paths.relative(src)
    if src.suffix.lower() == DOCX:
        try:
            check_docx_zip(src, shown)
            lines = pseudonymise_docx(src, dst, pseudo, counts)
        except (BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
            raise InputError(f"{shown}: cannot read as a Word .docx file ({type(exc).__name__}); "
                             f"save it from Word as .docx, or export it as .txt") from None
        return [(i + 1, w, c) for i, line in enumerate(lines) for _, w, c in review_candidates(line, stopwords, ambiguous)]
    new_text = pseudo.replace(decode(src.read_bytes(), shown), counts)
    with open(dst, "w", encoding="utf-8", newline="") as fh:
        fh.write(new_text)
    return review_candidates(new_text, stopwords, ambiguous)


def _audit_table(rows: list[dict]) -> pd.DataFrame:
    """Replacements per file and category, review candidates per file, and a TOTAL row (no identifiers)."""
    columns = ["file", *CATEGORIES, "total", "review_candidates"]
    table = pd.DataFrame(rows, columns=columns)
    total = {"file": "TOTAL", **{c: int(table[c].sum()) for c in columns[1:]}}
    return pd.concat([table, pd.DataFrame([total], columns=columns)], ignore_index=True)


def _review_table(rows: list[dict]) -> pd.DataFrame:
    """Review candidates sorted by word, file and line, with each word's count over all files."""
    rows = sorted(rows, key=lambda r: (r["candidate"].casefold(), r["candidate"], r["file"], r["line"]))
    per_word = Counter(r["candidate"].casefold() for r in rows)
    return pd.DataFrame([{**r, "count": per_word[r["candidate"].casefold()]} for r in rows],
                        columns=["candidate", "count", "file", "line", "context"])


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put a finished staging folder in place of the output folder (renames only)."""
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def anonymise(src: str | Path, register: str | Path | Register, out_dir: str | Path, key: str | Path,
              review: str | Path | None = None, audit: str | Path | None = None,
              today: date | None = None) -> AnonymiseResult:
    """Pseudonymise every transcript under SRC into DIR (atomically), write key, review list and audit.

    Nothing is written when any input is bad: every problem is raised at once as an InputError."""
    src, out_dir, key = paths.resolve(src), paths.resolve(out_dir), paths.resolve(key)
    review = paths.resolve(review) if review else _default_companion(key, "review")
    audit_default = not audit
    audit = paths.resolve(audit) if audit else _default_companion(key, "audit")
    reg, problems = _check_targets(src, register, out_dir, key, review, audit, audit_default)
    if problems:
        raise InputError(problems)
    files, skipped = source_files(src, {key.resolve(), review.resolve(), audit.resolve()})
    if not files:
        raise InputError(f"{paths.relative(src)}: no transcripts (txt, md, docx, vtt, srt or csv) to anonymise")
    from .text import load_stopwords

    try:
        stopwords = load_stopwords()
    except OSError:
        stopwords = set()
    pseudo = Pseudonymiser(reg, today)
    ambiguous = {normalise(p.original) for p in reg.parts if normalise(p.original) in COMMON_WORDS}
    outputs = _output_names(files, src.parent if src.is_file() else src, pseudo)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    audit_rows, review_rows = [], []
    try:
        for new_rel, f in outputs.items():
            counts: Counter = Counter()
            dst = staging / new_rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                candidates = _pseudonymise_file(f, dst, pseudo, counts, stopwords, ambiguous)
            except InputError as exc:  # carry on, to report every bad file at once
                problems.extend(exc.problems)
                continue
            audit_rows.append({"file": new_rel, **{c: counts.get(c, 0) for c in CATEGORIES},
                               "total": sum(counts.values()), "review_candidates": len(candidates)})
            review_rows.extend({"candidate": w, "file": new_rel, "line": n, "context": c} for n, w, c in candidates)
        if problems:
            raise InputError(problems)
        (staging / MARKER).write_text("Written by `python -m helpers anonymise`; replaced as a whole on a re-run.\n",
                                      encoding="utf-8")
        audit_table, review_table = _audit_table(audit_rows), _review_table(review_rows)
        paths.atomic_write(key, pseudo.key_table().to_csv(index=False, lineterminator="\n"))
        paths.atomic_write(review, review_table.to_csv(index=False, lineterminator="\n"))
        paths.atomic_write(audit, audit_table.to_csv(index=False, lineterminator="\n"))
        _swap_in(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return AnonymiseResult(out_dir, key, review, audit, audit_table, review_table,
                           [paths.relative(p) for p in skipped])


# ----------------------------------------------------------------------------- bounded reading
# Archives (.docx, .qdpx) are checked and read within the zip limits of helpers.limits, the same as the
# transcript and REFI-QDA readers; a text file or table is read whole for scanning up to SCAN_MAX_BYTES.
SCAN_MAX_BYTES = 100 * 2**20  # one text file or table read whole for scanning


def check_docx_zip(source: Path | io.BytesIO, shown: str) -> None:
    """Refuse a .docx before python-docx opens it: Document() unpacks every member, so the archive must pass
    limits.check_zip with every member read (one InputError naming the file and member). A file that is not a
    zip raises BadZipFile (or OSError, ValueError) for the caller to word."""
    size = source.stat().st_size if isinstance(source, Path) else source.getbuffer().nbytes
    with ZipFile(source) as archive:
        check_zip(archive, shown, size, every_member_read=True)


def _parquet_text(path: Path, shown: str) -> str:
    """A Parquet table as CSV text, after checking its stated unpacked size."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > SCAN_MAX_BYTES:
        raise InputError(f"{shown}: table of {size:,} bytes unpacked, over the limit of {SCAN_MAX_BYTES:,} "
                         f"for scanning; not read")
    return pd.read_parquet(path).to_csv(index=False)


# ----------------------------------------------------------------------------- leaks
FINDING_COLUMNS = ["file", "line", "category", "text"]  # line 0: in the file's (or member's) name
JSON_STRING_EDGES = re.compile(r'^\s*"|(?<!\\)"\s*,?\s*$')
JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{100,}={0,2}")  # embedded images: never text
BLANKED_BLOCKS = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
QDPX = ".qdpx"  # a REFI-QDA project: a zip of project.qde (XML) and the source texts


def _json_unescape(line: str) -> str:
    """Undo JSON string escapes inside a line (\\n becomes a space so line numbers hold)."""
    def one(m: re.Match) -> str:
        s = m.group(1)
        if s[0] == "u":
            ch = chr(int(s[1:], 16))
            return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch
        return {"n": " ", "t": " ", "r": " ", "b": " ", "f": " "}.get(s, s)
    return JSON_ESCAPE.sub(one, line)


def _blank(match: re.Match) -> str:
    """Blank a markup block for the pattern detectors (comments keep their text: SVG text lives there)."""
    block = match.group()
    if block.startswith("<!--"):
        return "    " + block[4:-3] + "   "
    if "\n" not in block:
        return " " * len(block)
    return "\n".join(" " * len(line) for line in block.split("\n"))


def text_views(data: bytes, suffix: str, shown: str) -> tuple[str, str] | None:
    """(text for register matching, text for pattern detectors) of a file's bytes, with the same
    lines, or None if the bytes are not text.

    JSON/notebooks are un-escaped and markup un-entitied line by line; in markup and notebooks (whose
    outputs hold HTML, e.g. the tables' script bundle), tags, scripts and styles are blanked for the
    pattern detectors (URLs of namespaces and licences, CSS numbers)."""
    if len(data) > SCAN_MAX_BYTES:
        raise InputError(f"{shown}: {len(data):,} bytes, over the limit of {SCAN_MAX_BYTES:,} for scanning; not read")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if not data.strip():
        return "", ""
    try:  # generated files are UTF-8: the fast path; anything else goes through the transcript decoder
        text = unicodedata.normalize("NFC", data.decode("utf-8"))
    except UnicodeDecodeError:
        from .transcripts import decode

        try:
            text = decode(data, shown)
        except InputError:
            return None
    lines = text.splitlines()
    if suffix in JSON_FORMATS:  # strings of a list (a notebook's lines) join up: quotes and commas blanked
        lines = [_json_unescape(JSON_STRING_EDGES.sub(lambda m: " " * len(m.group()), line)) for line in lines]
    if suffix in JSON_FORMATS or suffix in MARKUP_FORMATS:
        lines = [html.unescape(line) for line in lines]
    full = BASE64_RUN.sub(lambda m: " " * len(m.group()), "\n".join(lines))
    if suffix in MARKUP_FORMATS or suffix == NOTEBOOK:  # a notebook's HTML outputs are markup too
        return full, BLANKED_BLOCKS.sub(_blank, full)
    return full, full


def _docx_views(source, shown: str) -> tuple[str, str]:
    """The views of a Word document (a path or file object): one line per paragraph, then properties."""
    from docx.opc.exceptions import PackageNotFoundError

    try:
        check_docx_zip(source, shown)
        text = "\n".join(docx_lines(source))
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{shown}: cannot be read as a Word .docx file ({type(exc).__name__}); not scanned") from None
    return text, text


def file_views(path: Path) -> tuple[str, str] | None:
    """text_views of a file, or None if it is not text. A .docx gives one line per paragraph, a
    Parquet table its CSV text. A file too big or damaged to read is an InputError (one line)."""
    suffix, shown = path.suffix.lower(), paths.relative(path)
    if suffix == DOCX:
        return _docx_views(path, shown)
    if suffix == ".parquet":
        try:
            text = _parquet_text(path, shown)
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{shown}: cannot be read as a Parquet table ({type(exc).__name__}); "
                             f"not scanned") from None
        return text, text
    if suffix in KNOWN_BINARY:
        return None
    if path.stat().st_size > SCAN_MAX_BYTES:
        raise InputError(f"{shown}: {path.stat().st_size:,} bytes, over the limit of {SCAN_MAX_BYTES:,} "
                         f"for scanning; not read")
    return text_views(path.read_bytes(), suffix, shown)


def _qdpx_units(path: Path, shown: str) -> Iterator[tuple[str, str, tuple[str, str] | None]]:
    """(FILE!MEMBER, member name, views) of every member of a .qdpx, one at a time: project.qde as
    XML, the sources as text or Word; other members (images, PDF) have no views."""
    try:
        size = path.stat().st_size
        archive = ZipFile(path)
    except (BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{shown}: cannot be read as a .qdpx (zip) file ({type(exc).__name__}); not scanned") from None
    with archive:
        reader = ZipReader(archive, shown, size)
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            where = member_shown(shown, info.filename)
            suffix = PurePosixPath(info.filename).suffix.lower()
            if suffix in KNOWN_BINARY:
                yield where, info.filename, None
                continue
            try:
                data = reader.read(info)
            except (OSError, ValueError, EOFError, zlib.error, BadZipFile, RuntimeError) as exc:  # damaged, encrypted
                raise InputError(f"{where}: cannot be unpacked ({type(exc).__name__}); not scanned") from None
            if suffix == DOCX:
                views = _docx_views(io.BytesIO(data), where)
            else:
                views = text_views(data, ".xml" if suffix == ".qde" else suffix, where)
            yield where, info.filename, views


def file_units(path: Path) -> Iterator[tuple[str, str, tuple[str, str] | None]]:
    """What a scan reads of one file, one at a time: (name shown, member name, views or None if not
    text) for each member of a .qdpx, or for the file itself (member name ""). An unreadable file
    raises an InputError naming it (and the member)."""
    shown = paths.relative(path)
    try:
        if path.suffix.lower() == QDPX:
            yield from _qdpx_units(path, shown)
        else:
            yield shown, "", file_views(path)
    except OSError as exc:
        raise InputError(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__}); not scanned") from None


def _compact(view: TextView) -> TextView:
    """The view with blank gaps and line ends squeezed to one newline (no pattern spans a gap); a gap
    at the start, or right after another, vanishes."""
    text = view.text
    return _replaced(text, GAP, lambda m: "\n" if m.start() > 0 and not text[m.start() - 1].isspace() else "",
                     view) or view


GAP = re.compile(r"[^\S\n]{8,}|\s*\n\s*")  # long blank runs (blanked markup, base64) and line ends


def scan_text(text: str, register: Register | None, patterns_text: str | None = None,
              today: date | None = None) -> list[tuple[int, str, str]]:
    """(line, category, identifier as a reader sees it) for every identifier in a text."""
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    found = []
    if register is not None:
        for m in register_matches(text, register):
            found.append((m.start, m.category, reader_text(text[m.start:m.end])))
    view = _compact(reader_view(text if patterns_text is None else patterns_text))
    for m in pattern_matches(view.text, today):
        found.append((view.start(m.start), m.category, m.text))
    return [(bisect_right(starts, pos), cat, " ".join(matched.split())) for pos, cat, matched in found]


@dataclass
class LeakScan:
    """What a scan found. `problems`: one line per file that could not be read (not scanned)."""

    findings: pd.DataFrame  # FINDING_COLUMNS, sorted
    scanned: int  # files read (a .qdpx counts once)
    skipped: list[Path]  # not text (images, binaries)
    leaking: list[Path]  # files with a finding in their text, a member or their name
    unreadable: list[Path]
    problems: list[str]


def _target_files(targets) -> list[tuple[Path, str]]:
    """(file, its path below the target folder) of every file under the targets, sorted."""
    files, problems = {}, []
    for target in targets:
        p = paths.resolve(target)
        if p.is_file():
            files.setdefault(p, p.name)
        elif p.is_dir():
            for folder, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for n in names:
                    f = Path(folder) / n
                    files.setdefault(f, f.relative_to(p).as_posix())
        else:
            problems.append(f"{paths.relative(p)}: no such file or folder")
    if problems:
        raise InputError(problems)
    return sorted(files.items(), key=lambda item: item[0].as_posix())


def scan_files(targets, register: Register | None, today: date | None = None) -> LeakScan:
    """Scan files and folders for register entries and pattern identifiers: the texts, the members
    of .qdpx exports, and the names of files (below each folder) and members."""
    rows, scanned, skipped, leaking, unreadable, problems = [], 0, [], [], [], []
    for f, below in _target_files(targets):
        shown = paths.relative(f)
        found = [(shown, 0, c, t) for _, c, t in scan_text(below, register, today=today)]
        try:
            text = True
            for where, member, views in file_units(f):
                if member:
                    found += [(where, 0, c, t) for _, c, t in scan_text(member, register, today=today)]
                if views is not None:
                    full, for_patterns = views
                    found += [(where, line, c, t) for line, c, t in scan_text(full, register, for_patterns, today)]
                elif not member:
                    text = False
                    skipped.append(f)
            scanned += text
        except InputError as exc:
            unreadable.append(f)
            problems.extend(exc.problems)
        if found:
            leaking.append(f)
            rows.extend(found)
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS).drop_duplicates()
    df = df.sort_values(["file", "line", "category", "text"], kind="stable").reset_index(drop=True)
    return LeakScan(df, scanned, skipped, leaking, unreadable, problems)


def finding_place(file: str, line: int) -> str:
    """Where a finding is: FILE:LINE, or `FILE (name)` for one in the file's own name."""
    return f"{file} (name)" if line == 0 else f"{file}:{line}"


def check_outputs(register_path: str | Path, folders, out=None, err=None) -> list[Path]:
    """The run's leak guard: the sorted files under FOLDERS that hold an identifier from the register
    or the patterns, in their text, a .qdpx member or their name, or that could not be read (not
    scanned, so not known to be safe); [] when every output is clean. The paths are the folders
    given (made absolute) joined with the path below them.

    Prints one line per finding on err (`leak: FILE:LINE: CATEGORY`, never the identifier)."""
    out, err = out or sys.stdout, err or sys.stderr
    register = load_register(register_path)
    existing = [f for f in folders if Path(f).exists()]
    scan = scan_files(existing, register)
    bad = sorted(set(scan.leaking) | set(scan.unreadable), key=lambda p: p.as_posix())
    if not bad:
        print(f"Leak check: no identifiers from the register or patterns in {scan.scanned} output file(s)", file=out)
        return []
    for row in scan.findings.itertuples():
        print(f"leak: {finding_place(row.file, row.line)}: {row.category}", file=err)
    for problem in scan.problems:
        print(f"leak: {problem} (so it is treated as leaking)", file=err)
    print(f"error: {len(scan.findings)} identifier(s) from the register or patterns found in the outputs"
          + (f", {len(scan.unreadable)} output file(s) could not be scanned" if scan.unreadable else "")
          + f"; those {len(bad)} output file(s) are withheld (deleted, not published); the lines above name "
          "file, line and category: fix the input data or the register and run again", file=err)
    return bad


# ----------------------------------------------------------------------------- command line
def _cmd_anonymise(args) -> int:
    result = anonymise(args.src, args.register, args.out, args.key, args.review, args.audit)
    for skipped in result.skipped:
        print(f"warning: {skipped}: not a transcript format (txt, md, docx, vtt, srt, csv); not copied",
              file=sys.stderr)
    table = result.audit_table
    shown = table.loc[:, ["file", *[c for c in CATEGORIES if table[c].sum() > 0], "total", "review_candidates"]]
    print(shown.to_string(index=False))
    n_review = len(result.review_table)
    print(f"\nAnonymised {len(table) - 1} file(s) -> {paths.relative(result.out_dir)}")
    print(f"Key (keep it safe, never share): {paths.relative(result.key)}")
    print(f"Audit (no identifiers): {paths.relative(result.audit)}")
    print(f"Review list: {n_review} capitalised word(s) that may be names the register missed "
          f"({result.review_table['candidate'].str.casefold().nunique() if n_review else 0} distinct) -> "
          f"{paths.relative(result.review)}; add real identifiers to the register and re-run")
    return 0


def _cmd_leaks(args) -> int:
    register = load_register(args.register)
    scan = scan_files(args.paths, register)
    if scan.skipped:
        kinds = Counter(p.suffix.lower() or "(no extension)" for p in scan.skipped)
        print(f"skipped {len(scan.skipped)} file(s) that are not text: "
              + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    findings = scan.findings
    for row in findings.itertuples():
        print(f"{finding_place(row.file, row.line)}: {row.category}: {row.text}")
    if not findings.empty:
        print(f"{len(findings)} identifier(s) found in {len(scan.leaking)} of "
              f"{scan.scanned + len(scan.skipped) + len(scan.unreadable)} file(s).", file=sys.stderr)
    raise_if(scan.problems)  # a file that could not be read is not known to be clean: exit 2
    if findings.empty:
        print(f"No identifiers found in {scan.scanned} file(s).")
        return 0
    return 1


def add_commands(sub) -> None:
    """Register `anonymise` and `leaks` on the command line."""
    p = sub.add_parser("anonymise", help="pseudonymise raw transcripts with a register; write key, audit, review list")
    p.add_argument("src", type=Path, help="raw transcript file or folder (txt, md, docx, vtt, srt, csv)")
    p.add_argument("--register", required=True, type=Path, help="CSV: original, category[, pseudonym]")
    p.add_argument("--out", required=True, type=Path, help="folder for the pseudonymised copies (replaced whole)")
    p.add_argument("--key", required=True, type=Path, help="key file (original -> pseudonym), outside DIR and git")
    p.add_argument("--review", type=Path, default=None, help="review list of likely missed names "
                   "(default: review-KEYNAME next to the key)")
    p.add_argument("--audit", type=Path, default=None, help="audit of replacement counts "
                   "(default: audit-KEYNAME next to the key)")
    p.set_defaults(func=_cmd_anonymise)
    q = sub.add_parser("leaks", help="exit 1 and list every register entry or pattern identifier found under PATH")
    q.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders to scan")
    q.add_argument("--register", required=True, type=Path, help="CSV: original, category[, pseudonym]")
    q.set_defaults(func=_cmd_leaks)
