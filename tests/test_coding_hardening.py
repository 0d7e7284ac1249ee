"""Coding that cannot crash or hang (issue 14): phrase keywords whose first word never occurs,
codebook patterns that backtrack for ever (time limit, error naming the rule and the segment,
Ctrl+C still stops them), and one huge segment coded in bounded memory. Fixtures are generated."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from helpers import codebook, coding, paths
from helpers.errors import InputError

from conftest import ROOT, run_cli, run_measured

TURN_HEADER = ["transcript_id", "turn", "speaker", "participant_id", "role", "group", "timestamp", "text",
               "source", "line"]
CODINGS_HEADER = "segment_id,transcript_id,participant_id,group,theme,subtheme,term,start,end\n"


def write_turns(path, texts) -> None:
    """A turns table (as `ingest` writes it) of one transcript T01 whose turns are `texts`."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TURN_HEADER)
        for i, text in enumerate(texts):
            writer.writerow(["T01", i, "P1", "P1", "participant", "client", "", text, "T01.txt", i + 1])


def segments_of(texts) -> pd.DataFrame:
    """Segments with the columns coding needs, one per text (ids S0, S1, …; transcript T01)."""
    n = len(texts)
    return pd.DataFrame({"segment_id": [f"S{i}" for i in range(n)], "transcript_id": ["T01"] * n,
                         "participant_id": ["P1"] * n, "group": ["client"] * n, "text": list(texts)})


# ----------------------------------------------------------------------------- phrase keywords
def test_phrase_whose_first_word_never_occurs_codes_the_rest(tmp_path):
    write_turns(tmp_path / "turns.csv", ["My pain is bad", "fog today", "no brain here"])
    (tmp_path / "book.yaml").write_text(
        "themes:\n  - code: symptoms\n    label: Symptoms\n    keywords: ['brain fog', 'pain']\n"
        "    exclude: ['never said this']\n", encoding="utf-8")
    proc = run_cli("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(tmp_path / "book.yaml"),
                   "--out", str(tmp_path / "codings.csv"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "codings.csv").read_text(encoding="utf-8") == (
        CODINGS_HEADER + "T01:0,T01,P1,client,symptoms,,pain,3,7\n")


def test_only_phrases_that_never_start_give_no_codings():
    book = codebook.parse_codebook({"themes": [{"code": "a", "label": "A", "keywords": ["brain fog"],
                                                "exclude": ["in recruitment"]}]})
    codings = coding.code_segments(segments_of(["fog and brain", "recruitment"]), book)
    assert codings.empty and list(codings.columns) == coding.CODINGS_COLUMNS


def test_shipped_codebook_on_a_corpus_without_in_and_recruitment(tmp_path):
    # its exclude rules 'recruitment agency', 'recruitment consultant*', … begin with a word this corpus lacks
    write_turns(tmp_path / "turns.csv", ["I was anxious and exhausted, and my GP said to try pacing.",
                                         "The employment support worker helped me with my CV.",
                                         "Nothing about work today."])
    proc = run_cli("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(ROOT / "data" / "codebook.yaml"),
                   "--out", str(tmp_path / "codings.csv"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "codings.csv").read_text(encoding="utf-8") == CODINGS_HEADER + (
        "T01:0,T01,P1,client,situations,complex_needs,anxious,6,13\n"
        "T01:0,T01,P1,client,situations,complex_needs,exhausted,18,27\n"
        "T01:0,T01,P1,client,situations,support_from_hcps,GP,36,38\n"
        "T01:0,T01,P1,client,programme_activities,health_work_support,pacing,51,57\n"
        "T01:1,T01,P1,client,intervention_input,esw_role,employment support,4,22\n"
        "T01:1,T01,P1,client,intervention_input,esw_role,support worker*,15,29\n"
        "T01:1,T01,P1,client,programme_activities,job_search,CV,48,50\n")
    assert proc.stderr.strip().endswith("coded 3 segments: 7 matches in 2 segments; 5 of 15 subthemes found")


# ----------------------------------------------------------------------------- patterns with a time limit
def test_a_pattern_that_backtracks_for_ever_is_one_error_naming_rule_and_segment(tmp_path):
    write_turns(tmp_path / "turns.csv", ["a calm turn about pain", "a" * 20_000 + "!", "pain again"])
    (tmp_path / "book.yaml").write_text(
        "themes:\n"
        "  - code: symptoms\n"
        "    label: Symptoms\n"
        "    keywords: [pain]\n"
        "    patterns: ['\\bcalm\\b', '(a+)+$']\n", encoding="utf-8")
    started = time.monotonic()
    proc = run_cli("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook", str(tmp_path / "book.yaml"),
                   "--out", str(tmp_path / "codings.csv"), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert time.monotonic() - started < 30
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert lines[0].endswith(
        "book.yaml:5: themes[0].patterns[1]: pattern '(a+)+$' ran past its time limit of 2 s on segment T01:1 "
        "of transcript T01; rewrite it without nested or overlapping repeats such as (a+)+ or (a|a)*")
    assert not (tmp_path / "codings.csv").exists()


def test_the_time_limit_finds_the_slow_segment_among_many(monkeypatch):
    monkeypatch.setattr(coding, "PATTERN_SECONDS", 0.2)
    texts = ["pain here", "calm words", "a" * 40 + "!", "more pain"]
    book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "patterns": [r"\bpain\b", "(a|a)+$"]}]},
                                   "book.yaml", {"themes[0].patterns[1]": 7})
    with pytest.raises(InputError) as caught:
        coding.code_segments(segments_of(texts), book)
    assert caught.value.problems == [
        "book.yaml:7: themes[0].patterns[1]: pattern '(a|a)+$' ran past its time limit of 0.2 s on segment S2 of "
        "transcript T01; rewrite it without nested or overlapping repeats such as (a+)+ or (a|a)*"]


