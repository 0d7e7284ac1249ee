"""Every CSV the project writes is safe to open in a spreadsheet: no cell starts a formula (OWASP)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from conftest import run_cli
from helpers import corpus, tables

HOSTILE = '=HYPERLINK("http://example.invalid/x","click")'


def test_spreadsheet_safe_prefixes_only_text_cells_that_start_a_formula():
    df = pd.DataFrame({"text": [HOSTILE, "+44 7700", "-so I said", "@home", "\tindent", "\rcr", "fine", None],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8]})
    out = tables.spreadsheet_safe(df)
    assert out["text"].tolist()[:7] == ["'" + HOSTILE, "'+44 7700", "'-so I said", "'@home", "'\tindent", "'\rcr",
                                        "fine"]
    assert pd.isna(out["text"].iloc[7])
    assert out["n"].tolist() == [-1, 2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers, negative ones too
    assert df["text"].iloc[0] == HOSTILE  # the input frame is not changed
    assert [tables.unescape_formula(v) for v in out["text"].tolist()[:7]] == df["text"].tolist()[:7]
    assert tables.unescape_formula("'quoted'") == "'quoted'"  # a quote before ordinary text is the text


def test_formula_headers_are_neutralised_too():
    assert tables.csv_text(pd.DataFrame({"=cmd": ["a"]})).splitlines()[0] == "'=cmd"


def _cells(path) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) for cell in row]


def _hostile_project(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "P01.txt").write_text(
        f"Interviewer: What did the employer send?\nP01: {HOSTILE} was in the email about my pain.\n"
        "Interviewer: And then?\nP01: -so I rang them about the pain again.\n", encoding="utf-8")
    people = tmp_path / "participants.csv"
    people.write_text("participant_id,group,collection,transcript_id,site\nP01,client,interview,P01,=1+2\n",
                      encoding="utf-8")
    return folder, people


def test_ingest_kwic_and_matrix_write_no_live_formula_and_read_back_the_text(tmp_path):
    folder, people = _hostile_project(tmp_path)
    turns_csv, turns_parquet = tmp_path / "turns.csv", tmp_path / "turns.parquet"
    for out in (turns_csv, turns_parquet):
        proc = run_cli("ingest", str(folder), "--participants", str(people), "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    cells = _cells(turns_csv)
    assert "'" + HOSTILE + " was in the email about my pain." in cells
    assert "'-so I rang them about the pain again." in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # our own readers give back the words as spoken; Parquet keeps the raw text
    for out in (turns_csv, turns_parquet):
        back = corpus.read_turns(out)
        assert back["text"].tolist()[1] == f"{HOSTILE} was in the email about my pain."
    kwic = tmp_path / "kwic.csv"
    proc = run_cli("kwic", "--corpus", str(turns_csv), "--term", "pain", "--window", "3", "--out", str(kwic))
    assert proc.returncode == 0, proc.stderr
    kwic_cells = _cells(kwic)
    assert not [c for c in kwic_cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text("themes:\n  - code: pain\n    label: Pain\n    subthemes:\n      - code: pain_talk\n        label: Pain talk\n"
                        "        keywords: [pain]\n", encoding="utf-8")
    matrix, codings = tmp_path / "matrix.csv", tmp_path / "codings.csv"
    proc = run_cli("code", "--corpus", str(turns_csv), "--codebook", str(codebook), "--participants", str(people), "--out", str(codings),
                   "--matrix", str(matrix))
    assert proc.returncode == 0, proc.stderr
    for table in (matrix, codings):
        assert not [c for c in _cells(table) if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=1+2" in _cells(matrix)


def test_a_participants_row_with_more_fields_than_the_header_is_one_line_exit_2(tmp_path):
    folder, people = _hostile_project(tmp_path)
    people.write_text("participant_id,group,collection,transcript_id\nP01,client,interview,P01,Leeds, UK\n",
                      encoding="utf-8")
    proc = run_cli("ingest", str(folder), "--participants", str(people))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {people}:2: 6 fields where the header has 4; quote values that hold commas, or add the missing "
        "column names to line 1"]
