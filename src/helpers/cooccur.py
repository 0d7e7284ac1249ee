"""Co-occurrence of codes (and of words): sparse unit x code matrices, measures, networks.

A *unit* is the stretch of talk inside which two codes count as meeting: a segment (the same
turn or sentence), a participant (mentioned by the same person), a transcript, or a window of
k consecutive turns within a transcript (sliding by one turn). X is the binary unit x code
matrix (scipy.sparse) and C = XᵀX: its diagonal holds n_a (units coded a), the rest n_ab.

N, the number of units that the probabilities p_a = n_a / N, p_ab = n_ab / N are computed
over, is the number of units in the analysed corpus, *including units that carry no code*.
Pass the full segments table (`segments=`, from helpers.corpus.segments) so uncoded talk
counts; without it only the coded segments are known and N is the number of units built from
them (NPMI and the permutation test then describe coded talk only; n_a, n_b, n_ab and Jaccard
do not depend on N).

Measures (DESIGN.md §6): Jaccard = n_ab / (n_a + n_b - n_ab) (ATLAS.ti's c-coefficient);
NPMI = ln(p_ab / (p_a p_b)) / -ln(p_ab), empty when n_ab = 0 and 1 when p_ab = 1.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from . import corpus, paths
from .errors import InputError

LEVELS = ("theme", "subtheme")
UNITS = ("segment", "participant", "transcript", "window")
COLUMNS = ["code_a", "code_b", "n_a", "n_b", "n_ab", "jaccard", "npmi"]
EXTRA_COLUMNS = ["n_units", "expected_n_ab", "p_value", "unbalanced"]
CODINGS_COLUMNS = ["segment_id", "transcript_id", "participant_id", "theme", "subtheme"]
UNBALANCED_RATIO = 5  # flag a pair when one code is more than this many times as frequent
SEGMENT_ID = r"^(?P<transcript>.+):(?P<turn>\d+)(?:\.(?P<sentence>\d+))?$"
THEME_COLOURS = ["#56B4E9", "#CC79A7", "#D55E00", "#F0E442", "#999999"]  # not the stakeholder-group colours
PERMUTATION_CELLS = 4_000_000  # random numbers drawn per batch of permutations (memory bound)


# ----------------------------------------------------------------------------- the unit x code matrix
@dataclass
class Incidence:
    """A binary unit x code matrix, kept as base rows (what gets shuffled) and base -> unit map.

    base: base-row x code 0/1 (csr); to_units: unit x base-row 0/1 (csr) or None when every
    base row is its own unit; strata: per base row, the group it may be shuffled within.
    """

    base: sparse.csr_matrix
    to_units: sparse.csr_matrix | None
    strata: np.ndarray
    unit_ids: list[str]
    codes: list[str]

    @property
    def matrix(self) -> sparse.csr_matrix:
        """X: unit x code, 1 where any base row of the unit carries the code."""
        if self.to_units is None:
            return self.base
        x = (self.to_units @ self.base).tocsr()
        x.data[:] = 1
        x.eliminate_zeros()
        return x

    @property
    def n_units(self) -> int:
        """N: the number of units, coded or not."""
        return len(self.unit_ids)


def code_column(codings: pd.DataFrame, level: str = "theme") -> pd.Series:
    """The code of each codings row at a level; at subtheme level a theme's own rule counts as the theme."""
    if level not in LEVELS:
        raise InputError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    if level == "theme":
        return codings["theme"].astype(str)
    sub = codings["subtheme"].fillna("").astype(str)
    return sub.where(sub != "", codings["theme"].astype(str))


def parse_segment_ids(ids: pd.Series) -> pd.DataFrame:
    """Split `{transcript_id}:{turn}[.{sentence}]` ids into transcript_id, turn, sentence (ints)."""
    parts = ids.astype(str).str.extract(SEGMENT_ID)
    bad = parts["turn"].isna()
    if bad.any():
        shown = ", ".join(repr(s) for s in ids[bad].astype(str).head(5))
        raise InputError(f"segment_id {shown}: expected TRANSCRIPT:TURN or TRANSCRIPT:TURN.SENTENCE "
                         "(as helpers.corpus.segments writes them)")
    return pd.DataFrame({"transcript_id": parts["transcript"].astype(str),
                         "turn": parts["turn"].astype(np.int64),
                         "sentence": parts["sentence"].fillna("0").astype(np.int64)}, index=ids.index)


def base_segments(codings: pd.DataFrame, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The analysed segments (coded or not), one row each, sorted by transcript, turn, sentence.

    From `segments` when given (every coded segment must be in it), else the coded segments.
    """
    if segments is None:
        cols = [c for c in codings.columns if c not in ("theme", "subtheme", "term", "start", "end")]
        table = codings[cols].drop_duplicates("segment_id")
    else:
        corpus.check_coded_segments(segments, codings)
        table = segments.drop_duplicates("segment_id")
    table = table.reset_index(drop=True)
    if not {"turn", "sentence", "transcript_id"} <= set(table.columns):  # read them from the ids
        parsed = parse_segment_ids(table["segment_id"])
        for col in ("turn", "sentence", "transcript_id"):
            if col not in table.columns:
                table[col] = parsed[col]
    table = table.astype({"turn": np.int64, "sentence": np.int64})
    table["transcript_id"] = table["transcript_id"].astype(str)
    table["participant_id"] = table["participant_id"].fillna("").astype(str)
    return table.sort_values(["transcript_id", "turn", "sentence", "segment_id"], kind="stable").reset_index(drop=True)


def _indicator(row_codes: np.ndarray, col_codes: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """A 0/1 csr matrix with ones at (row, col) pairs (duplicates collapse to 1)."""
    m = sparse.csr_matrix((np.ones(len(row_codes), dtype=np.int64), (row_codes, col_codes)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1
    return m


def _window_map(base: pd.DataFrame, k: int) -> tuple[sparse.csr_matrix, list[str]]:
    """Windows of k consecutive turns (sliding by one) per transcript, and each base row's windows."""
    turns = base["turn"].to_numpy()
    transcripts = base["transcript_id"].to_numpy()
    last = base.groupby("transcript_id", sort=True)["turn"].max()
    n_windows = np.maximum(last.to_numpy() - k + 2, 1)  # turns 0..last -> starts 0..last-k+1
    offsets = np.concatenate([[0], np.cumsum(n_windows)[:-1]])
    position = pd.Series(np.arange(len(last)), index=last.index)
    t_idx = position.loc[transcripts].to_numpy()
    rows, cols = [], []
    for back in range(k):  # a turn u lies in the windows starting at u-k+1 .. u
        start = turns - back
        ok = (start >= 0) & (start < n_windows[t_idx])
        rows.append(offsets[t_idx[ok]] + start[ok])
        cols.append(np.flatnonzero(ok))
    to_units = _indicator(np.concatenate(rows), np.concatenate(cols), (int(n_windows.sum()), len(base)))
    ids = [f"{t}:{s}-{s + k - 1}" for t, n in zip(last.index, n_windows) for s in range(int(n))]
    return to_units, ids


def incidence(codings: pd.DataFrame, level: str = "theme", unit: str = "segment", window: int = 3,
              segments: pd.DataFrame | None = None, codes: list[str] | None = None) -> Incidence:
    """Build the binary unit x code matrix from a codings table (see the module docstring for N)."""
    if unit not in UNITS:
        raise InputError(f"unit {unit!r}: use one of {', '.join(UNITS)}")
    if unit == "window" and (not isinstance(window, (int, np.integer)) or window < 1):
        raise InputError(f"window {window!r}: give a whole number of turns, 1 or more")
    base = base_segments(codings, segments)
    code_of_row = code_column(codings, level)
    codes = list(codes) if codes is not None else sorted(code_of_row.unique())
    col = pd.Index(codes).get_indexer(code_of_row)
    row = pd.Index(base["segment_id"]).get_indexer(codings["segment_id"])
    keep = col >= 0
    seg_x = _indicator(row[keep], col[keep], (len(base), len(codes)))
    transcript_strata = pd.factorize(base["transcript_id"], sort=True)[0].astype(np.int64)
    if unit == "segment":
        return Incidence(seg_x, None, transcript_strata, base["segment_id"].tolist(), codes)
    if unit == "window":
        to_units, ids = _window_map(base, int(window))
        return Incidence(seg_x, to_units, transcript_strata, ids, codes)
    if unit == "participant":
        keys = base["participant_id"].where(base["participant_id"] != "", base["transcript_id"] + ":interviewer")
    else:
        keys = base["transcript_id"]
    unit_idx, unit_ids = pd.factorize(keys, sort=True)
    to_units = _indicator(unit_idx, np.arange(len(base)), (len(unit_ids), len(base)))
    # Whole participants/transcripts: a shuffle within a transcript could not move a code to
    # another unit (an interview is one person), so codes are shuffled across all units.
    x = Incidence(seg_x, to_units, transcript_strata, [str(u) for u in unit_ids], codes).matrix
    return Incidence(x, None, np.zeros(x.shape[0], dtype=np.int64), [str(u) for u in unit_ids], codes)


# ----------------------------------------------------------------------------- measures
def measures(n_a, n_b, n_ab, n_units: int) -> pd.DataFrame:
    """Jaccard and NPMI for arrays of counts (DESIGN.md §6); NaN where undefined."""
    n_a, n_b, n_ab = (np.asarray(v, dtype=np.float64) for v in (n_a, n_b, n_ab))
    with np.errstate(divide="ignore", invalid="ignore"):
        union = n_a + n_b - n_ab
        jaccard = np.where(union > 0, n_ab / np.where(union > 0, union, 1), np.nan)
        p_a, p_b, p_ab = n_a / n_units, n_b / n_units, n_ab / n_units
        npmi = np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)
    npmi = np.where(n_ab > 0, npmi, np.nan)
    npmi = np.where((n_ab > 0) & (n_ab == n_units), 1.0, npmi)  # every unit has both: the limit, 1
    return pd.DataFrame({"jaccard": jaccard, "npmi": npmi})


