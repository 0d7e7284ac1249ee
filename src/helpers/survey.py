"""Survey a folder of transcripts: what the readers make of each file, and a ready project folder.

`python -m helpers survey DIR [--out PROJECT]` reads DIR file by file as `ingest` would (a file
that cannot be read is reported and the survey goes on), and prints per file its format,
encoding, words, turns, speaker labels (and which are interviewers), what was read as front
matter, and what looks doubtful. Exit 0 when every file was read, 1 when some could not be.

Interviewer labels are those matching the given (or default) interviewer labels, plus guessed
ones: a label speaking in most transcripts (at least 3 and more than half) while every other label
speaks in few (at most a quarter of them) and the given labels speak in at most half of them, a
label whose turns mostly end with a question (at least 5 turns), and a
variant of an interviewer label with a comma or parenthesis (`MEL, TYPING`, `MEL (typed)` beside `MEL`).

A file is proposed for exclusion as documentation when its name says so (readme, licence,
protocol, guide, codebook, consent …) and its content agrees (no speaker labels, Markdown headings or links), or
when, whatever its name, it has no speaker labels but Markdown headings and links.

With `--out PROJECT` it writes PROJECT/participants.csv (one row per transcript and non-interviewer
speaker) and PROJECT/pipeline.yaml, never overwriting either without `--force`.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from . import paths
from .corpus import (add_reading_options, csv_options, interviewer_pattern, is_interviewer_label, label_key,
                     participant_ids)
from .errors import InputError
from .project import DEFAULT_TIMEOUT
from .tables import csv_text
from .text import word_counts
from .transcripts import (DEFAULT_INTERVIEWER_LABELS, IngestWarning, Transcript, detect_format,
                          read_transcripts, skipped_files, transcript_files)

DOC_NAME = re.compile(r"(?:^|[-_. ])(readme|licen[cs]e|copying|notice|changelog|contributing|protocol|guide|"
                      r"codebook|consent)(?=$|[-_. ])", re.IGNORECASE)
MD_HEADING = re.compile(r"^#{1,6}\s+\S")
MD_LINK = re.compile(r"\]\([^)\s]+\)|<?https?://\S+")
LICENCE_WORDS = re.compile(r"licen[cs]e|copyright", re.IGNORECASE)
CLOSING = "\"'”’)]»"
RARE_TURNS = 2  # a label with this many turns or fewer is doubtful (a heading? a third person?) …
BUSY_TURNS = 5  # … when another label of the transcript has at least this many
QUESTION_MIN_TURNS = 5  # a label needs this many turns before "mostly questions" makes it an interviewer
MINOR_SHARE = 0.02  # a speaker saying less than this share of the words of a transcript's labelled turns is minor
FIXED_COLUMNS = ["participant_id", "group", "collection", "transcript_id", "speaker_labels"]
OUTPUTS = ("participants.csv", "pipeline.yaml")


@dataclass
class SpeakerStats:
    """What one speaker label says in one transcript."""

    label: str
    turns: int = 0
    words: int = 0
    questions: int = 0  # turns ending with a question mark
    first_line: int = 0


@dataclass
class FileSurvey:
    """One file of the folder: what the readers made of it."""

    path: Path
    name: str  # the file name inside the folder
    format: str
    transcripts: list[Transcript] = field(default_factory=list)
    speakers: dict[str, dict[str, SpeakerStats]] = field(default_factory=dict)  # transcript_id -> label -> stats
    errors: list[str] = field(default_factory=list)  # why the file could not be read (file:line messages)
    warnings: list[str] = field(default_factory=list)  # the reader's warnings (file:line messages)
    documentation: str = ""  # why it looks like documentation rather than a transcript; "" when it does not

    @property
    def readable(self) -> bool:
        return not self.errors

    @property
    def encoding(self) -> str:
        return next((d.encoding for d in self.transcripts if d.encoding), "")


@dataclass
class SurveyResult:
    """The survey of one folder: per-file records, the interviewer labels and why, the reading options."""

    directory: Path
    files: list[FileSurvey]
    skipped: list[tuple[Path, str]]
    interviewer_labels: list[str]  # found and guessed, as written
    interviewer_reasons: dict[str, str]  # label as written -> why it is taken as an interviewer
    given_labels: object = None  # the --interviewer-labels given (None: the default list)
    fmt: str = "auto"
    csv_columns: dict = field(default_factory=dict)
    exclude: tuple = ()

    @property
    def analysed_files(self) -> list[FileSurvey]:
        """Files read without error and not proposed for exclusion."""
        return [f for f in self.files if f.readable and not f.documentation]

    @property
    def transcripts(self) -> list[Transcript]:
        return [d for f in self.analysed_files for d in f.transcripts]

    @property
    def proposed_exclusions(self) -> list[str]:
        return [f.name for f in self.files if f.readable and f.documentation]

    @property
    def unreadable(self) -> list[FileSurvey]:
        return [f for f in self.files if not f.readable]


# ----------------------------------------------------------------------------- reading
def _speaker_stats(doc: Transcript) -> dict[str, SpeakerStats]:
    """Turns, words and question turns of each speaker label of a transcript ('' = unattributed), in order."""
    words = word_counts(pd.Series([t["text"] for t in doc.turns], dtype=object)) if doc.turns else []
    stats: dict[str, SpeakerStats] = {}
    for turn, n in zip(doc.turns, words):
        s = stats.setdefault(turn["speaker"], SpeakerStats(turn["speaker"], first_line=int(turn["line"])))
        s.turns += 1
        s.words += int(n)
        s.questions += turn["text"].rstrip().rstrip(CLOSING).endswith("?")
    return stats


def _read_file(path: Path, fmt: str, csv_columns: dict | None) -> FileSurvey:
    """Read one file as ingest would; its errors and warnings are recorded, not raised."""
    record = FileSurvey(path, path.name, detect_format(path, fmt) or path.suffix.lstrip(".").lower())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IngestWarning)
        try:
            record.transcripts = read_transcripts([path], fmt, csv_columns)
        except InputError as exc:
            record.errors = list(exc.problems)
    emitted = [str(w.message) for w in caught if issubclass(w.category, IngestWarning)]
    record.warnings = list(dict.fromkeys([*(m for d in record.transcripts for m in d.warnings), *emitted]))
    record.speakers = {d.transcript_id: _speaker_stats(d) for d in record.transcripts}
    return record


def _all_lines(doc: Transcript) -> list[str]:
    """Every line the reader kept of a transcript: preamble, header, headings and the turns' text."""
    kept = dict([*doc.preamble, *doc.header, *doc.headings])  # by line: a heading may be recorded twice
    return list(kept.values()) + [line for turn in doc.turns for line in turn["text"].splitlines()]


