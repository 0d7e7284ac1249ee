"""The run starts the longest notebooks first (pipeline.longest_first)."""

from helpers.pipeline import LONGEST_WITHOUT_RECORD, longest_first


def test_longest_recorded_time_first_ties_keep_order():
    previous = {"01_a": {"seconds": 8.0}, "02_b": {"seconds": 11.0}, "03_c": {"seconds": 8.0},
                "04_d": {"seconds": 27.5}}
    assert longest_first(["01_a", "02_b", "03_c", "04_d"], previous) == ["04_d", "02_b", "01_a", "03_c"]


def test_notebook_without_recorded_time_goes_first():
    previous = {"01_a": {"seconds": 8.0}, "02_b": {"status": "skipped"}}
    assert longest_first(["01_a", "02_b", "03_new"], previous) == ["02_b", "03_new", "01_a"]


def test_without_record_the_known_longest_goes_first():
    names = ["01_corpus_overview", "02_keywords", LONGEST_WITHOUT_RECORD[0], "05_agreement"]
    assert longest_first(names, {}) == [LONGEST_WITHOUT_RECORD[0], "01_corpus_overview", "02_keywords",
                                        "05_agreement"]
    assert longest_first(["01_x", "02_y"], {}) == ["01_x", "02_y"]
