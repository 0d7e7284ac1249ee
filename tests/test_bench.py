"""The scale benchmark's corpus generator and report (timings themselves are never asserted)."""

from __future__ import annotations

import pandas as pd
import yaml

from helpers import bench, cooccur, corpus, paths


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt"))}


def test_generated_corpus_is_seeded_sized_and_ingestable(tmp_path):
    folder, people, written = bench.generate_corpus(tmp_path / "a", 6000, seed=3, words_per_transcript=1500)
    again, _, written_again = bench.generate_corpus(tmp_path / "b", 6000, seed=3, words_per_transcript=1500)
    assert _files(folder) == _files(again) and written == written_again
    other, _, _ = bench.generate_corpus(tmp_path / "c", 6000, seed=4, words_per_transcript=1500)
    assert _files(other) != _files(folder)
    assert 6000 <= written < 6000 + 1500
    participants = corpus.load_participants(people)
    turns = corpus.load_corpus(folder, participants)
    assert (turns["text"].str.split().str.len().sum()) == written
    assert set(turns["group"]) - {""} <= {"client", "esw", "hcp"}
    assert (turns.loc[turns["role"] == "participant", "participant_id"] != "").all()


def test_bench_reports_every_step_with_baseline_and_writes_csv(tmp_path):
    out = tmp_path / "bench.csv"
    table = bench.bench(3000, seed=0, baseline=True, out=out)
    assert table["step"].tolist() == bench.STEPS + ["total"]
    assert list(table.columns) == ["step", "words", "seconds", "words_per_second", "peak_mb",
                                   "baseline_seconds", "speedup"]
    assert (table["seconds"] > 0).all() and (table["peak_mb"] > 0).all()
    assert table["baseline_seconds"].iloc[:-1].notna().all()
    saved = pd.read_csv(out)
    assert len(saved) == len(table)
    bench.bench(3000, seed=0, baseline=False, out=out)  # same size again replaces, not appends
    assert len(pd.read_csv(out)) == len(table)


def test_cooccurrence_test_row_times_the_permutation_test_the_pipeline_runs(tmp_path):
    config = yaml.safe_load(paths.PIPELINE_CONFIG.read_text(encoding="utf-8"))
    assert bench.PERMUTATIONS == config["04_cooccurrence"]["permutations"] == 999
    assert bench.STEPS.index("theme_cooccurrence_test") == bench.STEPS.index("theme_cooccurrence") + 1
    folder, people, _ = bench.generate_corpus(tmp_path, 3000, seed=0)
    ours, outputs = bench.run_steps(folder, people)
    counts, tested = ours["theme_cooccurrence"].result, ours["theme_cooccurrence_test"].result
    assert counts["p_value"].isna().all() and tested["p_value"].notna().all()
    assert counts["n_ab"].tolist() == tested["n_ab"].tolist()
    pipeline_call = cooccur.cooccurrence(outputs["codings"], level="theme", unit="segment",
                                         segments=outputs["segments"], permutations=999, seed=0)
    pd.testing.assert_frame_equal(tested, pipeline_call)
    assert pipeline_call["expected_n_ab"].tolist() != cooccur.cooccurrence(
        outputs["codings"], level="theme", unit="segment", segments=outputs["segments"], permutations=99,
        seed=0)["expected_n_ab"].tolist()  # so the comparison above would notice another number of shuffles
    baseline = bench.run_baselines(outputs)["theme_cooccurrence_test"].result
    assert sorted(baseline) == sorted(zip(tested["code_a"], tested["code_b"]))
    assert [baseline[(a, b)][0] for a, b in zip(tested["code_a"], tested["code_b"])] == tested["n_ab"].tolist()


def test_scaling_divides_times_step_by_step():
    small = pd.DataFrame({"step": ["ingest", "code"], "words": [1000, 1000], "seconds": [0.5, 2.0]})
    large = pd.DataFrame({"step": ["ingest", "code"], "words": [10000, 10000], "seconds": [5.5, 16.0]})
    out = bench.scaling(small, large)
    assert out.to_dict("list") == {"step": ["ingest", "code"], "time_ratio": [11.0, 8.0], "size_ratio": [10.0, 10.0]}
