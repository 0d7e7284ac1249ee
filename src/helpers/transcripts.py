"""Read transcripts in every common format into raw turns (txt/md, docx, vtt, srt, csv).

A reader turns one source file into `Transcript` objects: an id, the file's metadata, the turns in
order (each with the speaker label exactly as written, whitespace normalised, a timestamp in seconds
or None, the spoken text and the 1-based line where it starts), and what was read as not speech.
Speaker resolution against participants.csv happens in helpers.corpus.

A text transcript (txt, md, a docx's paragraphs, a CSV document cell) is read top to bottom:

- Front matter, not speech: YAML front matter (`---` … `---`); a preamble ending in a marker line
  (`# BEGIN TRANSCRIPT`, `BEGIN TRANSCRIPT`, `--- transcript ---`, any case): every line up to and
  including the marker goes to `preamble`; then a legend of two or more `AB - Full Name` lines, ended
  by a blank line (initials: 1-4 letters from a capital, `AMi`, optionally digits; not a word like `Ann`).
- A label starts a turn: `Name:` (capitalised words, optionally `, MORE` and a `(note)`: `MEL, TYPING:`,
  `Dr Smith (GP):`), with a timestamp or in bold; a legend's initials (`AB text`, `AB: text`,
  `AB - text`); a bullet with a parenthesised code (`* (R *T* g): text`, speaker `R *T* g`).
  A lower-case `word:` / `word N:` is a label when the word is a role word (interviewer, interviewee,
  participant, respondent, facilitator, moderator, researcher, speaker) or starts two or more lines;
  `Name - text` is a label when Name is in the legend or starts two or more lines that way.
  Any other label-like line, and a short capitalised line ending in ':' alone ('Initial steps:'), is
  *doubtful*: kept as speech, listed in `doubtful`, and warned about.
- Headings are not speech: Markdown headings (`#` … `######`), and a `Name:` line with nothing after
  the colon whose label starts no other line, in a file where another label starts three or more lines
  and most labels have speech after them on the same line. They go to `headings` (warned about when
  inside the transcript); they do not end a turn.
- Every other non-blank line continues the current turn. Lines before the first label are a first
  turn with an empty speaker (unattributed, with a warning), never dropped. A file without labels is
  one speaker's paragraphs.

Nothing is lost: every non-blank line is front matter, a heading, a label or part of exactly one
turn's text. Bytes are UTF-8, UTF-16 or Windows-1252; a file mixing UTF-8 and Windows-1252 lines is decoded
line by line, with one warning naming those lines. Every entry of a folder that is not read (hidden, an
unsupported extension, a broken link or link loop, a subfolder) is an IngestWarning `FILE: skipped: REASON`,
except the names the user excludes; an unreadable file is one InputError. A .docx is read from its text parts
only, within the zip limits of helpers.limits. A malformed timestamp is a warning (the turn is kept without one). Non-fatal problems
are kept per transcript in `warnings` (file:line messages in line order) and emitted as IngestWarning
by `read_transcripts`; errors are raised together as one InputError, one line each, naming the file
and line and what to do. CSV files use standard quoting with the delimiter of their header line (see
`read_csv` for order columns, duplicate rows and wide files).
"""

from __future__ import annotations

import csv
import errno
import fnmatch
import functools
import html
import io
import re
import stat
import unicodedata
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from . import paths
from .errors import InputError
from .limits import ZipReader, check_no_dtd, dtd_refused, load_yaml

TURN_COLUMNS = ["transcript_id", "turn", "speaker", "participant_id", "role", "group",
                "timestamp", "text", "source", "line"]
FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".vtt": "vtt",
           ".srt": "srt", ".csv": "csv"}
# Interviewer labels; "Interviewer N" stands for the label followed by a number (Interviewer 2, Interviewer2).
DEFAULT_INTERVIEWER_LABELS = ("Interviewer", "Interviewer N", "INT", "I", "Q", "Researcher",
                              "Facilitator", "Co-facilitator", "Moderator")
# Lower-case labels taken even when used once ('interviewer:', 'participant 3:').
ROLE_WORDS = ("interviewer", "interviewee", "participant", "respondent", "facilitator", "moderator",
              "researcher", "speaker")
CSV_COLUMN_NAMES = {
    "text": ("text", "utterance", "utterance_text", "answer", "transcript", "content"),
    "speaker": ("speaker", "interlocutor", "role", "speaker_label", "name"),
    "transcript": ("transcript_id", "doc_id", "document_id", "transcript", "interview_id"),
    "time": ("timestamp", "time", "start", "start_time"),
}
CSV_ORDER_NAMES = ("turn", "order", "utterance_id", "seq", "index")  # checked for duplicates, not re-sorted by
CSV_DELIMITERS = (",", ";", "\t")
WIDE_QUESTION_SPEAKER, WIDE_ANSWER_SPEAKER = "Q", "Respondent"

# ----------------------------------------------------------------------------- patterns
# A name: starts with a capital letter, up to four words, each further word capitalised or a number.
NAME = r"[A-Z\u00C0-\u00DE][\w.'’\-]{0,40}(?:[ \t]+[A-Z0-9\u00C0-\u00DE][\w.'’\-]{0,40}){0,3}"
# A label as written: a name, optionally ', ANOTHER NAME' and a short '(note)': MEL, TYPING / Dr Smith (GP).
LABEL_NAME = rf"{NAME}(?:,[ \t]*{NAME})?(?:[ \t]*\([^()\n]{{1,30}}\))?"
TS_CANDIDATE = r"\d{1,3}[:.][\w:.,]*"  # anything time-like; checked strictly by parse_timestamp
AFTER = r"(?::(?=\s|$))\s*(?P<rest>.*)$"  # colon followed by a space or the end of line, then speech
LABEL_PATTERNS = [
    re.compile(rf"^\*\*(?P<name>{LABEL_NAME})\s*:\s*\*\*\s*(?P<rest>.*)$"),          # **Name:** text
    re.compile(rf"^\*\*(?P<name>{LABEL_NAME})\s*\*\*\s*{AFTER}"),                    # **Name**: text
    re.compile(rf"^\[(?P<ts>{TS_CANDIDATE})\]\s*(?P<name>{LABEL_NAME})\s*{AFTER}"),  # [00:01:23] Name: text
    re.compile(rf"^\(?(?P<ts>{TS_CANDIDATE})\)?\s+(?P<name>{LABEL_NAME})\s*{AFTER}"),  # 00:01:23 Name: text
    re.compile(rf"^(?P<name>{NAME})\s*[\[(](?P<ts>{TS_CANDIDATE})[\])]\s*{AFTER}"),  # Name [00:01:23]: text
    re.compile(rf"^(?P<name>{LABEL_NAME})\s*{AFTER}"),                               # Name: text
]
BULLET_LABEL = re.compile(r"^[*\-•+][ \t]*\((?P<name>[^()\n]{1,40})\)[ \t]*:\s*(?P<rest>.*)$")  # * (code): text
BULLET_UNOPENED = re.compile(r"^[*\-•+][ \t]*(?P<name>[^()\n:]{1,30}\))[ \t]*:")  # * code): text
LOWER_LABEL = re.compile(r"^(?P<name>[a-z\u00DF-\u00FF][\w.'’\-]{0,40}(?:[ \t]*\d{1,3})?)[ \t]*:(?=\s|$)\s*(?P<rest>.*)$")
DASH_LABEL = re.compile(r"^(?P<name>[A-Z\u00C0-\u00DE][\w.'’\-]{0,40}(?:[ \t]+\w[\w.'’\-]{0,40}){0,2})"
                        r"[ \t]+[-–—][ \t]+(?P<rest>\S.*)$")  # Name - text
MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+\S")
COLON_LINE = re.compile(r"^[A-Z\u00C0-\u00DE][\w.'’\-]*(?:[ \t]+[\w.'’\-]+){0,3}[ \t]*:$")  # 'Initial steps:' alone
PREAMBLE_END = re.compile(r"^(?:#{1,6}[ \t]*)?(?:begin[ \t]+transcript|(?:-{3,}|={3,})[ \t]*(?:begin[ \t]+)?"
                          r"transcript[ \t]*(?:-{3,}|={3,}))[ \t]*:?$", re.IGNORECASE)
PREAMBLE_WORD = re.compile("transcript", re.IGNORECASE)
# The only non-ASCII characters that IGNORECASE matches with an ASCII letter or that lower() makes one (İ ı ſ K):
# without them, PREAMBLE_WORD finds the word exactly when the lower-cased text holds it (a faster test).
IGNORECASE_ODD = "\u0130\u0131\u017f\u212a"
LEGEND_LINE = re.compile(r"^(?P<initials>(?![A-Z][a-z]{2,}\b)[A-Z][A-Za-z]{0,3}\d{0,2})\s*[-–—=]\s*(?P<who>\S.*)$")
TIME_RE = re.compile(r"^(?:(?P<h>\d{1,3}):)?(?P<m>\d{1,3}):(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,6}))?$")
VTT_TIMING = re.compile(r"^(?P<start>\S+)\s+-->\s+(?P<end>\S+)(?:\s+.*)?$")
VOICE_TAG = re.compile(r"<v(?:\.[\w.\-]+)?\s+(?P<name>[^>]+)>")
ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")
CUE_LABEL = re.compile(rf"^(?P<name>{LABEL_NAME})\s*{AFTER}")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
SUPPORTED = "txt, md, docx, vtt, srt or csv"
HIDDEN = "hidden or temporary file"
HIDDEN_LISTED = 3  # more hidden or temporary files than this in one folder are warned about in one line
HEADER_LINES_WARN = 3  # more paragraphs than this before a docx transcript table: warn that speech may be outside it
HEADING_LABEL_USES = 3  # a one-off 'Name:' line with nothing after it is a heading when another label is used this often


class IngestWarning(UserWarning):
    """A problem that does not stop ingestion (an unknown speaker allowed by the user, a doubtful line)."""


@dataclass
class Transcript:
    """One transcript as read from its source, before speaker resolution."""

    transcript_id: str
    source: str
    turns: list[dict] = field(default_factory=list)  # speaker, timestamp, text, line
    metadata: dict = field(default_factory=dict)  # YAML front matter (or CSV/document properties); "preamble": its title
    legend: dict[str, str] = field(default_factory=dict)  # initials -> who, from a legend at the top
    header: list[tuple[int, str]] = field(default_factory=list)  # not-speech lines before the first turn (headings, notes)
    labelled: bool = True  # False when the source has no speaker labels at all (one speaker)
    format: str = "txt"
    warnings: list[str] = field(default_factory=list)  # non-fatal problems (file:line messages), in line order
    doubtful: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason): label-like speech
    headings: list[tuple[int, str]] = field(default_factory=list)  # heading lines (not speech), anywhere
    preamble: list[tuple[int, str]] = field(default_factory=list)  # non-blank lines up to a BEGIN TRANSCRIPT marker
    encoding: str = ""  # what the bytes were decoded as (utf-8, utf-8-sig, utf-16, utf-16-le/-be, cp1252,
    #                     utf-8+cp1252: UTF-8 with some Windows-1252 lines); "" for docx


# ----------------------------------------------------------------------------- small parts
WHITESPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=65536)  # a transcript uses few labels, each on many lines
def label_key(label: str) -> str:
    """How labels are compared: case-folded, NFC, whitespace removed ('Interviewer 2' == 'interviewer2')."""
    return WHITESPACE.sub("", unicodedata.normalize("NFC", str(label)).casefold())


def _spaces(text: str) -> str:
    """Runs of whitespace as one space, trimmed."""
    return WHITESPACE.sub(" ", text).strip()


_label_name = functools.lru_cache(maxsize=65536)(_spaces)  # a speaker label as written, spaces tidied


# Which kinds of line can start with a character: each label pattern is tried only on lines whose first
# character it can match (the same result as trying them all, without the failing attempts).
LEADS = {"star": re.compile(r"\*"), "bracket": re.compile(r"\["), "time": re.compile(r"[(\d]"),
         "name": re.compile(r"[A-Z\u00C0-\u00DE]"), "bullet": re.compile(r"[*\-•+]"),
         "lower": re.compile(r"[a-z\u00DF-\u00FF]"), "hash": re.compile("#")}
LABEL_PATTERN_LEADS = ["star", "star", "bracket", "time", "name", "name"]  # first character of each LABEL_PATTERNS


@functools.lru_cache(maxsize=None)
def _leads(first: str) -> frozenset[str]:
    """The LEADS a line's first character belongs to."""
    return frozenset(name for name, rx in LEADS.items() if rx.match(first))


def parse_timestamp(value: str) -> float:
    """Seconds from 'hh:mm:ss', 'mm:ss' or either with a fraction ('00:01:02.5', '00:01:02,500')."""
    m = TIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    hours = int(m["h"]) if m["h"] else 0
    minutes, seconds = int(m["m"]), int(m["s"])
    if seconds > 59 or (m["h"] and minutes > 59):
        raise ValueError(value)
    fraction = float("0." + m["f"]) if m["f"] else 0.0
    return hours * 3600 + minutes * 60 + seconds + fraction


def _bad_time(shown: str, line: int, value: str) -> str:
    return (f"{shown}:{line}: malformed timestamp {value!r}, kept without a timestamp; write hh:mm:ss or mm:ss "
            f"(optionally with a fraction, e.g. 00:01:23.5)")


def _seconds(stamp: str | None, shown: str, line: int, notes: list[tuple[int, str]],
             numeric: bool = False) -> float | None:
    """Seconds of a turn's timestamp, None when it has none or it is malformed (then a warning goes to `notes`).
    `numeric`: plain seconds ('83.5') are read too."""
    if not stamp:
        return None
    try:
        return parse_timestamp(stamp)
    except ValueError:
        pass
    if numeric:
        try:
            return float(stamp)
        except ValueError:
            pass
    notes.append((line, _bad_time(shown, line, stamp)))
    return None


def _in_line_order(notes: list[tuple[int, str]]) -> list[str]:
    """Warning messages sorted by line (stable)."""
    return [msg for _, msg in sorted(notes, key=lambda n: n[0])]


# control characters other than tab and line/page breaks: a few are tolerated, many mean binary data
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")
CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])  # the same, as bytes

