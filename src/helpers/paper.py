"""The tables a paper uses, as CSV files next to the other processed tables.

Each function turns an analysis table into what a journal table shows: headers in words, numbers
rounded for print (G² and Log Ratio to 2 decimals, p values to 3 significant digits or "<0.001",
shares as whole percentages), groups by their readable names in the project's group order, and rows
in a fixed order, so the same inputs always give the same file. `save_table` writes one such table
(spreadsheet-safe CSV) into the run's processed folder. The notebooks only call these.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .figures import group_label, group_order
from .tables import header_label as words  # 'age_band' -> 'Age band', 'focus_group' -> 'Focus group'

# the files the notebooks write (name -> notebook), for the index and the README
FILES = {
    "paper_table1_participants.csv": "01_corpus_overview",
    "paper_keyness.csv": "02_keywords",
    "paper_prevalence.csv": "03_theme_coding",
    "paper_quotes.csv": "03_theme_coding",
    "paper_cooccurrence.csv": "04_cooccurrence",
}
P_FLOOR = 0.001  # p values below this are written "<0.001"
ALL_GROUPS = "all"  # the `by` value coding.prevalence gives the whole corpus
MISSING = "not recorded"  # an attribute left empty in the participants file
METHOD_ORDER = ["interview", "focus_group"]  # data-collection methods in Table 1, then any others sorted


def p_text(p) -> str:
    """A p value for print: "<0.001" below 0.001, else 3 significant digits ("0.0123", "0.500"); "" when
    there is none (NaN or None)."""
    if p is None or (isinstance(p, float) and math.isnan(p)) or pd.isna(p):
        return ""
    p = float(p)
    return f"<{P_FLOOR:g}" if p < P_FLOOR else f"{p:#.3g}"


def percent(part, whole) -> str:
    """A share as a whole percentage ("64%"); "" when the whole is 0."""
    return f"{round(100 * part / whole)}%" if whole else ""


def save_table(table: pd.DataFrame, name: str) -> Path:
    """Write a paper table as NAME (one of FILES) into the processed folder; return its path."""
    if name not in FILES:
        raise ValueError(f"paper table {name!r}: not one of {', '.join(FILES)}")
    from .corpus import write_table

    return write_table(table, paths.processed_dir() / name)


# ----------------------------------------------------------------------------- Table 1
def _numeric(values: pd.Series) -> pd.Series | None:
    """The given values as numbers when every non-empty one is a number, else None."""
    given = values[values.astype(str).str.strip() != ""]
    numbers = pd.to_numeric(given, errors="coerce")
    return numbers if len(given) and numbers.notna().all() else None


def _attribute_summary(values: pd.Series, numeric: bool) -> str:
    """One Table 1 cell: "female 6, male 5" (categories in sorted order, the same in every row), or "8 (4–20)" (median, range) for a
    number; participants without a value counted as "not recorded N"; "" when none has a value."""
    text = values.fillna("").astype(str).str.strip()
    given, missing = text[text != ""], int((text == "").sum())
    if given.empty:
        return ""
    if numeric:
        numbers = pd.to_numeric(given)
        parts = [f"{numbers.median():g} ({numbers.min():g}–{numbers.max():g})"]
    else:
        parts = [f"{value} {n}" for value, n in sorted(given.value_counts().items())]
    if missing:
        parts.append(f"{MISSING} {missing}")
    return ", ".join(parts)


def table1_participants(participants: pd.DataFrame, by: str = "group", collection: str = "collection",
                        attributes=None) -> pd.DataFrame:
    """Table 1: one row per value of `by` (readable names, project order) and one for all participants;
    participants, participants per data-collection method, transcripts, and a summary of each further
    attribute (categories counted, numbers as median and range).

    `attributes` defaults to every participant attribute but `by` and `collection`."""
    from .corpus import participant_attributes

    people = participants.copy()
    people[by] = people[by].fillna("").astype(str)
    methods = (sorted(people[collection].fillna("").astype(str).unique(), key=lambda m: (m not in METHOD_ORDER,
               METHOD_ORDER.index(m) if m in METHOD_ORDER else 0, m)) if collection in people.columns else [])
    if attributes is None:
        attributes = [c for c in participant_attributes(people) if c not in (by, collection)]
    kinds = {a: _numeric(people[a]) is not None for a in attributes}
    headers = {a: f"{words(a)}, median (range)" if kinds[a] else words(a) for a in attributes}
    rows = []
    for value in [*group_order(people[by]), None]:
        part = people if value is None else people[people[by] == value]
        row = {words(by): "All participants" if value is None else group_label(value), "Participants": len(part)}
        for method in methods:
            row[words(method) or MISSING] = int((part[collection].fillna("").astype(str) == method).sum())
        row["Transcripts"] = int(part["transcript_id"].nunique()) if "transcript_id" in part else 0
        for a in attributes:
            row[headers[a]] = _attribute_summary(part[a], kinds[a])
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- prevalence
def _group_columns(values) -> list[str]:
    """`by` values in the project's group order, the whole-corpus rows ("all", "all (auto)" …) last."""
    values = [str(v) for v in pd.unique(pd.Series(values))]
    whole = [v for v in values if v == ALL_GROUPS or v.startswith(f"{ALL_GROUPS} (")]
    return group_order([v for v in values if v not in whole]) + group_order(whole)


def _group_heading(value: str) -> str:
    """A group's column heading: its readable name (group_label: the whole corpus is "All participants")."""
    from .coding import NO_GROUP

    return group_label("" if value == NO_GROUP else value)


