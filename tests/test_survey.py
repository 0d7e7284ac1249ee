"""survey: what the readers make of a folder of transcripts, and the project folder it writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from helpers import survey as sv
from helpers.__main__ import main

PYPI = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pypi-mismatches-interviews"  # ../shared/corpora

FIXTURES = {
    "README.md": "# About these files\n\nNotes on the interviews; see [the guide](https://example.org/guide).\n",
    "ana-1.txt": ("---\nsite: North\nyear: 2021\ngroup: client\n---\n"
                  "interviewer: Thanks for joining. How did the week go?\n"
                  "ana: It went fine, mostly.\n"
                  "interviewer: What changed?\n"
                  "ana: I slept better.\n"),
    "ben-2.md": ("# Licence\n\nThis transcript is shared under CC BY 4.0 by its speaker.\n\n# BEGIN TRANSCRIPT\n\n"
                 "Interviewer: Shall we start?\n"
                 "BEN: Yes, go ahead.\n"
                 "Interviewer: Tell me about the garden.\n"
                 "BEN: It keeps me busy most mornings.\n"),
    "ben-3.txt": "Interviewer: Welcome back. How is the garden?\nBEN: Bigger than last year.\n",
    "diary-4.txt": "Today was a slow day.\n\nI read in the afternoon.\n",
    "fg-3.txt": ("MO - Moderator\nAB - Alice\nCD - Carl\nEF - Erin\n\n"
                 "MO: Welcome, everyone. What helps on a bad day?\n"
                 "AB: A walk, usually, even a short one.\n"
                 "CD: Music for me, loud music.\n"
                 "EF: Talking to my sister on the phone.\n"
                 "MO: And what gets in the way?\n"
                 "AB: The weather, honestly.\n"
                 "CD: Work, when it piles up.\n"
                 "AB: Yes, work for me too.\n"
                 "MO: Anything else?\n"
                 "AB: Sleep, always sleep.\n"
                 "CD: Same here.\n"
                 "AB: And noise at night.\n"),
}


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_folder(tmp_path / "tr", FIXTURES)


def by_name(result, name):
    return next(f for f in result.files if f.name == name)


# ----------------------------------------------------------------------------- per file
def test_survey_reads_each_file_and_finds_speakers_interviewers_and_front_matter(folder):
    result = sv.survey(folder)
    assert [f.name for f in result.files] == ["README.md", "ana-1.txt", "ben-2.md", "ben-3.txt", "diary-4.txt",
                                               "fg-3.txt"]
    assert [f.name for f in result.unreadable] == []
    assert result.proposed_exclusions == ["README.md"]
    assert by_name(result, "README.md").documentation == (
        "its name (readme) and its content (no speaker labels, 1 Markdown heading, 1 link) suggest documentation")
    ana = by_name(result, "ana-1.txt")
    assert [(s.label, s.turns, s.words) for s in ana.speakers["ana-1"].values()] == [
        ("interviewer", 2, 10), ("ana", 2, 7)]
    assert {k: ana.transcripts[0].metadata[k] for k in ("site", "year")} == {"site": "North", "year": 2021}
    fg = by_name(result, "fg-3.txt")
    assert [(s.label, s.turns) for s in fg.speakers["fg-3"].values()] == [("MO", 3), ("AB", 5), ("CD", 3), ("EF", 1)]
    assert result.interviewer_labels == ["Interviewer", "MO"]
    assert result.interviewer_reasons == {"Interviewer": "matches the interviewer labels (default list)",
                                          "MO": "matches the interviewer labels (default list) through its legend "
                                                "entry (MO = Moderator)"}


def test_report_says_what_was_read_as_front_matter_and_what_is_doubtful(folder):
    report = sv.format_report(sv.survey(folder)).splitlines()
    assert "  proposed for exclusion: its name (readme) and its content (no speaker labels, 1 Markdown heading, " \
           "1 link) suggest documentation" in report
    start = report.index("ben-2.md: md, utf-8")
    assert report[start + 1:start + 4] == [
        "  transcript ben-2: 17 words, 4 turns",
        "    speakers: BEN 2 turns, Interviewer 2 turns (interviewer)",
        "    lines 1–5: licence preamble, read as front matter"]
    start = report.index("fg-3.txt: txt, utf-8")
    assert report[start + 1:start + 7] == [
        "  transcript fg-3: 57 words, 12 turns",
        "    speakers: AB 5 turns, CD 3 turns, MO 3 turns (interviewer), EF 1 turn",
        "    legend: MO = Moderator, AB = Alice, CD = Carl, EF = Erin, read as front matter",
        "    doubtful:",
        "      - line 9: label 'EF' used once (7 words; a heading, or a third person such as a note-taker?)",
        "      - if such a label is not a participant, add it to interviewer_labels in the project's pipeline.yaml and "
        "remove its row from participants.csv (its turns are then kept but not analysed)"]
    start = report.index("diary-4.txt: txt, utf-8")
    assert report[start + 1:start + 4] == ["  transcript diary-4: 10 words, 2 turns", "    doubtful:",
                                           "      - no speaker labels: all its text is one unattributed speaker"]
    assert report[report.index("Summary:"):] == [
        "Summary:",
        "  files: 6 (0 unreadable, 1 proposed for exclusion), 0 skipped",
        "  transcripts: 5",
        "  words: 111 in 24 turns",
        "  distinct speaker labels: 7",
        "  interviewer labels: Interviewer, MO",
        "  proposed for exclusion: README.md"]


def test_an_unreadable_file_is_reported_and_the_survey_goes_on(tmp_path, capsys):
    folder = write_folder(tmp_path / "tr", {"a.txt": "Interviewer: Hello?\nKIM: Hi.\n", "b.txt": "  \n",
                                            "notes.pdf": "not a transcript"})
    result = sv.survey(folder, exclude=["zzz*"])
    assert [f.name for f in result.unreadable] == ["b.txt"]
    assert [(p.name, why) for p, why in result.skipped] == [
        ("notes.pdf", "unsupported extension '.pdf'; supported: txt, md, docx, vtt, srt or csv")]
    assert main(["survey", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    at = out.index("b.txt: txt, encoding unknown")
    assert out[at + 1:at + 3] == [
        "  cannot be read:", "    - empty file; add the transcript text or remove the file"]
    assert "  unreadable (fix or --exclude them): b.txt" in out
    assert main(["survey", str(folder), "--exclude", "b.txt"]) == 0


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["survey", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing'}: no such folder\n"
    (tmp_path / "file.txt").write_text("Interviewer: Hello?\n", encoding="utf-8")
    assert main(["survey", str(tmp_path / "file.txt")]) == 2


def test_csv_duplicates_and_bad_timestamps_are_reported(tmp_path, capsys):
    folder = write_folder(tmp_path / "tr", {"t.csv": (
        "transcript_id,turn,speaker,text,timestamp\n"
        "T1,1,Interviewer,Hello there?,00:00:01\n"
        "T1,2,KIM,Hi.,00:09:025\n"
        "T1,2,KIM,Hi again.,00:00:05\n")})
    assert main(["survey", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[out.index("t.csv: csv, encoding unknown") + 1] == "  cannot be read:"
    assert out[out.index("t.csv: csv, encoding unknown") + 2].startswith(
        "    - line 4: duplicate utterance: transcript T1, order 2 also at line 3")
    assert main(["survey", str(folder), "--csv-keep-first"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("  doubtful (reader warnings):")
    assert out[at + 1].startswith("    - line 3: malformed timestamp '00:09:025'")
    assert out[at + 2].startswith("    - line 4: duplicate utterance: transcript T1, order 2 also at line 3")


# ----------------------------------------------------------------------------- interviewers guessed
def test_given_interviewer_labels_replace_the_default_list(folder):
    result = sv.survey(folder, interviewer_labels=["MO", "Interviewer N"])
    # 'Interviewer' is no longer a given label, but its turns are mostly questions
    assert result.interviewer_reasons == {"Interviewer": "guessed: 4 of its 5 turns end with a question",
                                          "MO": "matches the interviewer labels given"}
    rows = sv.participants(result)
    assert rows.loc[rows["transcript_id"] == "ben-3", "speaker_labels"].tolist() == ["BEN"]


def test_interviewers_guessed_by_spread_questions_and_comma_variants(tmp_path):
    spread = write_folder(tmp_path / "spread", {
        "a.txt": "SAM: Hello, and thanks.\nKIM: Fine thanks.\nSAM, TYPING: Sorry, my audio dropped.\nKIM: No problem.\n",
        "b.txt": "SAM: Ready when you are.\nLEE: Ready.\n",
        "c.txt": "SAM: Shall we begin.\nJO: Yes.\n",
        "d.txt": "SAM: Good to see you.\nMAX: And you.\n"})
    result = sv.survey(spread)
    assert result.interviewer_labels == ["SAM", "SAM, TYPING"]
    assert result.interviewer_reasons == {
        "SAM": "guessed: speaks in 4 of 4 transcripts, while no other label speaks in more than 1",
        "SAM, TYPING": "guessed: a variant of SAM"}
    # a label in every transcript beside a known interviewer is a participant role, not a guessed interviewer
    roles = write_folder(tmp_path / "roles", {f"{n}.txt": f"Interviewer: Hello.\nRespondent: Hi.\nX{n}: Hey.\n"
                                              for n in range(4)})
    assert sv.survey(roles).interviewer_labels == ["Interviewer"]
    asks = write_folder(tmp_path / "asks", {
        "one.txt": "".join(f"Dana: Question {n}?\nRiley: Answer {n}.\n" for n in range(4)),
        "two.txt": "Dana: Last one?\nRiley: Sure.\nDana: Thanks.\n"})
    result = sv.survey(asks)
    assert result.interviewer_reasons == {"Dana": "guessed: 5 of its 6 turns end with a question"}
    # two transcripts are too few to guess by spread; a label asking in fewer than 5 turns is not guessed
    assert sv.survey(asks, exclude=["one.txt"]).interviewer_labels == []


# ----------------------------------------------------------------------------- the project folder
PARTICIPANT_ROWS = [
    ["participant_id", "group", "collection", "transcript_id", "speaker_labels", "site", "speaker", "year"],
    ["ana", "client", "interview", "ana-1", "ana", "North", "ana", "2021"],
    ["BEN_ben-2", "", "interview", "ben-2", "BEN", "", "BEN", ""],
    ["BEN_ben-3", "", "interview", "ben-3", "BEN", "", "BEN", ""],
    ["diary-4", "", "interview", "diary-4", "", "", "", ""],
    ["AB", "", "focus_group", "fg-3", "AB", "", "AB", ""],
    ["CD", "", "focus_group", "fg-3", "CD", "", "CD", ""],
    ["EF", "", "focus_group", "fg-3", "EF", "", "EF", ""],
]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_out_writes_participants_and_pipeline_yaml(folder, tmp_path):
    project = tmp_path / "proj"
    codebook = write_folder(project, {"codebook.yaml": "themes: []\n"}) / "codebook.yaml"
    assert main(["survey", str(folder), "--out", str(project), "--codebook", str(codebook),
                 "--csv-text", "Q1", "Q2", "--csv-order", "turn_no", "--csv-keep-first"]) == 0
    assert read_rows(project / "participants.csv") == PARTICIPANT_ROWS
    text = (project / "pipeline.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == {
        "pipeline": {"title": "Transcript analysis: tr", "timeout": 3600},
        "all": {"transcripts_dir": "../tr", "participants_csv": "participants.csv",
                "interviewer_labels": ["Interviewer", "MO"], "exclude_files": ["README.md"],
                "csv_columns": {"text": ["Q1", "Q2"], "order": "turn_no", "keep_first": True},
                "codebook_yaml": "codebook.yaml", "human_coding": "", "stopwords_file": ""}}
    assert all("#" in line for line in text.splitlines())  # every line explained
    assert "data/" not in text


def test_paths_are_absolute_when_the_folder_is_elsewhere_and_below_when_inside(folder, tmp_path):
    result = sv.survey(folder)
    elsewhere = tmp_path / "deep" / "er" / "proj"
    assert yaml.safe_load(sv.pipeline_yaml(result, elsewhere))["all"]["transcripts_dir"] == folder.resolve().as_posix()
    assert yaml.safe_load(sv.pipeline_yaml(result, tmp_path))["all"]["transcripts_dir"] == "tr"
    assert yaml.safe_load(sv.pipeline_yaml(result, tmp_path))["all"]["codebook_yaml"] == ""
    excluding = sv.survey(folder, exclude=["diary-*"])
    assert yaml.safe_load(sv.pipeline_yaml(excluding, tmp_path))["all"]["exclude_files"] == ["README.md", "diary-*"]


def test_existing_project_files_are_kept_without_force_and_replaced_with_it(folder, tmp_path, capsys):
    project = write_folder(tmp_path / "proj", {"participants.csv": "mine\n", "pipeline.yaml": "mine: true\n"})
    assert main(["survey", str(folder), "--out", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {project / name}: already exists; use --force to overwrite it, or another --out"
        for name in ("participants.csv", "pipeline.yaml")]
    assert [(project / n).read_text() for n in ("participants.csv", "pipeline.yaml")] == ["mine\n", "mine: true\n"]
    assert main(["survey", str(folder), "--out", str(project), "--force"]) == 0
    assert read_rows(project / "participants.csv") == PARTICIPANT_ROWS
    assert yaml.safe_load((project / "pipeline.yaml").read_text())["all"]["codebook_yaml"] == ""


def test_the_demo_codebook_and_demo_files_are_never_named_or_overwritten(folder, tmp_path):
    from helpers import paths

    with pytest.raises(sv.InputError, match="the demo's codebook"):
        sv.check_project(tmp_path / "proj", codebook=paths.CODEBOOK)
    with pytest.raises(sv.InputError, match="belongs to the repository's demo"):
        sv.check_project(paths.DATA, force=True)
    with pytest.raises(sv.InputError, match="codebook not found"):
        sv.check_project(tmp_path / "proj", codebook=tmp_path / "none.yaml")


# ----------------------------------------------------------------------------- a real corpus
def test_pypi_interviews(tmp_path):
    if not PYPI.is_dir():
        pytest.skip(f"{PYPI} is absent (the shared real corpora are not part of a fresh clone)")
    result = sv.survey(PYPI)
    assert result.interviewer_labels[0] == "MEL"
    assert result.interviewer_reasons["MEL"] == (
        "guessed: speaks in 16 of 16 transcripts, while no other label speaks in more than 3")
    assert result.interviewer_labels == ["MEL", "MEL (typed)", "MEL, TYPING"]
    assert result.interviewer_reasons["MEL, TYPING"] == result.interviewer_reasons["MEL (typed)"] == \
        "guessed: a variant of MEL"
    assert len(result.transcripts) == 16
    assert result.proposed_exclusions == ["UPSTREAM-README.md", "interview-protocol.md"]
    assert result.unreadable == []
    table = sv.participants(result)
    interviewee = table[table["speaker"] == table["transcript_id"].str.split("-").str[0].str.upper()]
    assert sorted(interviewee["transcript_id"]) == sorted(p.stem for p in PYPI.glob("*-full.md"))
    others = table.drop(interviewee.index)
    # people who speak a line or two (the live captioner, someone in the room): flagged doubtful, kept as rows
    assert sorted(zip(others["transcript_id"], others["speaker"])) == [
        ("donald-1-full", "MIRABAI"), ("ernest-1-full", "MIRABAI"), ("naomi-3-full", "MIRABAI"),
        ("nick-2-full", "AMANDA")]
    assert others["speaker_labels"].tolist()[-1] == "AMANDA (typed)|Amanda"
    assert set(table["collection"]) == {"interview"}
