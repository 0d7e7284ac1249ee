"""Projects of one's own: config-relative paths, outputs in the project, inputs checked once, no demo defaults."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, run_cli
from helpers import codebook, corpus, paths, pipeline, project
from helpers.__main__ import main
from helpers.errors import InputError
from helpers.transcripts import read_transcripts

A01 = """Interviewer: How has the pain been this year?
P1: Bad days and good days. My back pain stops me working some weeks.
Interviewer: And your employer?
P1: My employer was patient at first. Then less so.
"""
A02 = """All

interviewer: thanks for coming in today.
interviewee: right. I manage the pain at work with breaks and a good chair.
interviewer: what helped most?
interviewee: honestly the adviser who called my manager.
"""
G1 = """Facilitator: Who wants to start?
Nurse: I refer people to the employment adviser every week.
Physio: The adviser sits in our team on Tuesdays.
Nurse: Waiting lists are the problem, not the adviser.
"""


def write_project(tmp_path: Path, participants: str | None = "participants.csv", **all_extra) -> Path:
    """A study folder with three transcripts and, beside it, a project folder whose config uses relative paths."""
    study = tmp_path / "study" / "transcripts"
    study.mkdir(parents=True)
    for name, text in (("A01.txt", A01), ("A02.txt", A02), ("G1.txt", G1)):
        (study / name).write_text(text, encoding="utf-8")
    (study / "README.md").write_text("# About these files\n\nSee [the protocol](https://example.org).\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    if participants:
        (proj / participants).write_text(
            "participant_id,group,collection,transcript_id,speaker_labels\n"
            "A01-P1,client,interview,A01,P1\n"
            "A02-P,client,interview,A02,interviewee\n"
            "G1-N,hcp,focus_group,G1,Nurse\n"
            "G1-P,hcp,focus_group,G1,Physio\n", encoding="utf-8")
    config = {"pipeline": {"title": "My own study"},
              "all": {"transcripts_dir": "../study/transcripts", "participants_csv": participants or "",
                      "exclude_files": ["README.md"], **all_extra}}
    (proj / "pipeline.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return proj


def test_config_paths_are_taken_from_the_config_folder_and_outputs_stay_in_the_project(tmp_path, monkeypatch):
    proj = write_project(tmp_path)
    monkeypatch.chdir(tmp_path)  # the current folder must not matter for paths in the config
    p = project.load_project(proj / "pipeline.yaml")
    settings, params = project.project_parameters(p, {}, paths.NOTEBOOKS)
    first = params["01_corpus_overview"]
    assert first["transcripts_dir"] == str((tmp_path / "study" / "transcripts").resolve())
    assert first["participants_csv"] == str((proj / "participants.csv").resolve())
    assert params["03_theme_coding"]["codebook_yaml"] == "" and params["03_theme_coding"]["human_coding"] == ""
    assert params["02_keywords"]["stopwords_file"] == ""
    assert (p.folder("reports"), p.folder("figures"), p.folder("processed")) == (
        proj / "reports", proj / "figures", proj / "processed")
    assert p.title == "My own study" and not p.is_demo
    assert project.skip_reason(params["03_theme_coding"]).startswith("skipped: no codebook named")
    assert project.skip_reason(first) == ""
    # --set paths are taken from the current folder
    _, params = project.project_parameters(p, {"all": {"participants_csv": "other.csv"}}, paths.NOTEBOOKS)
    assert params["01_corpus_overview"]["participants_csv"] == str(tmp_path / "other.csv")


def test_demo_project_is_the_repository_config_and_keeps_data_processed():
    p = project.load_project(paths.PIPELINE_CONFIG)
    assert p.is_demo and p.folder("processed") == paths.PROCESSED.resolve()
    _, params = project.project_parameters(p, {}, paths.NOTEBOOKS)
    assert params["03_theme_coding"]["codebook_yaml"] == str(paths.CODEBOOK.resolve())
    assert project.is_demo_corpus(params["01_corpus_overview"]["transcripts_dir"])


def test_without_participants_each_speaker_is_a_participant(tmp_path):
    write_project(tmp_path)
    participants, turns = corpus.load_inputs(tmp_path / "study" / "transcripts", None, exclude_files=["README.md"])
    assert participants.to_dict("records") == [
        {"participant_id": "P1", "group": "", "collection": "interview", "transcript_id": "A01", "speaker_labels": "P1"},
        {"participant_id": "interviewee", "group": "", "collection": "interview", "transcript_id": "A02",
         "speaker_labels": "interviewee"},
        {"participant_id": "Nurse", "group": "", "collection": "focus_group", "transcript_id": "G1",
         "speaker_labels": "Nurse"},
        {"participant_id": "Physio", "group": "", "collection": "focus_group", "transcript_id": "G1",
         "speaker_labels": "Physio"}]
    a02 = turns[turns["transcript_id"] == "A02"]
    assert a02[["speaker", "role", "participant_id", "text"]].values.tolist()[:2] == [
        ["", "unattributed", "", "All"], ["interviewer", "interviewer", "", "thanks for coming in today."]]
    assert turns.groupby("role").size().to_dict() == {"interviewer": 5, "participant": 7, "unattributed": 1}
    segs = corpus.segments(turns, participants)
    assert len(segs) == 7 and set(segs["speaker"]) == {"P1", "interviewee", "Nurse", "Physio"}


def test_labels_differing_only_in_case_are_one_speaker_and_a_transcript_of_interviewers_only_is_read(tmp_path):
    (tmp_path / "X.txt").write_text("Moderator: hello\nAnna: hi there\nANNA: yes, hi\n", encoding="utf-8")
    (tmp_path / "Y.txt").write_text("Moderator: testing the recorder\nModerator: one two\n", encoding="utf-8")
    participants, turns = corpus.load_inputs(tmp_path)
    assert participants[["participant_id", "transcript_id", "speaker_labels"]].values.tolist() == [
        ["Anna", "X", "Anna|ANNA"]]
    assert turns["participant_id"].tolist() == ["", "Anna", "Anna", "", ""]


def test_interviewer_labels_with_a_comma_when_separated_by_bars():
    pattern = corpus.interviewer_pattern("MEL|MEL, TYPING")
    assert pattern.match(corpus.label_key("MEL, TYPING")) and not pattern.match(corpus.label_key("TYPING"))
    assert corpus.interviewer_pattern("A,B").match("b")


def test_no_input_falls_back_to_the_demo_files():
    with pytest.raises(InputError, match="no participants file given"):
        corpus.load_participants(None)
    with pytest.raises(InputError, match="no codebook given"):
        codebook.load_codebook(None)
    with pytest.raises(InputError, match="no transcripts given"):
        corpus.load_inputs("")


def test_code_matrix_of_a_turns_file_has_only_the_attributes_that_file_gives(tmp_path, capsys):
    write_project(tmp_path)
    turns_csv = tmp_path / "turns.csv"
    assert main(["ingest", str(tmp_path / "study" / "transcripts"), "--exclude", "README.md",
                 "--out", str(turns_csv)]) == 0
    assert main(["code", "--corpus", str(turns_csv), "--codebook", str(paths.CODEBOOK),
                 "--out", str(tmp_path / "c.csv"), "--matrix", str(tmp_path / "m.csv")]) == 0
    matrix = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    assert "gender" not in matrix.columns and "site" not in matrix.columns
    assert sorted(set(matrix["participant_id"])) == ["Nurse", "P1", "Physio", "interviewee"]
    capsys.readouterr()
    with pytest.raises(SystemExit):  # --codebook is required: no demo codebook behind the user's back
        main(["code", "--corpus", str(turns_csv)])
    assert "--codebook" in capsys.readouterr().err


def test_keyness_by_speaker_is_accepted(tmp_path, capsys):
    write_project(tmp_path)
    turns_csv = tmp_path / "turns.csv"
    assert main(["ingest", str(tmp_path / "study" / "transcripts"), "--exclude", "README.md",
                 "--out", str(turns_csv)]) == 0
    assert main(["keyness", "--corpus", str(turns_csv), "--by", "speaker", "--min-count", "1",
                 "--out", str(tmp_path / "k.csv")]) == 0
    table = pd.read_csv(tmp_path / "k.csv", keep_default_na=False)
    assert set(table["target"]) == {"P1", "interviewee", "Nurse", "Physio"}
    adviser = table[(table["term"] == "adviser") & (table["target"] == "Nurse")].iloc[0]
    assert (adviser["target_count"], adviser["reference_count"]) == (2, 2)  # the Physio and A02 say it once each


def test_inputs_are_checked_once_before_any_notebook(tmp_path):
    proj = write_project(tmp_path)
    (tmp_path / "study" / "transcripts" / "G1.txt").write_text(G1 + "Surgeon: I disagree.\n", encoding="utf-8")
    cfg = yaml.safe_load((proj / "pipeline.yaml").read_text())
    cfg["all"]["codebook_yaml"] = "missing.yaml"
    (proj / "pipeline.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_cli("run", "--config", str(proj / "pipeline.yaml"), timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, lines  # each problem once, not once per notebook
    assert lines[0].startswith("error: ") and "G1.txt:5: unknown speaker label 'Surgeon'" in lines[0]
    assert lines[1].startswith("error: ") and "missing.yaml: codebook not found" in lines[1]
    assert not (proj / "reports").exists() and not (proj / "figures").exists()


def test_one_group_only_is_refused_before_keyness_with_what_to_do(tmp_path):
    proj = write_project(tmp_path, participants=None)
    proc = run_cli("run", "--config", str(proj / "pipeline.yaml"), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: 02_keywords.by: 'group' has 1 value(s) among the participants (''), and keyness compares two or "
        "more; fill in the group column of the participants file, or set by to speaker, participant_id or "
        "transcript_id"]


@pytest.mark.slow
def test_a_project_elsewhere_runs_end_to_end_without_a_participants_file(tmp_path):
    proj = write_project(tmp_path, participants=None, by="speaker", min_count=1)
    cfg = yaml.safe_load((proj / "pipeline.yaml").read_text())
    cfg["all"]["codebook_yaml"] = str(paths.CODEBOOK)
    (proj / "pipeline.yaml").write_text(yaml.safe_dump(cfg))
    before = sorted(p.name for p in (ROOT / "figures").iterdir()) if (ROOT / "figures").is_dir() else []
    proc = run_cli("run", "--config", str(proj / "pipeline.yaml"), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (proj / "reports" / "index.html").is_file() and any((proj / "figures").glob("*.png"))
    assert (proj / "processed" / "codings.csv").is_file()
    assert sorted(p.name for p in (ROOT / "figures").iterdir()) == before  # nothing went into the repository
    for report in (proj / "reports").glob("*.html"):
        text = report.read_text(encoding="utf-8")
        assert "synthetic" not in text.lower(), report.name
    assert "My own study" in (proj / "reports" / "01_corpus_overview.html").read_text(encoding="utf-8")
    mode = stat.S_IMODE(os.stat(proj / "processed" / "codings.csv").st_mode)
    assert mode == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        written = paths.atomic_write(tmp_path / "t.csv", "a\n")
        assert stat.S_IMODE(written.stat().st_mode) == 0o644
        os.umask(0o027)
        assert stat.S_IMODE(paths.atomic_write(tmp_path / "u.csv", "a\n").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_notebook_in_jupyterlab_gets_the_values_run_would_give_it(tmp_path, monkeypatch, capsys):
    proj = write_project(tmp_path)
    monkeypatch.setenv(project.CONFIG_ENV, str(proj / "pipeline.yaml"))
    monkeypatch.delenv(project.RUN_ENV, raising=False)
    for env in paths.OUTPUT_ENV.values():
        monkeypatch.delenv(env, raising=False)
    defaults = project.notebook_defaults(paths.NOTEBOOKS / "01_corpus_overview.ipynb")
    namespace = {**defaults, "by": "collection"}  # as the parameters cell left them, `by` edited by hand
    values = project.notebook_parameters("01_corpus_overview", namespace)
    assert values["transcripts_dir"] == str((tmp_path / "study" / "transcripts").resolve())
    assert values["exclude_files"] == ["README.md"] and values["by"] == "collection"
    assert values["interviewer_labels"] == defaults["interviewer_labels"]
    assert paths.figures_dir() == proj / "figures"
    shown = capsys.readouterr().out
    assert "My own study" in shown and "this notebook's parameters cell" in shown
    # under `helpers run` the injected values are final
    monkeypatch.setenv(project.RUN_ENV, "1")
    assert project.notebook_parameters("01_corpus_overview", namespace) == namespace


def test_survey_then_run_config_reads_every_speaker_of_the_real_interviews(tmp_path):
    corpora = ROOT.parent / "shared" / "corpora" / "pypi-mismatches-interviews"
    if not corpora.is_dir():
        corpora = Path("/work/shared/corpora/pypi-mismatches-interviews")
    if not corpora.is_dir():
        pytest.skip("the shared real corpora (../shared/corpora) are not beside this checkout")
    proj = tmp_path / "pypi"
    assert main(["survey", str(corpora), "--out", str(proj)]) == 0
    cfg = yaml.safe_load((proj / "pipeline.yaml").read_text())
    _, params = project.project_parameters(project.load_project(proj / "pipeline.yaml"), {}, paths.NOTEBOOKS)
    first = params["01_corpus_overview"]
    participants, turns = corpus.load_inputs(first["transcripts_dir"], first["participants_csv"],
                                             cfg["all"]["interviewer_labels"], False, cfg["all"]["exclude_files"])
    assert turns["transcript_id"].nunique() == 16 and len(turns) == 1453
    assert turns.loc[turns["role"] == "interviewer", "speaker"].value_counts().to_dict() == {
        "MEL": 724, "MEL, TYPING": 5, "MEL (typed)": 1}
    interviewees = {t: t.split("-")[0].upper() for t in turns["transcript_id"].unique()}
    main_speaker = turns[turns["role"] == "participant"].groupby("transcript_id")["speaker"].agg(
        lambda s: s.value_counts().index[0]).to_dict()
    assert main_speaker == interviewees
    assert (turns["role"] != "unattributed").all() and (turns.loc[turns["role"] == "participant", "participant_id"] != "").all()
    read = read_transcripts(first["transcripts_dir"], exclude=cfg["all"]["exclude_files"])
    assert all(d.metadata.get("preamble") for d in read)


def test_check_inputs_names_a_missing_human_coding_once_and_each_notebook_asking_for_none(tmp_path):
    params = {"03_theme_coding": {"human_coding": str(tmp_path / "gone.qdpx"), "codings_source": "auto"},
              "04_cooccurrence": {"human_coding": str(tmp_path / "gone.qdpx"), "codings_source": "auto"},
              "05_agreement": {"human_coding": "", "codings_source": "both"}}
    with pytest.raises(InputError) as err:
        project.check_inputs(params)
    assert err.value.problems == [
        f"{tmp_path / 'gone.qdpx'}: human coding file not found; give a .qdpx (or codings table) or set "
        f"human_coding to an empty string",
        "05_agreement.codings_source is 'both' but no human_coding is named; name the .qdpx or set codings_source "
        "to auto"]
