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
    with pytest.warns(transcripts.IngestWarning) as warned:
        docs = transcripts.read_transcripts(tmp_path, exclude=["legend.txt", "C.*"])
    assert [d.transcript_id for d in docs] == ["A", "B"]
    assert sorted(str(w.message).removeprefix(f"{tmp_path}/") for w in warned) == [
        ".hidden.txt: skipped: hidden or temporary file",
        f"notes.pdf: skipped: unsupported extension '.pdf'; supported: {SUPPORTED}",
        "~$D.docx: skipped: hidden or temporary file"]  # the excluded files are not warned about


# ----------------------------------------------------------------------------- labels real transcripts use (issue 13)
def write(tmp_path, text: str, name: str = "t.txt") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def speech(doc):
    return [(t["speaker"], t["line"], t["text"]) for t in doc.turns]


def doubtful_warning(f, line: int, label: str, reason: str, todo: str) -> str:
    return f"{shown(f)}:{line}: line looks like a speaker label ({label!r}) but was read as speech: {reason}; {todo}"


ROLE_LIST = "interviewer, interviewee, participant, respondent, facilitator, moderator, researcher, speaker"


def test_lower_case_role_words_and_repeated_lower_case_labels_are_labels_a_lone_word_is_doubtful(tmp_path):
    f = write(tmp_path, "interviewer: How was it?\nINTERVIEWEE: Fine.\nparticipant 3: Me too.\nnote: it was loud\n"
                        "mum: yes\nmum: no\n")
    doc = only(f)
    assert speech(doc) == [("interviewer", 1, "How was it?"), ("INTERVIEWEE", 2, "Fine."),
                           ("participant 3", 3, "Me too.\nnote: it was loud"), ("mum", 5, "yes"), ("mum", 6, "no")]
    reason = f"lower-case 'note' is not a role word ({ROLE_LIST}) and starts no other line"
    assert doc.doubtful == [(4, "note: it was loud", reason)]
    assert doc.warnings == [doubtful_warning(f, 4, "note:", reason, "if it is a speaker, write the label as 'Note:'")]


def test_labels_with_a_comma_or_a_parenthesis_are_labels_as_written(tmp_path):
    f = write(tmp_path, "MEL: Can you hear me?\nMEL, TYPING: Audio dropped.\nDr  Smith (GP): Yes, now.\n"
                        "AMANDA (typed): Me too.\nMEL: Good.\n")
    assert speech(only(f)) == [("MEL", 1, "Can you hear me?"), ("MEL, TYPING", 2, "Audio dropped."),
                               ("Dr Smith (GP)", 3, "Yes, now."), ("AMANDA (typed)", 4, "Me too."), ("MEL", 5, "Good.")]
    assert only(f).warnings == []


def test_a_legend_with_mixed_case_initials_labels_initials_with_a_colon_a_dash_or_a_space(tmp_path):
    f = write(tmp_path, "AMi - Ann Miller (interviewer)\nBT2 = Bob Tern\n\nAMi Hello there.\nBT2 - Hi.\nAMi: Bye.\n")
    doc = only(f)
    assert doc.legend == {"AMi": "Ann Miller (interviewer)", "BT2": "Bob Tern"} and doc.labelled
    assert speech(doc) == [("AMi", 4, "Hello there."), ("BT2", 5, "Hi."), ("AMi", 6, "Bye.")]