def _line_of_offset(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset (LF, CRLF or CR line ends)."""
    head = data[:offset]
    return head.count(b"\n") + head.replace(b"\r\n", b"\n").count(b"\r") + 1


def read_file_bytes(path: Path, shown: str) -> bytes:
    """The bytes of a file; one InputError naming it when it cannot be read (permissions, a folder, I/O)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(shown, exc) from None


def unreadable(shown: str, exc: OSError) -> InputError:
    """The one-line error for a file that cannot be read (permissions, a folder in its place, I/O)."""
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{shown}: a folder, not a file; name the files or the folder holding them")
    return InputError(f"{shown}: cannot read the file ({exc.strerror or type(exc).__name__}); check that you may "
                      f"read it (its permissions) or copy it here again")


def _undecodable(data: bytes, shown: str, first_line: int = 1) -> InputError | None:
    """The error for bytes that Windows-1252 leaves undefined, naming the line of the first (None when none)."""
    bad = sorted(set(data) & CP1252_UNDEFINED)
    if not bad:
        return None
    pos = min(data.index(bytes([b])) for b in bad)
    return InputError(f"{shown}:{first_line + _line_of_offset(data, pos) - 1}: undecodable byte 0x{data[pos]:02X} "
                      f"(not UTF-8, UTF-16 or Windows-1252); re-save the file as UTF-8")


def _decode_utf8_or_cp1252(data: bytes, shown: str) -> tuple[str, str, list[str]]:
    """Bytes that are not UTF-8 as a whole -> (text, encoding, warnings). Lines are decoded one by one: a file
    whose non-ASCII lines are all Windows-1252 is read as cp1252; one mixing UTF-8 lines with Windows-1252 lines
    (two programs wrote it) keeps each line's own encoding, with one warning naming those lines."""
    lines = data.splitlines(keepends=True)  # LF, CRLF and CR, as split_lines counts them
    utf8 = [line.isascii() or _is_utf8(line) for line in lines]
    if not any(ok and not line.isascii() for ok, line in zip(utf8, lines)):
        error = _undecodable(data, shown)
        if error:
            raise error from None
        return data.decode("cp1252"), "cp1252", []
    parts, others = [], []
    for number, (line, ok) in enumerate(zip(lines, utf8), start=1):
        if ok:
            parts.append(line.decode("utf-8"))
            continue
        error = _undecodable(line, shown, number)
        if error:
            raise error from None
        parts.append(line.decode("cp1252"))
        others.append(number)
    shown_lines = ", ".join(map(str, others[:5])) + (", …" if len(others) > 5 else "")
    note = (f"{shown}:{others[0]}: {len(others)} line(s) are not UTF-8 (line {shown_lines}) and were read as "
            f"Windows-1252, the other lines as UTF-8; check those lines and re-save the file as UTF-8")
    return "".join(parts), "utf-8+cp1252", [note]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def decode_with_encoding(data: bytes, shown: str) -> tuple[str, str, list[str]]:
    """Bytes -> (text, encoding used, warnings): UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern),
    Windows-1252, or UTF-8 with some Windows-1252 lines (each line decoded as what it is, with a warning naming
    them); text in NFC. Encoding names: utf-8, utf-8-sig, utf-16, utf-16-le, utf-16-be, cp1252, utf-8+cp1252."""
    if not data or data.isspace():  # (not .strip(): no copy of a huge file)
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    encoding, body, used, notes = None, data, "", []
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, body, used = "utf-8", data[3:], "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data:
        even, odd = data[0::2].count(0), data[1::2].count(0)
        half = max(len(data) // 2, 1)
        if odd > 0.3 * half and even == 0:
            encoding = "utf-16-le"
        elif even > 0.3 * half and odd == 0:
            encoding = "utf-16-be"
        else:
            raise InputError(f"{shown}: binary file, not a transcript; give a {SUPPORTED} file")
    if encoding:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{shown}:{_line_of_offset(body, exc.start)}: undecodable bytes for "
                             f"{encoding.upper()}; re-save the file as UTF-8") from None
        used = used or encoding
    else:
        try:
            text, used = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, used, notes = _decode_utf8_or_cp1252(data, shown)
    if used in ("utf-8", "utf-8-sig"):  # an ASCII byte in UTF-8 is always that character: count the bytes
        controls = len(body) - len(body.translate(None, CONTROL_BYTES))
    else:
        controls = len(CONTROL_CHARS.findall(text))
    if "\x00" in text or controls > max(3, len(text) // 100):
        raise InputError(f"{shown}: binary file, not a transcript; give a {SUPPORTED} file")
    text = unicodedata.normalize("NFC", text)
    if not text or text.isspace():
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    return text, used, notes


def decode(data: bytes, shown: str) -> str:
    """Bytes -> text (see `decode_with_encoding`, which also says which encoding was used)."""
    return decode_with_encoding(data, shown)[0]


def split_lines(text: str) -> list[str]:
    """Lines of a text with LF, CRLF or CR line ends (no other characters split a line)."""
    lines = LINE_BREAK.split(text) if "\r" in text else text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def front_matter(lines: list[str], shown: str) -> tuple[dict, int]:
    """YAML front matter ('---' … '---' at the top) -> (mapping, number of lines it takes)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise InputError(f"{shown}:1: YAML front matter is not closed; end it with a line '---'")
    try:
        meta = load_yaml("\n".join(lines[1:end]), f"{shown}:1: YAML front matter") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{shown}:{mark.line + 2}" if mark is not None else f"{shown}:1"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{at}: YAML front matter: {problem}; fix the YAML between the '---' lines") from None
    if not isinstance(meta, dict):
        raise InputError(f"{shown}:1: YAML front matter must be 'key: value' lines")
    return meta, end + 1


def read_preamble(numbered: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], int]:
    """A preamble ending in a marker line ('# BEGIN TRANSCRIPT') -> (its non-blank lines, lines used)."""
    joined = "\n".join([t for _, t in numbered])
    if not (PREAMBLE_WORD.search(joined) if any(c in joined for c in IGNORECASE_ODD)
            else "transcript" in joined.lower()):  # every marker holds the word
        return [], 0
    for i, (_, text) in enumerate(numbered):
        if PREAMBLE_END.match(text.strip()):
            return [(n, t.strip()) for n, t in numbered[:i + 1] if t.strip()], i + 1
    return [], 0


def preamble_title(preamble: list[tuple[int, str]]) -> str:
    """What a preamble is: its first Markdown heading, else its first line (the marker when it is alone)."""
    body = preamble[:-1] or preamble
    heading = next((t for _, t in body if MARKDOWN_HEADING.match(t)), None)
    return (heading or body[0][1]).lstrip("#").strip()


def read_legend(numbered: list[tuple[int, str]]) -> tuple[dict[str, str], int]:
    """An initials legend at the top ('AB - Full Name' lines, two or more, ended by a blank line or any
    other line) -> (initials -> who, lines used)."""
    legend, used = {}, 0
    for i, (_, line) in enumerate(numbered):
        if not line.strip():
            if legend:
                break
            continue
        m = LEGEND_LINE.match(line.strip())
        if not m:
            break
        legend[m["initials"]] = m["who"].strip()
        used = i + 1
    return (legend, used) if len(legend) >= 2 else ({}, 0)


@functools.lru_cache(maxsize=32)
def _legend_label(initials: tuple[str, ...]) -> re.Pattern:
    """A line starting with one of a legend's initials (longest first), then a colon, a dash, a space or nothing."""
    return re.compile(r"^(?P<name>" + "|".join(map(re.escape, sorted(initials, key=len, reverse=True)))
                      + r")(?:\s*:(?=\s|$)|\s+[-–—](?=\s|$)|(?=\s)|$)\s*(?P<rest>.*)$")


def _label(stripped: str, legend: dict[str, str] | None) -> tuple[str, str | None, str, str] | None:
    """(speaker, timestamp text or None, rest, kind) of a line that is certainly a label; kind is
    'legend', 'bullet' or 'colon'."""
    if legend:
        m = _legend_label(tuple(legend)).match(stripped)
        if m:
            return m["name"], None, m["rest"], "legend"
    for pattern, kind, timed in _label_tries(stripped[:1]):
        m = pattern.match(stripped)
        if m:
            return _label_name(m["name"]), m["ts"] if timed else None, m["rest"], kind
    return None


@functools.lru_cache(maxsize=None)
def _label_tries(first: str) -> tuple[tuple[re.Pattern, str, bool], ...]:
    """(pattern, kind, has a timestamp group) of the label patterns, in order, that a line starting with `first`
    can match: the bullet label, then LABEL_PATTERNS."""
    leads = _leads(first)
    tries = [(BULLET_LABEL, "bullet", False)] if "bullet" in leads else []
    return tuple(tries + [(rx, "colon", "ts" in rx.groupindex)
                          for rx, lead in zip(LABEL_PATTERNS, LABEL_PATTERN_LEADS) if lead in leads])


# ----------------------------------------------------------------------------- labelled lines -> turns
def classify_lines(numbered: list[tuple[int, str]], legend: dict[str, str] | None = None) -> list[tuple]:
    """What each line is, given the whole file: ('blank',), ('heading', text), ('speech',),
    ('label', speaker, timestamp text, rest, kind) or ('doubtful', label as written, reason, what to do)."""
    legend = legend or {}
    kinds: list[tuple] = []
    for _, text in numbered:
        s = text.strip()
        if not s:
            kinds.append(("blank",))
            continue
        leads = _leads(s[0])
        if "hash" in leads and MARKDOWN_HEADING.match(s):
            kinds.append(("heading", s))
        elif found := _label(s, legend):
            kinds.append(("label", *found))
        elif "lower" in leads and (m := LOWER_LABEL.match(s)):
            kinds.append(("lower", _label_name(m["name"]), m["rest"]))
        elif "name" in leads and (m := DASH_LABEL.match(s)):
            kinds.append(("dash", _label_name(m["name"]), m["rest"]))
        elif "bullet" in leads and (m := BULLET_UNOPENED.match(s)):
            kinds.append(("doubtful", m["name"] + ":", "a bullet whose role code has no opening '('",
                          "write it as '* (CODE): …' if it is a quote"))
        elif "name" in leads and COLON_LINE.match(s):
            kinds.append(("doubtful", s, "a short line ending in ':' with nothing after it (a heading?)",
                          "make it a Markdown heading ('# …') if it is one, or write the speaker's label"))
        else:
            kinds.append(("speech",))
    uses = Counter((k[0], label_key(k[1])) for k in kinds if k[0] in ("lower", "dash"))
    in_legend = {label_key(x) for x in (*legend, *legend.values())}
    for i, k in enumerate(kinds):
        if k[0] == "lower":
            key = label_key(k[1])
            if re.sub(r"\d+$", "", key) in ROLE_WORDS or uses["lower", key] >= 2:
                kinds[i] = ("label", k[1], None, k[2], "colon")
            else:
                kinds[i] = ("doubtful", k[1] + ":", f"lower-case {k[1]!r} is not a role word ({', '.join(ROLE_WORDS)}) "
                            f"and starts no other line", f"if it is a speaker, write the label as '{k[1].capitalize()}:'")
        elif k[0] == "dash":
            key = label_key(k[1])
            if key in in_legend or uses["dash", key] >= 2:
                kinds[i] = ("label", k[1], None, k[2], "dash")
            else:
                kinds[i] = ("doubtful", k[1] + " -", "a 'Name - text' line whose name is not in a legend and starts "
                            "no other line", f"if it is a speaker, write '{k[1]}: …' or list them in a legend at the top")
    _labels_to_headings(kinds)
    return kinds


def _labels_to_headings(kinds: list[tuple]) -> None:
    """Turn a one-off 'Name:' line with nothing after the colon into a heading (see the module docstring)."""
    labels = [i for i, k in enumerate(kinds) if k[0] == "label"]
    uses: Counter = Counter()
    for name, n in Counter(kinds[i][1] for i in labels).items():  # each label as written keyed once
        uses[label_key(name)] += n
    bare = [i for i in labels if not kinds[i][3].strip()]  # labels with nothing after them
    if not uses or max(uses.values()) < HEADING_LABEL_USES or 2 * (len(labels) - len(bare)) <= len(labels):
        return
    for i in bare:
        k = kinds[i]
        if k[4] == "colon" and k[2] is None and uses[label_key(k[1])] == 1:
            kinds[i] = ("heading", k[1] + ":", "label")


def parse_lines(numbered: list[tuple[int, str]], shown: str, legend: dict[str, str] | None = None) -> Transcript:
    """Numbered lines of speech -> a Transcript (id empty) with turns, header, headings, doubtful lines and
    warnings. Unlabelled lines continue the turn; lines before the first label are an unattributed turn."""
    doc = Transcript("", shown, legend=dict(legend or {}))
    notes: list[tuple[int, str]] = []
    kinds = classify_lines(numbered, legend)
    doc.labelled = any(k[0] == "label" for k in kinds)
    current, started = None, False  # started: a label seen (without labels: any speech)
    inside = []  # lines of Markdown headings after the start
    for (line, text), k in zip(numbered, kinds):
        s = text.strip()
        if k[0] == "blank":
            if not doc.labelled:
                current = None  # without labels, a blank line ends a paragraph
            continue
        if k[0] == "heading":
            doc.headings.append((line, s))
            if not doc.labelled:
                current = None
            if not started:
                doc.header.append((line, s))
            elif len(k) > 2:
                notes.append((line, f"{shown}:{line}: {s!r} read as a heading, not a speaker: its label starts no "
                                    f"other line and has nothing after the colon; if it is a speaker, put their words "
                                    f"on the same line"))
            else:
                inside.append(line)
            continue
        if k[0] == "doubtful":
            doc.doubtful.append((line, s, k[2]))
            notes.append((line, f"{shown}:{line}: line looks like a speaker label ({k[1]!r}) but was read as "
                                f"speech: {k[2]}; {k[3]}"))
        started = started or k[0] == "label" or not doc.labelled
        if k[0] == "label":
            speaker, stamp, rest = k[1], k[2], k[3].strip()
            current = {"speaker": speaker, "timestamp": _seconds(stamp, shown, line, notes), "text": rest, "line": line}
            doc.turns.append(current)
        elif current is None:
            current = {"speaker": "", "timestamp": None, "text": s, "line": line}
            doc.turns.append(current)
        else:
            current["text"] = (current["text"] + "\n" + s) if current["text"] else s
    if doc.labelled and doc.turns and not doc.turns[0]["speaker"]:
        first = doc.turns[0]
        count = first["text"].count("\n") + 1
        notes.append((first["line"], f"{shown}:{first['line']}: {count} line(s) before the first speaker label kept "
                                     f"as a turn without a speaker; label them, or end a preamble with a line "
                                     f"'# BEGIN TRANSCRIPT'"))
    if inside:
        shown_lines = ", ".join(map(str, inside[:5])) + (", …" if len(inside) > 5 else "")
        notes.append((inside[0], f"{shown}:{inside[0]}: {len(inside)} Markdown heading(s) inside the transcript "
                                 f"(line {shown_lines}) read as headings, not speech; remove the '#' if a line is speech"))
    doc.warnings = _in_line_order(notes)
    return doc


def _transcript_id(meta: dict, stem: str) -> str:
    """The id a transcript gives itself in its metadata (`transcript_id`), else the file stem."""
    return str(meta.get("transcript_id", stem)).strip() or stem


def read_text_lines(numbered: list[tuple[int, str]], shown: str, stem: str, fmt: str, encoding: str = "") -> Transcript:
    """Numbered plain-text lines (txt, md, a docx's paragraphs, a CSV document cell) -> one Transcript."""
    meta, used = front_matter([t for _, t in numbered], shown)
    numbered = numbered[used:]
    preamble, preamble_used = read_preamble(numbered)
    numbered = numbered[preamble_used:]
    legend, legend_used = read_legend(numbered)
    numbered = numbered[legend_used:]
    if not any(t.strip() for _, t in numbered):
        raise InputError(f"{shown}: no transcript text after the front matter; add the transcript or remove the file")
    doc = parse_lines(numbered, shown, legend)
    doc.transcript_id, doc.metadata, doc.format, doc.encoding = _transcript_id(meta, stem), meta, fmt, encoding
    if preamble:
        doc.preamble = preamble
        meta.setdefault("preamble", preamble_title(preamble))
        labelled = [n for n, t in preamble[:-1] if _label(t, None)]
        if labelled:
            doc.warnings.insert(0, f"{shown}:{labelled[0]}: {len(labelled)} line(s) that look like speaker labels "
                                   f"come before the {preamble[-1][1]!r} line and were read as front matter; move "
                                   f"that line above them if they are speech")
    _note_unattributed(doc)
    return doc


# ----------------------------------------------------------------------------- formats
def read_txt(path: Path, shown: str, data: bytes | None = None, fmt: str = "txt") -> list[Transcript]:
    """Plain text or Markdown with speaker labels (or none: one speaker's paragraphs)."""
    text, encoding, decoding = decode_with_encoding(read_file_bytes(path, shown) if data is None else data, shown)
    lines = split_lines(text)
    del text  # a huge one-line file is then held as its lines, not twice
    doc = read_text_lines(list(enumerate(lines, start=1)), shown, path.stem, fmt, encoding)
    return [add_warnings(doc, decoding)]


DOCX_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCX_RELATIONSHIPS = "_rels/.rels"
DOCX_CONTENT_TYPES = "[Content_Types].xml"
DOCX_PROPERTIES = {"title": "title", "subject": "subject", "description": "comments"}  # Dublin Core -> metadata key


@functools.lru_cache(maxsize=1)
def _docx_parser():
    """An XML parser for Word parts: python-docx's element classes (same text as docx.Document gives), entities
    never resolved, no network, no DTD loaded, libxml2's default size limits."""
    from docx.oxml.parser import element_class_lookup
    from lxml import etree

    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    parser.set_element_class_lookup(element_class_lookup)
    return parser


def _docx_part(archive: ZipReader, name: str, shown: str):
    """The root element of one XML part of a .docx, read within the zip limits and parsed safely (see
    `_docx_parser`); a DTD or entity declaration, or XML that does not parse, is one InputError."""
    from lxml import etree

    data = archive.read(name)
    check_no_dtd(data, f"{shown}!{name}")
    try:
        root = etree.fromstring(data, _docx_parser())
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{shown}!{name}: not valid XML ({exc}); save the document again from Word as .docx "
                         f"or export it as .txt") from None
    if root.getroottree().docinfo.internalDTD is not None:  # declared in an encoding the byte check missed
        raise dtd_refused(f"{shown}!{name}")
    return root


def _docx_member(archive: ZipReader, target: str) -> str | None:
    """The zip member a package part name ('/word/document.xml', 'word/document.xml') names, if present
    (exact, else ignoring case)."""
    name = target.lstrip("/")
    names = archive.archive.namelist()
    if name in names:
        return name
    return next((n for n in names if n.lower() == name.lower()), None)


def _docx_parts(archive: ZipReader, shown: str) -> tuple[str, str | None]:
    """(member holding the document's text, member holding its core properties or None), as the package's
    relationships name them; the main part is checked to be a Word document (not a macro-enabled one, a
    spreadsheet …) by its content type, as python-docx's Document() does."""
    def unopenable(why: str) -> InputError:
        return InputError(f"{shown}: cannot open as a Word .docx document ({why}); save it from Word as .docx or "
                          f"export it as .txt")

    rels_name, types_name = _docx_member(archive, DOCX_RELATIONSHIPS), _docx_member(archive, DOCX_CONTENT_TYPES)
    if rels_name is None or types_name is None:
        raise unopenable(f"no {DOCX_RELATIONSHIPS} or {DOCX_CONTENT_TYPES} inside the zip")
    targets = {}
    for rel in _docx_part(archive, rels_name, shown):
        targets.setdefault(str(rel.get("Type", "")).rsplit("/", 1)[-1], rel.get("Target", ""))
    main = _docx_member(archive, targets["officeDocument"]) if targets.get("officeDocument") else None
    if main is None:
        raise unopenable("no main document part")
    override, default = {}, {}
    for entry in _docx_part(archive, types_name, shown):
        kind = str(entry.tag).rsplit("}", 1)[-1]
        if kind == "Override":
            override[str(entry.get("PartName", "")).lstrip("/").lower()] = entry.get("ContentType", "")
        elif kind == "Default":
            default[str(entry.get("Extension", "")).lower()] = entry.get("ContentType", "")
    content_type = override.get(main.lower()) or default.get(main.rsplit(".", 1)[-1].lower(), "")
    if content_type != DOCX_MAIN_TYPE:
        raise unopenable(f"file is not a Word file, content type is {content_type!r}")
    core = targets.get("core-properties")
    return main, _docx_member(archive, core) if core else None


def _docx_properties(archive: ZipReader, name: str | None, shown: str) -> dict[str, str]:
    """Title, subject and comments (dc:description) of the core properties part, those that are not empty."""
    found: dict[str, str] = {}
    for element in _docx_part(archive, name, shown) if name else ():
        tag = str(element.tag)
        key = DOCX_PROPERTIES.get(tag.rsplit("}", 1)[-1])
        if key and tag.startswith("{http://purl.org/dc/elements/"):
            found.setdefault(key, element.text or "")
    return {key: found[key] for key in ("title", "subject", "comments") if found.get(key)}


def _docx_blocks(body):
    """Paragraphs and tables of a Word document's body element, in document order (python-docx objects, with
    no package behind them: only their text is used)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in body.iterchildren():
        tag = str(child.tag).rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, None)
        elif tag == "tbl":
            yield Table(child, None)


def _row_cells(row) -> list[str]:
    """Text of each distinct cell of a table row (merged cells counted once), NFC, paragraphs joined by newline."""
    seen, texts = set(), []
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        texts.append(unicodedata.normalize("NFC", "\n".join(p.text for p in cell.paragraphs)).strip())
    return texts


HEADER_WORDS = {
    "speaker": {"speaker", "name", "who", "participant", "role", "interlocutor", "person"},
    "text": {"text", "transcript", "utterance", "speech", "content", "dialogue", "transcription", "what was said"},
    "time": {"time", "timestamp", "start", "timecode", "time code", "start time"},
}


def _table_layout(first: list[str]) -> tuple[dict[str, int] | None, bool]:
    """Column positions of speaker, text and time from a header row (True) or the column count (False)."""
    names = [c.strip().strip(":").lower() for c in first]
    found = {key: names.index(w) for key, words in HEADER_WORDS.items() for w in words if w in names}
    if "speaker" in found and "text" in found:
        return found, True
    if len(first) == 2:
        return {"speaker": 0, "text": 1}, False
    if len(first) == 3:
        if _is_time(first[0].strip("[]() ")):
            return {"time": 0, "speaker": 1, "text": 2}, False
        if _is_time(first[1].strip("[]() ")):
            return {"speaker": 0, "time": 1, "text": 2}, False
    return None, False


def _is_time(value: str) -> bool:
    """True when `parse_timestamp` reads `value`."""
    try:
        parse_timestamp(value)
        return True
    except ValueError:
        return False


def read_docx(path: Path, shown: str, data: bytes | None = None) -> list[Transcript]:
    """Word .docx: labelled paragraphs, and/or tables (speaker | text, optionally a time column).

    Only the main document part and the core properties are unpacked (within the zip limits of helpers.limits)
    and parsed without entities (`_docx_part`); images and other parts are never read. `line` counts paragraph
    lines and table rows in document order (1-based)."""
    raw = read_file_bytes(path, shown) if data is None else data
    if not raw or raw.isspace():
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as opened:
            archive = ZipReader(opened, shown, len(raw))
            main, core = _docx_parts(archive, shown)
            root = _docx_part(archive, main, shown)
            meta = _docx_properties(archive, core, shown)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:  # damaged, encrypted
        raise InputError(f"{shown}: cannot open as a Word .docx document ({exc}); "
                         f"save it from Word as .docx or export it as .txt") from None
    body = next((c for c in root if str(c.tag).rsplit("}", 1)[-1] == "body"), None)
    if body is None:
        raise InputError(f"{shown}: cannot open as a Word .docx document (no document body); "
                         f"save it from Word as .docx or export it as .txt")
    problems: list[str] = []
    notes: list[tuple[int, str]] = []  # warnings (line, message)
    rows: list[tuple[int, dict]] = []  # (line, utterance) from tables
    line = 0  # paragraph lines and table rows, numbered in document order
    para_lines: list[tuple[int, str]] = []
    for block in _docx_blocks(body):
        if hasattr(block, "rows"):
            table_rows = [_row_cells(r) for r in block.rows]
            if not table_rows:
                continue
            layout, has_header = _table_layout(table_rows[0])
            if layout is None:
                line += 1
                problems.append(f"{shown}:{line}: table with {len(table_rows[0])} columns; lay a transcript table "
                                f"out as speaker | text or time | speaker | text (a header row may name them)")
                line += len(table_rows) - 1
                continue
            for k, cells in enumerate(table_rows):
                line += 1
                if k == 0 and has_header:
                    continue
                get = lambda key: cells[layout[key]] if key in layout and layout[key] < len(cells) else ""  # noqa: E731
                text, speaker, stamp = get("text"), get("speaker").rstrip(":").strip(), get("time").strip("[]() ")
                if not text and not speaker:
                    continue
                rows.append((line, {"speaker": speaker, "timestamp": _seconds(stamp, shown, line, notes),
                                    "text": text, "line": line}))
        else:
            text = unicodedata.normalize("NFC", block.text)
            for part in split_lines(text) or [""]:
                line += 1
                para_lines.append((line, part))
    if problems:
        raise InputError(problems)
    if not rows:
        if not any(t.strip() for _, t in para_lines):
            raise InputError(f"{shown}: empty document (no paragraphs or table rows with text); "
                             f"add the transcript or remove the file")
        transcript = read_text_lines(para_lines, shown, path.stem, "docx")
        transcript.metadata = {**meta, **transcript.metadata}
        return [transcript]
    # A table transcript: paragraphs around it are header notes; empty speaker cells continue a turn.
    turns: list[dict] = []
    for _, utt in rows:
        if not utt["speaker"] and turns:
            turns[-1]["text"] = "\n".join(t for t in (turns[-1]["text"], utt["text"]) if t)
        else:
            turns.append(utt)
    header = [(n, t.strip()) for n, t in para_lines if t.strip()]
    fm, _ = front_matter([t for _, t in para_lines], shown)
    labelled = any(t["speaker"] for t in turns)
    doc = Transcript(_transcript_id(fm, path.stem), shown, turns, {**meta, **fm}, {}, header, labelled, "docx")
    after = [n for n, _ in header if n > turns[0]["line"]]
    if after:
        notes.append((after[0], f"{shown}:{after[0]}: {len(after)} paragraph(s) outside the transcript table read as "
                                f"notes, not speech; put speech in the table"))
    elif len(header) > HEADER_LINES_WARN:
        notes.append((header[0][0], f"{shown}:{header[0][0]}: {len(header)} paragraphs before the transcript table "
                                    f"read as notes, not speech; put speech in the table"))
    doc.warnings = _in_line_order(notes)
    return [doc]


def _cue_blocks(lines: list[str]):
    """(first line number, lines) of each blank-line-separated block."""
    block, start = [], 0
    for i, text in enumerate(lines, start=1):
        if text.strip():
            if not block:
                start = i
            block.append(text)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _cue_speaker(text: str) -> tuple[str | None, str]:
    """Speaker and plain text of one cue line: `<v Name>text</v>` or `Name: text` (or no speaker)."""
    speaker = None
    m = VOICE_TAG.search(text)
    if m:
        speaker = m["name"].strip()
    plain = html.unescape(ANY_TAG.sub("", text)).strip()
    if speaker is None:
        m = CUE_LABEL.match(plain)
        if m:
            speaker, plain = re.sub(r"\s+", " ", m["name"]), m["rest"].strip()
    return speaker, plain


def read_subtitles(path: Path, shown: str, data: bytes | None = None, fmt: str = "vtt") -> list[Transcript]:
    """WebVTT or SubRip: cue text `Name: text` or `<v Name>`; consecutive cues of one speaker merge."""
    text, encoding, decoding = decode_with_encoding(read_file_bytes(path, shown) if data is None else data, shown)
    lines = split_lines(text)
    problems, notes, turns, meta = [], [(_line_of(m), m) for m in decoding], [], {}
    if fmt == "vtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError(f"{shown}:1: a WebVTT file must start with 'WEBVTT'; check the format or rename the file")
    current, any_label = None, False
    for start, block in _cue_blocks(lines):
        first = block[0].strip()
        if fmt == "vtt" and (first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION"))):
            if first.startswith("NOTE"):
                meta.setdefault("notes", []).append("\n".join(block)[4:].strip())
            continue
        timing_at = next((k for k, t in enumerate(block[:2]) if "-->" in t), None)
        if timing_at is None:
            problems.append(f"{shown}:{start}: cue without a timing line ('00:00:01.000 --> 00:00:04.000'); "
                            f"fix the cue or remove it")
            continue
        m = VTT_TIMING.match(block[timing_at].strip())
        stamps = (m["start"], m["end"]) if m else (block[timing_at].split("-->")[0].strip(),)
        bad = next((s for s in stamps if not _is_time(s)), None)
        if bad is not None:  # the cue's text is still readable: kept without a timestamp
            notes.append((start + timing_at, _bad_time(shown, start + timing_at, bad)))
        seconds = None if bad is not None else parse_timestamp(stamps[0])
        for k, cue_line in enumerate(block[timing_at + 1:], start=start + timing_at + 1):
            speaker, plain = _cue_speaker(cue_line)
            if speaker is not None:
                any_label = True
            if not plain and speaker is None:
                continue
            if current is not None and (speaker is None or speaker == current["speaker"]):
                current["text"] = " ".join(t for t in (current["text"], plain) if t)
            else:
                current = {"speaker": speaker or "", "timestamp": seconds, "text": plain, "line": k}
                turns.append(current)
    if problems:
        raise InputError(problems)
    if not turns:
        raise InputError(f"{shown}: no cues with text; add the transcript or remove the file")
    return [Transcript(path.stem, shown, turns, meta, {}, [], any_label, fmt, warnings=_in_line_order(notes),
                       encoding=encoding)]


def _pick_column(header: list[str], chosen: str | None, kind: str, shown: str, problems: list[str],
                 names: tuple[str, ...] = ()) -> int | None:
    """Index of the column `chosen` (an error when absent), else of the first of `names` present, else None."""
    lowered = [h.strip().lower() for h in header]
    if chosen:
        if chosen.strip().lower() in lowered:
            return lowered.index(chosen.strip().lower())
        problems.append(f"{shown}:1: no column {chosen!r} (--csv-{kind}); columns are: {', '.join(header)}")
        return None
    return next((lowered.index(name) for name in names if name in lowered), None)


def csv_delimiter(text: str) -> str:
    """The delimiter of a CSV text: the one of ',', ';', tab that splits its header line into the most cells
    (',' on a tie). Quoting is always the standard one (csv.excel), never guessed."""
    first = split_lines(text[:65536])[0] if text.strip() else ""
    widths = [len(next(csv.reader([first], csv.excel, delimiter=d), [])) for d in CSV_DELIMITERS]
    return CSV_DELIMITERS[widths.index(max(widths))]


def _order_keys(values: list[str]) -> list:
    """Sort keys of an order column's values: numbers when every value is a number, else the text."""
    try:
        return [float(v) for v in values]
    except ValueError:
        return list(values)


def _csv_rows(reader, shown: str, problems: list[str]) -> list[tuple[int, list[str]]]:
    """(first line, NFC cells) of each non-blank data row."""
    rows, last_line = [], reader.line_num
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(c.strip() for c in cells):
                rows.append((line, [unicodedata.normalize("NFC", c) for c in cells]))
    except csv.Error as exc:
        problems.append(f"{shown}:{reader.line_num}: CSV error: {exc}; check quoting (double a quote inside a quoted cell)")
    return rows


def _utterance_rows(rows: list[tuple[int, list[str]]], tid: str, order: int | None, sort: bool, keep_first: bool,
                    shown: str, problems: list[str], notes: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """One transcript's utterance rows without duplicates (same order value), sorted by the order column
    when `sort` (numerically when every value is a number; stable)."""
    if order is None:
        return rows
    values = [cells[order].strip() if order < len(cells) else "" for _, cells in rows]
    keys = _order_keys(values) if all(values) else values
    kept, first = [], {}
    for (line, cells), value, key in zip(rows, values, keys):
        if value and key in first:
            where = f"{shown}:{line}: duplicate utterance: transcript {tid}, order {value} also at line {first[key]}"
            if keep_first:
                notes.append((line, f"{where}; dropped, the first kept (--csv-keep-first)"))
            else:
                problems.append(f"{where}; remove one of the rows, or use --csv-keep-first to keep the first")
            continue
        first.setdefault(key, line)
        kept.append((line, cells, key))
    if sort:
        kept.sort(key=lambda r: r[2])
    return [(line, cells) for line, cells, _ in kept]


def read_csv(path: Path, shown: str, data: bytes | None = None, columns: dict | None = None) -> list[Transcript]:
    """CSV: one row per utterance (a speaker column), one row per document (text holds a whole transcript),
    or a wide file (`columns["text"]` a list of question columns: one row per respondent, two turns per answer).

    `columns`: text, speaker, transcript, time, order (column names) and keep_first (bool)."""
    columns = columns or {}
    text, encoding, decoding = decode_with_encoding(read_file_bytes(path, shown) if data is None else data, shown)
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=csv_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{shown}: empty file; add the transcript text or remove the file") from None
    problems: list[str] = []
    chosen_text = columns.get("text")
    if isinstance(chosen_text, (list, tuple)) and len(chosen_text) == 1:
        chosen_text = chosen_text[0]
    wide = list(chosen_text) if isinstance(chosen_text, (list, tuple)) else None
    idx = {kind: _pick_column(header, chosen_text if kind == "text" else columns.get(kind), kind, shown, problems, names)
           for kind, names in CSV_COLUMN_NAMES.items() if not (wide and kind in ("text", "time"))}
    if wide:
        questions = [(i, header[i].strip()) for name in wide
                     if (i := _pick_column(header, name, "text", shown, problems)) is not None]
    elif idx["text"] is None and not problems:
        problems.append(f"{shown}:1: no text column (looked for {', '.join(CSV_COLUMN_NAMES['text'])}); "
                        f"name it with --csv-text")
    order = _pick_column(header, columns.get("order"), "order", shown, problems, CSV_ORDER_NAMES)
    if problems:
        raise InputError(problems)
    rows = _csv_rows(reader, shown, problems)

    def cell(cells: list[str], kind: str) -> str:
        i = idx.get(kind)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    transcripts: dict[str, Transcript] = {}
    notes: dict[str, list[tuple[int, str]]] = {}  # transcript id -> warnings
    if wide:
        for number, (line, cells) in enumerate(rows, start=1):
            tid = cell(cells, "transcript") or f"{path.stem}-{number}"
            speaker = cell(cells, "speaker") or WIDE_ANSWER_SPEAKER
            for i, question in questions:
                answer = cells[i].strip() if i < len(cells) else ""
                if answer:
                    doc = transcripts.setdefault(tid, Transcript(tid, shown, format="csv", encoding=encoding))
                    doc.turns += [{"speaker": WIDE_QUESTION_SPEAKER, "timestamp": None, "text": question, "line": line},
                                  {"speaker": speaker, "timestamp": None, "text": answer, "line": line}]
    elif idx["speaker"] is None:  # one row per document
        for line, cells in rows:
            tid, body = cell(cells, "transcript") or path.stem, cell(cells, "text")
            if not body:
                continue
            if tid in transcripts:
                problems.append(f"{shown}:{line}: transcript {tid!r} appears in more than one row; "
                                f"give one row per document or add a speaker column")
                continue
            transcripts[tid] = read_text_lines(list(enumerate(split_lines(body), start=line)), shown, tid, "csv", encoding)
    else:
        by_transcript: dict[str, list[tuple[int, list[str]]]] = {}
        for line, cells in rows:
            by_transcript.setdefault(cell(cells, "transcript") or path.stem, []).append((line, cells))
        for tid, doc_rows in by_transcript.items():
            doc_notes = notes.setdefault(tid, [])
            kept = _utterance_rows(doc_rows, tid, order, bool(columns.get("order")), bool(columns.get("keep_first")),
                                   shown, problems, doc_notes)
            doc = Transcript(tid, shown, format="csv", encoding=encoding)
            for line, cells in kept:
                body, speaker = cell(cells, "text"), cell(cells, "speaker").rstrip(":").strip()
                seconds = _seconds(cell(cells, "time"), shown, line, doc_notes, numeric=True)
                if not body and not speaker:
                    continue
                if not speaker and doc.turns:
                    doc.turns[-1]["text"] = "\n".join(t for t in (doc.turns[-1]["text"], body) if t)
                else:
                    doc.turns.append({"speaker": speaker, "timestamp": seconds, "text": body, "line": line})
            if doc.turns:
                doc.labelled = any(t["speaker"] for t in doc.turns)
                doc.warnings = _in_line_order(doc_notes)
                transcripts[tid] = doc
    if problems:
        raise InputError(problems)
    if not transcripts:
        raise InputError(f"{shown}: no rows with text; add the transcript or remove the file")
    first = next(iter(transcripts.values()))
    add_warnings(first, decoding)  # a note on the file, given once
    return list(transcripts.values())


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The reader for a file: `fmt` when given, else from the extension."""
    if fmt != "auto":
        return fmt
    return FORMATS.get(path.suffix.lower(), "")


def _read_by_format(path: Path, shown: str, kind: str, csv_columns: dict | None) -> list[Transcript]:
    """The reader of one format applied to one file."""
    if kind in ("txt", "md"):
        return read_txt(path, shown, fmt=kind)
    if kind == "docx":
        return read_docx(path, shown)
    if kind in ("vtt", "srt"):
        return read_subtitles(path, shown, fmt=kind)
    if kind == "csv":
        return read_csv(path, shown, columns=csv_columns)
    raise InputError(f"{shown}: unknown transcript format {path.suffix!r}; use {SUPPORTED} "
                     f"(or --format to say which)")


def _note_unattributed(doc: Transcript) -> None:
    """A warning for each turn without a speaker in a labelled transcript (a CSV row or table row without a
    speaker, text before the first label) that its reader has not already warned about: such text is kept
    but attributed to no one, so it is never left out of the analysis without a word."""
    if not doc.labelled:
        return
    noted = {m.split(": ", 1)[0] for m in doc.warnings}
    added = [(t["line"], f"{doc.source}:{t['line']}: text without a speaker label kept as a turn attributed to no "
                         f"one (not analysed); give it a speaker")
             for t in doc.turns if not t["speaker"] and f"{doc.source}:{t['line']}" not in noted]
    add_warnings(doc, [m for _, m in added])


def add_warnings(doc: Transcript, messages: list[str]) -> Transcript:
    """The transcript with `messages` ('file:line: …') added to its warnings, all in line order."""
    if messages:
        doc.warnings = _in_line_order([(_line_of(m), m) for m in [*doc.warnings, *messages]])
    return doc


def _line_of(message: str) -> int:
    """The line number a 'file:line: …' warning names (0 when it names none)."""
    where = message.split(": ", 1)[0]
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def read_transcript(path: str | Path, fmt: str = "auto", csv_columns: dict | None = None,
                    shown: str | None = None) -> list[Transcript]:
    """Read one transcript file (any supported format) -> list of Transcript (a CSV may hold several).

    `shown`: how messages name the file (default `paths.relative(path)`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{_entry_shown(path)}: {not_a_file(path) or 'file not found'}")
    shown = shown or paths.relative(path)
    kind = detect_format(path, fmt)
    docs = _read_by_format(path, shown, kind, csv_columns)
    for doc in docs:
        _note_unattributed(doc)
    return docs


def _excluded(name: str, exclude) -> str | None:
    """The pattern of `exclude` (names or glob patterns) that a file name relative to its folder matches."""
    return next((pat for pat in exclude if fnmatch.fnmatchcase(name, pat) or name == pat), None)


def _entry_shown(entry: Path) -> str:
    """How a folder entry is named in messages (its folder resolved, not the entry: a link loop cannot be)."""
    return f"{paths.relative(entry.parent)}/{entry.name}"


def not_a_file(entry: Path) -> str | None:
    """Why a path that exists as a name cannot be read as a file: a symbolic link loop, a broken link, a folder,
    or something other than a regular file (a pipe would block the reader); None for a readable-looking file."""
    try:
        mode = entry.stat().st_mode
    except OSError as exc:
        if not entry.is_symlink():
            return None  # gone, or not ours to say: the reader names the problem
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link leads back to itself); remove it"
        try:
            target = f" {entry.readlink().as_posix()!r}"
        except OSError:
            target = ""
        return f"broken symbolic link (its target{target} does not exist); restore the file or remove the link"
    if stat.S_ISDIR(mode):
        return "a folder (transcripts in subfolders are not read); name it as well to read it"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)"
    return None


def _scan_folder(folder: Path, fmt: str, exclude) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(transcript files, [(skipped entry, reason)]) directly inside `folder`, sorted by name. A symbolic link to
    a file is read like the file (wherever it leads); links that lead nowhere, subfolders and other entries that
    are not files are skipped with their reason."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise InputError(f"{paths.relative(folder)}: cannot list the folder ({exc.strerror or type(exc).__name__}); "
                         f"check that you may read it") from None
    kept, skipped = [], []
    for f in entries:
        pattern = _excluded(f.name, exclude)
        if f.name.startswith((".", "~$")):
            skipped.append((f, HIDDEN))
        elif pattern is not None:
            skipped.append((f, f"excluded ({pattern})"))
        elif why := not_a_file(f):
            skipped.append((f, why))
        elif fmt == "auto" and f.suffix.lower() not in FORMATS:
            skipped.append((f, f"unsupported extension {f.suffix.lower() or '(none)'!r}; supported: {SUPPORTED}"))
        else:
            kept.append(f)
    return kept, skipped


