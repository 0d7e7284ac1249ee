"""`bench --peers` (issue 17) on a tiny generated corpus, and the permutation test's per-stratum sort.

No timing is asserted: only that every row is printed, that a missing peer is reported as skipped,
that the agreement lines are there, and that the faster shuffle gives the very same counts.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from helpers import bench, cooccur
from helpers.__main__ import main

ROWS = [
    ("tokenise", "spaCy blank('en') tokenizer"),
    ("tokenise", "scikit-learn CountVectorizer analyzer"),
    ("keyness from texts", "CountVectorizer + sparse group sums + numpy G²"),
    ("term counts per group", "scattertext CorpusFromPandas + term frequencies"),
    ("bigram collocations", "NLTK BigramCollocationFinder"),
    ("keyword matching on ready tokens", "spaCy PhraseMatcher (LOWER, wildcards expanded)"),
]


def _bench_peers(tmp_path, capsys) -> str:
    code = main(["bench", "--words", "20000", "--peers", "--repeats", "1", "--no-baseline",
                 "--out", str(tmp_path / "bench.csv")])
    assert code == 0
    return capsys.readouterr().out


def _row(out: str, step: str, peer: str) -> str:
    found = [line for line in out.splitlines() if line.strip().startswith(step) and peer in line]
    assert len(found) == 1, (step, peer, out)
    return found[0]


def test_bench_peers_prints_every_row_and_the_agreement(tmp_path, capsys):
    pytest.importorskip("spacy")
    pytest.importorskip("sklearn")
    pytest.importorskip("scattertext")
    out = _bench_peers(tmp_path, capsys)
    assert "peers at 2" in out and "medians of 1 interleaved repeats" in out
    for step, peer in ROWS:
        assert "skipped" not in _row(out, step, peer)
    assert "matcher: same match count for every rule" in out
    assert "collocations: bigram lists identical" in out
    assert "keyness: G² correlation r = " in out and "top 10 terms shared: client " in out
    assert "full codebook " in out and " vs keyword rules alone " in out
    assert "ingest " in out and "vs reading + decoding the " in out
    assert "pipeline at 2" in out and "theme_cooccurrence_test; 999 shuffles): " in out and " MB" in out


def test_a_peer_not_installed_is_reported_as_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "scattertext", None)  # `import scattertext` now raises ImportError
    monkeypatch.setitem(sys.modules, "spacy", None)
    out = _bench_peers(tmp_path, capsys)
    assert "skipped: not installed (scattertext)" in _row(out, *ROWS[3])
    assert "skipped: not installed (spacy)" in _row(out, *ROWS[0])
    assert "skipped: not installed (spacy)" in _row(out, *ROWS[5])
    assert "matcher:" not in out  # no agreement line for a peer that did not run
    assert "collocations: bigram lists identical" in out  # NLTK is a dependency: always there


def test_default_repeats_follow_the_corpus_size():
    assert bench.default_repeats(1_000_000) == 5 and bench.default_repeats(10_000_000) == 3


def test_bench_refuses_zero_repeats(tmp_path, capsys):
    assert main(["bench", "--words", "2000", "--peers", "--repeats", "0", "--out", str(tmp_path / "b.csv")]) == 2
    assert capsys.readouterr().err.strip() == "error: --repeats 0: give 1 or more"


# ----------------------------------------------------------------------------- permutation test
def _codings(seed: int, transcripts: int = 40, codes: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments of transcripts of mixed lengths (1 to 30 turns) and random theme codings."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(transcripts):
        for turn in range(1, int(rng.integers(1, 31)) + 1):
            rows.append({"segment_id": f"T{t:02d}:{turn}", "transcript_id": f"T{t:02d}",
                         "participant_id": f"P{t:02d}{turn % 3}", "group": "g"})
    segments = pd.DataFrame(rows)
    chosen = rng.random((len(segments), codes)) < rng.uniform(0.05, 0.6, codes)
    seg, code = np.nonzero(chosen)
    codings = segments.iloc[seg].reset_index(drop=True).assign(theme=[f"c{c}" for c in code], subtheme="")
    return segments, codings


@pytest.mark.parametrize("unit", ["segment", "window", "participant", "transcript"])
def test_permutation_test_per_stratum_sort_gives_the_same_p_values(unit, monkeypatch):
    segments, codings = _codings(seed=len(unit))
    inc = cooccur.incidence(codings, "theme", unit, segments=segments)
    fast = cooccur.permutation_test(inc, 199, seed=3)
    monkeypatch.setattr(cooccur.StratumBlocks, "shuffled_counts", lambda self, keys: None)  # the whole-column sort
    whole = cooccur.permutation_test(inc, 199, seed=3)
    pd.testing.assert_frame_equal(fast, whole)
    assert whole["p_value"].nunique() > 1  # the shuffles did something


def test_equal_keys_fall_back_to_the_whole_column_sort():
    strata = np.array([0, 0, 0, 1, 1, 2])
    base = np.eye(6, 2, dtype=np.float32)
    blocks = cooccur.StratumBlocks.of(strata, base, None)

    def uniforms():
        return np.random.default_rng(0).random((2, 6, 2))

    assert blocks.shuffled_counts(uniforms()) is not None
    tied = uniforms()
    tied[1, 4, 0] = tied[1, 3, 0]  # two rows of one stratum with the same key
    assert blocks.shuffled_counts(tied) is None
    rounded = uniforms()
    rounded[0, 3, 1], rounded[0, 4, 1] = 0.5, 0.5 + 2.0**-53  # different uniforms, one key 1.5 once rounded
    assert blocks.shuffled_counts(rounded) is None
    ceiling = uniforms()
    ceiling[0, 3, 1] = 1 - 2.0**-53  # 1 + that rounds to 2.0, the next stratum's floor
    assert blocks.shuffled_counts(ceiling) is None


def test_strata_wider_than_the_packed_index_sort_their_keys_as_before(monkeypatch):
    monkeypatch.setattr(cooccur, "INDEX_BITS", 3)  # strata of 8 rows or more take the argsort path
    segments, codings = _codings(seed=11, transcripts=6)
    inc = cooccur.incidence(codings, "theme", "segment", segments=segments)
    fast = cooccur.permutation_test(inc, 99, seed=5)
    monkeypatch.setattr(cooccur.StratumBlocks, "shuffled_counts", lambda self, uniforms: None)
    pd.testing.assert_frame_equal(fast, cooccur.permutation_test(inc, 99, seed=5))
