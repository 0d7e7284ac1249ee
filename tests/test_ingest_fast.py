"""The faster ingest paths give exactly what the general ones give (issue 17: ingest speed)."""

import math
import re

import pandas as pd
import pytest

from helpers import corpus, transcripts


@pytest.mark.parametrize("text", ["a\nb\n", "a\r\nb\rc\n\n", "a", "\n\nx\n", "x\u2028y\nz", "a\x0cb\n", ""])
def test_split_lines_same_with_and_without_carriage_returns(text):
    expected = re.split(r"\r\n|\r|\n", text)
    if expected and expected[-1] == "":
        expected.pop()
    assert transcripts.split_lines(text) == expected


@pytest.mark.parametrize("marker", ["BEGIN TRANSCRIPT", "# begin transcript", "--- Transcript ---",
                                    "BEGIN TRAN\u017fCRIPT", "begin tran\u017fcript"])  # ſ: IGNORECASE takes it for s
def test_preamble_marker_found_as_the_regex_finds_it(marker):
    numbered = [(1, "Study title"), (2, "Café notes"), (3, marker), (4, "Ann: hello")]
    preamble, used = transcripts.read_preamble(numbered)
    assert used == 3
    assert preamble[-1] == (3, marker)


@pytest.mark.parametrize("text", ["no marker here", "TRANSCRIPT of the day", "İ ı ſ K", "tran\u017fcript only"])
def test_preamble_word_test_agrees_with_ignorecase_search(text):
    numbered = [(1, text), (2, "Ann: hi")]
    assert transcripts.read_preamble(numbered) == ([], 0)
    assert bool(transcripts.PREAMBLE_WORD.search(text)) == ("transcript" in text.lower()
                                                           or "tran\u017fcript" in text.lower())


def _docs(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "A1.txt").write_text("Interviewer: hi\nA1: yes\nmore\n\n[00:01:02] Interviewer: and?\nA1: fine\n")
    (folder / "B1.txt").write_text("intro line\nInterviewer: hello\nStranger: who?\nB1: me\n")
    (folder / "M1.txt").write_text("One speaker talking.\n\nA second paragraph.\n")
    with pytest.warns(transcripts.IngestWarning, match=r"B1\.txt:1: 1 line\(s\) before the first speaker label"):
        return transcripts.read_transcripts(folder)


def test_turns_table_columns_dtypes_and_unknown_speakers(tmp_path):
    docs = _docs(tmp_path)
    participants = pd.DataFrame({"participant_id": ["A1", "B1", "M1"], "group": ["g1", "g2", "g1"],
                                 "collection": ["interview"] * 3, "transcript_id": ["A1", "B1", "M1"]})
    with pytest.warns(transcripts.IngestWarning, match=r"B1\.txt:3: unknown speaker label 'Stranger' in transcript "
                                                       r"B1 \(1 turn\)"):
        turns = corpus.resolve_speakers(docs, participants, allow_unknown_speakers=True)
    assert list(turns.columns) == transcripts.TURN_COLUMNS
    assert [str(t) for t in turns.dtypes] == ["str", "int64", "str", "str", "str", "str", "float64", "str", "str",
                                              "int64"]
    rows = turns[["transcript_id", "turn", "speaker", "participant_id", "role", "group", "line"]].values.tolist()
    assert rows == [["A1", 0, "Interviewer", "", "interviewer", "", 1], ["A1", 1, "A1", "A1", "participant", "g1", 2],
                    ["A1", 2, "Interviewer", "", "interviewer", "", 5], ["A1", 3, "A1", "A1", "participant", "g1", 6],
                    ["B1", 0, "", "", "unattributed", "", 1], ["B1", 1, "Interviewer", "", "interviewer", "", 2],
                    ["B1", 2, "Stranger", "", "participant", "", 3], ["B1", 3, "B1", "B1", "participant", "g2", 4],
                    ["M1", 0, "", "M1", "participant", "g1", 1], ["M1", 1, "", "M1", "participant", "g1", 3]]
    assert turns.loc[2, "timestamp"] == 62.0 and math.isnan(turns.loc[0, "timestamp"])
    assert turns.loc[1, "text"] == "yes\nmore"
    assert turns.equals(corpus.turns_frame(turns.itertuples(index=False, name=None)))


def test_unlabelled_transcript_of_two_participants_is_one_error(tmp_path):
    docs = _docs(tmp_path)
    participants = pd.DataFrame({"participant_id": ["A1", "B1", "M1", "M2"], "group": ["g1", "g2", "g1", "g1"],
                                 "collection": ["interview"] * 2 + ["focus_group"] * 2,
                                 "transcript_id": ["A1", "B1", "M1", "M1"]})
    with pytest.raises(transcripts.InputError) as err, pytest.warns(transcripts.IngestWarning, match="Stranger"):
        corpus.resolve_speakers(docs, participants, allow_unknown_speakers=True)
    assert str(err.value).count("no speaker labels, but transcript 'M1' has 2 participants") == 1


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_control_characters_counted_from_the_bytes(bom):
    text = "Ann: caf\u00e9 " + "word " * 100
    ok = bom + (text + "\x01\x02\x1f").encode("utf-8")  # three control characters are tolerated
    assert transcripts.decode_with_encoding(ok, "f.txt")[0].endswith("\x01\x02\x1f")
    binary = bom + (text + "\x01" * 10).encode("utf-8")  # more than 3 and more than 1 in 100 characters
    with pytest.raises(transcripts.InputError, match=r"^f\.txt: binary file, not a transcript"):
        transcripts.decode_with_encoding(binary, "f.txt")


@pytest.mark.parametrize("line, expected", [
    ("* (R *T* g): text", ("R *T* g", None, "text", "bullet")),
    ("[00:01:23] Dr Smith (GP): hello", ("Dr Smith (GP)", "00:01:23", "hello", "colon")),
    ("00:01:23 Ann: hi", ("Ann", "00:01:23", "hi", "colon")),
    ("Ann [00:01:23]: hi", ("Ann", "00:01:23", "hi", "colon")),
    ("**MEL, TYPING:** ok", ("MEL, TYPING", None, "ok", "colon")),
    ("- not a label", None), ("lower: x", None)])
def test_labels_tried_by_first_character(line, expected):
    assert transcripts._label(line, None) == expected


def test_folder_scanned_once_gives_the_same_files_and_skip_warnings(tmp_path):
    import os
    import warnings

    (tmp_path / "A1.txt").write_text("Ann: hi\n")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    expected = transcripts.skip_warnings(transcripts.skipped_files(tmp_path))
    assert [m.split(": skipped: ")[1][:24] for m in expected] == [
        "hidden or temporary file", "broken symbolic link (it", "unsupported extension '.", "not a regular file (a pi",
        "a folder (transcripts in"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", transcripts.IngestWarning)
        docs = transcripts.read_transcripts(tmp_path)
    assert [str(w.message) for w in caught] == expected
    assert [d.transcript_id for d in docs] == ["A1"] == [p.stem for p in transcripts.transcript_files(tmp_path)]
