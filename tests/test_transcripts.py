"""Readers: every format and label style, encodings, timestamps, nothing lost, bad input with exact messages."""

from __future__ import annotations

import math
from pathlib import Path

import docx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths, transcripts
from helpers.__main__ import main
from helpers.errors import InputError

from conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = FIXTURES / "labels"
FORMATS = FIXTURES / "formats"
SAID = ["So, could you tell me about your work?",
        "Well, I was a nurse. [laughs]\nThen the pain started, you know.",
        "Mm-hm."]
SUPPORTED = "txt, md, docx, vtt, srt or csv"


def turns_of(doc):
    return [(t["speaker"], t["timestamp"], t["line"], t["text"]) for t in doc.turns]


def only(path, **kw):
    docs = transcripts.read_transcript(path, **kw)
    assert len(docs) == 1
    return docs[0]


def shown(path) -> str:
    return paths.relative(path)


# ----------------------------------------------------------------------------- label styles
LABEL_CASES = {
    "colon.txt": (["Interviewer", "P3", "Interviewer"], [None] * 3, [6, 8, 12]),
    "numbered.txt": (["Interviewer 1", "P3", "Interviewer1"], [None] * 3, [1, 2, 4]),
    "int.txt": (["INT", "Respondent", "INT"], [None] * 3, [1, 2, 4]),
    "i.txt": (["I", "P3", "I"], [None] * 3, [1, 2, 4]),
    "qa.txt": (["Q", "A", "Q"], [None] * 3, [1, 2, 4]),
    "bracket_time.txt": (["Interviewer", "P3", "Interviewer"], [83.0, 90.5, 125.0], [1, 2, 4]),
    "bare_time.txt": (["Interviewer", "P3", "Interviewer"], [83.0, 90.0, 125.25], [1, 2, 4]),
    "time_after.txt": (["Interviewer", "P3", "Interviewer"], [83.0, 90.0, 3723.0], [1, 2, 4]),
    "bold_inside.md": (["Interviewer", "P3", "Interviewer"], [None] * 3, [3, 5, 9]),
    "bold_outside.md": (["Interviewer", "P3", "Interviewer"], [None] * 3, [1, 3, 7]),
    "initials.txt": (["AB", "CD", "AB"], [None] * 3, [4, 6, 10]),
}


@pytest.mark.parametrize("name", sorted(LABEL_CASES))
def test_each_label_style_gives_the_same_three_turns(name):
    speakers, stamps, lines = LABEL_CASES[name]
    doc = only(LABELS / name)
    assert turns_of(doc) == list(zip(speakers, stamps, lines, SAID))
    assert doc.labelled and doc.transcript_id == Path(name).stem


def test_front_matter_is_metadata_and_markdown_title_is_header():
    assert only(LABELS / "colon.txt").metadata == {"title": 'Test fixture, label style "Name:"', "synthetic": True}
    assert only(LABELS / "bold_inside.md").header == [(1, "# Interview P3 (test fixture)")]
    assert only(LABELS / "initials.txt").legend == {"AB": "Interviewer", "CD": "Participant (P3)"}


def test_file_without_labels_is_one_speakers_paragraphs_and_front_matter_can_set_the_id():
    doc = only(LABELS / "monologue.txt")
    assert doc.transcript_id == "W01" and not doc.labelled
    assert turns_of(doc) == [("", None, 5, SAID[1]), ("", None, 8, "Mm-hm.")]


