"""Scale benchmark: resample the demo corpus to N words, time each step, compare with baselines.

Timings live here and in `make bench`, never in tests. Each step reports wall seconds, words per
second and the peak resident memory of the process while it ran (sampled every 5 ms).
"""

from __future__ import annotations

import importlib.util
import resource
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import codebook as codebook_mod
from . import coding, cooccur, corpus, keywords, paths, tables, text
from .errors import InputError

STEPS = ["ingest", "tokenise", "code", "keyness", "theme_cooccurrence", "theme_cooccurrence_test", "word_network"]
BASELINE_FILE = "baselines.py"
PERMUTATIONS = 999  # shuffles of the permutation test, as notebook 04 runs it (pipeline.yaml)


# ----------------------------------------------------------------------------- corpus generator
def generate_corpus(out_dir: Path, words: int, seed: int = 0, transcripts_dir=None, participants_csv=None,
                    words_per_transcript: int = 1500) -> tuple[Path, Path, int]:
    """Write ~`words` words of .txt transcripts resampled (seeded) from the demo turns, plus a participants.csv.

    Each new transcript copies one demo transcript's speakers (cycling through them) and draws its
    turns with replacement from that transcript, so groups keep their own voices. Returns the
    transcripts folder, the participants file and the number of words written.
    """
    participants = corpus.load_participants(participants_csv or paths.PARTICIPANTS)
    turns = corpus.load_corpus(transcripts_dir or paths.TRANSCRIPTS, participants)
    turns = turns.assign(n_words=turns["text"].str.split().str.len().astype(int))
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    folder = out_dir / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    # cycle through the demo transcripts group by group (C01, E01, FG1, C02 …) so even a small
    # benchmark corpus has every stakeholder group
    group_of = participants.drop_duplicates("transcript_id").set_index("transcript_id")["group"]
    spoken = sorted(turns["transcript_id"].unique())
    rank = {t: i for g in sorted(set(group_of)) for i, t in enumerate(t for t in spoken if group_of.get(t) == g)}
    sources = sorted(spoken, key=lambda t: (rank.get(t, 0), str(group_of.get(t, "")), t))
    by_source = {t: turns[turns["transcript_id"] == t].reset_index(drop=True) for t in sources}
    rows, written, k = [], 0, 0
    while written < words:
        source = sources[k % len(sources)]
        pool = by_source[source]
        new_id = f"B{k:06d}"
        draws = rng.integers(0, len(pool), size=4 * words_per_transcript // max(1, int(pool["n_words"].mean())) + 4)
        lines, n = ["---", f"title: benchmark transcript {new_id} resampled from {source}", "synthetic: true",
                    "---", ""], 0
        spoke = set()
        for i in draws:
            turn = pool.iloc[int(i)]
            label = "Interviewer" if turn["role"] == "interviewer" else f"{new_id}-{turn['participant_id']}"
            spoke.add(turn["participant_id"])
            lines.append(f"{label}: {turn['text']}")
            lines.append("")
            n += int(turn["n_words"])
            if n >= words_per_transcript or written + n >= words:
                break
        (folder / f"{new_id}.txt").write_text("\n".join(lines), encoding="utf-8")
        for _, p in participants[(participants["transcript_id"] == source)
                                 & participants["participant_id"].isin(spoke)].iterrows():
            pid = f"{new_id}-{p['participant_id']}"
            rows.append({**p.to_dict(), "participant_id": pid, "transcript_id": new_id, "speaker_labels": pid})
        written += n
        k += 1
    people = pd.DataFrame(rows, columns=participants.columns)
    csv = out_dir / "participants.csv"
    paths.atomic_write(csv, tables.csv_text(people))
    return folder, csv, written


# ----------------------------------------------------------------------------- measuring
class PeakMemory:
    """Context manager sampling this process's resident memory; `.peak_mb` after exit."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


@dataclass
class Timing:
    step: str
    seconds: float
    peak_mb: float
    result: object = None


def timed(step: str, func, *args, **kwargs) -> Timing:
    """Run func once, returning its wall time, peak memory and result."""
    with PeakMemory() as mem:
        start = time.perf_counter()
        result = func(*args, **kwargs)
        seconds = time.perf_counter() - start
    return Timing(step, seconds, mem.peak_mb, result)


# ----------------------------------------------------------------------------- the steps
def run_steps(transcripts_dir: Path, participants_csv: Path) -> tuple[dict[str, Timing], dict]:
    """Our implementation of each step on a generated corpus; returns timings and the step outputs."""
    book = codebook_mod.load_codebook(paths.CODEBOOK)
    stopwords = text.stopword_list()
    t = {}

    def ingest():
        people = corpus.load_participants(participants_csv)
        turns = corpus.load_corpus(transcripts_dir, people)
        return people, corpus.segments(turns, people)

    t["ingest"] = timed("ingest", ingest)
    people, segs = t["ingest"].result
    _warm_up(segs.groupby("group", sort=True).head(40).reset_index(drop=True), book, stopwords)
    t["tokenise"] = timed("tokenise", text.token_table, segs["text"])
    raw = t["tokenise"].result

    def code():
        return coding.code_segments(segs, book, tokens=raw.drop(columns="position"))

    t["code"] = timed("code", code)
    codings = t["code"].result

    def keyness():
        # the token table's categorical column and the segments' group go in as integer codes
        keep = text.filter_mask(raw, stopwords=stopwords)
        group = pd.Categorical(segs["group"])
        tokens = raw["token"].array
        toks = pd.DataFrame({"token": pd.Categorical.from_codes(tokens.codes[keep], dtype=tokens.dtype, validate=False),
                             "group": pd.Categorical.from_codes(group.codes[raw["row"].to_numpy()[keep]],
                                                                dtype=group.dtype, validate=False)})
        return keywords.keyness(toks, by="group", min_count=5)

    t["keyness"] = timed("keyness", keyness)
    t["theme_cooccurrence"] = timed("theme_cooccurrence", cooccur.cooccurrence, codings, level="theme",
                                    unit="segment", segments=segs)
    t["theme_cooccurrence_test"] = timed("theme_cooccurrence_test", cooccur.cooccurrence, codings, level="theme",
                                         unit="segment", segments=segs, permutations=PERMUTATIONS, seed=0)
    t["word_network"] = timed("word_network", cooccur.word_network, segs["text"], stopwords, 60, 60, tokens=raw)
    outputs = {"segments": segs, "tokens": raw, "codings": codings, "codebook": book, "stopwords": stopwords,
               "transcripts_dir": transcripts_dir, "participants": people}
    return t, outputs


def _warm_up(segs: pd.DataFrame, book, stopwords) -> None:
    """Run each step once on a few segments, so one-time imports (scipy.stats, networkx) are not timed.

    The co-occurrence runs with the permutation test too, so its code path is warm.
    """
    raw = text.token_table(segs["text"])
    codings = coding.code_segments(segs, book, tokens=raw.drop(columns="position"))
    keywords.keyness(pd.DataFrame({"token": raw["token"], "group": segs["group"].to_numpy()[raw["row"]]}),
                     by="group", min_count=1)
    cooccur.cooccurrence(codings, level="theme", unit="segment", segments=segs, permutations=PERMUTATIONS)
    cooccur.word_network(segs["text"], stopwords, 10, 10, tokens=raw)


def load_baselines():
    """The straightforward implementations in benchmarks/baselines.py (not part of the package)."""
    path = paths.ROOT / "benchmarks" / BASELINE_FILE
    if not path.is_file():
        raise InputError(f"{paths.relative(path)}: baseline implementations not found")
    spec = importlib.util.spec_from_file_location("ips_bench_baselines", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_baselines(outputs: dict) -> dict[str, Timing]:
    """Time the baseline of each step on the same inputs as our implementation."""
    base = load_baselines()
    segs, book, stopwords = outputs["segments"], outputs["codebook"], outputs["stopwords"]
    t = {
        "ingest": timed("ingest", base.ingest, outputs["transcripts_dir"]),
        "tokenise": timed("tokenise", base.tokenise, segs["text"].tolist()),
    }
    tokens = t["tokenise"].result
    t["code"] = timed("code", base.code, segs["text"].tolist(), book)
    t["keyness"] = timed("keyness", base.keyness, tokens, segs["group"].tolist(), stopwords)
    rows = list(zip(outputs["codings"]["segment_id"], outputs["codings"]["theme"]))
    t["theme_cooccurrence"] = timed("theme_cooccurrence", base.cooccurrence, rows, len(segs))
    units = list(zip(segs["segment_id"], segs["transcript_id"]))
    t["theme_cooccurrence_test"] = timed("theme_cooccurrence_test", base.cooccurrence_test, units, rows,
                                         PERMUTATIONS, 0)
    t["word_network"] = timed("word_network", base.word_network, tokens, stopwords, 60, 60)
    return t


def report(words: int, ours: dict[str, Timing], baseline: dict[str, Timing] | None) -> pd.DataFrame:
    """One row per step: seconds, words/s, peak MB, and the baseline's seconds and speed-up."""
    rows = []
    for step in STEPS:
        o = ours[step]
        row = {"step": step, "words": words, "seconds": round(o.seconds, 3),
               "words_per_second": round(words / o.seconds) if o.seconds > 0 else None,
               "peak_mb": round(o.peak_mb, 1)}
        if baseline:
            b = baseline[step]
            row.update({"baseline_seconds": round(b.seconds, 3),
                        "speedup": round(b.seconds / o.seconds, 1) if o.seconds > 0 else None})
        rows.append(row)
    total = sum(ours[s].seconds for s in STEPS)
    rows.append({"step": "total", "words": words, "seconds": round(total, 3),
                 "words_per_second": round(words / total) if total else None,
                 "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    return pd.DataFrame(rows)


def scaling(small: pd.DataFrame, large: pd.DataFrame) -> pd.DataFrame:
    """Per step: how many times longer the large corpus took than the small one, against its size ratio."""
    a, b = small.set_index("step"), large.set_index("step")
    size = b["words"].iloc[0] / a["words"].iloc[0]
    out = pd.DataFrame({"step": a.index, "time_ratio": (b["seconds"] / a["seconds"]).round(1).to_numpy(),
                        "size_ratio": round(size, 1)})
    return out


def bench(words: int = 1_000_000, seed: int = 0, baseline: bool = True, out: Path | None = None,
          keep: Path | None = None) -> pd.DataFrame:
    """Generate a corpus of `words` words, time every step (and the baselines), save reports/bench.csv."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ips-bench-"))
    try:
        folder, people, written = generate_corpus(work, words, seed)
        ours, outputs = run_steps(folder, people)
        base = run_baselines(outputs) if baseline else None
        table = report(written, ours, base)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    out = Path(out) if out else paths.reports_dir() / "bench.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        previous = pd.read_csv(out)
        table_all = pd.concat([previous[previous["words"] != written], table], ignore_index=True)
    else:
        table_all = table
    paths.atomic_write(out, tables.csv_text(table_all))
    return table


def add_commands(sub) -> None:
    """Register `bench` on the command line."""
    p = sub.add_parser("bench", help="scale benchmark: words/second and peak memory per step")
    p.add_argument("--words", type=int, action="append", default=None,
                   help="corpus size in words (repeatable; default 1,000,000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    p.add_argument("--no-baseline", action="store_true", help="skip the baseline implementations")
    p.add_argument("--baseline-max", type=int, default=1_000_000,
                   help="run the (slow) baselines only up to this many words (default 1,000,000)")
    p.add_argument("--out", type=Path, default=None, help="CSV of results (default reports/bench.csv)")

    def command(args) -> int:
        sizes = sorted(args.words or [1_000_000])
        bad = [n for n in sizes if n < 1000]
        if bad:
            raise InputError(f"--words {bad[0]}: use at least 1000 words")
        tables = []
        for n in sizes:
            table = bench(n, args.seed, not args.no_baseline and n <= args.baseline_max, args.out)
            tables.append(table)
            with pd.option_context("display.width", 140, "display.max_columns", 20):
                print(table.to_string(index=False))
            print(flush=True)
        if len(tables) > 1:
            print(scaling(tables[0], tables[-1]).to_string(index=False))
        return 0

    p.set_defaults(func=command)