def skip_warnings(skipped: list[tuple[Path, str]]) -> list[str]:
    """'FILE: skipped: REASON' for each entry a folder scan left out, except those the user excluded; hidden and
    temporary files (.DS_Store, ~$ lock files) in one line per folder when there are more than HIDDEN_LISTED."""
    hidden: dict[Path, list[Path]] = {}
    for f, why in skipped:
        if why == HIDDEN:
            hidden.setdefault(f.parent, []).append(f)
    out = []
    for f, why in skipped:
        if why.startswith("excluded ("):
            continue
        if why != HIDDEN or len(hidden[f.parent]) <= HIDDEN_LISTED:
            out.append(f"{_entry_shown(f)}: skipped: {why}")
        elif f == hidden[f.parent][0]:
            names = [h.name for h in hidden[f.parent]]
            out.append(f"{paths.relative(f.parent)}: skipped: {len(names)} hidden or temporary files "
                       f"({', '.join(names[:5])}{', …' if len(names) > 5 else ''})")
    return out


def _sources(sources) -> list:
    return [sources] if isinstance(sources, (str, Path)) else list(sources)


def transcript_files(sources, fmt: str = "auto", exclude=()) -> list[Path]:
    """Files named, plus the supported files inside folders named (not hidden, not `exclude`d; sorted).

    `exclude`: file names or glob patterns ('*.pdf') matched against names inside a folder."""
    return _files_and_skipped(sources, fmt, exclude)[0]