def test_prose_with_a_colon_mid_sentence_is_not_a_label(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("Interviewer: Go on.\nP1: I said to him: no way.\nSo what I thought was: why me?\n"
                 "At 10:30 we left.\n", encoding="utf-8")
    assert turns_of(only(f)) == [("Interviewer", None, 1, "Go on."),
                                 ("P1", None, 2, "I said to him: no way.\nSo what I thought was: why me?\nAt 10:30 we left.")]


# ----------------------------------------------------------------------------- nothing lost
def assert_nothing_lost(path: Path) -> None:
    """Every non-blank line is front matter, preamble, legend or a heading, or is inside exactly the turn whose
    line range holds it: the turn's text is those lines, the first one after its label (a suffix of the line)."""
    doc = only(path)
    lines = transcripts.split_lines(transcripts.decode(path.read_bytes(), "x"))
    _, used = transcripts.front_matter(lines, "x")
    starts = [t["line"] for t in doc.turns] + [len(lines) + 1]
    headings = {n for n, _ in doc.headings}
    legend = {n for n in range(used + 1, starts[0]) if doc.legend and transcripts.LEGEND_LINE.match(lines[n - 1].strip())}
    not_speech = set(range(1, used + 1)) | {n for n, _ in doc.preamble} | legend | headings
    assert {n for n in range(1, starts[0]) if lines[n - 1].strip()} <= not_speech
    assert {n for n, _ in doc.header} <= headings | {n for n in range(1, starts[0])}
    for k, turn in enumerate(doc.turns):
        pieces = [lines[n - 1].strip() for n in range(starts[k], starts[k + 1])
                  if lines[n - 1].strip() and n not in headings]
        said = turn["text"].split("\n")
        if not doc.labelled or not turn["speaker"]:
            assert said == pieces, (path, turn["line"])
            continue
        assert turn["speaker"].split(" ")[0] in pieces[0], (path, turn["line"])
        if len(said) == len(pieces):
            assert pieces[0].endswith(said[0]) and said[1:] == pieces[1:], (path, turn["line"])
        else:  # nothing after the label on its line
            assert said == pieces[1:], (path, turn["line"])


TEXT_SOURCES = sorted(LABELS.glob("*.*")) + sorted((paths.TRANSCRIPTS).glob("*.txt")) \
    + sorted(paths.TRANSCRIPTS.glob("*.md"))


@pytest.mark.parametrize("path", TEXT_SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_nothing_lost_in_text_and_markdown(path):
    assert_nothing_lost(path)


def test_nothing_lost_in_the_demo_vtt_every_cue_line_is_in_a_turn():
    path = paths.TRANSCRIPTS / "E02.vtt"
    doc = only(path)
    payload = []
    for _, block in transcripts._cue_blocks(transcripts.split_lines(path.read_text(encoding="utf-8"))):
        if "-->" in block[0] or (len(block) > 1 and "-->" in block[1]):
            at = 0 if "-->" in block[0] else 1
            payload += [transcripts._cue_speaker(x)[1] for x in block[at + 1:]]
    assert " ".join(payload) == " ".join(t["text"] for t in doc.turns)
    assert "synthetic" in doc.metadata["notes"][0].lower()
    assert [t["speaker"] for t in doc.turns[:2]] == ["Interviewer", "E02"]


def test_nothing_lost_in_the_demo_docx_every_table_cell_is_in_a_turn():
    path = paths.TRANSCRIPTS / "C04.docx"
    doc = only(path)
    table = docx.Document(path).tables[0]
    cells = [transcripts._row_cells(r) for r in table.rows][1:]
    assert [(c[0], c[1]) for c in cells] == [(t["speaker"], t["text"]) for t in doc.turns]
    assert len(doc.header) == 1 and "synthetic" in doc.header[0][1].lower()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Interviewer", "P1", "Nurse 2"]),
                          st.lists(st.text(alphabet="abc xyz.,?'[]", min_size=1, max_size=20)
                                   .map(str.strip).filter(bool), min_size=1, max_size=3),
                          st.booleans()), min_size=1, max_size=6))
def test_nothing_lost_property_labelled_text(tmp_path_factory, turns):
    lines = []
    for speaker, paragraphs, blank in turns:
        lines.append(f"{speaker}: {paragraphs[0]}")
        for p in paragraphs[1:]:
            lines += ([""] if blank else []) + [p]
    f = tmp_path_factory.mktemp("prop") / "t.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = only(f)
    assert [(t["speaker"], t["text"]) for t in doc.turns] == [(s, "\n".join(p)) for s, p, _ in turns]


# ----------------------------------------------------------------------------- subtitles, csv, docx
def test_zoom_vtt_merges_consecutive_cues_of_one_speaker_and_keeps_cue_start():
    doc = only(FORMATS / "zoom.vtt")
    merged = "Well, I was a nurse. [laughs] Then the pain started, you know."
    assert turns_of(doc) == [("Interviewer", 1.0, 8, SAID[0]), ("P3", 5.0, 12, merged), ("Interviewer", 62.25, 20, "Mm-hm.")]
    assert doc.metadata == {"notes": ['Test fixture: a Zoom-style transcript, speakers as "Name: text".']}


