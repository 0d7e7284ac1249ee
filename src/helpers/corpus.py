"""Participants and the validated corpus: turns + participants -> segments and tokens."""

from __future__ import annotations

import functools
import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import InputError, raise_if
from .tables import csv_text, unescape_formula
from .transcripts import DEFAULT_INTERVIEWER_LABELS, TURN_COLUMNS, IngestWarning, label_key, read_transcripts

PARQUET_SUFFIXES = (".parquet", ".pq")  # table files read and written as Parquet; anything else is CSV
REQUIRED_PARTICIPANT_COLUMNS = ["participant_id", "group", "collection", "transcript_id"]
COLLECTIONS = {"interview", "focus_group"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# Untrained Punkt (no NLTK data download), told the common abbreviations so 'Dr. Smith' stays one sentence.
ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "prof", "st", "etc", "e.g", "i.e", "vs", "approx", "no", "dept"}


@functools.lru_cache(maxsize=1)
def _punkt():
    """The sentence splitter, built on first use (importing NLTK takes a second)."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def _longer_row(path: Path) -> tuple[int, int, int] | None:
    """(line, fields, header fields) of the first CSV row with more fields than its header, if any."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for row in reader:
            if len(row) > len(header):
                return reader.line_num, len(row), len(header)
    return None


def read_text_csv(path: Path, shown: str, what: str, hint: str = "") -> pd.DataFrame:
    """A CSV table of ours or the user's, every cell as text; cells the project neutralised for
    spreadsheets (`'=…`) read back as written. One InputError naming the file (and the line of a row
    with more fields than the header, which would otherwise shift or drop values)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", index_col=False)
    except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{shown}: {what} ({str(exc).splitlines()[0]}){hint}") from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        longer = _longer_row(path)
        if longer:
            line, fields, header = longer
            raise InputError(f"{shown}:{line}: {fields} fields where the header has {header}; quote values that "
                             f"hold commas, or add the missing column names to line 1")
    if len(df.columns) and len(df) and df.apply(lambda col: col.str.startswith("'")).to_numpy().any():
        df = df.map(unescape_formula)  # read with dtype=str: every column is text
    return df


def load_participants(path: str | Path) -> pd.DataFrame:
    """Read a participants file (all columns as text) and check it; every problem names file and line.

    There is no default file: a project names its own (see `load_inputs` for a corpus without one).
    An empty `group` is allowed (a survey leaves it for the researcher) and shows as no group."""
    if not path:
        raise InputError("no participants file given; name one (--participants CSV, or participants_csv in the "
                         "project's pipeline.yaml), or leave it out to take each speaker as a participant")
    path = paths.resolve(path)
    shown = paths.relative(path)
    if not path.is_file():
        raise InputError(f"{shown}: participants file not found; give --participants or create it "
                         f"(python -m helpers survey DIR --out PROJECT writes one)")
    df = read_text_csv(path, shown, "cannot read as CSV")
    df.columns = [c.strip() for c in df.columns]
    problems = [f"{shown}:1: missing column {c!r}; required: {', '.join(REQUIRED_PARTICIPANT_COLUMNS)}"
                for c in REQUIRED_PARTICIPANT_COLUMNS if c not in df.columns]
    if problems:
        raise InputError(problems)
    df = df.apply(lambda col: col.str.strip())
    for i, row in zip(df.index, df.to_dict("records")):
        line = i + 2  # header is line 1
        pid = row["participant_id"]
        if not pid:
            problems.append(f"{shown}:{line}: empty participant_id")
        elif not ID_PATTERN.match(pid):
            problems.append(f"{shown}:{line}: participant_id {pid!r} may hold only letters, digits, '_', '-', '.'")
        if row["collection"] not in COLLECTIONS:
            problems.append(f"{shown}:{line}: participant {pid}: collection {row['collection']!r} "
                            f"must be one of {', '.join(sorted(COLLECTIONS))}")
        if not row["transcript_id"]:
            problems.append(f"{shown}:{line}: participant {pid}: empty transcript_id")
    dupes = df["participant_id"][df["participant_id"].duplicated() & (df["participant_id"] != "")]
    for i, pid in dupes.items():
        problems.append(f"{shown}:{i + 2}: participant_id {pid!r} appears more than once")
    if problems:
        raise InputError(problems)
    return df.reset_index(drop=True)


def participant_attributes(participants: pd.DataFrame) -> list[str]:
    """Columns usable as grouping variables (everything but ids and speaker labels)."""
    skip = {"participant_id", "transcript_id", "speaker_labels", "speaker"}
    return [c for c in participants.columns if c not in skip]


def collection_events(participants: pd.DataFrame, columns: str = "collection") -> pd.Series:
    """Number of data-collection events (distinct transcripts) per collection method."""
    return participants.groupby(columns)["transcript_id"].nunique().rename("transcripts")


def plot_participants(participants: pd.DataFrame, by: str = "group", hue: str = "collection"):
    """Bar chart: participants per stakeholder group (top to bottom in the project's order), split by
    data-collection method; counts inside the bars (none on empty parts), the legend beside the axes."""
    from .figures import add_source_note, human_label, new_figure, text_colour_for, value_label

    counts = pd.crosstab(participants[by].fillna("").astype(str), participants[hue].fillna("").astype(str))
    counts = counts.reindex(_order(counts.index))
    colours = ["#56B4E9", "#CC79A7", "#F0E442", "#D55E00", "#009E73", "#999999"]
    fig, ax = new_figure(1.9 + 0.55 * len(counts))
    y = np.arange(len(counts))
    left = np.zeros(len(counts))
    for i, column in enumerate(counts.columns):
        colour = colours[i % len(colours)]
        values = counts[column].to_numpy()
        bars = ax.barh(y, values, left=left, color=colour, height=0.6, label=value_label(hue, column))
        ax.bar_label(bars, labels=[f"{v:g}" if v > 0 else "" for v in values], label_type="center", fontsize=9,
                     color=text_colour_for(colour))
        left += values
    ax.set_yticks(y, [value_label(by, g) for g in counts.index])
    ax.invert_yaxis()
    ax.set_title("Participants by stakeholder group and data collection")
    ax.set_xlabel("Participants")
    ax.set_ylabel(human_label(by))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", visible=False)
    ax.legend(title=human_label(hue), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    add_source_note(fig, f"n = {len(participants)} participants, "
                         f"{participants['transcript_id'].nunique()} transcripts")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- turns: speakers resolved
def interviewer_pattern(labels=None) -> re.Pattern:
    """One regular expression for the interviewer labels; 'Name N' means Name followed by a number."""
    labels = DEFAULT_INTERVIEWER_LABELS if labels is None else labels
    if isinstance(labels, str):  # 'A|B' (a label may hold a comma: 'MEL, TYPING'), or 'A,B' when there is no '|'
        labels = labels.split("|") if "|" in labels else labels.split(",")
    parts = []
    for label in labels:
        label = str(label).strip()
        if not label:
            continue
        numbered = re.fullmatch(r"(.+?)\s+N", label)
        parts.append(re.escape(label_key(numbered[1])) + r"\d+" if numbered else re.escape(label_key(label)))
    return re.compile("^(?:" + "|".join(parts) + ")$") if parts else re.compile(r"(?!x)x")


def _speaker_maps(participants: pd.DataFrame, shown: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """transcript_id -> {label key -> participant_id}, from participant ids and the speaker_labels column."""
    maps: dict[str, dict[str, str]] = {}
    problems = []
    has_labels = "speaker_labels" in participants.columns
    written = participants["speaker_labels"].tolist() if has_labels else [None] * len(participants)
    for i, pid, tid, more in zip(participants.index, participants["participant_id"].tolist(),
                                 participants["transcript_id"].tolist(), written):
        labels = [pid] + ([x.strip() for x in more.split("|")] if has_labels else [])
        table = maps.setdefault(tid, {})
        for label in dict.fromkeys(x for x in labels if x):
            key = label_key(label)
            if key in table and table[key] != pid:
                problems.append(f"{shown}:{i + 2}: speaker label {label!r} of {pid} is also a label of "
                                f"{table[key]} in transcript {tid}; give each participant its own labels")
            table.setdefault(key, pid)
    return maps, problems


def _legend_aliases(who: str) -> list[str]:
    """What an initials legend says about a speaker ('Client (C08)') as candidate labels: C08, Client (C08), Client."""
    inside = re.findall(r"\(([^()]+)\)", who)
    bare = re.sub(r"\s*\([^()]*\)", "", who).strip()
    return [x.strip() for x in inside] + [who.strip(), bare]


UNATTRIBUTED = "unattributed"  # role of text that no speaker label covers (e.g. before the first label)


def speaker_keys(doc, label: str) -> list[str]:
    """The keys a speaker label is matched by: the label itself and what the transcript's legend says of it."""
    return [label_key(c) for c in [label, *_legend_aliases(doc.legend.get(label, ""))] if c]


def is_interviewer_label(doc, label: str, interviewer: re.Pattern) -> bool:
    """True when a label, or what the transcript's legend says of it, matches the interviewer pattern."""
    return any(interviewer.match(k) for k in speaker_keys(doc, label))


def _id_part(text: str) -> str:
    """Text made usable in a participant id (letters, digits, '_', '-', '.'; starting with a letter or digit)."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", unicodedata.normalize("NFKD", str(text))
                  .encode("ascii", "ignore").decode()).strip("_.-")


def participant_ids(speakers: list[tuple[str, str]]) -> list[str]:
    """Readable, unique participant ids for (transcript_id, speaker) pairs: the speaker made id-safe, qualified
    by the transcript (`SPEAKER_TRANSCRIPT`) when that speaker speaks in several transcripts; an empty speaker
    (a transcript without labels) takes the transcript's id; clashes get -2, -3 …"""
    bases = [(_id_part(speaker) or _id_part(tid) or "speaker", tid, speaker) for tid, speaker in speakers]
    spread = pd.Series([(b, tid) for b, tid, _ in bases], dtype=object).drop_duplicates().str[0].value_counts()
    ids, taken = [], set()
    for base, tid, speaker in bases:
        pid = f"{base}_{_id_part(tid) or 'transcript'}" if speaker and spread.get(base, 0) > 1 else base
        unique, n = pid, 2
        while unique.casefold() in taken:
            unique, n = f"{pid}-{n}", n + 1
        taken.add(unique.casefold())
        ids.append(unique)
    return ids


def participants_from_transcripts(docs, interviewer_labels=None) -> pd.DataFrame:
    """A participants table made from the transcripts: one participant per speaker label of each transcript.

    Interviewer labels and unattributed text are left out; a transcript without labels is one participant.
    participant_id is the label (made id-safe), qualified by the transcript (`LABEL_TRANSCRIPT`) when the same
    label speaks in several transcripts; `collection` is interview for one participant, focus_group for more;
    `group` is empty (the researcher's to fill in); `speaker_labels` holds the label as written."""
    interviewer = interviewer_pattern(interviewer_labels)
    pairs, written = [], {}  # (transcript_id, first label as written); -> every way it is written
    for d in docs:
        if not d.labelled:
            pairs.append((d.transcript_id, ""))
            continue
        first: dict[str, str] = {}  # labels that differ only in case or spacing are one speaker
        for label in dict.fromkeys(t["speaker"] for t in d.turns if t["speaker"]):
            if is_interviewer_label(d, label, interviewer):
                continue
            key = first.setdefault(label_key(label), label)
            if key == label:
                pairs.append((d.transcript_id, label))
            written.setdefault((d.transcript_id, key), []).append(label)
    ids = dict(zip(pairs, participant_ids(pairs)))
    per_transcript = pd.Series([t for t, _ in pairs]).value_counts()
    rows = [{"participant_id": ids[(tid, label)], "group": "",
             "collection": "interview" if per_transcript[tid] == 1 else "focus_group",
             "transcript_id": tid, "speaker_labels": "|".join(written.get((tid, label), [label]))}
            for tid, label in pairs]
    return pd.DataFrame(rows, columns=["participant_id", "group", "collection", "transcript_id", "speaker_labels"])


def resolve_speakers(docs, participants: pd.DataFrame, interviewer_labels=None, allow_unknown_speakers: bool = False,
                     participants_shown: str = "participants.csv", listed: bool = True) -> pd.DataFrame:
    """Transcripts + participants -> the turns table (DESIGN.md §2), every turn attributed or an InputError.

    `listed`: every transcript must have rows in the participants table (False for a table made from the
    transcripts themselves, where a transcript of interviewers only has none)."""
    interviewer = interviewer_pattern(interviewer_labels)
    maps, problems = _speaker_maps(participants, participants_shown)
    groups = dict(zip(participants["participant_id"].tolist(), participants["group"].tolist()))
    members: dict[str, list[str]] = {}  # transcript_id -> its participant ids, in table order
    for pid, tid in zip(participants["participant_id"].tolist(), participants["transcript_id"].tolist()):
        members.setdefault(tid, []).append(pid)
    doc_ids = {d.transcript_id for d in docs}
    for d in docs:
        if d.transcript_id not in maps and listed:
            problems.append(f"{d.source}: transcript {d.transcript_id!r} is not in {participants_shown}; add a row for "
                            f"each of its participants (participant_id, group, collection, transcript_id)")
    missing = participants[~participants["transcript_id"].isin(doc_ids)]
    for i, pid, tid in zip(missing.index, missing["participant_id"], missing["transcript_id"]):
        problems.append(f"{participants_shown}:{i + 2}: participant {pid} is listed for transcript "
                        f"{tid!r} but no such transcript was read; add the file or remove the row")
    columns: dict[str, list] = {c: [] for c in TURN_COLUMNS}
    unknown, spoke = {}, set()
    for d in docs:
        table, who = maps.get(d.transcript_id, {}), members.get(d.transcript_id, [])
        if not d.labelled and len(who) != 1 and d.transcript_id in maps and d.turns:
            problems.append(f"{d.source}: no speaker labels, but transcript {d.transcript_id!r} has {len(who)} "
                            f"participants in {participants_shown}; label each turn (e.g. 'H01: …')")
            continue
        speakers = [t["speaker"] for t in d.turns]
        resolved: dict[str, tuple[str, str]] = {}  # speaker label -> (participant_id, role), once per transcript
        for label in dict.fromkeys(speakers):
            if not d.labelled:
                resolved[label] = (who[0] if len(who) == 1 else "", "participant")
            elif not label:
                resolved[label] = ("", UNATTRIBUTED)  # text before the first label: kept, attributed to nobody
            else:
                keys = speaker_keys(d, label)
                hit = next((table[k] for k in keys if k in table), None)
                is_interviewer = not hit and keys and any(interviewer.match(k) for k in keys)
                resolved[label] = (hit or "", "interviewer" if is_interviewer else "participant")
        if d.labelled and d.transcript_id in maps:
            for t in d.turns:
                if t["speaker"] and resolved[t["speaker"]] == ("", "participant"):
                    first = unknown.setdefault((d.source, d.transcript_id, t["speaker"]), [t["line"], 0])
                    first[1] += 1
        pids = [resolved[label][0] for label in speakers]
        spoke.update(pids)
        columns["transcript_id"] += [d.transcript_id] * len(speakers)
        columns["turn"] += range(len(speakers))
        columns["speaker"] += speakers
        columns["participant_id"] += pids
        columns["role"] += [resolved[label][1] for label in speakers]
        columns["group"] += [groups.get(pid, "") for pid in pids]
        columns["timestamp"] += [np.nan if t["timestamp"] is None else float(t["timestamp"]) for t in d.turns]
        columns["text"] += [t["text"] for t in d.turns]
        columns["source"] += [d.source] * len(speakers)
        columns["line"] += [int(t["line"]) for t in d.turns]
    for (source, tid, speaker), (line, count) in unknown.items():
        rows = participants[participants["transcript_id"] == tid]
        written = [x.strip() for x in rows["participant_id"].tolist()
                   + (rows["speaker_labels"].str.split("|").explode().tolist() if "speaker_labels" in rows else [])]
        labels = ", ".join(sorted({x for x in written if isinstance(x, str) and x})) or "none"
        where = f"{source}:{line}: " if line else f"{source}: "
        what = f"unknown speaker label {speaker!r}" if speaker else "turn without a speaker label"
        msg = (f"{where}{what} in transcript {tid} ({count} turn{'s' if count != 1 else ''}); add it to the "
               f"speaker_labels of one of {', '.join(members.get(tid, []))} in {participants_shown} (labels now: {labels}), "
               f"or to the interviewer labels, or use --allow-unknown-speakers")
        if allow_unknown_speakers:
            warnings.warn(msg, IngestWarning, stacklevel=2)
        else:
            problems.append(msg)
    raise_if(problems)
    silent = participants[~participants["participant_id"].isin(spoke)]
    for i, pid, tid in zip(silent.index, silent["participant_id"], silent["transcript_id"]):
        warnings.warn(f"{participants_shown}:{i + 2}: participant {pid} has no turns in transcript "
                      f"{tid}; check their speaker_labels", IngestWarning, stacklevel=2)
    return turns_frame_of_columns(columns)


def turns_frame(records) -> pd.DataFrame:
    """A turns DataFrame with the DESIGN.md §2 columns and dtypes, sorted by transcript and turn."""
    return _turn_dtypes(pd.DataFrame.from_records(list(records), columns=TURN_COLUMNS))


def turns_frame_of_columns(columns: dict[str, list]) -> pd.DataFrame:
    """`turns_frame` of the turns given as one list per column (TURN_COLUMNS), not one record per turn."""
    return _turn_dtypes(pd.DataFrame({c: columns[c] for c in TURN_COLUMNS}, columns=TURN_COLUMNS))


def _turn_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """The turns with the DESIGN.md §2 dtypes, sorted by transcript and turn."""
    for col in ["transcript_id", "speaker", "participant_id", "role", "group", "text", "source"]:
        df[col] = df[col].astype(str)
    df["turn"] = df["turn"].astype("int64")
    df["line"] = df["line"].astype("int64")
    df["timestamp"] = df["timestamp"].astype("float64")
    return df.sort_values(["transcript_id", "turn"], kind="stable").reset_index(drop=True)


def load_inputs(transcripts_dir: str | Path | list, participants_csv: str | Path | pd.DataFrame | None = None,
                interviewer_labels=None, allow_unknown_speakers: bool = False, exclude_files=(),
                csv_columns: dict | None = None, fmt: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(participants, turns) of a project: its transcripts, validated against its participants file.

    Without a participants file (None or ""), each speaker of each transcript is a participant with an
    empty group (`participants_from_transcripts`). Cross-checks: every transcript is in the participants
    table, every participant's transcript exists, transcript ids are unique, and every speaker label is a
    participant's label or an interviewer label. Problems are raised together; nothing falls back to
    the demo corpus."""
    if transcripts_dir is None or (isinstance(transcripts_dir, (str, Path)) and not str(transcripts_dir).strip()):
        raise InputError("no transcripts given; name a folder or files (transcripts_dir in the project's "
                         "pipeline.yaml, or PATH on the command line)")
    docs = read_transcripts(transcripts_dir, fmt, csv_columns, exclude=tuple(exclude_files or ()))
    if isinstance(participants_csv, pd.DataFrame):
        participants, shown = participants_csv, "participants"
    elif participants_csv:
        participants = load_participants(participants_csv)
        shown = paths.relative(paths.resolve(participants_csv))
        no_group = participants.loc[participants["group"] == "", "participant_id"].tolist()
        if no_group:
            warnings.warn(f"{shown}: {len(no_group)} participant(s) have no group ({', '.join(no_group[:5])}"
                          f"{' …' if len(no_group) > 5 else ''}); fill in the group column to compare groups",
                          IngestWarning, stacklevel=2)
    else:
        participants = participants_from_transcripts(docs, interviewer_labels)
        return participants, unresolved_turns(docs, interviewer_labels, participants)
    return participants, resolve_speakers(docs, participants, interviewer_labels, allow_unknown_speakers, shown)


def load_corpus(transcripts_dir: str | Path | list, participants_csv: str | Path | pd.DataFrame | None = None,
                interviewer_labels=None, allow_unknown_speakers: bool = False, fmt: str = "auto",
                csv_columns: dict | None = None, exclude_files=()) -> pd.DataFrame:
    """The turns table of `load_inputs` (DESIGN.md §2)."""
    return load_inputs(transcripts_dir, participants_csv, interviewer_labels, allow_unknown_speakers, exclude_files,
                       csv_columns, fmt)[1]


def unresolved_turns(docs, interviewer_labels=None, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Turns of transcripts read without a participants file: each speaker of each transcript is a participant
    (`participants`: the table `participants_from_transcripts` made of them, when already at hand)."""
    if participants is None:
        participants = participants_from_transcripts(docs, interviewer_labels)
    return resolve_speakers(docs, participants, interviewer_labels,
                            participants_shown="the speakers of the transcripts (no participants file)", listed=False)


def with_turns_column(participants: pd.DataFrame, turns: pd.DataFrame, column: str) -> pd.DataFrame:
    """The participants with a turns column (e.g. speaker) added as an attribute (each one's first value), so
    tables by participant can be split by it; unchanged when they have it already or the turns do not."""
    if column in participants.columns or column not in turns.columns:
        return participants
    first = turns[turns["role"] == "participant"].groupby("participant_id")[column].first()
    return participants.assign(**{column: participants["participant_id"].map(first).fillna("").astype(str)})


def participants_of_turns(turns: pd.DataFrame) -> pd.DataFrame:
    """The participants a turns table names (id, group, transcript; collection from how many share a transcript):
    what commands given a turns file use when no participants file is named."""
    talk = turns[(turns["role"] == "participant") & (turns["participant_id"] != "")]
    people = talk.drop_duplicates("participant_id")[["participant_id", "group", "transcript_id"]]
    size = people.groupby("transcript_id")["participant_id"].transform("size")
    people = people.assign(collection=np.where(size > 1, "focus_group", "interview"))
    return people[["participant_id", "group", "collection", "transcript_id"]].sort_values(
        "participant_id", kind="stable").reset_index(drop=True)


def participants_for(path: str | Path | None, turns: pd.DataFrame) -> pd.DataFrame:
    """The participants file named by a command's --participants, else the participants its turns table names."""
    return load_participants(path) if path else participants_of_turns(turns)


# ----------------------------------------------------------------------------- segments
def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a text: lines first, then NLTK's untrained Punkt inside each line.

    A piece holding only transcription notes ('[laughs]') joins the sentence before it (or after it)."""
    from .text import mask_notes

    def has_words(start: int, end: int) -> bool:
        return re.search(r"\w", mask_notes(text[start:end])) is not None

    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n]+", text):
        merged: list[list[int]] = []
        for s, e in _punkt().span_tokenize(m.group()):
            s, e = m.start() + s, m.start() + e
            if not text[s:e].strip():
                continue
            if merged and not (has_words(s, e) and has_words(*merged[-1])):
                merged[-1][1] = e  # notes only, on either side: one sentence
            else:
                merged.append([s, e])
        spans.extend((s, e) for s, e in merged)
    return spans


def segments(turns: pd.DataFrame, participants: pd.DataFrame, unit: str = "turn",
             include_interviewer: bool = False) -> pd.DataFrame:
    """The units of coding: one row per participant turn (or sentence), with participant attributes joined.

    Columns: segment_id, transcript_id, turn, sentence, speaker, participant_id, role, group, text, then
    every participant attribute column, then start, end (character offsets of the segment in its turn
    text, so `turn_text[start:end] == text`). Interviewer turns are left out unless `include_interviewer`;
    unattributed text (before the first speaker label) is always left out of the analysis.
    """
    if unit not in ("turn", "sentence"):
        raise InputError(f"unit {unit!r}: use 'turn' or 'sentence'")
    roles = ["participant", "interviewer"] if include_interviewer else ["participant"]
    base = turns[turns["role"].isin(roles)]
    if "speaker" not in base.columns:
        base = base.assign(speaker="")
    base = base[["transcript_id", "turn", "speaker", "participant_id", "role", "group", "text"]].reset_index(drop=True)
    base["text"] = base["text"].fillna("").astype(str)
    if unit == "turn":
        base["sentence"] = 0
        base["start"] = 0
        base["end"] = base["text"].str.len().astype("int64")
    else:
        spans = base["text"].map(sentence_spans)
        counts = spans.str.len().to_numpy()
        base = base.loc[base.index.repeat(counts)].reset_index(drop=True)
        flat = [s for row in spans for s in row]
        base["sentence"] = np.concatenate([np.arange(c) for c in counts]) if len(counts) else np.array([], dtype=int)
        base["start"] = np.asarray([s for s, _ in flat], dtype=np.int64)
        base["end"] = np.asarray([e for _, e in flat], dtype=np.int64)
        base["text"] = [t[s:e] for t, s, e in zip(base["text"], base["start"], base["end"])]
    base["sentence"] = base["sentence"].astype("int64")
    base["turn"] = base["turn"].astype("int64")
    suffix = ("." + base["sentence"].astype(str)) if unit == "sentence" else ""
    base["segment_id"] = base["transcript_id"].astype(str) + ":" + base["turn"].astype(str) + suffix
    attrs = [c for c in participant_attributes(participants) if c not in ("group", "role", "text", "turn")]
    joined = base.merge(participants[["participant_id", *attrs]], on="participant_id", how="left")
    for col in attrs:
        joined[col] = joined[col].fillna("").astype(str)
    columns = ["segment_id", "transcript_id", "turn", "sentence", "speaker", "participant_id", "role", "group",
               "text", *attrs, "start", "end"]
    out = joined[columns].sort_values(["transcript_id", "turn", "sentence"], kind="stable")
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- writing tables, CLI
TURNS_NEEDED = ["transcript_id", "turn", "participant_id", "role", "group", "text"]


def check_coded_segments(segments: pd.DataFrame, codings: pd.DataFrame) -> None:
    """InputError unless every coded segment is one of `segments` (same corpus, same unit)."""
    missing = pd.Index(codings["segment_id"].unique()).difference(pd.Index(segments["segment_id"]))
    if len(missing):
        shown = ", ".join(repr(s) for s in sorted(missing)[:5])
        raise InputError(f"{len(missing)} coded segment(s) are not among the corpus segments ({shown}); code and "
                         "analyse the same corpus with the same unit (turn or sentence)")


def read_table(path: Path, what: str, made_by: str):
    """A CSV (all text, UTF-8 with or without BOM) or Parquet table, and `where(i)`: the place of
    its row i in messages (`file:line` for CSV, header = line 1; `file: row N` for Parquet).
    InputError naming the file when it is missing or unreadable; `made_by` is the command that writes it."""
    shown = paths.relative(path)
    if not path.is_file():
        raise InputError(f"{shown}: {what} file not found; write it with `{made_by}`")
    csv = path.suffix.lower() not in PARQUET_SUFFIXES
    if csv:
        df = read_text_csv(path, shown, f"cannot read as a {what} table",
                           f"; give the .csv or .parquet file written by `{made_by}`")
    else:
        try:
            df = pd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise InputError(f"{shown}: cannot read as a {what} table ({str(exc).splitlines()[0]}); give the .csv "
                             f"or .parquet file written by `{made_by}`") from None
    return df, ((lambda i: f"{shown}:{i + 2}") if csv else (lambda i: f"{shown}: row {i + 1}"))


def read_turns(path: str | Path) -> pd.DataFrame:
    """A turns table written by `ingest` (CSV or Parquet) with the DESIGN.md §2 dtypes; problems name file and row."""
    path = paths.resolve(path)
    shown = paths.relative(path)
    df, where = read_table(path, "turns", "python -m helpers ingest PATH --out FILE")
    csv = path.suffix.lower() not in PARQUET_SUFFIXES
    missing = [c for c in TURNS_NEEDED if c not in df.columns]
    raise_if([f"{shown}:1: missing column {c!r}; the turns table from `python -m helpers ingest` has "
              f"{', '.join(TURN_COLUMNS)}" for c in missing])
    numbers = {}
    problems = []
    for col in ("turn", "line"):
        if col not in df.columns:
            continue
        values = pd.to_numeric(df[col].astype(str).replace("", "nan") if csv else df[col], errors="coerce")
        bad = np.flatnonzero((values.isna() | (values % 1 != 0)).to_numpy())
        problems += [f"{where(i)}: {col} {df[col].iat[i]!r} is not a whole number" for i in bad[:10]]
        numbers[col] = values
    raise_if(problems)
    out = df.copy()
    for col, values in numbers.items():
        out[col] = values.astype("int64")
    if "timestamp" in out.columns:
        out["timestamp"] = pd.to_numeric(out["timestamp"].astype(str).replace("", "nan") if csv else out["timestamp"],
                                         errors="coerce").astype("float64")
    for col in ("transcript_id", "speaker", "participant_id", "role", "group", "text", "source"):
        if col in out.columns:
            out[col] = out[col].fillna("").astype(str)
    order = [c for c in TURN_COLUMNS if c in out.columns] + [c for c in out.columns if c not in TURN_COLUMNS]
    return out[order].sort_values(["transcript_id", "turn"], kind="stable").reset_index(drop=True)


def write_table(df: pd.DataFrame, out: str | Path) -> Path:
    """Write a table as CSV or Parquet (by extension) atomically: a temp file renamed into place."""
    import io

    out = paths.resolve(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", *PARQUET_SUFFIXES):
        raise InputError(f"{out}: output must end in .csv or .parquet")
    if suffix == ".csv":
        return paths.atomic_write(out, csv_text(df))
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return paths.atomic_write(out, buffer.getvalue())


def emit_table(df: pd.DataFrame, out, what: str, summary: str | None = None) -> None:
    """A command's table: to --out (atomically, a one-line summary on stderr) or as CSV on stdout.

    The summary reads `what: N rows -> FILE`, or `summary -> FILE` when a command says more."""
    import os
    import sys

    if out:
        written = write_table(df, out)
        print(f"{summary or f'{what}: {len(df)} rows'} -> {paths.relative(written)}", file=sys.stderr)
        return
    try:
        sys.stdout.write(csv_text(df))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `| head`: the reader has gone, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


CSV_OPTIONS = ("text", "speaker", "transcript", "time", "order")


def csv_options(args) -> dict:
    """The --csv-* options of a command as the `csv_columns` mapping the readers take."""
    out = {k: getattr(args, f"csv_{k}") for k in CSV_OPTIONS if getattr(args, f"csv_{k}", None)}
    if isinstance(out.get("text"), list) and len(out["text"]) == 1:
        out["text"] = out["text"][0]
    if getattr(args, "csv_keep_first", False):
        out["keep_first"] = True
    return out


def add_reading_options(p) -> None:
    """The options every command that reads transcripts shares: format, exclusions, interviewer labels, CSV columns."""
    p.add_argument("--format", dest="fmt", default="auto", choices=["auto", "txt", "md", "docx", "vtt", "srt", "csv"],
                   help="reader to use (default: from each file's extension)")
    p.add_argument("--exclude", nargs="+", action="extend", default=[], metavar="NAME",
                   help="file names (or patterns such as '*.pdf') in the folders to leave out, e.g. README.md")
    p.add_argument("--interviewer-labels", default=None, metavar="LABELS",
                   help=f"'|'-separated interviewer labels ('Name N' = Name + a number); default: "
                        f"{'|'.join(DEFAULT_INTERVIEWER_LABELS)}")
    p.add_argument("--csv-text", nargs="+", default=None, metavar="COLUMN",
                   help="CSV input: the text column; several columns = a wide file, one turn per answer")
    for kind in ("speaker", "transcript", "time"):
        p.add_argument(f"--csv-{kind}", default=None, metavar="COLUMN", help=f"CSV input: the {kind} column")
    p.add_argument("--csv-order", default=None, metavar="COLUMN",
                   help="CSV input: the column that orders the utterances of a transcript")
    p.add_argument("--csv-keep-first", action="store_true",
                   help="CSV input: keep the first of duplicate utterance rows (same transcript and order) "
                        "instead of refusing the file")


def print_warnings(caught) -> None:
    """Print the IngestWarnings caught while reading, one line each on stderr."""
    import sys

    for w in caught:
        if issubclass(w.category, IngestWarning):
            print(f"warning: {w.message}", file=sys.stderr)


def ingest(sources, participants_csv=None, fmt: str = "auto", out=None, interviewer_labels=None,
           allow_unknown_speakers: bool = False, csv_columns: dict | None = None, exclude_files=()) -> int:
    """The `ingest` command: transcripts -> turns table (CSV/Parquet file, or CSV on stdout); warnings on stderr.

    Without a participants file each speaker of each transcript is a participant (group empty)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IngestWarning)
        _, turns = load_inputs(sources, participants_csv, interviewer_labels, allow_unknown_speakers, exclude_files,
                               csv_columns, fmt)
    print_warnings(caught)
    emit_table(turns, out, "turns", f"{len(turns)} turns from {turns['transcript_id'].nunique()} transcripts")
    return 0


def add_commands(sub) -> None:
    """Register `ingest` on the command line."""
    p = sub.add_parser("ingest", help="parse transcripts (txt, md, docx, vtt, srt, csv) into the turns table")
    p.add_argument("paths", nargs="+", metavar="PATH", help="transcript files or folders")
    p.add_argument("--participants", default=None, metavar="CSV",
                   help="participants.csv: resolve and check every speaker (without it, each speaker of each "
                        "transcript is a participant with an empty group)")
    p.add_argument("--out", default=None, metavar="FILE", help="output .csv or .parquet (default: CSV on stdout)")
    p.add_argument("--allow-unknown-speakers", action="store_true",
                   help="turn unknown speaker labels into warnings (their turns keep an empty participant_id)")
    add_reading_options(p)
    p.set_defaults(func=lambda a: ingest(a.paths, a.participants, a.fmt, a.out, a.interviewer_labels,
                                         a.allow_unknown_speakers, csv_options(a), a.exclude))


# ----------------------------------------------------------------------------- who talks how much
def with_words(turns: pd.DataFrame) -> pd.DataFrame:
    """The turns with a `words` column: tokens per turn (transcription notes and placeholders not counted)."""
    from .text import word_counts

    return turns.assign(words=word_counts(turns["text"]))


def _participant_turns(turns: pd.DataFrame, participants: pd.DataFrame, by: str) -> pd.DataFrame:
    """Participant turns with words and the `by` column (a turns column such as speaker or transcript_id, or a
    participant attribute joined from participants)."""
    own = {"speaker", "transcript_id", "participant_id", "group"}
    if by not in own and by not in participants.columns:
        raise InputError(f"by={by!r} is neither a column of the turns nor of the participants; use one of: "
                         f"{', '.join(sorted(own | set(participant_attributes(participants))))}")
    talk = with_words(turns[turns["role"] == "participant"])
    if by not in own:
        talk = talk.merge(participants[["participant_id", by]], on="participant_id", how="left")
    talk[by] = talk[by].fillna("").astype(str)
    return talk


def _order(values) -> list[str]:
    """Groups in the project's fixed order (figures.group_order, imported late: matplotlib is slow to load)."""
    from .figures import group_order

    return group_order(values)


def talk_by(turns: pd.DataFrame, participants: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Participants' talk per value of `by`: participants, turns, words, mean and median words per turn, share of words."""
    talk = _participant_turns(turns, participants, by)
    table = talk.groupby(by).agg(participants=("participant_id", "nunique"), transcripts=("transcript_id", "nunique"),
                                 turns=("turn", "size"), words=("words", "sum"),
                                 mean_words_per_turn=("words", "mean"), median_words_per_turn=("words", "median"))
    table = table.reindex(_order(table.index))
    table["share_of_words"] = table["words"] / table["words"].sum()
    table["mean_words_per_turn"] = table["mean_words_per_turn"].round(1)
    table.index.name = by
    return table.reset_index()


def talk_by_participant(turns: pd.DataFrame, participants: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Each participant's talk: transcript, `by`, turns, words, mean words per turn (participants with no turns get 0)."""
    talk = _participant_turns(turns, participants, by)
    table = talk.groupby("participant_id").agg(turns=("turn", "size"), words=("words", "sum"))
    extra = [by] if by not in ("participant_id", "transcript_id") else []
    if extra and by not in participants.columns:  # a turns column (speaker): each participant's first value
        first = talk.groupby("participant_id")[by].first()
        out = participants[["participant_id", "transcript_id"]].assign(
            **{by: participants["participant_id"].map(first).fillna("").astype(str)})
    else:
        out = participants[["participant_id", "transcript_id"] + extra]
    out = out.merge(table, left_on="participant_id", right_index=True, how="left")
    out[["turns", "words"]] = out[["turns", "words"]].fillna(0).astype("int64")
    out["mean_words_per_turn"] = (out["words"] / out["turns"].where(out["turns"] > 0)).round(1)
    rank = {v: i for i, v in enumerate(_order(out[by]))}
    out = out.assign(_rank=out[by].map(rank)).sort_values(["_rank", "participant_id"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def interviewer_share(turns: pd.DataFrame, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per transcript: interviewer and participant turns and words, and the interviewer's share of words."""
    talk = with_words(turns[turns["role"] != UNATTRIBUTED])
    talk["who"] = np.where(talk["role"] == "interviewer", "interviewer", "participant")
    words = talk.pivot_table(index="transcript_id", columns="who", values="words", aggfunc="sum", fill_value=0)
    count = talk.pivot_table(index="transcript_id", columns="who", values="turn", aggfunc="size", fill_value=0)
    out = pd.DataFrame(index=sorted(talk["transcript_id"].unique()))
    for who in ("interviewer", "participant"):
        out[f"{who}_turns"] = count[who] if who in count else 0
        out[f"{who}_words"] = words[who] if who in words else 0
    out = out.fillna(0).astype("int64")
    total = out["interviewer_words"] + out["participant_words"]
    out["interviewer_share"] = (out["interviewer_words"] / total.where(total > 0)).round(4)
    out.index.name = "transcript_id"
    out = out.reset_index()
    if participants is not None:
        first = participants.groupby("transcript_id")[["group", "collection"]].first()
        out = out.merge(first, left_on="transcript_id", right_index=True, how="left")
        out = out[["transcript_id", "group", "collection", *[c for c in out.columns
                                                              if c not in ("transcript_id", "group", "collection")]]]
    return out


def plot_words_by_participant(per_participant: pd.DataFrame, by: str = "group"):
    """Bar chart of words spoken by each participant, coloured by `by`."""
    from matplotlib.patches import Patch

    from .figures import add_source_note, group_palette, human_label, new_figure, value_label

    palette = group_palette(per_participant[by])
    fig, ax = new_figure(max(3.5, 0.26 * len(per_participant) + 1.2))
    y = np.arange(len(per_participant))
    ax.barh(y, per_participant["words"], color=[palette[v] for v in per_participant[by]], height=0.7)
    ax.set_yticks(y, per_participant["participant_id"])
    ax.invert_yaxis()
    ax.set_title("Words spoken by each participant")
    ax.set_xlabel("Words (transcription notes not counted)")
    ax.set_ylabel("Participant")
    ax.grid(axis="y", visible=False)
    ax.legend(handles=[Patch(color=palette[v], label=value_label(by, v)) for v in _order(per_participant[by])],
              title=human_label(by), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    add_source_note(fig, f"n = {len(per_participant)} participants, {int(per_participant['turns'].sum())} turns, "
                         f"{int(per_participant['words'].sum()):,} words")
    fig.tight_layout()
    return fig


def plot_interviewer_share(share: pd.DataFrame):
    """Bar chart of the interviewer's share of words in each transcript, coloured by the participants' group."""
    from matplotlib.patches import Patch

    from .figures import add_source_note, group_label, group_palette, human_label, new_figure

    groups = share["group"].fillna("").astype(str) if "group" in share else pd.Series([""] * len(share))
    palette = group_palette(groups)
    fig, ax = new_figure(max(3.5, 0.3 * len(share) + 1.2))
    y = np.arange(len(share))
    ax.barh(y, 100 * share["interviewer_share"].fillna(0), color=[palette[g] for g in groups], height=0.7)
    ax.set_yticks(y, share["transcript_id"])
    ax.invert_yaxis()
    ax.set_title("Interviewer's share of talk per transcript")
    ax.set_xlabel("Interviewer words (% of all words in the transcript)")
    ax.set_ylabel("Transcript")
    ax.grid(axis="y", visible=False)
    if "group" in share:
        ax.legend(handles=[Patch(color=palette[g], label=group_label(g)) for g in _order(groups)],
                  title=human_label("group"), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    add_source_note(fig, f"n = {len(share)} transcripts, {int(share['interviewer_words'].sum()):,} interviewer and "
                         f"{int(share['participant_words'].sum()):,} participant words")
    fig.tight_layout()
    return fig


def plot_turn_lengths(turns: pd.DataFrame, participants: pd.DataFrame, by: str = "group",
                      include_interviewer: bool = True):
    """Box plots of words per turn for each value of `by` (log scale), with the interviewers for comparison."""
    import matplotlib.pyplot as plt

    from .figures import add_source_note, group_label, group_palette, human_label, new_figure, value_label

    talk = _participant_turns(turns, participants, by)[[by, "words"]]
    order = _order(talk[by])
    if include_interviewer:
        asked = with_words(turns[turns["role"] == "interviewer"])
        talk = pd.concat([talk, pd.DataFrame({by: "interviewer", "words": asked["words"]})], ignore_index=True)
        order = order + (["interviewer"] if len(asked) else [])
    palette = group_palette(order)
    data = [talk.loc[talk[by] == v, "words"].clip(lower=1).to_numpy() for v in order]
    fig, ax = new_figure(0.7 * len(order) + 1.8)
    import inspect

    sideways = ({"orientation": "horizontal"} if "orientation" in inspect.signature(ax.boxplot).parameters
                else {"vert": False})  # matplotlib >= 3.10 renamed the option
    box = ax.boxplot(data, **sideways, patch_artist=True, widths=0.6, showfliers=True,
                     flierprops={"marker": "o", "markersize": 3, "alpha": 0.5})
    for patch, v in zip(box["boxes"], order):
        patch.set_facecolor(palette[v])
        patch.set_alpha(0.8)
    for median in box["medians"]:
        median.set_color("black")
    ax.set_yticks(np.arange(1, len(order) + 1),
                  [f"{group_label(v) if v == 'interviewer' else value_label(by, v)} (n = {len(d)})"
                   for v, d in zip(order, data)])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(plt.FuncFormatter("{:g}".format))
    ax.set_title("How long are the turns?")
    ax.set_xlabel("Words per turn (log scale)")
    ax.set_ylabel(human_label(by))
    add_source_note(fig, f"n = {sum(len(d) for d in data)} turns from {turns['transcript_id'].nunique()} transcripts; "
                         f"boxes: quartiles, line: median")
    fig.tight_layout()
    return fig
