"""Participants and the validated corpus: turns + participants -> segments and tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import paths
from .errors import InputError

REQUIRED_PARTICIPANT_COLUMNS = ["participant_id", "group", "collection", "transcript_id"]
COLLECTIONS = {"interview", "focus_group"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def load_participants(path: str | Path | None = None) -> pd.DataFrame:
    """Read participants.csv (all columns as text) and check it; every problem names file and line."""
    path = paths.resolve(path) if path else paths.PARTICIPANTS
    shown = paths.relative(path)
    if not path.is_file():
        raise InputError(f"{shown}: participants file not found; give --participants or create it")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{shown}: cannot read as CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [c.strip() for c in df.columns]
    problems = [f"{shown}:1: missing column {c!r}; required: {', '.join(REQUIRED_PARTICIPANT_COLUMNS)}"
                for c in REQUIRED_PARTICIPANT_COLUMNS if c not in df.columns]
    if problems:
        raise InputError(problems)
    df = df.apply(lambda col: col.str.strip())
    for i, row in df.iterrows():
        line = i + 2  # header is line 1
        pid = row["participant_id"]
        if not pid:
            problems.append(f"{shown}:{line}: empty participant_id")
        elif not ID_PATTERN.match(pid):
            problems.append(f"{shown}:{line}: participant_id {pid!r} may hold only letters, digits, '_', '-', '.'")
        if not row["group"]:
            problems.append(f"{shown}:{line}: participant {pid}: empty group (e.g. client, esw, hcp)")
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
    skip = {"participant_id", "transcript_id", "speaker_labels"}
    return [c for c in participants.columns if c not in skip]


def participants_table(participants: pd.DataFrame, rows: str = "group", columns: str = "collection") -> pd.DataFrame:
    """A paper's Table 1: participants counted by `rows` x `columns`, with totals, plus data-collection events."""
    counts = pd.crosstab(participants[rows], participants[columns], margins=True, margins_name="Total")
    counts.index.name, counts.columns.name = rows, columns
    return counts


def collection_events(participants: pd.DataFrame, columns: str = "collection") -> pd.Series:
    """Number of data-collection events (distinct transcripts) per collection method."""
    return participants.groupby(columns)["transcript_id"].nunique().rename("transcripts")


def plot_participants(participants: pd.DataFrame, by: str = "group", hue: str = "collection"):
    """Bar chart: participants per stakeholder group, split by data-collection method."""
    import matplotlib.pyplot as plt

    from .figures import add_source_note, group_label

    counts = pd.crosstab(participants[by], participants[hue])
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    counts.index = [group_label(g) for g in counts.index]
    counts.plot.barh(ax=ax, stacked=True, color=["#56B4E9", "#CC79A7", "#F0E442", "#D55E00"][: counts.shape[1]],
                     width=0.6)
    for container in ax.containers:
        ax.bar_label(container, label_type="center", fontsize=9)
    ax.set_title("Participants by stakeholder group and data collection")
    ax.set_xlabel("Participants")
    ax.set_ylabel("")
    ax.legend(title=hue.replace("_", " "), loc="lower right")
    add_source_note(fig, f"n = {len(participants)} participants, "
                         f"{participants['transcript_id'].nunique()} transcripts")
    fig.tight_layout()
    return fig