def pair_table(inc: Incidence) -> pd.DataFrame:
    """One row per unordered pair of codes (in `inc.codes` order): counts, Jaccard, NPMI, N, flag."""
    x = inc.matrix.astype(np.int64)
    c = (x.T @ x).toarray()
    a, b = np.triu_indices(len(inc.codes), 1)
    counts = np.diag(c)
    table = pd.DataFrame({
        "code_a": pd.Series(np.asarray(inc.codes, dtype=object)[a], dtype=object),
        "code_b": pd.Series(np.asarray(inc.codes, dtype=object)[b], dtype=object),
        "n_a": counts[a].astype(np.int64),
        "n_b": counts[b].astype(np.int64),
        "n_ab": c[a, b].astype(np.int64),
    })
    table = pd.concat([table, measures(table["n_a"], table["n_b"], table["n_ab"], inc.n_units)], axis=1)
    table["n_units"] = np.int64(inc.n_units)
    table["expected_n_ab"] = np.nan
    table["p_value"] = np.nan
    big, small = np.maximum(table["n_a"], table["n_b"]), np.minimum(table["n_a"], table["n_b"])
    table["unbalanced"] = ((small > 0) & (big > UNBALANCED_RATIO * small)).astype(bool)
    return table[COLUMNS + EXTRA_COLUMNS]