def test_dash_labels_count_when_in_the_legend_or_used_twice_otherwise_they_are_doubtful(tmp_path):
    f = write(tmp_path, "Ann - Hello.\nBob - Hi.\nAnn - Thanks for coming.\n")  # plain names: not a legend
    doc = only(f)
    assert doc.legend == {}
    assert speech(doc) == [("Ann", 1, "Hello.\nBob - Hi."), ("Ann", 3, "Thanks for coming.")]
    reason = "a 'Name - text' line whose name is not in a legend and starts no other line"
    assert doc.doubtful == [(2, "Bob - Hi.", reason)]
    assert doc.warnings == [doubtful_warning(f, 2, "Bob -", reason, "if it is a speaker, write 'Bob: …' or list "
                                                                    "them in a legend at the top")]
    g = write(tmp_path, "AB - Ann Bell\nCD - Cy Dee\n\nAB - Hi.\nCy Dee - Hello.\nMale voice - …for taking the time\n"
                        "AB: Bye.\n", "g.txt")
    doc = only(g)
    assert speech(doc) == [("AB", 4, "Hi."), ("Cy Dee", 5, "Hello.\nMale voice - …for taking the time"), ("AB", 7, "Bye.")]
    assert [line for line, _, _ in doc.doubtful] == [6]


def test_headings_are_recorded_not_speakers_and_do_not_end_a_turn(tmp_path):
    f = write(tmp_path, "# Interview 4\nInterviewer: a\nP1: b\nInterviewer: c\nInitial Steps:\nP1: d\n"
                        "Interviewer: e\n## Part two\nP1: f\nmore\n")
    doc = only(f)
    assert speech(doc) == [("Interviewer", 2, "a"), ("P1", 3, "b"), ("Interviewer", 4, "c"), ("P1", 6, "d"),
                           ("Interviewer", 7, "e"), ("P1", 9, "f\nmore")]
    assert doc.headings == [(1, "# Interview 4"), (5, "Initial Steps:"), (8, "## Part two")]
    assert doc.header == [(1, "# Interview 4")]
    assert doc.warnings == [
        f"{shown(f)}:5: 'Initial Steps:' read as a heading, not a speaker: its label starts no other line and has "
        f"nothing after the colon; if it is a speaker, put their words on the same line",
        f"{shown(f)}:8: 1 Markdown heading(s) inside the transcript (line 8) read as headings, not speech; remove "
        f"the '#' if a line is speech"]


def test_a_one_off_label_alone_on_its_line_is_a_speaker_when_the_file_writes_speech_below_labels(tmp_path):
    f = write(tmp_path, "Interviewer:\nhi\nP1:\nhello\nInterviewer:\nand?\nNurse:\nyes\nInterviewer:\nok\n")
    doc = only(f)
    assert [t["speaker"] for t in doc.turns] == ["Interviewer", "P1", "Interviewer", "Nurse", "Interviewer"]
    assert doc.headings == [] and doc.warnings == []


def test_bullets_with_a_parenthesised_role_code_are_turns_spoken_by_the_code(tmp_path):
    f = write(tmp_path, "## 1. Theme\n### Sub-theme\n* (R *T* g): “first quote”\n\t* (**A**  d): “second”\n"
                        "•\tcontinued point\n* R *T* d): broken code\n*(F, *P* i):third\n", "s.md")
    doc = only(f)
    assert speech(doc) == [("R *T* g", 3, "“first quote”"),
                           ("**A** d", 4, "“second”\n•\tcontinued point\n* R *T* d): broken code"),
                           ("F, *P* i", 7, "third")]
    assert doc.headings == doc.header == [(1, "## 1. Theme"), (2, "### Sub-theme")]
    reason = "a bullet whose role code has no opening '('"
    assert doc.doubtful == [(6, "* R *T* d): broken code", reason)]
    assert doc.warnings == [doubtful_warning(f, 6, "R *T* d):", reason, "write it as '* (CODE): …' if it is a quote")]


def test_text_before_the_first_label_is_kept_as_a_turn_without_a_speaker(tmp_path):
    f = write(tmp_path, "(recording starts)\nAll\n\nInterviewee: right.\n")
    doc = only(f)
    assert speech(doc) == [("", 1, "(recording starts)\nAll"), ("Interviewee", 4, "right.")]
    assert doc.header == [] and doc.labelled


@pytest.mark.parametrize("marker", ["# BEGIN TRANSCRIPT", "BEGIN TRANSCRIPT", "## begin transcript",
                                    "--- Transcript ---", "=== BEGIN TRANSCRIPT ==="])