def test_a_run_past_the_limit_without_one_slow_text_keeps_every_match(monkeypatch):
    # the joined run 'times out' (simulated); searched one by one, no text does: the matches are the same
    real = coding._spans

    def joined_too_slow(rx, text):
        if coding.SEPARATOR in text:
            raise TimeoutError("regex timed out")
        return real(rx, text)

    texts = pd.Series(["I can't cope", "nothing", "can\u2019t cope, can't cope"])
    patterns = {0: codebook._check_pattern(r"\bcan.t cope\b")[0]}
    expected = coding.match_patterns(texts, patterns)
    monkeypatch.setattr(coding, "_spans", joined_too_slow)
    pd.testing.assert_frame_equal(coding.match_patterns(texts, patterns), expected)
    assert expected.values.tolist() == [[0, 0, 2, 12], [2, 0, 0, 10], [2, 0, 12, 22]]


def test_ctrl_c_stops_a_pattern_search(monkeypatch):
    # papermill interrupts a kernel with SIGINT: the search must end with KeyboardInterrupt, not run on
    monkeypatch.setattr(coding, "PATTERN_SECONDS", 60.0)
    book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "patterns": ["(a|a)+$"]}]})
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            coding.code_segments(segments_of(["a" * 60 + "!"]), book)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10


def test_codebook_patterns_are_compiled_with_a_time_limit_and_read_as_re_reads_them():
    book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "patterns": [r"\bcan.t cope\b"]}]})
    rx = book.patterns[0]
    assert rx.finditer("I CAN'T COPE", timeout=1) is not None  # the regex package: a timeout is accepted
    assert coding.necessary_literals(rx) == [{"can"}, {"t cope"}]  # read by re's parser
    assert coding.pattern_time_limit(10) == coding.PATTERN_SECONDS
    assert coding.pattern_time_limit(10 * coding.PATTERN_CHUNK_CHARS) == 10 * coding.PATTERN_SECONDS


# ----------------------------------------------------------------------------- one huge segment
FILLER = ("so we talked about the job and the hours and how the week went, then about the bus "
          "[laughs] and the manager who was kind enough to let me sit down when it got bad. ")


def test_one_huge_segment_is_coded_in_memory_bounded_by_its_size(tmp_path):
    # one turn of about 30 MB on a single line, 'pain' once every 50 filler sentences
    unit = FILLER * 50 + "pain. "
    repeats = 30 * 2**20 // len(unit)
    write_turns(tmp_path / "turns.csv", [unit * repeats])
    size_mb = (tmp_path / "turns.csv").stat().st_size / 2**20
    (tmp_path / "book.yaml").write_text(
        "themes:\n  - code: s\n    label: S\n    keywords: [pain, 'kind enough to let me']\n"
        "    patterns: ['\\blet me sit\\b']\n    exclude: ['brain fog']\n", encoding="utf-8")
    proc, peak_mb = run_measured("code", "--corpus", str(tmp_path / "turns.csv"), "--codebook",
                                 str(tmp_path / "book.yaml"), "--out", str(tmp_path / "codings.parquet"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    codings = pd.read_parquet(tmp_path / "codings.parquet")
    per_term = codings.groupby("term").size().to_dict()
    assert per_term == {"pain": repeats, "kind enough to let me": 50 * repeats, r"\blet me sit\b": 50 * repeats}
    assert peak_mb < 250 + 8 * size_mb, f"peak {peak_mb:.0f} MB for a {size_mb:.0f} MB segment"
