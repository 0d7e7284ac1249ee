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
    pools = {t: _TurnPool(turns[turns["transcript_id"] == t], participants[participants["transcript_id"] == t])
             for t in sources}
    rows, written, k = [], 0, 0
    while written < words:
        source = sources[k % len(sources)]
        pool = pools[source]
        new_id = f"B{k:06d}"
        draws = rng.integers(0, pool.size, size=4 * words_per_transcript // pool.mean_words + 4)
        # the turns up to the one that reaches the transcript's length or the corpus's
        reached = np.cumsum(pool.n_words[draws])
        stop = np.flatnonzero((reached >= words_per_transcript) | (written + reached >= words))
        draws = draws[: stop[0] + 1] if len(stop) else draws
        n = int(reached[len(draws) - 1]) if len(draws) else 0
        lines = ["---", f"title: benchmark transcript {new_id} resampled from {source}", "synthetic: true", "---", ""]
        for i in draws.tolist():
            label = "Interviewer" if pool.interviewer[i] else f"{new_id}-{pool.speaker[i]}"
            lines.append(f"{label}: {pool.text[i]}")
            lines.append("")
        (folder / f"{new_id}.txt").write_text("\n".join(lines), encoding="utf-8")
        spoke = set(pool.speaker[draws].tolist())
        for pid, p in pool.people:
            if pid in spoke:
                label = f"{new_id}-{pid}"
                rows.append({**p, "participant_id": label, "transcript_id": new_id, "speaker_labels": label})
        written += n
        k += 1
    people = pd.DataFrame(rows, columns=participants.columns)
    csv = out_dir / "participants.csv"
    paths.atomic_write(csv, tables.csv_text(people))
    return folder, csv, written


class _TurnPool:
    """One demo transcript's turns as arrays (what `generate_corpus` draws from) and its participants
    as (participant_id, row as a dict), in file order."""

    def __init__(self, turns: pd.DataFrame, people: pd.DataFrame):
        self.size = len(turns)
        self.n_words = turns["n_words"].to_numpy(dtype=np.int64)
        self.mean_words = max(1, int(turns["n_words"].mean()))
        self.interviewer = (turns["role"] == "interviewer").to_numpy()
        self.speaker = turns["participant_id"].to_numpy(dtype=object)
        self.text = turns["text"].to_numpy(dtype=object)
        self.people = [(p["participant_id"], p.to_dict()) for _, p in people.iterrows()]


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

    t["keyness"] = timed("keyness", keyness_of_tokens, raw, segs["group"], stopwords)
    t["theme_cooccurrence"] = timed("theme_cooccurrence", cooccur.cooccurrence, codings, level="theme",
                                    unit="segment", segments=segs)
    t["theme_cooccurrence_test"] = timed("theme_cooccurrence_test", cooccur.cooccurrence, codings, level="theme",
                                         unit="segment", segments=segs, permutations=PERMUTATIONS, seed=0)
    t["word_network"] = timed("word_network", cooccur.word_network, segs["text"], stopwords, 60, 60, tokens=raw)
    outputs = {"segments": segs, "tokens": raw, "codings": codings, "codebook": book, "stopwords": stopwords,
               "transcripts_dir": transcripts_dir, "participants": people,
               "participants_csv": participants_csv}
    return t, outputs


def grouped_tokens(raw: pd.DataFrame, groups: pd.Series, keep: np.ndarray | None = None) -> pd.DataFrame:
    """token and group of each kept token of a token table (both categorical, built from integer codes)."""
    keep = np.ones(len(raw), dtype=bool) if keep is None else keep
    group = pd.Categorical(groups)
    tokens = raw["token"].array
    return pd.DataFrame({"token": pd.Categorical.from_codes(tokens.codes[keep], dtype=tokens.dtype, validate=False),
                         "group": pd.Categorical.from_codes(group.codes[raw["row"].to_numpy()[keep]],
                                                            dtype=group.dtype, validate=False)})


def keyness_of_tokens(raw: pd.DataFrame, groups: pd.Series, stopwords) -> pd.DataFrame:
    """The keyness step: stopwords out, every group against the rest (min_count 5)."""
    return keywords.keyness(grouped_tokens(raw, groups, text.filter_mask(raw, stopwords=stopwords)), by="group",
                            min_count=5)


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


def _benchmark_module(file: str, what: str):
    """A module of benchmarks/ (not part of the package), loaded from its file."""
    path = paths.ROOT / "benchmarks" / file
    if not path.is_file():
        raise InputError(f"{paths.relative(path)}: {what} not found")
    spec = importlib.util.spec_from_file_location(f"ips_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_baselines():
    """The straightforward implementations in benchmarks/baselines.py (not part of the package)."""
    return _benchmark_module(BASELINE_FILE, "baseline implementations")


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


# ----------------------------------------------------------------------------- peers (issue 17)
PEER_FILE = "peers.py"
PIPELINE = ["ingest", "tokenise", "code", "keyness", "theme_cooccurrence_test"]  # the whole-pipeline line
COLLOCATION_MIN_FREQ = 3
TOP_TERMS = 10  # top key terms per group compared with the peer's
TOP_BIGRAMS = 20  # bigrams per group shown as equal or not


def default_repeats(words: int) -> int:
    """Interleaved repeats of the peer comparison: 5 up to 1M words, 3 above."""
    return 5 if words <= 1_000_000 else 3


@dataclass
class PeerRow:
    """One line of the peer table: our step and the peer doing the same work, and how to compare results.

    ours/peer: callables without arguments (peer made by `prepare`, which may raise ImportError);
    agree: (our result, peer result) -> one line saying whether they agree, or None.
    """

    step: str
    peer: str
    ours: object
    prepare: object
    agree: object = None


@dataclass
class PeerReport:
    """The peer table (step, peer, ours_s, peer_s, ratio) and the lines printed under it."""

    table: pd.DataFrame
    lines: list[str]


def _token_rows(raw: pd.DataFrame) -> list[list[str]]:
    """The token strings of a token table, one list per text that has tokens."""
    words = raw["token"].astype(str).to_numpy(dtype=object)
    cuts = np.flatnonzero(np.diff(raw["row"].to_numpy())) + 1
    return [part.tolist() for part in np.split(words, cuts)] if len(words) else []


def _agree_matcher(ours: pd.DataFrame, theirs) -> str:
    mine = ours["rule_id"].value_counts().to_dict()
    rules = sorted(set(mine) | set(theirs))
    differ = [r for r in rules if mine.get(r, 0) != theirs.get(r, 0)]
    if not differ:
        return f"matcher: same match count for every rule ({len(rules)} rules matched, {len(ours):,} matches)"
    shown = "; ".join(f"rule {r}: ours {mine.get(r, 0)}, spaCy {theirs.get(r, 0)}" for r in differ[:5])
    return f"matcher: {len(differ)} of {len(rules)} rules differ in match count ({shown})"


def _agree_keyness(ours: pd.DataFrame, theirs: pd.DataFrame) -> str:
    mine = ours.rename(columns={"target": "group"})[["group", "term", "g2"]]
    both = mine.merge(theirs, on=["group", "term"], suffixes=("_ours", "_peer"))
    r = float(np.corrcoef(both["g2_ours"], both["g2_peer"])[0, 1]) if len(both) > 1 else float("nan")
    shared = []
    for group, part in mine.groupby("group", sort=True):
        top = set(part.nlargest(TOP_TERMS, "g2")["term"])
        peer_top = set(theirs[theirs["group"] == group].nlargest(TOP_TERMS, "g2")["term"])
        shared.append(f"{group} {len(top & peer_top)}/{TOP_TERMS}")
    return (f"keyness: G² correlation r = {r:.4f} over {len(both):,} (group, term) pairs both tested; "
            f"top {TOP_TERMS} terms shared: {', '.join(shared)}")


def _agree_bigrams(ours: pd.DataFrame, theirs: dict) -> str:
    mine = {g: part["ngram"].tolist() for g, part in ours.groupby("group", sort=True)}
    peer = {g: [b for b, _ in sorted(v, key=lambda x: (-x[1], x[0]))] for g, v in theirs.items() if v}
    same_sets = {g: set(v) for g, v in mine.items()} == {g: set(v) for g, v in peer.items()}
    same_top = all(mine[g][:TOP_BIGRAMS] == peer.get(g, [])[:TOP_BIGRAMS] for g in mine)
    n = sum(len(v) for v in mine.values())
    verdict = "identical" if same_sets and same_top else "DIFFERENT"
    return (f"collocations: bigram lists {verdict} ({n:,} bigrams seen >= {COLLOCATION_MIN_FREQ} times in "
            f"{len(mine)} groups; top {TOP_BIGRAMS} per group in the same order: {'yes' if same_top else 'no'})")


def _agree_tokens(ours: pd.DataFrame, theirs) -> str | None:
    if isinstance(theirs, int):
        return f"tokenise: ours {len(ours):,} words and numbers; spaCy {theirs:,} tokens (punctuation included)"
    return (f"tokenise: ours {len(ours):,} words and numbers; CountVectorizer {sum(map(len, theirs)):,} tokens "
            f"(two letters or more, split at apostrophes and hyphens)")


def peer_rows(outputs: dict, peers) -> list[PeerRow]:
    """The rows of the peer table on the outputs of `run_steps` (segments, token table, codebook)."""
    segs, raw, book, stopwords = outputs["segments"], outputs["tokens"], outputs["codebook"], outputs["stopwords"]
    texts, groups = segs["text"], segs["group"]
    text_list, group_list = texts.tolist(), groups.astype(str).tolist()
    ready = raw.drop(columns="position")
    keyword_ids = book.rules.loc[book.rules["kind"] == "keyword", "rule_id"]
    keyword_words = book.words[book.words["rule_id"].isin(keyword_ids)]
    kept = text.filter_mask(raw, stopwords=stopwords)
    colloc_tokens = grouped_tokens(raw, groups, kept).assign(row=raw["row"].to_numpy()[kept],
                                                              position=raw["position"].to_numpy()[kept])

    def streams():
        return {g: keywords._word_stream(part, "token")
                for g, part in colloc_tokens.groupby("group", sort=True, observed=True)}

    def bigram_peer():  # the peer gets the same token table and makes the same word streams (timed)
        run = peers.prepare_nltk_bigrams(COLLOCATION_MIN_FREQ)
        return lambda: run(streams())

    def tokenise_ours():
        return text.token_table(texts)

    return [
        PeerRow("tokenise", "spaCy blank('en') tokenizer", tokenise_ours,
                lambda: _bind(peers.prepare_spacy_tokenise(), text_list), _agree_tokens),
        PeerRow("tokenise", "scikit-learn CountVectorizer analyzer", tokenise_ours,
                lambda: _bind(peers.prepare_sklearn_tokenise(), text_list), _agree_tokens),
        PeerRow("keyness from texts", "CountVectorizer + sparse group sums + numpy G²",
                lambda: keyness_of_tokens(text.token_table(texts), groups, stopwords),
                lambda: _bind(peers.prepare_sklearn_keyness(stopwords), text_list, group_list), _agree_keyness),
        PeerRow("term counts per group", "scattertext CorpusFromPandas + term frequencies",
                lambda: keywords.count_matrix(grouped_tokens(text.token_table(texts), groups), by="group"),
                lambda: _bind(peers.prepare_scattertext_counts(), text_list, group_list)),
        PeerRow("bigram collocations", "NLTK BigramCollocationFinder",
                lambda: keywords.collocations(colloc_tokens, by="group", n=2, min_freq=COLLOCATION_MIN_FREQ),
                bigram_peer, _agree_bigrams),
        PeerRow("keyword matching on ready tokens", "spaCy PhraseMatcher (LOWER, wildcards expanded)",
                lambda: coding.match_keywords(ready, keyword_words),
                lambda: peers.prepare_spacy_matcher(keyword_words, _token_rows(raw)), _agree_matcher),
    ]


def _bind(func, *args):
    """func with its arguments, to be called without any (what the timing loop calls)."""
    return lambda: func(*args)


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def run_peers(outputs: dict, repeats: int, peers=None) -> PeerReport:
    """Each peer row, ours and the peer one after the other, `repeats` times over (interleaved); medians.

    Also the full codebook against its keyword rules alone, and ingest against reading and decoding the
    same files (plain Python). A peer whose library is not installed is reported as skipped."""
    peers = peers or _benchmark_module(PEER_FILE, "peer implementations")
    rows = peer_rows(outputs, peers)
    runners, skipped = [], {}
    for row in rows:
        try:
            runners.append(row.prepare())
        except ImportError as exc:
            runners.append(None)
            skipped[id(row)] = f"skipped: not installed ({exc.name or exc})"
    segs, book, raw = outputs["segments"], outputs["codebook"], outputs["tokens"]
    ready = raw.drop(columns="position")
    keyword_book = coding.keywords_only(book)  # the same coding (tables, sort) with its keyword rules alone
    files = sorted(Path(outputs["transcripts_dir"]).glob("*.txt"))

    def ingest():
        people = corpus.load_participants(outputs["participants_csv"])
        return corpus.segments(corpus.load_corpus(outputs["transcripts_dir"], people), people)

    extra = {
        "full codebook": lambda: coding.code_segments(segs, book, tokens=ready),
        "keyword rules alone": lambda: coding.code_segments(segs, keyword_book, tokens=ready),
        "ingest": ingest,
        "read + decode": lambda: [f.read_bytes().decode("utf-8") for f in files],
    }
    ours_t, peer_t, extra_t = [[] for _ in rows], [[] for _ in rows], {k: [] for k in extra}
    ours_res, peer_res = [None] * len(rows), [None] * len(rows)
    for _ in range(repeats):
        for i, (row, run) in enumerate(zip(rows, runners)):
            t = timed(row.step, row.ours)
            ours_t[i].append(t.seconds)
            ours_res[i] = t.result
            if run is not None:
                t = timed(row.peer, run)
                peer_t[i].append(t.seconds)
                peer_res[i] = t.result
        for name, func in extra.items():
            extra_t[name].append(timed(name, func).seconds)
    table, lines = [], []
    for i, row in enumerate(rows):
        ours_s, peer_s = _median(ours_t[i]), _median(peer_t[i])
        table.append({"step": row.step, "peer": row.peer, "ours_s": round(ours_s, 3),
                      "peer_s": round(peer_s, 3) if runners[i] is not None else None,
                      "ratio": round(peer_s / ours_s, 2) if runners[i] is not None and ours_s > 0 else None,
                      "note": skipped.get(id(row), "")})
        if runners[i] is not None and row.agree is not None:
            lines.append(row.agree(ours_res[i], peer_res[i]))
    med = {k: _median(v) for k, v in extra_t.items()}
    lines.append(f"full codebook {med['full codebook']:.3f} s vs keyword rules alone {med['keyword rules alone']:.3f} s: "
                 f"{med['full codebook'] / med['keyword rules alone']:.1f}x")
    lines.append(f"ingest {med['ingest']:.3f} s vs reading + decoding the {len(files):,} files "
                 f"{med['read + decode']:.3f} s: {med['ingest'] / med['read + decode']:.1f}x")
    return PeerReport(pd.DataFrame(table), lines)


def pipeline_line(words: int, ours: dict[str, Timing]) -> str:
    """The whole pipeline (ingest, tokenise, full codebook, keyness, co-occurrence with the permutation test):
    total seconds and the peak memory of its steps."""
    total = sum(ours[s].seconds for s in PIPELINE)
    peak = max(ours[s].peak_mb for s in PIPELINE)
    return (f"pipeline at {words:,} words ({', '.join(PIPELINE)}; {PERMUTATIONS} shuffles): "
            f"{total:.1f} s, peak {peak:,.0f} MB")


def print_peers(words: int, report: PeerReport, repeats: int) -> None:
    """The peer table and its lines, as `bench --peers` prints them."""
    print(f"peers at {words:,} words (medians of {repeats} interleaved repeats; ratio = peer time / our time, "
          f"above 1 = we are faster)")
    shown = report.table.copy()
    shown["peer_s"] = shown["peer_s"].astype(object).where(shown["peer_s"].notna(), "-")
    shown["ratio"] = shown["ratio"].astype(object).where(shown["ratio"].notna(), "-")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 60):
        print(shown.to_string(index=False))
    for line in report.lines:
        print(line)


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
          keep: Path | None = None, peers: int = 0) -> pd.DataFrame:
    """Generate a corpus of `words` words, time every step (and the baselines), save reports/bench.csv.

    `peers`: repeats of the peer comparison (0: none); its PeerReport is in the table's attrs["peers"]."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ips-bench-"))
    try:
        folder, people, written = generate_corpus(work, words, seed)
        ours, outputs = run_steps(folder, people)
        base = run_baselines(outputs) if baseline else None
        table = report(written, ours, base)
        pipeline = pipeline_line(written, ours)
        compared = run_peers(outputs, peers) if peers > 0 else None
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
    table.attrs["pipeline"] = pipeline
    if compared is not None:
        table.attrs["peers"] = compared
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
    p.add_argument("--peers", action="store_true",
                   help="also time the peer libraries (spaCy, scikit-learn, scattertext, NLTK) on the same work "
                        "and print the ratio table and whether the results agree (pip install -e .[bench])")
    p.add_argument("--repeats", type=int, default=None,
                   help="interleaved repeats of the peer comparison (default 5 up to 1M words, 3 above)")

    def command(args) -> int:
        sizes = sorted(args.words or [1_000_000])
        bad = [n for n in sizes if n < 1000]
        if bad:
            raise InputError(f"--words {bad[0]}: use at least 1000 words")
        if args.repeats is not None and args.repeats < 1:
            raise InputError(f"--repeats {args.repeats}: give 1 or more")
        tables = []
        for n in sizes:
            repeats = (args.repeats or default_repeats(n)) if args.peers else 0
            table = bench(n, args.seed, not args.no_baseline and n <= args.baseline_max, args.out, peers=repeats)
            tables.append(table)
            with pd.option_context("display.width", 140, "display.max_columns", 20):
                print(table.to_string(index=False))
            print(table.attrs["pipeline"])
            if "peers" in table.attrs:
                print()
                print_peers(int(table["words"].iloc[0]), table.attrs["peers"], repeats)
            print(flush=True)
        if len(tables) > 1:
            print(scaling(tables[0], tables[-1]).to_string(index=False))
        return 0

    p.set_defaults(func=command)