def test_a_preamble_ending_in_a_begin_transcript_marker_is_front_matter(tmp_path, marker):
    f = write(tmp_path, f"---\ntranscript_id: T7\n---\n# Licence\nShared under a licence.\nSpeaker A: agreed to it\n"
                        f"{marker}\n\nMEL: hi\nANN: hello\n")
    doc = only(f)
    assert doc.transcript_id == "T7" and doc.metadata == {"transcript_id": "T7", "preamble": "Licence"}
    assert doc.preamble == [(4, "# Licence"), (5, "Shared under a licence."), (6, "Speaker A: agreed to it"), (7, marker)]
    assert speech(doc) == [("MEL", 9, "hi"), ("ANN", 10, "hello")]
    assert doc.warnings == [f"{shown(f)}:6: 1 line(s) that look like speaker labels come before the {marker!r} line "
                            f"and were read as front matter; move that line above them if they are speech"]
    assert_nothing_lost(f)


def test_a_preamble_without_a_heading_is_named_by_its_first_line(tmp_path):
    f = write(tmp_path, "Copyright 2020 the speakers.\nBEGIN TRANSCRIPT\nMEL: hi\n")
    doc = only(f)
    assert doc.metadata == {"preamble": "Copyright 2020 the speakers."} and doc.warnings == []
    assert speech(doc) == [("MEL", 3, "hi")]


def test_malformed_timestamps_are_warnings_and_the_turn_is_kept(tmp_path):
    f = write(tmp_path, "[00:00:05] Interviewer: hi\n[00:09:025] Client: hello\n")
    doc = only(f)
    assert turns_of(doc) == [("Interviewer", 5.0, 1, "hi"), ("Client", None, 2, "hello")]
    assert doc.warnings == [f"{shown(f)}:2: malformed timestamp '00:09:025', kept without a timestamp; write hh:mm:ss "
                            f"or mm:ss (optionally with a fraction, e.g. 00:01:23.5)"]
    v = write(tmp_path, "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nClient: hi\n\n(00:00:03) -->\nClient: more\n\n"
                        "00:00:05.000 --> 00:00:06.000\nInterviewer: ok\n", "T1.vtt")
    doc = only(v)
    assert turns_of(doc) == [("Client", None, 4, "hi more"), ("Interviewer", 5.0, 10, "ok")]
    assert doc.warnings == [f"{shown(v)}:{n}: malformed timestamp {s!r}, kept without a timestamp; write hh:mm:ss or "
                            f"mm:ss (optionally with a fraction, e.g. 00:01:23.5)"
                            for n, s in ((3, "00:00:0x.000"), (6, "(00:00:03)"))]


def test_a_malformed_timestamp_in_a_docx_table_is_a_warning(tmp_path):
    f = tmp_path / "T1.docx"
    d = docx.Document()
    table = d.add_table(rows=0, cols=3)
    for row in (("Time", "Speaker", "Text"), ("00:01:23", "Interviewer", "hi"), ("0:7x", "P3", "hello")):
        for c, v in zip(table.add_row().cells, row):
            c.text = v
    d.save(f)
    doc = only(f)
    assert turns_of(doc) == [("Interviewer", 83.0, 2, "hi"), ("P3", None, 3, "hello")]
    assert doc.warnings == [f"{shown(f)}:3: malformed timestamp '0:7x', kept without a timestamp; write hh:mm:ss or "
                            f"mm:ss (optionally with a fraction, e.g. 00:01:23.5)"]


def test_warnings_are_kept_per_transcript_and_emitted_once_by_read_transcripts(tmp_path, recwarn):
    f = write(tmp_path, "Interviewer: hi\nnote: loud\n[1:2:3:4] P1: ok\n", "A.txt")
    write(tmp_path, "Interviewer: hi\nP1: ok\n", "B.txt")
    transcripts.read_transcript(f)
    assert len(recwarn) == 0
    docs = transcripts.read_transcripts(tmp_path)
    assert [str(w.message) for w in recwarn] == docs[0].warnings and docs[1].warnings == []
    assert [m.split(": ", 1)[0] for m in docs[0].warnings] == [f"{shown(f)}:2", f"{shown(f)}:3"]
    assert all(issubclass(w.category, transcripts.IngestWarning) for w in recwarn)


