"""Inter-coder agreement between two codings tables (e.g. keyword auto-coding A vs a human coder B).

Each code is judged as present/absent on every unit, where a unit is a segment (`unit="segment"`)
or a character of the segment texts (`unit="character"`, as NVivo's coding comparison does:
characters coded by both, by neither, by one only). Units include talk that neither coder coded,
so pass the analysed segments (helpers.corpus.segments) as the universe.

For one code, with n units: both = coded by A and B, a_only, b_only, neither.
- percent agreement p_o = (both + neither) / n
- Cohen's kappa = (p_o - p_e) / (1 - p_e), p_e = (n_A n_B + (n - n_A)(n - n_B)) / n²
- Krippendorff's alpha (nominal, 2 coders, no missing values) = 1 - (N - 1) d / (n_0 n_1),
  with N = 2n pairable values, d = a_only + b_only, n_1 = 2 both + d, n_0 = 2 neither + d
- precision = both / n_A, recall = both / n_B, F1 = 2 both / (n_A + n_B)  (A judged against B)
A measure whose denominator is 0 is undefined (NaN): kappa and alpha when every unit got the same
value from both coders (e.g. a code neither used), precision when A never used the code, etc.
Overall rows count only the codes that at least one side used (a code nobody used would add only
"neither" decisions and inflate agreement): `macro` is the mean of their defined per-code values;
`pooled` computes the measures from their counts summed (every unit x code decision counted once).
The table's attrs name the units compared and the codes not used by either side.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

from .errors import InputError

UNITS = ("segment", "character")
LEVELS = ("theme", "subtheme")
COUNT_COLUMNS = ["n_units", "both", "a_only", "b_only", "neither"]
MEASURE_COLUMNS = ["percent_agreement", "kappa", "alpha", "precision", "recall", "f1"]
INTERVAL_COLUMNS = ["kappa_low", "kappa_high", "alpha_low", "alpha_high"]
TABLE_COLUMNS = ["code", "theme", "subtheme", *COUNT_COLUMNS, *MEASURE_COLUMNS, *INTERVAL_COLUMNS]
RESAMPLES, SEED = 1000, 0  # bootstrap over participants: resamples, and the seed that makes reruns identical
MACRO, POOLED = "overall (macro)", "overall (pooled)"


# ----------------------------------------------------------------------------- formulas
def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def measures(both, a_only, b_only, neither) -> pd.DataFrame:
    """The agreement measures (see the module docstring) from 2 x 2 counts, vectorised over codes."""
    both, a_only, b_only, neither = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (both, a_only, b_only, neither))
    n = both + a_only + b_only + neither
    n_a, n_b = both + a_only, both + b_only
    p_o = _ratio(both + neither, n)
    p_e = _ratio(n_a * n_b + (n - n_a) * (n - n_b), n * n)
    d = a_only + b_only
    n1, n0 = 2 * both + d, 2 * neither + d
    return pd.DataFrame({
        "percent_agreement": p_o,
        "kappa": _ratio(p_o - p_e, 1 - p_e),
        "alpha": 1 - _ratio((2 * n - 1) * d, n0 * n1),
        "precision": _ratio(both, n_a),
        "recall": _ratio(both, n_b),
        "f1": _ratio(2 * both, n_a + n_b),
    })


# ----------------------------------------------------------------------------- units and codes
def code_of(codings: pd.DataFrame, level: str = "theme") -> pd.Series:
    """The code of each codings row: its theme, or at subtheme level `theme/subtheme` (the theme
    itself for a theme's own rule)."""
    if level not in LEVELS:
        raise InputError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    theme = codings["theme"].fillna("").astype(str)
    if level == "theme":
        return theme
    sub = codings["subtheme"].fillna("").astype(str)
    return theme.where(sub == "", theme + "/" + sub)


def code_list(a: pd.DataFrame, b: pd.DataFrame, level: str = "theme", codes=None) -> list[str]:
    """The codes compared: `codes` (e.g. every codebook code, so unused ones show) then any other
    code A or B used, sorted."""
    given = list(dict.fromkeys(codes or []))
    used = sorted(set(code_of(a, level)) | set(code_of(b, level)))
    return given + [c for c in used if c not in given]


def codebook_codes(codes: pd.DataFrame, level: str = "theme") -> list[str]:
    """Codebook codes (Codebook.codes: theme, subtheme) as agreement codes, in codebook order: the
    themes, or at subtheme level the subthemes and the themes that have none."""
    if level == "theme":
        return list(dict.fromkeys(code_of(codes[codes["subtheme"] == ""], level)))
    parents = set(codes.loc[codes["subtheme"] != "", "theme"])
    leaves = codes[(codes["subtheme"] != "") | ~codes["theme"].isin(parents)]
    return list(dict.fromkeys(code_of(leaves, level)))


def _unit_index(codings: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """Row of `units` for each coding (-1 when its segment is not a unit); sentence ids roll up to
    their turn when the units are turns."""
    pos = pd.Series(np.arange(len(units)), index=units["segment_id"].astype(str))
    ids = codings["segment_id"].astype(str)
    idx = ids.map(pos)
    rolled = ids.str.replace(r"\.\d+$", "", regex=True)
    idx = idx.fillna(rolled.map(pos))
    return idx.fillna(-1).to_numpy(dtype=np.int64)


def outside_units(codings: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Codings rows whose segment is not among the units (e.g. interviewer turns, other transcripts)."""
    return codings[_unit_index(codings, units) < 0]


def presence(codings: pd.DataFrame, units: pd.DataFrame, codes: list[str], level: str = "theme") -> np.ndarray:
    """Boolean unit x code matrix: True where the coder used the code on the unit."""
    x = np.zeros((len(units), len(codes)), dtype=bool)
    col = pd.Series(np.arange(len(codes)), index=codes)
    rows = _unit_index(codings, units)
    cols = code_of(codings, level).map(col).fillna(-1).to_numpy(dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    x[rows[keep], cols[keep]] = True
    return x


def _char_masks(codings: pd.DataFrame, units: pd.DataFrame, codes: list[str], level: str,
                starts: np.ndarray, total: int) -> list[np.ndarray]:
    """For each code, a boolean mask over all characters of the unit texts: coded or not."""
    rows = _unit_index(codings, units)
    code = code_of(codings, level).to_numpy()
    lengths = np.diff(np.append(starts, total))
    s = np.clip(codings["start"].to_numpy(dtype=np.int64), 0, None)
    keep = rows >= 0
    e = np.minimum(codings["end"].to_numpy(dtype=np.int64)[keep], lengths[rows[keep]])
    g_start, g_end, code = starts[rows[keep]] + np.minimum(s[keep], e), starts[rows[keep]] + e, code[keep]
    masks = []
    for c in codes:
        hit = code == c
        diff = np.zeros(total + 1, dtype=np.int64)
        np.add.at(diff, g_start[hit], 1)
        np.add.at(diff, g_end[hit], -1)
        masks.append(np.cumsum(diff[:-1]) > 0)
    return masks


def participant_counts(a: pd.DataFrame, b: pd.DataFrame, units: pd.DataFrame, unit: str = "segment",
                       level: str = "theme", codes=None) -> tuple[list[str], np.ndarray]:
    """The codes compared, and a participant x code x 4 array of counts (both, a_only, b_only, neither)
    of segments or characters: the per-participant pieces that `counts` sums and the bootstrap
    resamples. Units without a participant id form one group."""
    if unit not in UNITS:
        raise InputError(f"unit {unit!r}: use one of {', '.join(UNITS)}")
    codes = code_list(a, b, level, codes)
    owner, people = pd.factorize(units["participant_id"].fillna("").astype(str))
    if unit == "segment":
        xa, xb = presence(a, units, codes, level), presence(b, units, codes, level)
        cols = [(xa[:, k], xb[:, k]) for k in range(len(codes))]
    else:
        lengths = units["text"].fillna("").astype(str).str.len().to_numpy(dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
        total = int(lengths.sum())
        cols = list(zip(_char_masks(a, units, codes, level, starts, total),
                        _char_masks(b, units, codes, level, starts, total)))
        owner = np.repeat(owner, lengths)
    out = np.zeros((len(people), len(codes), 4), dtype=np.int64)
    for k, (x, y) in enumerate(cols):
        for j, hit in enumerate((x & y, x & ~y, ~x & y, ~x & ~y)):
            out[:, k, j] = np.bincount(owner[hit], minlength=len(people))
    return codes, out


def _count_table(codes: list[str], per_person: np.ndarray) -> pd.DataFrame:
    """The per-code counts table from the participant x code x 4 counts."""
    summed = per_person.sum(axis=0)
    out = pd.DataFrame({"code": codes, "theme": [c.partition("/")[0] for c in codes],
                        "subtheme": [c.partition("/")[2] for c in codes], "n_units": summed.sum(axis=1),
                        "both": summed[:, 0], "a_only": summed[:, 1], "b_only": summed[:, 2], "neither": summed[:, 3]})
    return out.astype({c: np.int64 for c in COUNT_COLUMNS})


def bootstrap_intervals(per_person: np.ndarray, used: np.ndarray, resamples: int = 1000, seed: int = 0,
                        coverage: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of kappa and alpha by bootstrap over participants: each resample draws as many
    participants as there are, with replacement, and sums their counts. Returns (per code: C x 4 array
    kappa_low, kappa_high, alpha_low, alpha_high; pooled over the `used` codes: the same 4 values).
    Resamples where a measure is undefined are left out of its interval; NaN when none is defined."""
    n_people, n_codes = per_person.shape[:2]
    if resamples <= 0 or n_people == 0:
        return np.full((n_codes, 4), np.nan), np.full(4, np.nan)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_people, size=(resamples, n_people))
    weights = np.stack([np.bincount(d, minlength=n_people) for d in draws]).astype(float)
    boot = np.einsum("rp,pck->rck", weights, per_person.astype(float))  # resample x code x 4
    tail = 100 * (1 - coverage) / 2

    def interval(cells: np.ndarray) -> np.ndarray:
        m = measures(*(cells[..., j].ravel() for j in range(4)))
        out = []
        for name in ("kappa", "alpha"):
            values = m[name].to_numpy().reshape(cells.shape[:-1])
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out.append(np.nanpercentile(values, [tail, 100 - tail], axis=0))
        return np.concatenate(out, axis=0).T  # (..., 4)

    return interval(boot), interval(boot[:, used, :].sum(axis=1))


def agreement_table(a: pd.DataFrame, b: pd.DataFrame, units: pd.DataFrame, unit: str = "segment",
                    level: str = "theme", codes=None, resamples: int = RESAMPLES, seed: int = SEED) -> pd.DataFrame:
    """Per code and overall (macro, pooled): counts, percent agreement, kappa, alpha, precision,
    recall and F1 of A against B, and 95 % bootstrap intervals (over participants, `resamples` draws
    seeded by `seed`; 0 resamples: none) of kappa and alpha per code and pooled."""
    codes, per_person = participant_counts(a, b, units, unit, level, codes)
    table = _count_table(codes, per_person)
    used = (table["both"] + table["a_only"] + table["b_only"]) > 0
    per_code_ci, pooled_ci = bootstrap_intervals(per_person, used.to_numpy(), resamples, seed)
    per_code = pd.concat([table, measures(table["both"], table["a_only"], table["b_only"], table["neither"]),
                          pd.DataFrame(per_code_ci, columns=INTERVAL_COLUMNS)], axis=1)
    macro = {"code": MACRO, "theme": "", "subtheme": "", **{c: np.nan for c in COUNT_COLUMNS},
             **per_code.loc[used, MEASURE_COLUMNS].mean(skipna=True).to_dict()}
    sums = table.loc[used, COUNT_COLUMNS].sum()
    pooled = {"code": POOLED, "theme": "", "subtheme": "", **sums.to_dict(),
              **measures(sums["both"], sums["a_only"], sums["b_only"], sums["neither"]).iloc[0].to_dict(),
              **dict(zip(INTERVAL_COLUMNS, pooled_ci))}
    out = pd.concat([per_code, pd.DataFrame([macro, pooled])], ignore_index=True)[TABLE_COLUMNS]
    out = out.astype({c: "Int64" for c in COUNT_COLUMNS})
    out.attrs.update(unit=unit, level=level, n_segments=len(units),
                     n_participants=int(units["participant_id"].replace("", np.nan).nunique()),
                     transcripts=sorted(units["transcript_id"].astype(str).unique()),
                     used_codes=table.loc[used, "code"].tolist(), unused_codes=table.loc[~used, "code"].tolist())
    return out


def unused_codes_line(table: pd.DataFrame) -> str:
    """The codes neither side used (left out of the overall rows), with how many: one line, or ''."""
    unused = table.attrs.get("unused_codes", [])
    if not unused:
        return ""
    return f"{len(unused)} code(s) not used by either side, left out of the overall rows: {', '.join(unused)}"


def units_line(table: pd.DataFrame) -> str:
    """What a table compared: the unit, how many segments, participants and transcripts (named up to 5),
    and how many codes are in the overall rows."""
    names = table.attrs.get("transcripts", [])
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    used, unused = len(table.attrs.get("used_codes", [])), len(table.attrs.get("unused_codes", []))
    unit = table.attrs.get("unit", "segment")
    return (f"{unit} level, {table.attrs.get('n_segments', 0)} segments of {table.attrs.get('n_participants', 0)} "
            f"participants in {len(names)} transcripts ({shown}); overall rows over {used} code(s) used by either "
            f"side" + (f", {unused} unused left out" if unused else ""))


def common_units(units: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The units of the transcripts that both A and B coded: a narrower set, asked for explicitly
    (`--both-coded`); it drops transcripts one side read and left uncoded."""
    both = set(a["transcript_id"].astype(str)) & set(b["transcript_id"].astype(str))
    return units[units["transcript_id"].astype(str).isin(both)].reset_index(drop=True)


def project_transcripts(result, turns: pd.DataFrame) -> set[str] | None:
    """The transcripts a human coding covers when it is a QDA project: those its text sources are
    (coded or not); None for a codings table, which does not say what its coder read."""
    from . import exchange

    if result is None or result.project.sources.empty:
        return None
    return set(exchange.source_transcripts(result.project, turns).values())


def default_units(units: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame,
                  covered: set[str] | None = None) -> pd.DataFrame:
    """The units compared by default: the transcripts the human coding covers (`covered`, from
    project_transcripts), else the transcripts either side coded."""
    keep = covered if covered is not None else set(a["transcript_id"].astype(str)) | set(b["transcript_id"].astype(str))
    return units[units["transcript_id"].astype(str).isin(keep)].reset_index(drop=True)


def dropped_line(wider: pd.DataFrame, kept: pd.DataFrame, why: str) -> str:
    """How many units (and transcripts) a narrower set drops, for the report: one line, or ''."""
    lost = len(wider) - len(kept)
    if lost <= 0:
        return ""
    gone = wider["transcript_id"].nunique() - kept["transcript_id"].nunique()
    return f"{why}: {lost} of {len(wider)} units dropped ({gone} transcript(s))"


# ----------------------------------------------------------------------------- granularity
GRANULARITY_FACTOR = 10  # one side's median span this many times the other's: character level misleads


def median_span(codings: pd.DataFrame) -> float:
    """The median length in characters of a coding's spans (NaN when it has none)."""
    lengths = codings["end"].astype(float) - codings["start"].astype(float)
    return float(lengths.median()) if len(lengths) else float("nan")


def granularity_note(a: pd.DataFrame, b: pd.DataFrame, label_a: str = "A", label_b: str = "B",
                     factor: float = GRANULARITY_FACTOR) -> str:
    """One line when one side's median span is at least `factor` times the other's (e.g. matched words
    against whole answers), recommending segment level; '' otherwise."""
    ma, mb = median_span(a), median_span(b)
    if not (ma > 0 and mb > 0) or max(ma, mb) < factor * min(ma, mb):
        return ""
    return (f"{label_a}'s coded spans are {ma:g} characters long at the median, {label_b}'s {mb:g} "
            f"({max(ma, mb) / min(ma, mb):.0f} times apart): character-level figures compare unlike things; "
            f"compare at segment level, or widen the auto-coding's matches to their segments")


def widen_to_segments(codings: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """The codings with each span widened to its whole unit (segment), so that keyword matches compare
    with whole coded answers at character level; codings outside the units are kept as they are."""
    idx = _unit_index(codings, units)
    inside = idx >= 0
    out = codings.copy()
    lengths = units["text"].fillna("").astype(str).str.len().to_numpy(dtype=np.int64)
    out.loc[inside, "segment_id"] = units["segment_id"].astype(str).to_numpy()[idx[inside]]
    out.loc[inside, "start"] = 0
    out.loc[inside, "end"] = lengths[idx[inside]]
    return out


# ----------------------------------------------------------------------------- reading the differences
def disagreements(a: pd.DataFrame, b: pd.DataFrame, units: pd.DataFrame, level: str = "theme", codes=None,
                  label_a: str = "A", label_b: str = "B", labels: dict | None = None) -> pd.DataFrame:
    """Segments coded with a code by one side only: segment_id, participant_id, group, code (its label
    when `labels` has one), coded_by, terms (what that side matched or named), text (HTML, that
    side's spans marked), in unit order."""
    from .tables import highlight_spans

    codes = code_list(a, b, level, codes)
    xa, xb = presence(a, units, codes, level), presence(b, units, codes, level)
    rows, cols = np.nonzero(xa ^ xb)
    pairs = pd.DataFrame({"unit": rows, "col": cols, "side": np.where(xa[rows, cols], label_a, label_b)})
    spans = []
    for side, coded in ((label_a, a), (label_b, b)):
        idx = _unit_index(coded, units)
        exact = coded["segment_id"].astype(str).to_numpy() == units["segment_id"].astype(str).to_numpy()[np.maximum(idx, 0)]
        col = code_of(coded, level).map(pd.Series(np.arange(len(codes)), index=codes)).fillna(-1).to_numpy(np.int64)
        spans.append(pd.DataFrame({"unit": idx, "col": col, "side": side, "term": coded["term"].fillna("").astype(str),
                                   "start": np.where(exact, coded["start"], 0), "end": np.where(exact, coded["end"], 0)}))
    spans = pd.concat(spans, ignore_index=True)
    merged = pairs.merge(spans, on=["unit", "col", "side"], how="left")
    grouped = merged.groupby(["unit", "col", "side"], sort=True)
    terms = grouped["term"].agg(lambda t: ", ".join(dict.fromkeys(x for x in t if x)))
    marks = grouped[["start", "end"]].apply(lambda g: list(zip(g["start"], g["end"])))
    out = terms.rename("terms").reset_index()
    out["spans"] = marks.to_numpy()
    seg = units.iloc[out["unit"].to_numpy()]
    texts = seg["text"].fillna("").astype(str).tolist()
    return pd.DataFrame({
        "segment_id": seg["segment_id"].astype(str).to_numpy(),
        "participant_id": seg["participant_id"].fillna("").astype(str).to_numpy(),
        "group": seg["group"].fillna("").astype(str).to_numpy() if "group" in seg else "",
        "code": [(labels or {}).get(codes[c], codes[c]) for c in out["col"]],
        "coded_by": out["side"].astype(str).to_numpy() + " only",
        "terms": out["terms"].to_numpy(),
        "text": [highlight_spans(t, [s for s in sp if s[1] > s[0]]) for t, sp in zip(texts, out["spans"])],
    })


def plot_agreement(table: pd.DataFrame, labels: dict | None = None, note: str = "",
                   measures_shown=("kappa", "alpha", "f1")):
    """Dot plot: one row per code (and the pooled overall row), one marker per measure (kappa, alpha, F1),
    kappa with its 95 % interval as a line when the table has one."""
    from .figures import EXTRA_COLOURS, add_source_note, new_figure

    names = {"kappa": "Cohen's kappa", "alpha": "Krippendorff's alpha", "f1": "F1 (A vs B)",
             "percent_agreement": "Percent agreement", "precision": "Precision", "recall": "Recall"}
    markers = ["o", "s", "D", "^", "v", "P"]
    rows = table[table["code"] != MACRO].reset_index(drop=True)
    shown = [(labels or {}).get(c, c) for c in rows["code"]]
    fig, ax = new_figure(0.38 * len(rows) + 1.8)
    y = np.arange(len(rows))
    values = rows[list(measures_shown)].astype(float).to_numpy()
    dodge = 0.22 * (np.arange(len(measures_shown)) - (len(measures_shown) - 1) / 2)
    for i, m in enumerate(measures_shown):
        ax.scatter(values[:, i], y + dodge[i], s=40, marker=markers[i % len(markers)],
                   color=EXTRA_COLOURS[i % len(EXTRA_COLOURS)], label=names.get(m, m), zorder=3)
    if "kappa" in measures_shown and "kappa_low" in rows:  # the 95 % bootstrap interval of kappa, as a line
        k = list(measures_shown).index("kappa")
        ax.hlines(y + dodge[k], rows["kappa_low"].astype(float), rows["kappa_high"].astype(float),
                  color=EXTRA_COLOURS[k % len(EXTRA_COLOURS)], linewidth=1.2, zorder=2)
    for yy, row_values in zip(y, values):
        if np.isnan(row_values).all():
            ax.text(0.01, yy, "undefined: no unit coded by either side", va="center", fontsize=8, color="#555555")
    ax.set_yticks(y, shown)
    ax.invert_yaxis()
    if len(rows) and rows["code"].iloc[-1] == POOLED:
        ax.axhline(len(rows) - 1.5, color="#999999", linewidth=0.8)
    low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
    ax.set_xlim(min(low, 0.0) - 0.05, 1.05)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_title(f"Agreement per code, counted by {table.attrs.get('unit', 'segment')}s", pad=26)
    ax.set_xlabel("Agreement (1 = perfect; 0 = chance level for kappa and alpha)")
    ax.set_ylabel("")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(measures_shown), fontsize=8,
              handletextpad=0.3, columnspacing=1.2, borderaxespad=0.2)
    if note:
        add_source_note(fig, note)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- for the report
def code_labels(codes: pd.DataFrame, level: str = "theme") -> dict[str, str]:
    """Agreement code -> its codebook label (Codebook.codes: theme, subtheme, label)."""
    rows = codes if level == "subtheme" else codes[codes["subtheme"] == ""]
    return dict(zip(code_of(rows, level), rows["label"].astype(str)))


def display_table(table: pd.DataFrame, labels: dict | None = None, label_a: str = "A",
                  label_b: str = "B") -> pd.DataFrame:
    """The agreement table with readable column names and code labels, measures rounded to 3 places."""
    out = table.drop(columns=["theme", "subtheme"]).copy()
    out.insert(0, "code", out.pop("code").map(lambda c: (labels or {}).get(c, c)))
    out[MEASURE_COLUMNS + INTERVAL_COLUMNS] = out[MEASURE_COLUMNS + INTERVAL_COLUMNS].astype(float).round(3)
    return out.rename(columns={"kappa_low": "kappa 95% low", "kappa_high": "kappa 95% high",
                               "alpha_low": "alpha 95% low", "alpha_high": "alpha 95% high","n_units": "units", "a_only": f"{label_a} only", "b_only": f"{label_b} only",
                               "percent_agreement": "agreement", "alpha": "Krippendorff alpha",
                               "kappa": "Cohen kappa", "precision": f"precision ({label_a} vs {label_b})",
                               "recall": f"recall ({label_a} vs {label_b})", "f1": "F1"})


def unit_comparison(a: pd.DataFrame, b: pd.DataFrame, units: pd.DataFrame, level: str = "theme",
                    codes=None, labels: dict | None = None) -> pd.DataFrame:
    """Kappa and F1 per code at segment and at character level, side by side."""
    seg = agreement_table(a, b, units, "segment", level, codes, resamples=0).set_index("code")
    char = agreement_table(a, b, units, "character", level, codes, resamples=0).set_index("code")
    out = pd.DataFrame({"kappa (segments)": seg["kappa"], "kappa (characters)": char["kappa"],
                        "F1 (segments)": seg["f1"], "F1 (characters)": char["f1"]}).astype(float).round(3)
    out.index = [(labels or {}).get(c, c) for c in out.index]
    return out.rename_axis("code").reset_index()


def source_note(units: pd.DataFrame, label_a: str = "A", label_b: str = "B") -> str:
    """Figure note: segments, participants and transcripts compared, and who A and B are."""
    people = units["participant_id"].replace("", np.nan).nunique()
    return (f"n = {len(units)} segments from {people} participants in {units['transcript_id'].nunique()} "
            f"transcripts; A = {label_a}, B = {label_b}")


# ----------------------------------------------------------------------------- command line
def read_side(path: str, turns: pd.DataFrame, coder: str | None, codebook_codes=None):
    """One side of a comparison: a codings table or a .qdpx/.qde (placed on the turns), optionally one
    coder's rows -> the import result (its `codings`, and its project's sources)."""
    from . import exchange

    result = exchange.read_human_coding(path, turns, codebook_codes, coder=coder or "",
                                        default_coder=exchange.AUTO_CODER)
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return result


def unmatched_codes_line(a: pd.DataFrame, b: pd.DataFrame, level: str = "theme") -> str:
    """A warning when each side uses codes the other never names (the same codes under other names,
    e.g. a QDA tool's labels against codebook codes), or '' when the names line up."""
    only_a = sorted(set(code_of(a, level)) - set(code_of(b, level)))
    only_b = sorted(set(code_of(b, level)) - set(code_of(a, level)))
    if not only_a or not only_b:
        return ""
    shown = lambda codes: ", ".join(codes[:3]) + (" …" if len(codes) > 3 else "")  # noqa: E731
    return (f"{len(only_a)} code(s) appear only in A ({shown(only_a)}) and {len(only_b)} only in B "
            f"({shown(only_b)}); if they are the same codes under other names, give --codebook to match them")


def run_agree(args) -> int:
    """`agree`: agreement table of codings A against codings B."""
    from . import corpus, exchange

    turns = corpus.read_turns(args.corpus)
    book_codes = exchange.codebook_codes_or_none(args.codebook)
    a = read_side(args.a, turns, args.a_coder, book_codes).codings
    b_result = read_side(args.b, turns, args.b_coder, book_codes)
    b = b_result.codings
    sentence = any(c["segment_id"].str.contains(r":\d+\.\d+$", regex=True).any() for c in (a, b))
    units = corpus.segments(turns, corpus.participants_for(args.participants, turns),
                            unit="sentence" if sentence else "turn", include_interviewer=args.include_interviewer)
    if args.all_transcripts and args.both_coded:
        raise InputError("--all-transcripts and --both-coded: choose one set of units")
    if not args.all_transcripts:
        covered = default_units(units, a, b, project_transcripts(b_result, turns))
        units = common_units(covered, a, b) if args.both_coded else covered
        dropped = dropped_line(covered, units, "--both-coded") if args.both_coded else ""
        if dropped:
            print(f"note: {dropped}, transcripts one side left uncoded", file=sys.stderr)
    codes = codebook_codes(book_codes, args.level) if book_codes is not None else None
    unmatched = unmatched_codes_line(a, b, args.level) if book_codes is None else ""
    if unmatched:
        print(f"warning: {unmatched}", file=sys.stderr)
    for side, coded in (("A", a), ("B", b)):
        outside = outside_units(coded, units)
        if len(outside):
            print(f"warning: {len(outside)} coding(s) of {side} are on segments outside the compared units "
                  f"(interviewer turns or transcripts outside the compared set); not compared", file=sys.stderr)
    if args.widen_auto:
        a = widen_to_segments(a, units)
    note = granularity_note(a, b) if args.unit == "character" else ""
    if note:
        print(f"warning: {note} (--widen-auto)", file=sys.stderr)
    table = agreement_table(a, b, units, unit=args.unit, level=args.level, codes=codes,
                            resamples=args.resamples, seed=args.seed)
    corpus.emit_table(table, args.out, "agreement")
    pooled = table[table["code"] == POOLED].iloc[0]
    if table.attrs["unused_codes"]:
        print(unused_codes_line(table), file=sys.stderr)
    interval = f" (95% {pooled['kappa_low']:.3f} to {pooled['kappa_high']:.3f})" if args.resamples > 0 else ""
    print(f"{units_line(table)}: pooled kappa {pooled['kappa']:.3f}{interval}, alpha {pooled['alpha']:.3f}, "
          f"F1 {pooled['f1']:.3f}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register `agree`."""
    p = sub.add_parser("agree", help="inter-coder agreement of codings A against codings B (kappa, alpha, F1 …)")
    p.add_argument("--a", required=True, metavar="CODINGS", help="codings table or .qdpx (e.g. the auto-coding)")
    p.add_argument("--b", required=True, metavar="CODINGS", help="codings table or .qdpx (e.g. a human coder)")
    p.add_argument("--unit", choices=UNITS, default="segment", help="segments, or characters as NVivo does")
    p.add_argument("--level", choices=LEVELS, default="theme", help="compare themes or subthemes (default theme)")
    p.add_argument("--corpus", required=True, metavar="TURNS", help="turns table (CSV or Parquet, from `ingest`)")
    p.add_argument("--participants", default=None, metavar="CSV",
                   help="participants.csv for attributes (default: the participants the turns table names)")
    p.add_argument("--codebook", default=None, metavar="YAML",
                   help="codebook: maps code names onto its themes and lists its codes (default: none, codes by name)")
    p.add_argument("--a-coder", default=None, metavar="NAME", help="use only this coder's rows of A")
    p.add_argument("--b-coder", default=None, metavar="NAME", help="use only this coder's rows of B")
    p.add_argument("--all-transcripts", action="store_true",
                   help="compare over every transcript of the corpus (default: the transcripts the human coding B "
                        "covers: its .qdpx sources, coded or not, or for tables the transcripts either side coded)")
    p.add_argument("--both-coded", action="store_true",
                   help="narrower: only transcripts both sides coded (the summary says how many units it drops)")
    p.add_argument("--include-interviewer", action="store_true", help="also compare interviewer turns")
    p.add_argument("--widen-auto", action="store_true",
                   help="widen A's spans (keyword matches) to their whole segments, for a character-level comparison "
                        "with whole coded answers")
    p.add_argument("--resamples", type=int, default=RESAMPLES, metavar="N",
                   help=f"bootstrap resamples over participants for the 95%% intervals (default {RESAMPLES}; 0: none)")
    p.add_argument("--seed", type=int, default=SEED, help=f"bootstrap seed, so reruns are identical (default {SEED})")
    p.add_argument("--out", default=None, metavar="FILE", help="table to write (.csv or .parquet; default stdout)")
    p.set_defaults(func=run_agree)