def documentation_reason(record: FileSurvey) -> str:
    """Why a file looks like documentation rather than a transcript ('' when it does not); conservative."""
    if not record.transcripts:
        return ""
    lines = [line.strip() for d in record.transcripts for line in _all_lines(d)]
    headings = sum(bool(MD_HEADING.match(line)) for line in lines)
    links = sum(len(MD_LINK.findall(line)) for line in lines)
    labelled = any(s for d in record.transcripts for s in record.speakers[d.transcript_id])
    content = [what for what, yes in (("no speaker labels", not labelled),
                                      (f"{headings} Markdown heading{'s' * (headings != 1)}", headings),
                                      (f"{links} link{'s' * (links != 1)}", links)) if yes]
    named = DOC_NAME.search(Path(record.name).stem)
    if named and (not labelled or headings or links):
        return f"its name ({named[1].lower()}) and its content ({', '.join(content)}) suggest documentation"
    if not labelled and headings and links:
        return f"{', '.join(content)}: reads like documentation"
    return ""


def _check_duplicate_ids(files: list[FileSurvey]) -> None:
    """Two files giving the same transcript id: the later one is an error (ingest refuses it too)."""
    first: dict[str, str] = {}
    for record in files:
        for doc in record.transcripts:
            if doc.transcript_id in first:
                record.errors.append(f"{doc.source}: duplicate transcript id {doc.transcript_id!r}, also read from "
                                     f"{first[doc.transcript_id]}; rename one file or set transcript_id in its "
                                     f"front matter")
            else:
                first.setdefault(doc.transcript_id, doc.source)