def test_ingest_prints_reader_warnings_and_exits_0(tmp_path, capsys):
    code, err, folder = ingest(tmp_path, {"T1.txt": "[00:00:05] Interviewer: hi\n[00:75:10] Client: hello\n"}, capsys)
    assert code == 0
    assert err[0] == (f"warning: {shown(folder)}/T1.txt:2: malformed timestamp '00:75:10', kept without a timestamp; "
                      f"write hh:mm:ss or mm:ss (optionally with a fraction, e.g. 00:01:23.5)")
    assert pd.read_csv(tmp_path / "turns.csv")["timestamp"].isna().tolist() == [False, True]


@pytest.mark.parametrize("encoding,used", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
                                           ("utf-16-le", "utf-16-le"), ("cp1252", "cp1252")])
def test_the_transcript_says_which_encoding_was_read(tmp_path, encoding, used):
    f = tmp_path / "t.txt"
    f.write_bytes(BASE.encode(encoding))
    assert only(f).encoding == used
    assert transcripts.decode(BASE.encode(encoding), "x") == BASE


# ----------------------------------------------------------------------------- CSV quoting, order, duplicates, wide files
def test_csv_quoting_is_standard_even_when_the_first_4_kb_have_no_doubled_quote(tmp_path):
    rows = [f'P{i % 3},"line {i}, with a comma and enough words to fill the first block"' for i in range(80)]
    f = write(tmp_path, "speaker,text\n" + "\n".join(rows) + '\nP9,"she said ""no"" twice"\n', "T1.csv")
    assert f.stat().st_size > 4096
    assert only(f).turns[-1]["text"] == 'she said "no" twice'


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_delimiter_comes_from_the_header_line(tmp_path, sep):
    f = write(tmp_path, f'speaker{sep}text\nP1{sep}"hello, world{sep} again"\nP2{sep}bye, then\n', "T1.csv")
    assert speech(only(f)) == [("P1", 2, f"hello, world{sep} again"), ("P2", 3, "bye, then")]


UTTERANCES = "transcript_id,turn,speaker,text\nT1,2,P1,second\nT1,10,Interviewer,third\nT1,1,Interviewer,first\n"


def test_csv_order_column_sorts_numerically_or_as_text_and_otherwise_file_order_is_kept(tmp_path):
    f = write(tmp_path, UTTERANCES, "u.csv")
    assert [t["text"] for t in only(f).turns] == ["second", "third", "first"]
    assert [t["text"] for t in only(f, csv_columns={"order": "turn"}).turns] == ["first", "second", "third"]
    g = write(tmp_path, UTTERANCES.replace(",10,", ",b,").replace(",2,", ",c,").replace(",1,", ",a,"), "g.csv")
    assert [(t["text"], t["line"]) for t in only(g, csv_columns={"order": "TURN"}).turns] == [
        ("first", 4), ("third", 3), ("second", 2)]
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(f, csv_columns={"order": "seq"})
    assert exc.value.problems == [f"{shown(f)}:1: no column 'seq' (--csv-order); columns are: transcript_id, turn, "
                                  f"speaker, text"]


def test_csv_duplicate_utterances_are_an_error_or_with_keep_first_a_warning(tmp_path):
    f = write(tmp_path, UTTERANCES + "T2,1,P2,other\nT1,2,P1,again\nT1,2.0,P1,and again\n", "u.csv")
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(f)
    assert exc.value.problems == [
        f"{shown(f)}:{n}: duplicate utterance: transcript T1, order {v} also at line 2; remove one of the rows, "
        f"or use --csv-keep-first to keep the first" for n, v in ((6, "2"), (7, "2.0"))]
    t1, t2 = transcripts.read_transcript(f, csv_columns={"keep_first": True, "order": "turn"})
    assert [t["text"] for t in t1.turns] == ["first", "second", "third"] and [t["text"] for t in t2.turns] == ["other"]
    assert t1.warnings == [f"{shown(f)}:{n}: duplicate utterance: transcript T1, order {v} also at line 2; dropped, "
                           f"the first kept (--csv-keep-first)" for n, v in ((6, "2"), (7, "2.0"))]


