"""The command line turns a file it cannot read or write into one line and exit 2, never a traceback."""

from __future__ import annotations

from conftest import ROOT
from helpers import corpus
from helpers.__main__ import main


def test_an_output_path_that_is_a_folder_is_one_line_and_leaves_no_temp_file(tmp_path, capsys):
    target = tmp_path / "turns.csv"
    target.mkdir()
    code = main(["ingest", str(ROOT / "data" / "transcripts"), "--participants", str(ROOT / "data" / "participants.csv"),
                 "--out", str(target)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {target}: cannot read or write it (is a directory)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turns.csv"]


def test_a_permission_error_names_the_file(monkeypatch, capsys, tmp_path):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/secure/raw/C01.txt")

    monkeypatch.setattr(corpus, "load_inputs", refuse)
    folder = tmp_path / "t"
    folder.mkdir()
    assert main(["ingest", str(folder)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: /secure/raw/C01.txt: cannot read or write it (permission denied)"]
