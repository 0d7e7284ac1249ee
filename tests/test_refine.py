"""`refine`: rules judged against a hand-made human coding, keyword suggestions, the YAML snippet, the CLI."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from helpers import __main__ as cli
from helpers import refine as rf
from helpers.codebook import load_codebook, parse_codebook


def units_frame(texts: list[str], transcript: str = "T1") -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame({"segment_id": [f"{transcript}:{i + 1}" for i in range(n)], "transcript_id": transcript,
                         "participant_id": [f"P{i % 3}" for i in range(n)], "group": "client", "text": texts})


def human_coding(units: pd.DataFrame, codes: dict[int, str]) -> pd.DataFrame:
    """Whole-segment codings: segment number (1-based) -> theme."""
    rows = []
    for k, theme in codes.items():
        seg = units.iloc[k - 1]
        rows.append({"segment_id": seg["segment_id"], "transcript_id": seg["transcript_id"], "participant_id": "P",
                     "group": "client", "theme": theme, "subtheme": "", "term": "", "start": 0,
                     "end": len(seg["text"])})
    return pd.DataFrame(rows)


def book(themes: dict[str, list[str]]):
    return parse_codebook({"themes": [{"code": c, "label": c.title(), "keywords": kw} for c, kw in themes.items()]})


def test_rule_precision_recall_against_hand_made_coding():
    units = units_frame(["my back pain is bad", "the pain of losing my job", "my head aches",
                         "I hurt all day", "the job was fine", "nothing to say"])
    human = human_coding(units, {1: "pain", 2: "work", 3: "pain", 4: "pain", 5: "work"})
    result = rf.refine(units, human, book({"pain": ["pain", "ache*"], "work": ["job"]}))
    rules = result["rules"].set_index("term")
    assert rules.loc["pain", ["segments", "hits"]].tolist() == [2, 1]
    assert rules.loc["pain", "precision"] == 0.5 and rules.loc["pain", "recall"] == pytest.approx(1 / 3)
    assert rules.loc["pain", "wrong"] == ["T1:2"]
    assert rules.loc["ache*", ["segments", "hits", "precision"]].tolist() == [1, 1, 1.0]
    assert rules.loc["ache*", "recall"] == pytest.approx(1 / 3)
    assert rules.loc["job", ["segments", "hits", "precision", "recall"]].tolist() == [2, 2, 1.0, 1.0]
    assert rules.loc["job", "wrong"] == []
    assert result["missed"] == {"pain": ["T1:4"], "work": []}


def test_rule_that_codes_nothing_has_no_precision():
    units = units_frame(["my back pain", "fine"])
    result = rf.refine(units, human_coding(units, {1: "pain"}), book({"pain": ["pain", "sciatica"]}))
    row = result["rules"].set_index("term").loc["sciatica"]
    assert row["segments"] == 0 and math.isnan(row["precision"]) and row["recall"] == 0.0


def sleep_fixture():
    """Six segments the human coded 'sleep': one says 'insomnia' (the only rule), five say 'tired'."""
    texts = ["insomnia every night", "tired all the time", "so tired today", "tired again honestly",
             "feeling tired lately", "tired and grumpy", "the bus was late", "my sister visited",
             "cooking dinner tonight", "walking the dog", "watching football", "reading a novel"]
    units = units_frame(texts)
    human = human_coding(units, {k: "sleep" for k in range(1, 7)})
    return units, human, book({"sleep": ["insomnia"], "family": ["sister"]})


def test_missing_word_that_explains_the_misses_is_the_top_suggestion():
    units, human, codebook = sleep_fixture()
    result = rf.refine(units, human, codebook)
    assert result["missed"]["sleep"] == ["T1:2", "T1:3", "T1:4", "T1:5", "T1:6"]
    top = result["suggestions"][result["suggestions"]["code"] == "sleep"].iloc[0]
    assert top["term"] == "tired" and top["missed_with"] == 5 and top["in_other"] == 0
    assert top["precision"] == 1.0 and top["recall"] == pytest.approx(5 / 6) and top["new_recall"] == 1.0
    assert bool(top["suggested"])
    assert result["terms"] == {"sleep": ["tired"]}  # words in one missed segment only are not suggested


def test_snippet_parses_with_the_codebook_loader(tmp_path):
    units, human, codebook = sleep_fixture()
    terms = rf.refine(units, human, codebook)["terms"]
    path = tmp_path / "suggestions.yaml"
    path.write_text(rf.snippet_yaml(codebook, terms), encoding="utf-8")
    loaded = load_codebook(path)
    assert loaded.rules[["theme", "kind", "term"]].values.tolist() == [["sleep", "keyword", "tired"]]
    assert loaded.label("sleep") == "Sleep"


def test_suggestions_raise_agreement_on_held_out_talk(tmp_path):
    units, human, codebook = sleep_fixture()
    terms = rf.refine(units, human, codebook)["terms"]
    cb_path = tmp_path / "codebook.yaml"
    cb_path.write_text(yaml.safe_dump({"themes": [{"code": "sleep", "label": "Sleep", "keywords": ["insomnia"]},
                                                  {"code": "family", "label": "Family", "keywords": ["sister"]}]}))
    held = units_frame(["tired out", "insomnia again", "a quiet walk", "so very tired", "the garden"], "T2")
    truth = human_coding(held, {1: "sleep", 2: "sleep", 4: "sleep"})
    refined = rf.with_suggestions(cb_path, codebook, terms)
    assert "tired" in set(refined.rules["term"])
    from helpers.coding import code_segments
    before, n_before = rf.pooled_kappa(code_segments(held, codebook), truth, held, ["sleep", "family"])
    after, n_after = rf.pooled_kappa(code_segments(held, refined), truth, held, ["sleep", "family"])
    # before: 1 of 3 sleep segments found, family unused by both sides (left out of the pool)
    assert n_before == n_after == 1
    assert before == pytest.approx((0.6 - 0.44) / (1 - 0.44)) and after == 1.0


def _main(monkeypatch, *args):
    assert "refine" in cli.COMMAND_MODULES  # on the command line like every other command
    return cli.main(list(args))


def test_cli_bad_out_is_one_line_and_exit_2(monkeypatch, capsys):
    code = _main(monkeypatch, "refine", "--human", "data/human_coding_demo.qdpx", "--codebook", "data/codebook.yaml",
                 "--out", "x.txt")
    assert code == 2
    assert capsys.readouterr().err.strip() == "error: --out x.txt: name a .yaml file"


def test_cli_missing_human_file_exit_2(monkeypatch, capsys, tmp_path):
    code = _main(monkeypatch, "refine", "--human", str(tmp_path / "none.qdpx"), "--codebook", "data/codebook.yaml")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ")


def test_cli_on_demo_writes_snippet_and_checks(monkeypatch, capsys, tmp_path):
    out = tmp_path / "sugg.yaml"
    code = _main(monkeypatch, "refine", "--human", "data/human_coding_demo.qdpx", "--codebook", "data/codebook.yaml",
                 "--out", str(out), "--check-on", "data/human_coding_demo.qdpx")
    captured = capsys.readouterr()
    assert code == 0
    assert "Rules (judged against the human's code)" in captured.out
    assert "Check on data/human_coding_demo.qdpx:" in captured.out and "pooled kappa" in captured.out
    assert "warning: --check-on shares 5 transcript(s) with --human (C01, C04, E01, E02, FG1)" in captured.err
    assert yaml.safe_load(out.read_text())["themes"]