def test_wide_csv_one_respondent_a_row_two_turns_per_answer(tmp_path):
    f = write(tmp_path, 'name,Age,Your town\nAnn,40,\nCarl,,\n,,"Leeds, mostly"\n', "survey.csv")
    docs = transcripts.read_transcript(f, csv_columns={"text": ["Age", "your town"]})
    assert [(d.transcript_id, speech(d)) for d in docs] == [
        ("survey-1", [("Q", 2, "Age"), ("Ann", 2, "40")]),
        ("survey-3", [("Q", 4, "Your town"), ("Respondent", 4, "Leeds, mostly")])]
    g = write(tmp_path, "transcript_id,Q1,Q2\nR7,yes,no\n", "ids.csv")
    (doc,) = transcripts.read_transcript(g, csv_columns={"text": ["Q1", "Q2"]})
    assert doc.transcript_id == "R7" and speech(doc) == [("Q", 2, "Q1"), ("Respondent", 2, "yes"),
                                                         ("Q", 2, "Q2"), ("Respondent", 2, "no")]
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(g, csv_columns={"text": ["Q1", "Q3"]})
    assert exc.value.problems == [f"{shown(g)}:1: no column 'Q3' (--csv-text); columns are: transcript_id, Q1, Q2"]


def test_ingest_a_wide_csv_from_the_command_line_questions_are_interviewer_turns(tmp_path, capsys):
    f = write(tmp_path, "Age,Town\n40,Leeds\n", "survey.csv")
    assert main(["ingest", str(f), "--csv-text", "Age", "Town", "--out", str(tmp_path / "t.csv")]) == 0
    turns = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert turns[["transcript_id", "speaker", "role", "text"]].values.tolist() == [
        ["survey-1", "Q", "interviewer", "Age"], ["survey-1", "Respondent", "participant", "40"],
        ["survey-1", "Q", "interviewer", "Town"], ["survey-1", "Respondent", "participant", "Leeds"]]


def test_a_row_without_a_speaker_at_the_start_of_a_csv_is_kept_and_warned_about_once(tmp_path):
    f = tmp_path / "u.csv"
    f.write_text("speaker,text\n,hello there first\nP1,I am P1\n,and I go on\n", encoding="utf-8")
    [doc] = transcripts.read_transcript(f)
    assert speech(doc) == [("", 2, "hello there first"), ("P1", 3, "I am P1\nand I go on")]
    assert doc.warnings == [f"{shown(f)}:2: text without a speaker label kept as a turn attributed to no one "
                            f"(not analysed); give it a speaker"]


def test_text_before_the_first_label_is_warned_about_by_its_reader_only(tmp_path):
    f = write(tmp_path, "All\n\nInterviewee: right.\n")
    warned = only(f).warnings
    assert len(warned) == 1 and warned[0].startswith(f"{shown(f)}:1: 1 line(s) before the first speaker label")


def test_a_short_line_ending_in_a_colon_that_is_not_a_label_is_doubtful(tmp_path):
    f = write(tmp_path, "Moderator: Go on.\nNurse: We refer weekly.\nInitial steps:\nPhysio: And we wait.\n")
    doc = only(f)
    assert speech(doc) == [("Moderator", 1, "Go on."), ("Nurse", 2, "We refer weekly.\nInitial steps:"),
                           ("Physio", 4, "And we wait.")]
    assert [(line, text) for line, text, _ in doc.doubtful] == [(3, "Initial steps:")]
    assert doc.warnings[0].startswith(f"{shown(f)}:3: line looks like a speaker label ('Initial steps:') but was "
                                      f"read as speech")