def test_teams_vtt_voice_tags_classes_entities_and_unlabelled_cue_continuing():
    doc = only(FORMATS / "teams.vtt")
    merged = "Well, I was a nurse. [laughs] Then the pain started, you know & so on."
    assert turns_of(doc) == [("Interviewer", 1.0, 5, SAID[0]), ("P3", 5.0, 9, merged), ("Interviewer", 62.25, 18, "Mm-hm.")]


def test_srt_cues_with_labels_and_tags():
    doc = only(FORMATS / "sample.srt")
    merged = "Well, I was a nurse. [laughs] Then the pain started, you know."
    assert turns_of(doc) == [("Interviewer", 1.0, 3, SAID[0]), ("P3", 5.0, 7, merged), ("Interviewer", 62.25, 15, "Mm-hm.")]


def test_csv_one_row_per_utterance_with_multiline_cells_doubled_quotes_and_several_transcripts():
    t1, t2 = transcripts.read_transcript(FORMATS / "utterances.csv")
    assert (t1.transcript_id, t2.transcript_id) == ("T1", "T2")
    assert turns_of(t1) == [("Interviewer", 1.0, 2, SAID[0]),
                            ("P3", 5.0, 3, 'Well, I was a nurse. [laughs]\nThen the pain started, you know "really" bad.'),
                            ("Interviewer", 62.5, 5, "Mm-hm.")]
    assert turns_of(t2) == [("Interviewer", None, 6, "Anything else?"), ("P4", None, 7, "No.")]


def test_csv_one_row_per_document_parses_labels_inside_the_cell_or_takes_paragraphs():
    d1, d2 = transcripts.read_transcript(FORMATS / "documents.csv")
    assert turns_of(d1) == [("Interviewer", None, 2, SAID[0]), ("P3", None, 3, SAID[1]), ("Interviewer", None, 5, "Mm-hm.")]
    assert not d2.labelled
    assert turns_of(d2) == [("", None, 6, "I wrote this myself."), ("", None, 8, 'Second paragraph, "quoted".')]


def test_csv_columns_chosen_by_option_and_empty_speaker_continues():
    doc = only(FORMATS / "custom.csv", csv_columns={"speaker": "who", "text": "said", "time": "minute"})
    assert turns_of(doc) == [("Interviewer", 60.0, 2, SAID[0]), ("P3", 65.0, 3, SAID[1]), ("Interviewer", 120.0, 5, "Mm-hm.")]


def test_csv_time_column_takes_clock_times_or_plain_seconds_and_warns_about_a_bad_one(tmp_path):
    f = tmp_path / "T1.csv"
    f.write_text("speaker,text,time\nInterviewer,hi,00:01:00\nP3,hello,83.5\nInterviewer,bye,\n", encoding="utf-8")
    assert [t["timestamp"] for t in only(f).turns] == [60.0, 83.5, None]
    f.write_text("speaker,text,time\nInterviewer,hi,soon\nP3,hello,00:09:025\n", encoding="utf-8")
    doc = only(f)
    assert turns_of(doc) == [("Interviewer", None, 2, "hi"), ("P3", None, 3, "hello")]
    assert doc.warnings == [f"{shown(f)}:{n}: malformed timestamp {v!r}, kept without a timestamp; write hh:mm:ss or "
                            f"mm:ss (optionally with a fraction, e.g. 00:01:23.5)" for n, v in ((2, "soon"), (3, "00:09:025"))]


def test_csv_missing_text_column_or_unknown_option_column():
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(FORMATS / "custom.csv")
    assert exc.value.problems == [f"{shown(FORMATS / 'custom.csv')}:1: no text column (looked for text, utterance, "
                                  f"utterance_text, answer, transcript, content); name it with --csv-text"]
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(FORMATS / "custom.csv", csv_columns={"text": "said", "speaker": "speaker_name"})
    assert exc.value.problems == [f"{shown(FORMATS / 'custom.csv')}:1: no column 'speaker_name' (--csv-speaker); "
                                  f"columns are: who, said, minute"]