def prevalence_table(prev: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Prevalence as a paper reports it: one row per theme and subtheme (codebook order), one column per
    group and one for all participants, each cell "n of N (share%)" of participants mentioning it."""
    groups = _group_columns(prev[by])
    cells = prev.assign(cell=[f"{n} of {total}" + (f" ({percent(n, total)})" if total else "")
                              for n, total in zip(prev["participants_coded"], prev["participants_total"])])
    keys = list(dict.fromkeys(zip(prev["theme"], prev["subtheme"])))
    wide = cells.pivot_table(index=["theme", "subtheme"], columns=by, values="cell", aggfunc="first")
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(keys, names=["theme", "subtheme"]), columns=groups)
    first = prev.drop_duplicates(["theme", "subtheme"]).set_index(["theme", "subtheme"])
    theme_label = first[first["level"] == "theme"]["label"].droplevel("subtheme")
    out = pd.DataFrame({
        "Theme": [theme_label.get(t, t) for t, _ in keys],
        "Subtheme": [first.loc[(t, s), "label"] if s else "" for t, s in keys],
    })
    for g in groups:
        out[_group_heading(g)] = wide[g].fillna("").to_numpy()
    return out


# ----------------------------------------------------------------------------- keyness
def keyness_table(key: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Key terms for a paper, from a keyness table (e.g. keywords.top_key_terms' selection): the value of
    `by` (column headed by its name in words), the
    groups it is compared with, term, counts and rates per 10,000 counted words on both sides, G², p,
    Benjamini–Hochberg adjusted p and Log Ratio. Rows by group (project order), G² (highest first), term."""
    from .keywords import REST

    order = {g: i for i, g in enumerate(group_order(key["target"]))}
    rows = key.assign(_group=key["target"].astype(str).map(order)).sort_values(
        ["_group", "reference", "g2", "term"], ascending=[True, True, False, True], kind="mergesort")
    reference = ["the other groups" if r == REST else " and ".join(group_label(g) for g in str(r).split("+"))
                 for r in rows["reference"]]

    def rate(count, total):
        return np.round(10_000 * count / total.where(total > 0), 1)

    return pd.DataFrame({
        words(by): rows["target"].astype(str).map(group_label).to_numpy(),
        "Compared with": reference,
        "Term": rows["term"].to_numpy(),
        "Count in group": rows["target_count"].to_numpy(),
        "Count in comparison": rows["reference_count"].to_numpy(),
        "Per 10,000 words in group": rate(rows["target_count"], rows["target_total"]).to_numpy(),
        "Per 10,000 words in comparison": rate(rows["reference_count"], rows["reference_total"]).to_numpy(),
        "G²": np.round(rows["g2"].to_numpy(dtype=float), 2),
        "P value": [p_text(p) for p in rows["p_value"]],
        "P adjusted": [p_text(p) for p in rows["p_adjusted"]],
        "Log ratio": np.round(rows["log_ratio"].to_numpy(dtype=float), 2),
    })


# ----------------------------------------------------------------------------- exemplar quotes
def quotes_table(quotes: pd.DataFrame, codebook) -> pd.DataFrame:
    """Exemplar quotes for a paper, in the order they were picked: theme, subtheme, the participant's id
    and group, the quote as plain text, its length in words and where it is (segment id)."""
    return pd.DataFrame({
        "Theme": [codebook.label(t) for t in quotes["theme"]],
        "Subtheme": [codebook.label(t, s) if s else "" for t, s in zip(quotes["theme"], quotes["subtheme"])],
        "Participant": quotes["participant_id"].astype(str).to_numpy(),
        "Group": quotes["group"].fillna("").astype(str).map(group_label).to_numpy(),
        "Quote": quotes["quote"].astype(str).to_numpy(),
        "Words": quotes["n_words"].to_numpy(),
        "Segment": quotes["segment_id"].astype(str).to_numpy(),
    })


# ----------------------------------------------------------------------------- co-occurrence
def cooccurrence_table(table: pd.DataFrame, labels: dict | None = None, alpha: float = 0.05,
                       unit: str = "segment") -> pd.DataFrame:
    """Pairs of codes for a paper, from cooccur.cooccurrence (one group): the two codes (labels), units with
    each, with both, the number expected by chance (permutation test), Jaccard, p and whether the pair
    meets more often than chance (p below `alpha`). Rows by p (smallest first; untested pairs last), then
    Jaccard (highest first), then the table's code order."""
    labels = labels or {}
    rows = table.assign(_row=np.arange(len(table)), _p=table["p_value"].astype(float).fillna(np.inf))
    rows = rows.sort_values(["_p", "jaccard", "_row"], ascending=[True, False, True], kind="mergesort",
                            na_position="last")
    p = rows["p_value"].astype(float)
    plural = f"{words(unit)}s"
    return pd.DataFrame({
        "Code A": [labels.get(c, words(c)) for c in rows["code_a"]],
        "Code B": [labels.get(c, words(c)) for c in rows["code_b"]],
        f"{plural} with A": rows["n_a"].to_numpy(),
        f"{plural} with B": rows["n_b"].to_numpy(),
        f"{plural} with both": rows["n_ab"].to_numpy(),
        "Expected with both": np.round(rows["expected_n_ab"].to_numpy(dtype=float), 1),
        "Jaccard": np.round(rows["jaccard"].to_numpy(dtype=float), 2),
        "P value": [p_text(v) for v in p],
        "More than chance": np.where(p.isna(), "", np.where(p < alpha, "yes", "no")),
        f"{plural} in all": rows["n_units"].to_numpy(),
    })