# ----------------------------------------------------------------------------- interviewers
def base_key(label: str) -> str:
    """The key of a label's first part, before a comma or parenthesis ('MEL, TYPING' and 'MEL (typed)': mel)."""
    return label_key(re.split(r"[,(]", label, maxsplit=1)[0]) or label_key(label)


def guess_interviewers(files: list[FileSurvey], given=None) -> tuple[list[str], dict[str, str]]:
    """(interviewer labels as written, label -> why) over the transcripts of `files` (see module docstring)."""
    pattern = interviewer_pattern(given)
    written: dict[str, Counter] = {}
    spoken_in: dict[str, set] = {}
    turns: Counter = Counter()
    questions: Counter = Counter()
    matched: dict[str, str] = {}  # label key -> how it matched ('' directly, else through the legend)
    labelled = 0
    for record in files:
        for doc in record.transcripts:
            stats = {label: s for label, s in record.speakers[doc.transcript_id].items() if label}
            labelled += bool(stats)
            for label, s in stats.items():
                key = label_key(label)
                written.setdefault(key, Counter())[label] += s.turns
                spoken_in.setdefault(key, set()).add(doc.transcript_id)
                turns[key] += s.turns
                questions[key] += s.questions
                if pattern.match(key):
                    matched.setdefault(key, "")
                elif is_interviewer_label(doc, label, pattern):
                    matched.setdefault(key, f" through its legend entry ({label} = {doc.legend[label]})")
    why = {key: "matches the interviewer labels " + ("given" if given else "(default list)") + via
           for key, via in matched.items()}
    known = set().union(*(spoken_in[k] for k in why))  # transcripts where a given label speaks
    frequent = [k for k in written if k not in why and len(spoken_in[k]) >= 3 and len(spoken_in[k]) > labelled / 2]
    others = [len(spoken_in[k]) for k in written if k not in why and k not in frequent]
    few = max(1, labelled // 4)
    if frequent and others and all(n <= few for n in others) and len(known) <= labelled / 2:
        for key in frequent:
            why[key] = (f"guessed: speaks in {len(spoken_in[key])} of {labelled} transcripts, while no other label "
                        f"speaks in more than {max(others, default=0)}")
    for key in written:
        if key not in why and turns[key] >= QUESTION_MIN_TURNS and questions[key] > turns[key] / 2:
            why[key] = f"guessed: {questions[key]} of its {turns[key]} turns end with a question"
    shown = {key: sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for key, forms in written.items()}
    for key, forms in written.items():
        base = next((base_key(f) for f in forms if base_key(f) != key), None)
        if key not in why and base in why:
            why[key] = f"guessed: a variant of {shown[base]}"
    labels = sorted((shown[k] for k in why), key=lambda s: (s.casefold(), s))
    return labels, {shown[k]: why[k] for k in why}


# ----------------------------------------------------------------------------- the survey
def survey(directory, fmt: str = "auto", csv_columns: dict | None = None, interviewer_labels=None,
           exclude=()) -> SurveyResult:
    """Read every transcript file of `directory` one by one and describe it (never stops at a bad file)."""
    folder = paths.resolve(directory)
    if not folder.is_dir():
        raise InputError(f"{paths.relative(folder)}: " + ("not a folder; give the folder holding the transcripts"
                                                         if folder.exists() else "no such folder"))
    exclude = tuple(exclude or ())
    files = [_read_file(p, fmt, csv_columns) for p in transcript_files(folder, fmt, exclude)]
    _check_duplicate_ids(files)
    for record in files:
        record.documentation = documentation_reason(record) if record.readable else ""
    result = SurveyResult(folder, files, skipped_files(folder, fmt, exclude), [], {}, interviewer_labels, fmt,
                          dict(csv_columns or {}), exclude)
    result.interviewer_labels, result.interviewer_reasons = guess_interviewers(result.analysed_files,
                                                                               interviewer_labels)
    return result


# ----------------------------------------------------------------------------- participants
def _labelled_words(stats: dict[str, SpeakerStats]) -> int:
    """Words of a transcript's labelled turns."""
    return sum(s.words for label, s in stats.items() if label)


def _minor(words: int, total: int) -> bool:
    """A speaker saying under MINOR_SHARE of a transcript's labelled words (a note-taker, someone passing by)."""
    return words < MINOR_SHARE * total


def _attribute_value(value) -> str:
    """A front-matter value as table text (lists joined with '|', booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "|".join(_attribute_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value).strip()


def front_matter_fields(doc: Transcript) -> dict:
    """A transcript's YAML front-matter fields: its metadata without its id, preamble or document properties."""
    skip = {"transcript_id", "preamble"} | ({"title", "subject", "comments"} if doc.format == "docx" else set()) \
        | ({"notes"} if doc.format in ("vtt", "srt") else set())
    return {str(k).strip(): v for k, v in doc.metadata.items() if str(k).strip() and str(k).strip() not in skip}


def front_matter_attributes(doc: Transcript) -> dict[str, str]:
    """Front-matter fields as attribute columns; a field named like a fixed column (but group) is prefixed."""
    reserved = set(FIXED_COLUMNS + ["speaker"]) - {"group"}
    return {(f"front_matter_{k}" if k in reserved else k): _attribute_value(v)
            for k, v in front_matter_fields(doc).items()}


def participants(result: SurveyResult) -> pd.DataFrame:
    """participants.csv for the surveyed transcripts: one row per transcript and non-interviewer speaker.

    Labels of one transcript sharing their part before a comma or parenthesis are one speaker
    (`AMANDA (typed)` and `Amanda`). participant_id is that part (id-safe) when it speaks in one
    transcript only, else LABEL_TRANSCRIPT;
    a transcript without labels is one participant (id from the transcript id). collection is focus_group
    when two or more participants each say at least MINOR_SHARE of the transcript's words, else interview.
    `speaker` repeats the label so one person's transcripts can be compared; front-matter fields become
    further columns (a `group` field fills the group column)."""
    pattern = interviewer_pattern(result.interviewer_labels)
    rows = []  # (transcript, label key, labels as written, their words, words of all labels)
    for record in result.analysed_files:
        for doc in record.transcripts:
            stats = record.speakers[doc.transcript_id]
            if not any(stats) or not doc.labelled:
                rows.append((doc, "", [], 1, 1))
                continue
            total = _labelled_words(stats)
            by_key: dict[str, list[str]] = {}
            for label in stats:
                if label and not is_interviewer_label(doc, label, pattern):
                    by_key.setdefault(base_key(label), []).append(label)
            for key, labels in by_key.items():
                rows.append((doc, key, labels, sum(stats[x].words for x in labels), total))
    main = Counter(doc.transcript_id for doc, _, _, words, total in rows if not _minor(words, total))
    speakers = [re.split(r"[,(]", labels[0], maxsplit=1)[0].strip() if labels else "" for _, _, labels, _, _ in rows]
    ids = participant_ids([(doc.transcript_id, speaker) for (doc, *_), speaker in zip(rows, speakers)])
    records = []
    for (doc, key, labels, _, _), speaker, unique in zip(rows, speakers, ids):
        tid = doc.transcript_id
        attributes = front_matter_attributes(doc)
        records.append({"participant_id": unique, "group": attributes.pop("group", ""),
                        "collection": "focus_group" if main[tid] > 1 else "interview", "transcript_id": tid,
                        "speaker_labels": "|".join(labels), "speaker": speaker, **attributes})
    table = pd.DataFrame.from_records(records)
    extra = sorted(c for c in table.columns if c not in FIXED_COLUMNS) if records else ["speaker"]
    return table.reindex(columns=FIXED_COLUMNS + extra).fillna("").astype(str)


# ----------------------------------------------------------------------------- the report
def _where(message: str, source: str) -> str:
    """A reader message shortened for its file's section: 'file:12: text' -> 'line 12: text'."""
    if message.startswith(f"{source}:"):
        rest = message[len(source) + 1:]
        m = re.match(r"(\d+): (.*)$", rest, re.DOTALL)
        return f"line {m[1]}: {m[2]}" if m else rest.lstrip(": ")
    return message


def _span(lines: list[tuple[int, str]]) -> str:
    first, last = lines[0][0], lines[-1][0]
    return f"line {first}" if first == last else f"lines {first}–{last}"


def _labels(labels) -> str:
    """Labels listed with ', ': a label holding a comma is quoted."""
    return ", ".join(json.dumps(x, ensure_ascii=False) if "," in x else x for x in labels)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _structure(doc: Transcript, stats: dict[str, SpeakerStats]) -> list[str]:
    """What of a transcript was read as front matter, notes or headings rather than speech."""
    out = []
    if doc.preamble:
        kind = "licence preamble" if any(LICENCE_WORDS.search(t) for _, t in doc.preamble) else "preamble"
        out.append(f"{_span(doc.preamble)}: {kind}, read as front matter")
    fields = front_matter_fields(doc)
    if fields:
        out.append(f"YAML front matter: {', '.join(fields)} (participant attribute columns)")
    if doc.legend:
        out.append(f"legend: {', '.join(f'{k} = {v}' for k, v in doc.legend.items())}, read as front matter")
    if doc.header:
        out.append(f"{_span(doc.header)} ({_plural(len(doc.header), 'line')}): read as header notes, not speech")
    if doc.headings:
        first = doc.headings[0]
        out.append(f"{_plural(len(doc.headings), 'heading')} kept out of the speech (first: line {first[0]} "
                   f"{first[1]!r})")
    if doc.labelled and "" in stats:
        s = stats[""]
        out.append(f"{_plural(s.turns, 'turn')} of unattributed text ({_plural(s.words, 'word')}, from line "
                   f"{s.first_line}): kept, attributed to no speaker")
    return out


def _doubtful(doc: Transcript, stats: dict[str, SpeakerStats], interviewer: re.Pattern) -> list[str]:
    """Speaker-level doubts about one transcript: no labels, labels used once or twice, minor speakers."""
    labels = {k: s for k, s in stats.items() if k}
    if not labels:
        return ["no speaker labels: all its text is one unattributed speaker"]
    out = []
    busiest = max(s.turns for s in labels.values())
    total = _labelled_words(stats)
    for label, s in labels.items():
        if is_interviewer_label(doc, label, interviewer):
            continue
        if s.turns <= RARE_TURNS and busiest >= BUSY_TURNS:
            out.append(f"line {s.first_line}: label {label!r} used {'once' if s.turns == 1 else 'twice'} "
                       f"({_plural(s.words, 'word')}; a heading, or a third person such as a note-taker?)")
        elif _minor(s.words, total):
            out.append(f"line {s.first_line}: label {label!r} says {_plural(s.words, 'word')} in "
                       f"{_plural(s.turns, 'turn')} (under {MINOR_SHARE:.0%} of the words; a third person?)")
    if out:
        out.append("if such a label is not a participant, add it to interviewer_labels in the project's pipeline.yaml "
                   "and remove its row from participants.csv (its turns are then kept but not analysed)")
    return out


def _file_section(record: FileSurvey, interviewer: re.Pattern) -> list[str]:
    """The report's lines on one file."""
    encoding = record.encoding or ("no text encoding" if record.format == "docx" else "encoding unknown")
    source = paths.relative(record.path)  # how the readers name the file in their messages
    out = [f"{record.name}: {record.format}, {encoding}"]
    if record.errors:
        out += ["  cannot be read:", *(f"    - {_where(e, source)}" for e in record.errors)]
    if record.documentation:
        out.append(f"  proposed for exclusion: {record.documentation}")
    for doc in record.transcripts:
        stats = record.speakers[doc.transcript_id]
        out.append(f"  transcript {doc.transcript_id}: {_plural(sum(s.words for s in stats.values()), 'word')}, "
                   f"{_plural(sum(s.turns for s in stats.values()), 'turn')}")
        speakers = [f"{_labels([label])} {_plural(s.turns, 'turn')}"
                    + (" (interviewer)" if is_interviewer_label(doc, label, interviewer) else "")
                    for label, s in sorted(stats.items(), key=lambda kv: (-kv[1].turns, kv[0])) if label]
        if speakers:
            out.append(f"    speakers: {', '.join(speakers)}")
        out += [f"    {line}" for line in _structure(doc, stats)]
        doubts = [] if record.documentation else _doubtful(doc, stats, interviewer)
        if doubts:
            out += ["    doubtful:", *(f"      - {d}" for d in doubts)]
    if record.warnings:
        out += ["  doubtful (reader warnings):", *(f"    - {_where(w, source)}" for w in record.warnings)]
    if DOC_NAME.search(Path(record.name).stem) and record.readable and not record.documentation:
        out.append("  note: the name suggests documentation, but it reads as a transcript; check it")
    return out


def format_report(result: SurveyResult) -> str:
    """The survey as plain text, in a stable order: one section per file, then the interviewers and a summary."""
    given = result.given_labels
    given = ("|".join(given) if isinstance(given, (list, tuple)) else given) if given else \
        f"default ({', '.join(DEFAULT_INTERVIEWER_LABELS)})"
    out = [f"Survey of {paths.relative(result.directory)}: {_plural(len(result.files), 'file')} read as "
           f"`python -m helpers ingest` would", f"interviewer labels given: {given}", ""]
    interviewer = interviewer_pattern(result.interviewer_labels)
    for record in result.files:
        out += _file_section(record, interviewer)
    if result.skipped:
        out += ["", "Skipped (not read):"]
        out += [f"  {p.name}: {why}" for p, why in result.skipped]
    out += ["", "Interviewer labels:"]
    out += [f"  {label}: {result.interviewer_reasons[label]}" for label in result.interviewer_labels] or \
        ["  none found (give them with --interviewer-labels)"]
    docs = result.transcripts
    stats = [s for f in result.analysed_files for d in f.transcripts for s in f.speakers[d.transcript_id].values()]
    distinct = {label_key(s.label) for s in stats if s.label}
    out += ["", "Summary:",
            f"  files: {len(result.files)} ({len(result.unreadable)} unreadable, "
            f"{len(result.proposed_exclusions)} proposed for exclusion), {len(result.skipped)} skipped",
            f"  transcripts: {len(docs)}",
            f"  words: {sum(s.words for s in stats):,} in {sum(s.turns for s in stats):,} turns",
            f"  distinct speaker labels: {len(distinct)}",
            f"  interviewer labels: {_labels(result.interviewer_labels) or 'none'}",
            f"  proposed for exclusion: {', '.join(result.proposed_exclusions) or 'none'}"]
    if result.unreadable:
        out.append(f"  unreadable (fix or --exclude them): {', '.join(f.name for f in result.unreadable)}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- the project folder
def _path_from(target: Path, project: Path) -> str:
    """`target` relative to the project folder when it lies below or beside it, else absolute."""
    target, project = target.resolve(), project.resolve()
    if target.is_relative_to(project.parent):
        return Path(os.path.relpath(target, project)).as_posix()
    return target.as_posix()


def check_project(out, force: bool = False, codebook=None) -> tuple[Path, Path | None]:
    """(project folder, codebook path or None) after refusing what must not be written or named."""
    project = paths.resolve(out)
    problems = []
    if project.exists() and not project.is_dir():
        problems.append(f"{paths.relative(project)}: exists and is not a folder; give a folder for --out")
    demo = {paths.PARTICIPANTS.resolve(), paths.PIPELINE_CONFIG.resolve()}
    for name in OUTPUTS:
        target = (project / name).resolve()
        if target in demo:
            problems.append(f"{paths.relative(target)}: belongs to the repository's demo; choose another --out folder")
        elif target.exists() and not force:
            problems.append(f"{paths.relative(target)}: already exists; use --force to overwrite it, or another --out")
    book = paths.resolve(codebook) if codebook else None
    if book is not None:
        if book.resolve() == paths.CODEBOOK.resolve():
            problems.append(f"{paths.relative(book)}: the demo's codebook; copy it into the project, edit it, "
                            f"and give the copy with --codebook")
        elif not book.is_file():
            problems.append(f"{paths.relative(book)}: codebook not found; give an existing YAML file with --codebook")
    if problems:
        raise InputError(problems)
    return project, book


def _flow(value) -> str:
    """A value as one line of YAML (flow style)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True,
                          width=10**6).strip().removesuffix("\n...").strip()


def pipeline_yaml(result: SurveyResult, project: Path, codebook: Path | None = None) -> str:
    """The project's pipeline.yaml: the `pipeline` and `all` sections, a comment on every line."""
    name = result.directory.name
    exclusions = sorted(set(result.proposed_exclusions) | set(result.exclude))
    lines = [
        f"# Made by `python -m helpers survey {name} --out {project.name}`: check participants.csv (fill in",
        "# `group`) and these settings, then run the pipeline with this file as its configuration.",
        "# Relative paths are relative to this file's folder.",
        "pipeline:  # settings of the run as a whole",
        f"  title: {_flow('Transcript analysis: ' + name)}  # shown at the top of every report",
        f"  timeout: {DEFAULT_TIMEOUT}  # seconds one notebook may run before the run stops it",
        "all:  # parameters every notebook that has them shares",
        f"  transcripts_dir: {_flow(_path_from(result.directory, project))}  # the folder of transcripts surveyed",
        "  participants_csv: \"participants.csv\"  # one row per participant (written by the survey; fill in group)",
        f"  interviewer_labels: {_flow(result.interviewer_labels)}  # speaker labels taken as interviewers, as written",
        f"  exclude_files: {_flow(exclusions)}  # files in transcripts_dir that are not transcripts (not read)",
        f"  csv_columns: {_flow(result.csv_columns)}  # how CSV files are read (the --csv-* options of the survey)",
        f"  codebook_yaml: {_flow(_path_from(codebook, project) if codebook else '')}"
        "  # themes and keyword rules; \"\" = none (the theme notebooks are skipped)",
        "  human_coding: \"\"  # a REFI-QDA export (.qdpx) or codings table of human coding; \"\" = none",
        "  stopwords_file: \"\"  # a stopword list, one word or phrase a line; \"\" = the built-in English list",
    ]
    return "\n".join(lines) + "\n"


def write_project(result: SurveyResult, out, force: bool = False, codebook=None) -> list[Path]:
    """Write PROJECT/participants.csv and PROJECT/pipeline.yaml (atomically; refused if they exist, unless force)."""
    project, book = check_project(out, force, codebook)
    table = participants(result)
    written = [paths.atomic_write(project / "participants.csv", csv_text(table)),
               paths.atomic_write(project / "pipeline.yaml", pipeline_yaml(result, project, book))]
    return written


# ----------------------------------------------------------------------------- command line
def run(args) -> int:
    """The `survey` command: print the report; with --out write the project. Exit 1 when a file could not be read."""
    import sys

    if args.out:
        check_project(args.out, args.force, args.codebook)
    labels = args.interviewer_labels.split("|") if args.interviewer_labels else None
    result = survey(args.directory, args.fmt, csv_options(args), labels, args.exclude or ())
    sys.stdout.write(format_report(result).rstrip("\n") + "\n")
    if args.out:
        written = write_project(result, args.out, args.force, args.codebook)
        print(f"project written: {', '.join(paths.relative(p) for p in written)}", file=sys.stderr)
    return 1 if result.unreadable else 0


def add_commands(sub) -> None:
    """Register `survey` on the command line."""
    p = sub.add_parser("survey", help="what the readers make of each file of a folder of transcripts; "
                                      "--out writes a project (participants.csv, pipeline.yaml)")
    p.add_argument("directory", metavar="DIR", help="the folder of transcripts")
    p.add_argument("--out", default=None, metavar="PROJECT", help="write PROJECT/participants.csv and pipeline.yaml")
    p.add_argument("--force", action="store_true", help="overwrite those files when they exist")
    p.add_argument("--codebook", default=None, metavar="YAML", help="the codebook to name in pipeline.yaml")
    add_reading_options(p)
    p.set_defaults(func=run)