def permutation_test(inc: Incidence, permutations: int = 999, seed: int = 0) -> pd.DataFrame:
    """Expected n_ab and one-sided p-value (meeting at least as often as observed) per pair.

    Each code's column of base rows is shuffled independently within its stratum (segments
    within their transcript; whole participants/transcripts across the corpus), keeping every
    code's frequency and breaking only the link between codes. p = (1 + #{perm >= obs}) / (1 + R).
    For windows the segments are shuffled and the windows rebuilt: a code that comes in runs of
    consecutive turns covers more windows once shuffled, so the test is conservative there.
    Vectorised over batches of permutations, batches in threads; the shuffles depend on the seed only.
    """
    k = len(inc.codes)
    a, b = np.triu_indices(k, 1)
    out = pd.DataFrame({"code_a": np.asarray(inc.codes, dtype=object)[a],
                        "code_b": np.asarray(inc.codes, dtype=object)[b]})
    if permutations <= 0 or len(a) == 0 or inc.base.shape[0] == 0:
        out["expected_n_ab"], out["p_value"] = np.nan, np.nan
        return out
    order = np.argsort(inc.strata, kind="stable")
    base = inc.base.toarray()[order].astype(np.float32)
    strata = inc.strata[order].astype(np.float64)
    to_units = inc.to_units[:, order].astype(np.float32) if inc.to_units is not None else None
    blocks = StratumBlocks.of(inc.strata[order], base, to_units)
    x = inc.matrix
    observed = (x.T @ x).toarray()[a, b]
    n, batch = base.shape[0], max(1, PERMUTATION_CELLS // max(1, base.size))
    total = np.zeros(len(a))
    at_least = np.zeros(len(a), dtype=np.int64)
    # batches run in threads (numpy releases the GIL); batch j draws the same random numbers as
    # one generator drawing batch after batch would (PCG64 jumped ahead), so results depend on the
    # seed only, not on the number of threads. Each batch returns only its counts (small).
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        for c in pool.map(lambda start: _shuffled_counts(seed, start * n * k, min(batch, permutations - start), strata,
                                                         base, to_units, a, b, blocks), range(0, permutations, batch)):
            total += c.sum(axis=0)
            at_least += (c >= observed[None, :] - 0.5).sum(axis=0)
    out["expected_n_ab"] = total / permutations
    out["p_value"] = (1 + at_least) / (1 + permutations)
    return out


INDEX_BITS = 11  # a uniform's 53 random bits and its place in a stratum of up to 2**11 rows share one uint64
UNIFORM = 2.0**53  # numpy's random() is an integer of 53 random bits times 2**-53


@dataclass
class StratumBlocks:
    """The base rows (sorted by stratum) regrouped so that strata of one size sit side by side.

    position: for each regrouped place, its row in the stratum-sorted base; runs: (offset, strata,
    size) of each run of equal-sized strata; floor: per place, its stratum number (what the keys add);
    local: per place, its index within its stratum; base_t: code x place 0/1; to_units: unit x place.
    """

    position: np.ndarray
    runs: list[tuple[int, int, int]]
    floor: np.ndarray
    local: np.ndarray
    base_t: np.ndarray
    to_units: sparse.csr_matrix | None

    @classmethod
    def of(cls, strata: np.ndarray, base: np.ndarray, to_units) -> "StratumBlocks":
        n = len(strata)
        starts = np.flatnonzero(np.r_[True, strata[1:] != strata[:-1]]) if n else np.zeros(0, dtype=np.int64)
        sizes = np.diff(np.r_[starts, n])
        parts, local, runs, offset = [], [], [], 0
        for size in np.unique(sizes):
            first = starts[sizes == size]
            parts.append((first[:, None] + np.arange(size)).ravel())
            within = np.arange(size) if size < 2**INDEX_BITS else np.zeros(size, dtype=np.int64)  # wide: not packed
            local.append(np.tile(within, len(first)).astype(np.uint64))
            runs.append((offset, len(first), int(size)))
            offset += len(first) * int(size)
        position = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return cls(position, runs, strata[position].astype(np.float64),
                   np.concatenate(local) if local else np.zeros(0, dtype=np.uint64),
                   np.ascontiguousarray(base[position].T),
                   to_units[:, position].tocsr() if to_units is not None else None)

    def shuffled_counts(self, uniforms: np.ndarray) -> np.ndarray | None:
        """Per permutation, the code x code counts of co-occurrence once every code's column is reordered by
        the keys `uniforms + stratum` within its stratum, as `argsort(keys, axis=1)` of the stratum-sorted
        rows would reorder it, but with each stratum sorted on its own: short sorts of integers (a uniform's
        53 bits with the row's place in its stratum in the low bits) instead of one argsort of the column.
        None when two keys are equal (the order of equal keys is the sort's own; the caller then sorts the
        whole column as before), so the permutations are always the same."""
        size, n, k = uniforms.shape
        grouped = np.ascontiguousarray(np.take(uniforms, self.position, axis=1).transpose(0, 2, 1))  # perm x code x place
        packed = (grouped * UNIFORM).astype(np.uint64)
        packed <<= np.uint64(INDEX_BITS)
        packed |= self.local
        counts = np.zeros((size, k, k), dtype=np.float32)
        moved_all = np.empty((size, k, n), dtype=np.float32) if self.to_units is not None else None
        for offset, count, width in self.runs:
            span = slice(offset, offset + count * width)
            floor = self.floor[offset:offset + count * width:width][:, None]  # each stratum's number
            if width < 2**INDEX_BITS:
                ranked = np.sort(packed[:, :, span].reshape(size, k, count, width), axis=-1)
                order = (ranked & np.uint64(2**INDEX_BITS - 1)).astype(np.intp)
                keys = (ranked >> np.uint64(INDEX_BITS)).astype(np.float64) / UNIFORM + floor  # the keys, in order
            else:
                part = grouped[:, :, span].reshape(size, k, count, width) + floor
                order = np.argsort(part, axis=-1)
                keys = np.take_along_axis(part, order, axis=-1)
            if (keys[..., 1:] <= keys[..., :-1]).any() or (keys[..., -1] >= floor[:, 0] + 1).any():
                return None  # two equal keys (in one stratum, or one rounded up to the next stratum's floor)
            codes = np.broadcast_to(self.base_t[:, span].reshape(k, count, width), order.shape)
            moved = np.take_along_axis(codes, order, axis=-1).reshape(size, k, count * width)
            if moved_all is None:
                counts += np.matmul(moved, moved.transpose(0, 2, 1))
            else:
                moved_all[:, :, span] = moved
        if moved_all is not None:
            wide = self.to_units @ moved_all.reshape(size * k, n).T  # unit x (permutation, code)
            units = np.ascontiguousarray((np.asarray(wide) > 0).astype(np.float32).T).reshape(size, k, -1)
            counts = np.matmul(units, units.transpose(0, 2, 1))
        return counts


def _shuffled_counts(seed: int, skip: int, size: int, strata: np.ndarray, base: np.ndarray, to_units,
                     a: np.ndarray, b: np.ndarray, blocks: StratumBlocks | None = None) -> np.ndarray:
    """n_ab of each pair (a[j], b[j]) in each of `size` permutations: every code's column of `base`
    reordered by random keys within its stratum (the seed's PCG64 stream from draw `skip` on),
    rolled up to units when `to_units` is given.

    With `blocks`, each stratum is sorted on its own (`StratumBlocks.shuffled_counts`); when all keys
    differ that is the same permutation, so the counts are the same."""
    n, k = base.shape
    rng = np.random.Generator(np.random.PCG64(seed).advance(skip))
    keys = rng.random((size, n, k))
    counts = blocks.shuffled_counts(keys) if blocks is not None else None
    if counts is None:
        keys += strata[None, :, None]  # integer part keeps the stratum
        shuffled = np.take_along_axis(np.broadcast_to(base, (size, n, k)), np.argsort(keys, axis=1), axis=1)
        if to_units is not None:
            wide = to_units @ shuffled.transpose(1, 0, 2).reshape(n, size * k)
            shuffled = (np.asarray(wide) > 0).astype(np.float32).reshape(-1, size, k).transpose(1, 0, 2)
        counts = np.matmul(shuffled.transpose(0, 2, 1), shuffled)
    return counts[:, a, b]


def cooccurrence(codings: pd.DataFrame, level: str = "theme", unit: str = "segment", window: int = 3,
                 segments: pd.DataFrame | None = None, by: str | None = None, permutations: int = 0,
                 seed: int = 0, codes: list[str] | None = None) -> pd.DataFrame:
    """The co-occurrence table of DESIGN.md §6, optionally per value of a participant attribute `by`.

    Columns: [by,] code_a, code_b, n_a, n_b, n_ab, jaccard, npmi, n_units, expected_n_ab,
    p_value (empty unless permutations > 0), unbalanced (both codes present, one > 5x as frequent).
    Rows sorted by group, then code pairs in `codes` order (default: alphabetical).
    """
    missing = [c for c in CODINGS_COLUMNS if c not in codings.columns]
    if missing:
        raise InputError(f"codings table lacks column(s) {', '.join(missing)}; expected {', '.join(CODINGS_COLUMNS)}")
    codes = list(codes) if codes is not None else sorted(code_column(codings, level).unique())
    if by is None:
        inc = incidence(codings, level, unit, window, segments, codes)
        table = pair_table(inc)
        if permutations > 0:
            test = permutation_test(inc, permutations, seed)
            table["expected_n_ab"], table["p_value"] = test["expected_n_ab"].to_numpy(), test["p_value"].to_numpy()
        return table
    base = base_segments(codings, segments)
    if by not in base.columns:
        raise InputError(f"--by {by!r}: not a column of the segments; available: "
                         f"{', '.join(c for c in base.columns if c not in ('segment_id', 'turn', 'sentence'))}")
    values = base[by].fillna("").astype(str)
    parts = []
    for value in sorted(values.unique()):
        seg = base[values == value]
        part = cooccurrence(codings[codings["segment_id"].isin(seg["segment_id"])], level, unit, window,
                            seg, None, permutations, seed, codes)
        part.insert(0, by, value)
        parts.append(part)
    if not parts:  # no segments at all: the empty table with the right columns
        part = cooccurrence(codings, level, unit, window, segments, None, 0, seed, codes).iloc[0:0]
        part.insert(0, by, pd.Series(dtype=object))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def code_counts(codings: pd.DataFrame, level: str = "theme", unit: str = "segment", window: int = 3,
                segments: pd.DataFrame | None = None, codes: list[str] | None = None) -> pd.DataFrame:
    """Prevalence per code: units coded (n), all units (n_units) and the share n / n_units."""
    inc = incidence(codings, level, unit, window, segments, codes)
    n = np.asarray(inc.matrix.sum(axis=0)).ravel().astype(np.int64)
    return pd.DataFrame({"code": pd.Series(inc.codes, dtype=object), "n": n,
                         "n_units": np.int64(inc.n_units),
                         "share": n / inc.n_units if inc.n_units else np.full(len(n), np.nan)})


def codebook_codes(codebook, codings: pd.DataFrame, level: str = "theme") -> list[str]:
    """The codes to analyse in codebook order: every theme (level theme) or every subtheme, plus
    any theme whose own rules matched (level subtheme); codes unknown to the codebook last, sorted."""
    codes = codebook.codes
    if level == "theme":
        wanted = codes.loc[codes["level"] == "theme", "code"].tolist()
    else:
        used = set(code_column(codings, level))
        wanted = [c for c, lvl in zip(codes["code"], codes["level"]) if lvl == "subtheme" or c in used]
    extra = sorted(set(code_column(codings, level)) - set(wanted))
    return wanted + extra


def codebook_themes(codebook) -> dict[str, str]:
    """The theme of every theme and subtheme code."""
    return dict(zip(codebook.codes["code"], codebook.codes["theme"]))


def codebook_labels(codebook) -> dict[str, str]:
    """Readable label of every theme and subtheme code."""
    return dict(zip(codebook.codes["code"], codebook.codes["label"]))


def unit_comparison(codings: pd.DataFrame, level: str = "theme", segments: pd.DataFrame | None = None,
                    window: int = 3, codes: list[str] | None = None, measure: str = "jaccard",
                    labels: dict | None = None) -> pd.DataFrame:
    """One measure per code pair under every unit side by side (columns segment, window_K, participant,
    transcript); codes shown by their labels when `labels` is given."""
    out = None
    for unit in ("segment", "window", "participant", "transcript"):
        t = cooccurrence(codings, level, unit, window, segments, codes=codes)
        name = f"window_{window}" if unit == "window" else unit
        part = t[["code_a", "code_b", measure]].rename(columns={measure: name})
        out = part if out is None else out.merge(part, on=["code_a", "code_b"], how="outer", sort=False)
    if labels:
        for col in ("code_a", "code_b"):
            out[col] = out[col].map(lambda c: _label(c, labels))
    return out


def readable(table: pd.DataFrame, labels: dict | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """A pair table for reading: code labels, rounded measures, a `meets more than chance` column,
    strongest associations first (p-value, then Jaccard)."""
    out = table.copy()
    for col in ("code_a", "code_b"):
        out[col] = out[col].map(lambda c: _label(c, labels))
    for col in ("jaccard", "npmi", "expected_n_ab"):
        out[col] = out[col].round(3)
    if out["p_value"].notna().any():
        out["p_value"] = out["p_value"].round(4)
        out["more_than_chance"] = np.where(out["p_value"] < alpha, "yes", "no")
        keys, ascending = ["p_value", "jaccard"], [True, False]
    else:
        out = out.drop(columns=["expected_n_ab", "p_value"])
        keys, ascending = ["jaccard"], [False]
    group = [c for c in out.columns[:1] if c not in COLUMNS]
    out["unbalanced"] = np.where(out["unbalanced"], "yes (> 5x)", "")
    return out.sort_values(group + keys, ascending=[True] * len(group) + ascending, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- figures
def code_order(table: pd.DataFrame) -> list[str]:
    """The codes of a pair table in their original order (code_a runs over all but the last)."""
    return list(dict.fromkeys(list(table["code_a"]) + list(table["code_b"])))


def square(table: pd.DataFrame, value: str = "n_ab") -> pd.DataFrame:
    """A symmetric code x code matrix of one column of a (single-group) pair table; NaN diagonal."""
    codes = code_order(table)
    a, b = pd.Index(codes).get_indexer(table["code_a"]), pd.Index(codes).get_indexer(table["code_b"])
    values = np.full((len(codes), len(codes)), np.nan)
    values[a, b] = values[b, a] = table[value].to_numpy(dtype=np.float64)
    return pd.DataFrame(values, index=codes, columns=codes)


def _label(code: str, labels: dict | None, width: int | None = None) -> str:
    """A code's readable name: from `labels` when given, else with spaces for underscores; wrapped to `width`."""
    import textwrap

    name = (labels or {}).get(code, str(code).replace("_", " "))
    return textwrap.fill(name, width) if width else name


TRIANGLE_CELL = 0.4  # inches per heatmap cell: room for an annotation such as "0.23*" at 7.5 pt
TRIANGLE_LABELS = 2.8  # inches kept for the wrapped code labels left of a row of panels
TRIANGLES_PER_ROW = 3  # at most this many heatmaps side by side


def _triangle(ax, table: pd.DataFrame, value: str, alpha: float, labels: dict | None, vmax: float | None,
              fmt: str, ylabels: bool = True, xlabels: bool = True):
    """Draw the lower triangle of one measure as an annotated heatmap ('*' marks p < alpha); returns its
    image (for a colour bar). Code labels wrapped, on the y axis only when `ylabels`, on x when `xlabels`."""
    import seaborn as sns

    from .figures import SEQUENTIAL_CMAP

    mat = square(table, value).iloc[1:, :-1]
    p = square(table, "p_value").iloc[1:, :-1]
    mask = np.triu(np.ones(mat.shape, dtype=bool), k=1)
    text = mat.map(lambda v: "" if pd.isna(v) else format(v, fmt)) + p.map(
        lambda v: "*" if pd.notna(v) and v < alpha else "")
    shown = mat.set_axis([_label(c, labels, 30) for c in mat.index], axis=0).set_axis(
        [_label(c, labels) for c in mat.columns], axis=1)
    sns.heatmap(shown, mask=mask, annot=text.to_numpy(), fmt="", cmap=SEQUENTIAL_CMAP, vmin=0, vmax=vmax,
                square=True, linewidths=0.5, linecolor="white", ax=ax, cbar=False,
                annot_kws={"fontsize": 7.5}, yticklabels=ylabels, xticklabels=xlabels)
    ax.grid(False)
    for tick in ax.get_xticklabels():
        tick.set(rotation=40, horizontalalignment="right", rotation_mode="anchor", fontsize=9)
    ax.tick_params(axis="y", rotation=0, labelsize=9)
    return ax.collections[0]


def _triangle_grid(n_panels: int, n_codes: int, extra_height: float = 0.0):
    """A page-wide figure of `n_panels` lower-triangle heatmaps of `n_codes` codes, wrapped so that every
    cell is TRIANGLE_CELL wide (at most TRIANGLES_PER_ROW to a row); returns (fig, axes list, per_row).
    Constrained layout, so colour bars take their room from the panels they belong to."""
    import matplotlib.pyplot as plt

    from .figures import FIGURE_WIDTH

    side = max(n_codes - 1, 1) * TRIANGLE_CELL
    room = FIGURE_WIDTH - TRIANGLE_LABELS - 0.9  # less the colour bar
    per_row = int(max(1, min(TRIANGLES_PER_ROW, n_panels, room // (side + 0.25))))
    rows = -(-max(n_panels, 1) // per_row)
    height = rows * (side + 0.7) + (2.3 if n_codes > 1 else 0.5) + 0.9 + extra_height
    fig, axes = plt.subplots(rows, per_row, figsize=(FIGURE_WIDTH, height), squeeze=False, layout="constrained")
    flat = list(axes.flat)
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:max(n_panels, 1)], per_row


def _lowest_in_column(i: int, n_panels: int, per_row: int) -> bool:
    """Whether panel i (row-major) has no panel below it: it shows the x labels."""
    return i + per_row >= n_panels


def _note(table: pd.DataFrame, unit: str, permutations: int | None, alpha: float = 0.05) -> str:
    """Source note: N units, and what the star means when a permutation test was run."""
    n = int(table["n_units"].iloc[0]) if len(table) else 0
    text = f"n = {n} {unit}s (coded or not)"
    if table["p_value"].notna().any():
        text += f"; * p < {alpha:g}, permutation test{f' ({permutations} shuffles)' if permutations else ''}"
    return text


def plot_heatmaps(table: pd.DataFrame, unit: str = "segment", labels: dict | None = None, alpha: float = 0.05,
                  title: str = "How often codes meet", permutations: int | None = None):
    """Two annotated lower-triangle heatmaps of a single-group pair table, n_ab and Jaccard, each with its
    colour bar: side by side when they fit the page width, else one above the other."""
    from .figures import add_source_note

    codes = code_order(table)
    fig, axes, per_row = _triangle_grid(2, len(codes))
    panels = [("n_ab", f"Co-occurrence counts (same {unit})", f"{unit}s coded with both", "g"),
              ("jaccard", "Jaccard (share of either that has both)", "Jaccard", ".2f")]
    for i, (ax, (value, panel_title, bar_label, fmt)) in enumerate(zip(axes, panels)):
        if len(codes) < 2:
            ax.text(0.5, 0.5, "fewer than two codes: nothing to pair", ha="center", va="center")
        else:
            image = _triangle(ax, table, value, alpha, labels, None, fmt, ylabels=i % per_row == 0,
                              xlabels=_lowest_in_column(i, 2, per_row))
            fig.colorbar(image, ax=ax, shrink=0.8, label=bar_label)
        ax.set_title(panel_title)
        ax.set_xlabel("Code" if _lowest_in_column(i, 2, per_row) else "")
        ax.set_ylabel("Code")
    fig.suptitle(title, fontsize=14, fontweight="bold")
    add_source_note(fig, _note(table, unit, permutations, alpha))
    return fig


def plot_group_heatmaps(table: pd.DataFrame, by: str, measure: str = "jaccard", unit: str = "segment",
                        labels: dict | None = None, alpha: float = 0.05, title: str | None = None):
    """One lower-triangle heatmap per value of `by` on one colour scale, as small multiples wrapped in
    rows at the page width (so every cell stays TRIANGLE_CELL wide; one per row for many codes)."""
    from .figures import add_source_note, group_label, group_order, group_palette, human_label

    groups = group_order(table[by].unique())
    colours = group_palette(groups)
    codes = code_order(table) if len(table) else []
    fig, axes, per_row = _triangle_grid(len(groups), len(codes))
    vmax = float(table[measure].max()) if len(table) and table[measure].notna().any() else 1.0
    fmt = ".2f" if measure in ("jaccard", "npmi") else "g"
    notes, image = [], None
    for i, (ax, group) in enumerate(zip(axes, groups)):
        part = table[table[by] == group]
        lowest = _lowest_in_column(i, len(groups), per_row)
        if len(code_order(part)) >= 2:
            image = _triangle(ax, part, measure, alpha, labels, vmax or 1.0, fmt, ylabels=i % per_row == 0,
                              xlabels=lowest)
        name = group_label(group) if by == "group" else f"{human_label(by)}: {human_label(group)}"
        ax.set_title(name, color=colours[group])
        ax.set_xlabel("Code" if lowest else "")
        ax.set_ylabel("Code" if i % per_row == 0 else "")
        notes.append(f"{group_label(group) if by == 'group' else group}: n = {int(part['n_units'].iloc[0])} {unit}s")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8 / -(-len(axes) // per_row), anchor=(0.0, 1.0), aspect=15,
                     label=human_label(measure))
    if not groups:
        axes[0].text(0.5, 0.5, "no data", ha="center", va="center")
        axes[0].set_xlabel("Code")
        axes[0].set_ylabel("Code")
    fig.suptitle(title or f"{human_label(measure)} of codes by {human_label(by).lower()}", fontsize=14,
                 fontweight="bold")
    star = f"; * p < {alpha:g} (permutation test)" if table["p_value"].notna().any() else ""
    add_source_note(fig, "; ".join(notes) + star)
    return fig


# ----------------------------------------------------------------------------- networks
def code_network(table: pd.DataFrame, alpha: float = 0.05, labels: dict | None = None, themes: dict | None = None):
    """Graph of codes (node n, share, theme) joined where they meet: p < alpha when tested, else n_ab > 0.

    `themes` maps a code to its theme (codebook_themes), so subthemes can be coloured by theme.
    """
    import networkx as nx

    graph = nx.Graph()
    nodes = pd.concat([table[["code_a", "n_a"]].set_axis(["code", "n"], axis=1),
                       table[["code_b", "n_b"]].set_axis(["code", "n"], axis=1)]).drop_duplicates("code")
    n_units = int(table["n_units"].iloc[0]) if len(table) else 0
    for code, n in zip(code_order(table), nodes.set_index("code").loc[code_order(table), "n"]):
        theme = (themes or {}).get(code, "")
        graph.add_node(code, label=_label(code, labels, 20), n=int(n), share=float(n / n_units) if n_units else 0.0,
                       theme=theme, theme_label=_label(theme, labels) if theme else "")
    tested = table["p_value"].notna().any()
    keep = (table["n_ab"] > 0) & ((table["p_value"] < alpha) if tested else True)
    for row in table[keep].itertuples(index=False):
        attrs = {"n_ab": int(row.n_ab), "jaccard": float(row.jaccard), "npmi": float(row.npmi)}
        if tested:
            attrs.update(expected_n_ab=float(row.expected_n_ab), p_value=float(row.p_value))
        graph.add_edge(row.code_a, row.code_b, **attrs)
    graph.graph.update(n_units=n_units, tested=bool(tested), alpha=float(alpha))
    return graph


def network_layout(graph, seed: int = 7, weight: str = "jaccard") -> dict:
    """Node positions: each connected component laid out on its own (a seeded spring layout refined by
    Kamada-Kawai, which spaces nodes evenly), the largest on the left and the smaller ones packed
    in columns to its right, so small islands do not squash it."""
    import networkx as nx

    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    pos, biggest = {}, max((len(c) for c in parts), default=1)
    column_x, y, column_width = 1.45, 1.0, 0.0
    for i, members in enumerate(parts):
        sub = graph.subgraph(members)
        radius = max(0.12, np.sqrt(len(members) / biggest))
        if len(members) == 1:
            local = {members[0]: np.zeros(2)}
        else:
            start = nx.spring_layout(sub, seed=seed, weight=weight, k=2.0 / np.sqrt(len(members)), iterations=200)
            local = nx.kamada_kawai_layout(sub, pos=start, weight=None)  # even spacing, from the seeded start
        coords = np.array([local[m] for m in members], dtype=float)
        coords -= coords.mean(axis=0)
        coords *= radius / max(np.abs(coords).max(), 1e-9)
        if i == 0:
            centre = np.zeros(2)
        else:
            if y - 2 * radius < -1.0:  # column full: start the next one
                column_x, y, column_width = column_x + column_width + 0.25, 1.0, 0.0
            centre = np.array([column_x + radius, y - radius])
            y -= 2 * radius + 0.25
            column_width = max(column_width, 2 * radius)
        for m, xy in zip(members, coords + centre):
            pos[m] = xy
    return pos


def _network_frame(ax, title: str, legend_line: str) -> None:
    """A network plot's frame: title, how to read it in the x label, no ticks or spines."""
    ax.set_title(title)
    ax.set_xlabel(legend_line, fontsize=9)
    ax.set_ylabel("force-directed layout", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def node_labels(ax, pos: dict, labels: dict, colours: dict, fontsize: float = 9) -> list:
    """A label on each node, in a box of the node's colour with black or white text, whichever
    contrasts more (figures.text_colour_for); returns the labels, to be kept apart by figures.repel_labels
    once the layout is final."""
    from .figures import text_colour_for

    return [ax.text(x, y, labels[node], ha="center", va="center", fontsize=fontsize, zorder=5,
                    color=text_colour_for(colours[node]), linespacing=1.05,
                    bbox={"boxstyle": "round,pad=0.2", "fc": colours[node], "ec": "#333333", "lw": 0.5})
            for node, (x, y) in pos.items()]


def plot_code_network(graph, title: str = "Theme network", unit: str = "segment", seed: int = 7):
    """Draw a code network: node size = share of units coded, edge width = Jaccard; fixed layout seed;
    labels in the node's colour, kept apart (figures.repel_labels)."""
    import networkx as nx

    from .figures import add_source_note, new_figure, repel_labels

    fig, ax = new_figure(7.5)
    texts = []
    if graph.number_of_nodes():
        pos = network_layout(graph, seed)
        shares = np.array([graph.nodes[n]["share"] for n in graph.nodes])
        widths = [1 + 15 * graph.edges[e]["jaccard"] for e in graph.edges]
        themes = list(dict.fromkeys(graph.nodes[n].get("theme", "") for n in graph.nodes))
        colours = dict(zip(themes, THEME_COLOURS * 3 if len(themes) > 1 else ["#56B4E9"]))
        nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, edge_color="#888888", alpha=0.7)
        nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=80 + 2500 * shares / max(shares.max(), 1e-9),
                               node_color=[colours[graph.nodes[n].get("theme", "")] for n in graph.nodes],
                               edgecolors="#333333", linewidths=0.8)
        theme_labels = {graph.nodes[n].get("theme", ""): graph.nodes[n].get("theme_label", "") for n in graph.nodes}
        for theme in themes if len(themes) > 1 else []:
            ax.scatter([], [], s=80, color=colours[theme], edgecolors="#333333", label=theme_labels[theme] or theme)
        texts = node_labels(ax, pos, {n: f"{graph.nodes[n]['label']} ({graph.nodes[n]['n']})" for n in graph.nodes},
                            {n: colours[graph.nodes[n].get("theme", "")] for n in graph.nodes}, fontsize=8.5)
        for value in (0.1, 0.25, 0.5):
            ax.plot([], [], color="#888888", linewidth=1 + 15 * value, label=f"Jaccard {value:g}")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="Theme; edge width",
                  title_fontsize=8, labelspacing=1.0)
        ax.margins(0.14)
    else:
        ax.text(0.5, 0.5, "no codes to draw", ha="center", va="center")
    if graph.number_of_nodes() and not graph.number_of_edges():
        ax.text(0.5, 0.02, "no pair of codes meets more often than chance", transform=ax.transAxes,
                ha="center", fontsize=9)
    _network_frame(ax, title, "node size = share of units coded (n in brackets); edge width = Jaccard")
    kept = (f"edges: p < {graph.graph.get('alpha', 0.05)} in a permutation test" if graph.graph.get("tested")
            else "edges: every pair that meets (not tested)")
    add_source_note(fig, f"n = {graph.graph.get('n_units', 0)} {unit}s; {kept}")
    fig.tight_layout()
    repel_labels(ax, texts)
    return fig


def write_graphml(graph, path: str | Path) -> Path:
    """Write a network as GraphML (for Gephi) atomically (paths.atomic_write), so no half-written file is left."""
    import io

    import networkx as nx

    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return paths.atomic_write(paths.resolve(path), buffer.getvalue())


COLLOCATION_MIN_COUNT = 3  # a word pair seen at least this often (and min_count) ...
COLLOCATION_MIN_DICE = 0.5  # ... whose words mostly come together (Dice 2 n_ab / (n_a + n_b)) is one term


def collocations(texts: pd.Series, stopwords=(), min_count: int = COLLOCATION_MIN_COUNT,
                 min_dice: float = COLLOCATION_MIN_DICE, tokens: pd.DataFrame | None = None) -> list[str]:
    """Two-word terms such as 'waiting list': word pairs side by side in one clause (neither a stopword,
    a number or one letter) seen at least `min_count` times, whose words mostly stand together
    (Dice 2 n_ab / (n_a + n_b) >= min_dice). Strongest first (count, then alphabetical)."""
    from . import text as textmod

    raw = tokens if tokens is not None else textmod.token_table(texts.reset_index(drop=True))
    if len(raw) < 2:
        return []
    codes, vocab, ok, in_phrase = textmod.filter_parts(raw, numbers=False, min_length=2,
                                                       stopwords=set(stopwords) or None)
    codes = codes.astype(np.int64)
    kept = ok[codes]
    kept[in_phrase] = False
    pair = textmod.adjacent(raw["row"].to_numpy(), raw["position"].to_numpy(), 2) & kept[:-1] & kept[1:]
    first = np.flatnonzero(pair)
    found = pd.DataFrame({"a": codes[first], "b": codes[first + 1]})
    found = found[found["a"] != found["b"]].value_counts().rename("n_ab").reset_index()
    words = np.bincount(codes[kept], minlength=len(vocab))
    found["dice"] = 2 * found["n_ab"] / (words[found["a"]] + words[found["b"]])
    found = found[(found["n_ab"] >= max(1, min_count)) & (found["dice"] >= min_dice)]
    terms = pd.DataFrame({"term": [f"{vocab[a]} {vocab[b]}" for a, b in zip(found["a"], found["b"])],
                          "n_ab": found["n_ab"].to_numpy()})
    return terms.sort_values(["n_ab", "term"], ascending=[False, True], kind="stable")["term"].tolist()


def codebook_phrases(codebook) -> list[str]:
    """The codebook's multi-word keywords without wildcards ('waiting list'), in codebook order."""
    from .text import normalise_phrase

    rules = codebook.rules
    terms = rules.loc[rules["kind"] == "keyword", "term"].astype(str).map(normalise_phrase)
    return list(dict.fromkeys(t for t in terms if " " in t and not any(ch in t for ch in "*?")))


def _join_phrases(raw: pd.DataFrame, codes: np.ndarray, vocab: list, ok: np.ndarray, dropped: np.ndarray,
                  phrases) -> tuple[np.ndarray, list, np.ndarray, np.ndarray, list[str]]:
    """Count each phrase (words side by side in one clause) as one term: its first token takes the
    phrase's code, the others are dropped. Longer phrases first, then in the order given; a token joins
    one phrase at most and never one inside a stopword phrase. Returns codes, vocab, ok, dropped and
    the phrases found."""
    from .text import match_term, normalise_phrase

    wanted = sorted(dict.fromkeys(p for p in map(normalise_phrase, phrases) if " " in p and not any(
        ch in p for ch in "*?")), key=lambda p: -len(p.split()))
    if not wanted or not len(raw):
        return codes, vocab, ok, dropped, []
    codes, vocab = codes.astype(np.int64), list(vocab)
    taken = np.zeros(len(codes), dtype=bool)
    taken[dropped] = True
    joined, found = [dropped], []
    for phrase in wanted:
        hits = match_term(raw, phrase)
        first, width = hits["first"].to_numpy(), len(phrase.split())
        spans = first[:, None] + np.arange(width)[None, :]
        free = ~taken[spans].any(axis=1) if len(first) else np.zeros(0, dtype=bool)
        first, spans = first[free], spans[free]
        if not len(first):
            continue
        taken[spans.ravel()] = True
        codes[first] = len(vocab)
        vocab.append(phrase)
        joined.append(spans[:, 1:].ravel())
        found.append(phrase)
    ok = np.concatenate([ok, np.ones(len(vocab) - len(ok), dtype=bool)])
    return codes, vocab, ok, np.unique(np.concatenate(joined)).astype(np.int64), found


def word_network(texts: pd.Series, stopwords=(), top_terms: int = 60, max_edges: int = 60, min_count: int = 2,
                 tokens: pd.DataFrame | None = None, phrases=()):
    """KH Coder-style word network: top terms by frequency (no stopwords), edges by Jaccard over texts.

    Keeps the `max_edges` strongest edges (ties: more shared texts, then alphabetical), drops
    terms left without an edge, and labels greedy-modularity communities (node attribute
    `community`, 0 = largest). `phrases` (e.g. `collocations` or `codebook_phrases`) are counted as
    one term each, so 'waiting list' is one node, not two. `tokens` may pass the unfiltered token
    table of `texts` (text.token_table) when it is at hand, so the texts are not tokenised again.
    """
    import networkx as nx

    from . import text as textmod

    raw = tokens if tokens is not None else textmod.token_table(texts.reset_index(drop=True))
    # counted per distinct word, so only the tokens of the top terms are ever gathered
    codes, vocab, ok, in_phrase = textmod.filter_parts(raw, numbers=False, min_length=2,
                                                       stopwords=set(stopwords) or None)
    codes, vocab, ok, in_phrase, joined = _join_phrases(raw, codes, vocab, ok, in_phrase, phrases)
    counts = np.bincount(codes, minlength=len(vocab)) - np.bincount(codes[in_phrase], minlength=len(vocab))
    frequent = np.flatnonzero(ok & (counts >= max(1, min_count)))
    ranked = pd.DataFrame({"term": np.asarray(vocab, dtype=object)[frequent], "n": counts[frequent],
                           "code": frequent}).sort_values(["n", "term"], ascending=[False, True], kind="stable").head(top_terms)
    terms = ranked["term"].tolist()
    column_of = np.full(len(vocab), -1, dtype=np.int32)  # vocabulary code -> column of the top terms
    column_of[ranked["code"].to_numpy()] = np.arange(len(terms))
    col = column_of[codes]
    col[in_phrase] = -1
    hit = np.flatnonzero(col >= 0)
    x = _indicator(raw["row"].to_numpy()[hit], col[hit], (len(texts), len(terms))).astype(np.int64)
    c = (x.T @ x).toarray()
    a, b = np.triu_indices(len(terms), 1)
    docs = np.diag(c)
    first, second = np.asarray(terms, dtype=object)[a], np.asarray(terms, dtype=object)[b]
    swap = second < first  # each pair named alphabetically, so ties break the same way everywhere
    pairs = pd.DataFrame({"a": np.where(swap, second, first), "b": np.where(swap, first, second), "n_ab": c[a, b]})
    pairs["jaccard"] = measures(docs[a], docs[b], pairs["n_ab"], max(1, len(texts)))["jaccard"].to_numpy()
    pairs = pairs[pairs["n_ab"] > 0].sort_values(["jaccard", "n_ab", "a", "b"], ascending=[False, False, True, True],
                                                 kind="stable").head(max_edges)
    graph = nx.Graph()
    frequency, in_texts = ranked.set_index("term")["n"], dict(zip(terms, docs))
    for term in sorted(set(pairs["a"]) | set(pairs["b"]), key=lambda t: (-frequency[t], t)):
        graph.add_node(term, frequency=int(frequency[term]), texts=int(in_texts[term]))
    for row in pairs.itertuples(index=False):
        graph.add_edge(row.a, row.b, jaccard=float(row.jaccard), n_ab=int(row.n_ab))
    if graph.number_of_edges():
        found = nx.community.greedy_modularity_communities(graph, weight="jaccard")
        ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
        for i, members in enumerate(ordered):
            for term in members:
                graph.nodes[term]["community"] = i
    graph.graph.update(texts=int(len(texts)), top_terms=int(top_terms), max_edges=int(max_edges),
                       phrases="; ".join(joined))
    return graph


def word_networks(segments: pd.DataFrame, codings: pd.DataFrame, stopwords=(), level: str = "theme",
                  top_terms: int = 60, max_edges: int = 60, min_count: int = 2, phrases=None) -> dict:
    """A word network per code, built from the text of the segments coded with it (codes sorted).

    The segments are tokenised once; each code's network takes the tokens of its segments.
    `phrases`: terms of several words counted whole; None = the `collocations` of all the segments
    (seen at least max(COLLOCATION_MIN_COUNT, min_count) times), () = none.
    """
    from . import text as textmod

    texts = segments["text"].reset_index(drop=True)
    raw = textmod.token_table(texts)
    if phrases is None:
        phrases = collocations(texts, stopwords, max(COLLOCATION_MIN_COUNT, min_count), tokens=raw)
    token_rows = raw["row"].to_numpy()
    code_of_row = code_column(codings, level)
    out = {}
    for code in sorted(code_of_row.unique()):
        chosen = np.flatnonzero(segments["segment_id"].isin(codings.loc[code_of_row == code, "segment_id"]).to_numpy())
        renumber = np.full(len(texts), -1, dtype=np.int64)
        renumber[chosen] = np.arange(len(chosen))
        keep = renumber[token_rows] >= 0
        tokens = raw.loc[keep].assign(row=renumber[token_rows[keep]]).reset_index(drop=True)
        out[code] = word_network(texts.iloc[chosen], stopwords, top_terms, max_edges, min_count, tokens=tokens,
                                 phrases=phrases)
    return out


def plot_word_network(graph, title: str = "Word network", seed: int = 7):
    """Draw a word network: node size = frequency, edge width = Jaccard, colour = community."""
    import networkx as nx
    import seaborn as sns
    from matplotlib.colors import to_hex

    from .figures import add_source_note, new_figure, repel_labels

    fig, ax = new_figure(7.5)
    texts = []
    if graph.number_of_nodes():
        pos = network_layout(graph, seed)
        n_comm = 1 + max(graph.nodes[n].get("community", 0) for n in graph.nodes)
        palette = sns.color_palette("colorblind", max(n_comm, 1))
        colours = {n: to_hex(palette[graph.nodes[n].get("community", 0) % len(palette)]) for n in graph.nodes}
        freq = np.array([graph.nodes[n]["frequency"] for n in graph.nodes], dtype=float)
        sizes = 100 + 1100 * freq / freq.max()
        nx.draw_networkx_edges(graph, pos, ax=ax, width=[0.5 + 6 * graph.edges[e]["jaccard"] for e in graph.edges],
                               edge_color="#999999", alpha=0.7)
        nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=sizes, node_color=[colours[n] for n in graph.nodes],
                               edgecolors="#333333", linewidths=0.6)
        texts = node_labels(ax, pos, {n: str(n) for n in graph.nodes}, colours)
        ax.margins(0.08)
    else:
        ax.text(0.5, 0.5, "too few words to draw a network", ha="center", va="center")
    _network_frame(ax, title, "node size = frequency; edge width = Jaccard over segments; colour = community")
    add_source_note(fig, f"n = {graph.graph.get('texts', 0)} segments; top {graph.graph.get('top_terms')} terms "
                         f"by frequency (stopwords removed), the {graph.number_of_edges()} strongest edges")
    fig.tight_layout()
    repel_labels(ax, texts)
    return fig


# ----------------------------------------------------------------------------- command line
def read_codings(path: str | Path) -> pd.DataFrame:
    """Read and check a codings table (DESIGN.md §2); every problem names the file and line."""
    path = paths.resolve(path)
    shown = paths.relative(path)
    df, where = corpus.read_table(path, "codings", "python -m helpers code --out FILE")
    missing = [c for c in CODINGS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError([f"{shown}:1: missing column {c!r}; a codings table has "
                          f"{', '.join(CODINGS_COLUMNS)} (from `python -m helpers code`)" for c in missing])
    for col in CODINGS_COLUMNS + (["group"] if "group" in df.columns else []):
        df[col] = df[col].fillna("").astype(str).str.strip()
    problems = []
    parsed = df["segment_id"].astype(str).str.extract(SEGMENT_ID)
    for i in np.flatnonzero(parsed["turn"].isna().to_numpy())[:20]:
        problems.append(f"{where(i)}: segment_id {df['segment_id'].iat[i]!r} is not "
                        "TRANSCRIPT:TURN or TRANSCRIPT:TURN.SENTENCE; re-run `python -m helpers code`")
    other = parsed["turn"].notna() & (parsed["transcript"] != df["transcript_id"])
    for i in np.flatnonzero(other.to_numpy())[:20]:
        problems.append(f"{where(i)}: segment_id {df['segment_id'].iat[i]!r} does not belong to "
                        f"transcript_id {df['transcript_id'].iat[i]!r}; fix one of the two")
    for i in np.flatnonzero((df["theme"] == "").to_numpy())[:20]:
        problems.append(f"{where(i)}: empty theme; every coding needs the theme it belongs to")
    if problems:
        raise InputError(problems)
    return df


def read_units(path: str | Path, codings: pd.DataFrame, participants_csv: str | Path | None = None) -> pd.DataFrame:
    """The analysed segments of a turns table (from `ingest`), segmented like the codings (turn or sentence)."""
    turns = corpus.read_turns(path)
    sentence = bool(codings["segment_id"].str.contains(r":\d+\.\d+$", regex=True).any())
    include_interviewer = bool((codings["participant_id"] == "").any())
    return corpus.segments(turns, corpus.participants_for(participants_csv, turns),
                           unit="sentence" if sentence else "turn", include_interviewer=include_interviewer)


def run_cooccur(args) -> int:
    """`cooccur`: the co-occurrence table of a codings file, written to --out or printed as CSV."""
    import sys

    problems = []
    if args.permutations < 0:
        problems.append(f"--permutations {args.permutations}: give 0 (no test) or more")
    if args.window is not None and args.unit != "window":
        problems.append(f"--window {args.window} needs --unit window")
    window = 3 if args.window is None else args.window
    if window < 1:
        problems.append(f"--window {window}: give a number of turns, 1 or more")
    if args.out and Path(args.out).suffix.lower() not in (".csv", *corpus.PARQUET_SUFFIXES):
        problems.append(f"--out {args.out}: name a .csv or .parquet file")
    if problems:
        raise InputError(problems)
    codings = read_codings(args.codings)
    segments = read_units(args.corpus, codings, args.participants) if args.corpus else None
    if segments is None:
        print("note: no --corpus given, so N counts only coded segments (uncoded talk is not known); "
              "n_a, n_b, n_ab and Jaccard do not depend on N", file=sys.stderr)
    by = args.by
    if by and segments is None and by not in codings.columns:
        if not args.participants:
            raise InputError(f"--by {by!r}: not a column of the codings; give --corpus (turns table) or "
                             f"--participants (participants.csv) to group by an attribute")
        participants = corpus.load_participants(args.participants)
        if by not in participants.columns:
            raise InputError(f"--by {by!r}: not a column of the codings or of the participants; available: "
                             f"{', '.join(corpus.participant_attributes(participants))}")
        codings = codings.merge(participants[["participant_id", by]], on="participant_id", how="left")
        codings[by] = codings[by].fillna("").astype(str)
    table = cooccurrence(codings, args.level, args.unit, window, segments, by, args.permutations, args.seed)
    corpus.emit_table(table, args.out, "co-occurrence pairs")
    return 0


def add_commands(sub) -> None:
    """Register `cooccur` on the command line."""
    p = sub.add_parser("cooccur", help="co-occurrence table of codes (counts, Jaccard, NPMI, permutation p)",
                       description="Co-occurrence of codes from a codings table: n_a, n_b, n_ab, Jaccard, NPMI, permutation p.")
    p.add_argument("--codings", required=True, type=Path, help="codings table (CSV or Parquet) from `code`")
    p.add_argument("--level", choices=LEVELS, default="theme", help="code level (default theme)")
    p.add_argument("--unit", choices=UNITS, default="segment",
                   help="where codes meet: same segment, participant, transcript, or window of K turns")
    p.add_argument("--window", type=int, default=None, metavar="K", help="turns per window for --unit window (default 3)")
    p.add_argument("--by", default=None, metavar="COLUMN", help="one table per value of a participant attribute")
    p.add_argument("--corpus", type=Path, default=None, metavar="TURNS",
                   help="turns table from `ingest`, so uncoded segments count in N")
    p.add_argument("--participants", type=Path, default=None, metavar="CSV",
                   help="participants.csv for attributes (default: the participants the turns table names)")
    p.add_argument("--permutations", type=int, default=999, metavar="N",
                   help="shuffles for the permutation test (default 999; 0 skips it)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the permutation test (default 0)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="output .csv or .parquet (default: print CSV)")
    p.set_defaults(func=run_cooccur)