def _files_and_skipped(sources, fmt: str, exclude) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(`transcript_files`, `skipped_files`) from one scan of each folder."""
    found, skipped, problems = [], [], []
    for src in _sources(sources):
        p = paths.resolve(src)
        if p.is_dir():
            inside, left_out = _scan_folder(p, fmt, exclude)
            if not inside:
                problems.append(f"{paths.relative(p)}: no transcripts ({SUPPORTED}) in this folder")
            found.extend(inside)
            skipped.extend(left_out)
        elif p.is_file():
            found.append(p)
        elif why := not_a_file(p):
            problems.append(f"{_entry_shown(p)}: {why}")
        else:
            problems.append(f"{paths.relative(p)}: no such file or folder")
    if problems:
        raise InputError(problems)
    return found, skipped


def skipped_files(sources, fmt: str = "auto", exclude=()) -> list[tuple[Path, str]]:
    """(file, reason) for each file inside the folders named that `transcript_files` leaves out."""
    skipped = []
    for src in _sources(sources):
        p = paths.resolve(src)
        if p.is_dir():
            skipped.extend(_scan_folder(p, fmt, exclude)[1])
    return skipped


def emit_warnings(docs) -> None:
    """Each transcript's reader warnings as IngestWarnings (the caller decides how to show them)."""
    for doc in docs:
        for message in doc.warnings:
            warnings.warn(message, IngestWarning, stacklevel=3)