def _docx_paragraphs(path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("Interview P3 (test fixture, synthetic)")
    d.add_paragraph("Interviewer: So, could you tell me about your work?")
    p = d.add_paragraph("P3: Well, I was a nurse. [laughs]")
    p.add_run().add_break()
    p.add_run("Then the pain started, you know.")
    d.add_paragraph("")
    d.add_paragraph("Interviewer: Mm-hm.")
    d.save(path)


def _docx_table(path: Path, header: bool, time: bool) -> None:
    d = docx.Document()
    d.add_paragraph("Synthetic test fixture: not real data.")
    rows = [("00:01:23", "Interviewer", SAID[0]), ("00:01:30", "P3:", "Well, I was a nurse. [laughs]"),
            ("", "", "Then the pain started, you know."), ("02:05", "Interviewer", "Mm-hm.")]
    cols = 3 if time else 2
    table = d.add_table(rows=0, cols=cols)
    if header:
        cells = table.add_row().cells
        for c, name in zip(cells, (["Time"] if time else []) + ["Speaker", "Text"]):
            c.text = name
    for stamp, speaker, text in rows:
        cells = table.add_row().cells
        values = ([stamp] if time else []) + [speaker, text]
        for c, v in zip(cells, values):
            c.text = v
    d.save(path)


def test_docx_paragraphs_with_labels_and_line_breaks(tmp_path):
    f = tmp_path / "P3.docx"
    _docx_paragraphs(f)
    doc = only(f)
    assert turns_of(doc) == [("", None, 1, "Interview P3 (test fixture, synthetic)"), ("Interviewer", None, 2, SAID[0]),
                             ("P3", None, 3, SAID[1]), ("Interviewer", None, 6, "Mm-hm.")]
    assert doc.header == [] and doc.encoding == ""


@pytest.mark.parametrize("header,time", [(True, True), (False, True), (True, False), (False, False)])
def test_docx_table_speaker_text_with_optional_time_column_and_header(tmp_path, header, time):
    f = tmp_path / "P3.docx"
    _docx_table(f, header, time)
    doc = only(f)
    first = 2 + header  # line 1 is the note paragraph; rows count as lines
    stamps = [83.0, 90.0, 125.0] if time else [None] * 3
    assert turns_of(doc) == [("Interviewer", stamps[0], first, SAID[0]), ("P3", stamps[1], first + 1, SAID[1]),
                             ("Interviewer", stamps[2], first + 3, "Mm-hm.")]
    assert doc.header == [(1, "Synthetic test fixture: not real data.")]


def test_docx_paragraphs_read_like_text_front_matter_and_nothing_after_it(tmp_path):
    f = tmp_path / "P3.docx"
    d = docx.Document()
    for line in ("---", "transcript_id: T9", "---", "Interviewer: hi", "P3: hello"):
        d.add_paragraph(line)
    d.core_properties.title, d.core_properties.comments = "Interview 9", ""
    d.save(f)
    doc = only(f)
    assert doc.transcript_id == "T9" and doc.metadata == {"title": "Interview 9", "transcript_id": "T9"}
    assert turns_of(doc) == [("Interviewer", None, 4, "hi"), ("P3", None, 5, "hello")]
    d = docx.Document()
    for line in ("---", "title: x", "---"):
        d.add_paragraph(line)
    d.save(f)
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(f)
    assert exc.value.problems == [f"{shown(f)}: no transcript text after the front matter; add the transcript "
                                  f"or remove the file"]


def test_docx_that_is_not_a_word_file(tmp_path):
    f = tmp_path / "bad.docx"
    f.write_bytes(b"this is not a zip file")
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(f)
    assert exc.value.problems[0].startswith(f"{shown(f)}: cannot open as a Word .docx document (")
    assert exc.value.problems[0].endswith("); save it from Word as .docx or export it as .txt")


# ----------------------------------------------------------------------------- encodings and timestamps
BASE = ("Interviewer: It’s “fine”, isn’t it?\n"
        "P1: Café\u00a0bill — £5… [laughs]\n"
        "second line\n")
EXPECTED = [("Interviewer", None, 1, "It’s “fine”, isn’t it?"), ("P1", None, 2, "Café\u00a0bill — £5… [laughs]\nsecond line")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_encoding_and_line_end_gives_the_same_turns(tmp_path, encoding, newline):
    f = tmp_path / "t.txt"
    f.write_bytes(BASE.replace("\n", newline).encode(encoding))
    assert turns_of(only(f)) == EXPECTED


def test_text_is_normalised_to_nfc(tmp_path):
    f = tmp_path / "t.txt"
    f.write_bytes("P1: cafe\u0301\n".encode("utf-8"))
    assert only(f).turns[0]["text"] == "caf\u00e9"


@pytest.mark.parametrize("value,seconds", [("00:01:23", 83.0), ("1:02:03", 3723.0), ("01:23", 83.0), ("75:10", 4510.0),
                                           ("00:00:01.5", 1.5), ("00:00:01,250", 1.25), ("12:00:00.000", 43200.0)])
def test_parse_timestamp(value, seconds):
    assert transcripts.parse_timestamp(value) == seconds


@pytest.mark.parametrize("value", ["00:75:10", "00:01:61", "1:2:3:4", "12", "00:7x:12", ""])
def test_parse_timestamp_rejects(value):
    with pytest.raises(ValueError):
        transcripts.parse_timestamp(value)


# ----------------------------------------------------------------------------- bad input via the command line
PARTICIPANTS = "participant_id,group,collection,transcript_id,speaker_labels\nP1,client,interview,T1,Client\n"


def ingest(tmp_path, files: dict, capsys, participants: str | None = PARTICIPANTS, extra=()):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    args = ["ingest", str(folder), "--out", str(tmp_path / "turns.csv"), *extra]
    if participants is not None:
        (tmp_path / "participants.csv").write_text(participants, encoding="utf-8")
        args += ["--participants", str(tmp_path / "participants.csv")]
    code = main(args)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line], folder


BAD = {
    "empty file": ({"T1.txt": ""}, "{d}/T1.txt: empty file; add the transcript text or remove the file"),
    "blank file": ({"T1.txt": " \n\r\n\t\n"}, "{d}/T1.txt: empty file; add the transcript text or remove the file"),
    "front matter only": ({"T1.txt": "---\ntitle: x\n---\n\n"},
                          "{d}/T1.txt: no transcript text after the front matter; add the transcript or remove the file"),
    "binary file": ({"T1.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x08\x06"},
                    f"{{d}}/T1.txt: binary file, not a transcript; give a {SUPPORTED} file"),
    "undecodable bytes": ({"T1.txt": b"Interviewer: hi\r\nClient: caf\xe9 \x81 ok\r\n"},
                          "{d}/T1.txt:2: undecodable byte 0x81 (not UTF-8, UTF-16 or Windows-1252); re-save the file as UTF-8"),
    "unclosed front matter": ({"T1.txt": "---\ntitle: x\nClient: hi\n"},
                              "{d}/T1.txt:1: YAML front matter is not closed; end it with a line '---'"),
    "unknown speaker label": ({"T1.txt": "Interviewer: hi\nBob: hello\nBob: again\n"},
                              "{d}/T1.txt:2: unknown speaker label 'Bob' in transcript T1 (2 turns); add it to the "
                              "speaker_labels of one of P1 in {p} (labels now: Client, P1), or to the interviewer "
                              "labels, or use --allow-unknown-speakers"),
    "transcript missing from participants.csv": (
        {"T1.txt": "Client: hi\n", "T2.txt": "Client: hi\n"},
        "{d}/T2.txt: transcript 'T2' is not in {p}; add a row for each of its participants "
        "(participant_id, group, collection, transcript_id)"),
    "duplicate transcript ids": ({"T1.txt": "Client: hi\n", "T1.md": "Client: hello\n"},
                                 "{d}/T1.txt: duplicate transcript id 'T1', also read from {d}/T1.md; rename one file "
                                 "or set transcript_id in its front matter"),
    "monologue with several participants": (
        {"T1.txt": "Just some words.\n"}, "{d}/T1.txt: no speaker labels, but transcript 'T1' has 2 participants "
                                          "in {p}; label each turn (e.g. 'H01: …')"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_exact_line_exit_2_and_no_output(tmp_path, capsys, case):
    files, message = BAD[case]
    participants = PARTICIPANTS + ("P2,client,interview,T1,\n" if case.startswith("monologue") else "")
    code, err, folder = ingest(tmp_path, files, capsys, participants)
    expected = message.format(d=shown(folder), p=shown(tmp_path / "participants.csv"))
    assert code == 2
    assert err == [f"error: {expected}"]
    assert not (tmp_path / "turns.csv").exists()
    assert list(tmp_path.glob(".turns*")) == []


def test_participant_listed_but_no_transcript(tmp_path, capsys):
    code, err, folder = ingest(tmp_path, {"T1.txt": "Client: hi\n"}, capsys,
                               PARTICIPANTS + "P2,client,interview,T9,\n")
    assert code == 2
    assert err == [f"error: {shown(tmp_path / 'participants.csv')}:3: participant P2 is listed for transcript 'T9' "
                   f"but no such transcript was read; add the file or remove the row"]
    assert not (tmp_path / "turns.csv").exists()


def test_every_problem_in_every_file_is_reported_at_once(tmp_path, capsys):
    code, err, folder = ingest(tmp_path, {"T1.txt": "", "T2.txt": b"\x00\x01\x02\x03binary\x00\x00\x05\x06\x07\x08\x00"},
                               capsys)
    assert code == 2
    d = shown(folder)
    assert err == [f"error: {d}/T1.txt: empty file; add the transcript text or remove the file",
                   f"error: {d}/T2.txt: binary file, not a transcript; give a {SUPPORTED} file"]


def test_allow_unknown_speakers_warns_and_keeps_the_turn_unattributed(tmp_path, capsys):
    code, err, folder = ingest(tmp_path, {"T1.txt": "Interviewer: hi\nBob: hello\n"}, capsys,
                               PARTICIPANTS.replace("T1,Client", "T1,Client") + "P2,client,interview,T1,Client2\n",
                               extra=["--allow-unknown-speakers"])
    assert code == 0
    assert err[0].startswith(f"warning: {shown(folder)}/T1.txt:2: unknown speaker label 'Bob' in transcript T1 (1 turn);")
    assert err[1] == f"warning: {shown(tmp_path / 'participants.csv')}:2: participant P1 has no turns in transcript T1; " \
                     f"check their speaker_labels"
    turns = pd.read_csv(tmp_path / "turns.csv", dtype=str, keep_default_na=False)
    assert turns[["speaker", "participant_id", "role"]].values.tolist() == [
        ["Interviewer", "", "interviewer"], ["Bob", "", "participant"]]


def test_unknown_format_and_missing_path(tmp_path, capsys):
    (tmp_path / "notes.rtf").write_text("x")
    assert main(["ingest", str(tmp_path / "notes.rtf")]) == 2
    assert capsys.readouterr().err == (f"error: {shown(tmp_path / 'notes.rtf')}: unknown transcript format '.rtf'; "
                                       f"use {SUPPORTED} (or --format to say which)\n")
    assert main(["ingest", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"error: {shown(tmp_path / 'nope')}: no such file or folder\n"


def test_ingest_without_participants_marks_interviewers_only(tmp_path, capsys):
    assert main(["ingest", str(LABELS / "numbered.txt"), str(LABELS / "qa.txt")]) == 0
    out = capsys.readouterr().out
    turns = pd.read_csv(__import__("io").StringIO(out), dtype=str, keep_default_na=False)
    assert list(turns.columns) == transcripts.TURN_COLUMNS
    assert turns[["transcript_id", "speaker", "role", "timestamp"]].values.tolist() == [
        ["numbered", "Interviewer 1", "interviewer", ""], ["numbered", "P3", "participant", ""],
        ["numbered", "Interviewer1", "interviewer", ""],
        ["qa", "Q", "interviewer", ""], ["qa", "A", "participant", ""], ["qa", "Q", "interviewer", ""]]


def test_ingest_csv_options_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert main(["ingest", str(FORMATS / "custom.csv"), "--csv-speaker", "who", "--csv-text", "said",
                 "--csv-time", "minute", "--out", str(out)]) == 0
    turns = pd.read_parquet(out)
    assert turns["timestamp"].tolist() == [60.0, 65.0, 120.0]
    assert turns["text"].tolist() == SAID


# ----------------------------------------------------------------------------- the demo corpus end to end
def test_cli_ingests_the_whole_demo_corpus_every_turn_attributed(tmp_path):
    out = tmp_path / "turns.csv"
    proc = run_cli("ingest", "data/transcripts", "--participants", "data/participants.csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    turns = pd.read_csv(out, dtype={"text": str}, keep_default_na=False)
    assert list(turns.columns) == transcripts.TURN_COLUMNS
    assert turns["transcript_id"].nunique() == 17
    part = turns[turns["role"] == "participant"]
    assert (part["participant_id"] != "").all() and part["participant_id"].nunique() == 25
    assert set(turns.loc[turns["role"] == "interviewer", "participant_id"]) == {""}
    assert {Path(s).suffix for s in turns["source"]} == {".txt", ".md", ".docx", ".vtt"}
    assert not math.isnan(turns.loc[turns["transcript_id"] == "E02", "timestamp"].astype(float).iloc[0])


def test_cli_bad_input_exits_2_in_a_real_process(tmp_path):
    (tmp_path / "T1.txt").write_bytes(b"")
    proc = run_cli("ingest", str(tmp_path), "--out", str(tmp_path / "x.csv"))
    assert proc.returncode == 2
    assert proc.stderr == f"error: {shown(tmp_path / 'T1.txt')}: empty file; add the transcript text or remove the file\n"
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.csv").exists()


def test_text_before_the_first_label_is_an_unattributed_turn_and_paragraphs_after_a_table_are_warned_about(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("All\n\nInterviewee: right.\n", encoding="utf-8")
    with pytest.warns(transcripts.IngestWarning) as caught:
        (doc,) = transcripts.read_transcripts(f)
    assert turns_of(doc) == [("", None, 1, "All"), ("Interviewee", None, 3, "right.")]
    assert [str(w.message) for w in caught] == doc.warnings == [
        f"{shown(f)}:1: 1 line(s) before the first speaker label kept as a turn without a speaker; label them, or "
        f"end a preamble with a line '# BEGIN TRANSCRIPT'"]
    g = tmp_path / "d.docx"
    _docx_table(g, header=True, time=False)
    d = docx.Document(g)
    d.add_paragraph("P3: and one more thing")
    d.save(g)
    with pytest.warns(transcripts.IngestWarning) as caught:
        transcripts.read_transcripts(g)
    assert [str(w.message) for w in caught] == [
        f"{shown(g)}:7: 1 paragraph(s) outside the transcript table read as notes, not speech; put speech in the table"]


def test_ingest_to_stdout_stops_quietly_when_the_reader_goes(tmp_path):
    """`ingest … | head -1`: the table goes through corpus.emit_table, so a closed pipe is no traceback."""
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.Popen([sys.executable, "-m", "helpers", "ingest", "data/transcripts", "--participants",
                             "data/participants.csv"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"transcript_id,turn,speaker")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- which files are read
def test_exclude_skips_names_and_patterns_and_skipped_files_says_why(tmp_path):
    for name in ("A.txt", "B.md", "notes.pdf", "C.txt", ".hidden.txt", "~$D.docx", "legend.txt"):
        (tmp_path / name).write_text("Interviewer: hi\n", encoding="utf-8")
    assert [p.name for p in transcripts.transcript_files(tmp_path)] == ["A.txt", "B.md", "C.txt", "legend.txt"]
    assert [p.name for p in transcripts.transcript_files(tmp_path, exclude=["legend.txt", "C.*"])] == ["A.txt", "B.md"]
    assert [(p.name, why) for p, why in transcripts.skipped_files(tmp_path, exclude=["legend.txt", "C.*"])] == [
        (".hidden.txt", "hidden or temporary file"), ("C.txt", "excluded (C.*)"), ("legend.txt", "excluded (legend.txt)"),
        ("notes.pdf", f"unsupported extension '.pdf'; supported: {SUPPORTED}"), ("~$D.docx", "hidden or temporary file")]
    assert [d.transcript_id for d in transcripts.read_transcripts(tmp_path, exclude=["legend.txt", "C.*"])] == ["A", "B"]