def _shown_in_folder(path: Path, folders: dict[Path, str]) -> str:
    """`paths.relative(path)`, with each folder resolved once (`folders` remembers them): the same name
    for a file that is not a symbolic link (a link is resolved on its own)."""
    if path.is_symlink() or path.name.startswith(paths.STAGING_PREFIX):
        return paths.relative(path)
    if path.parent not in folders:
        folders[path.parent] = paths.relative(path.parent)
    return PurePosixPath(folders[path.parent], path.name).as_posix()


def read_transcripts(sources, fmt: str = "auto", csv_columns: dict | None = None, exclude=()) -> list[Transcript]:
    """Read every transcript under `sources` (files or folders); every problem in every file at once.

    `exclude`: file names or glob patterns to skip inside folders (see `skipped_files`); every other entry a
    folder scan leaves out is an IngestWarning (`skip_warnings`).
    Two sources giving the same transcript id are an error (rename one or set `transcript_id`)."""
    problems, out, first = [], [], {}
    files, skipped = _files_and_skipped(sources, fmt, exclude)
    for message in skip_warnings(skipped):
        warnings.warn(message, IngestWarning, stacklevel=2)
    folders: dict[Path, str] = {}
    for path in files:
        try:
            docs = read_transcript(path, fmt, csv_columns, _shown_in_folder(path, folders))
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        emit_warnings(docs)
        for doc in docs:
            if doc.transcript_id in first:
                problems.append(f"{doc.source}: duplicate transcript id {doc.transcript_id!r}, also read from "
                                f"{first[doc.transcript_id]}; rename one file or set transcript_id in its front matter")
                continue
            first[doc.transcript_id] = doc.source
            out.append(doc)
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda d: d.transcript_id)
