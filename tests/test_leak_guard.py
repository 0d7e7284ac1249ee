"""The leak guard sees what a reader sees (issue 14): invisible characters, highlighting, names in paths
and identifiers, the inside of .qdpx exports and Parquet tables, and zip bombs refused in one line.

Every hostile fixture is generated here, in tmp_path; the 1 GB member is a run of one byte, streamed."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_measured
from helpers import anonymise as A
from helpers.__main__ import main

REGISTER = "original,category\nSarah Jenkins,name\nMr Painter,name\nGrimbleford,place\n"
# Sarah Jenkins -> [NAME-1] (and its parts Sarah, Jenkins), Mr Painter -> [NAME-2] (its part Painter),
# Grimbleford -> [PLACE-1]


@pytest.fixture
def register(tmp_path) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    return path


def shown(path: Path) -> str:
    return A.paths.relative(path)


def put(path: Path, text: str) -> Path:
    """Write a UTF-8 file, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leaks(capsys, *args) -> tuple[int, list[str], list[str]]:
    """`python -m helpers leaks ARGS` in-process: (exit code, stdout lines, stderr lines)."""
    code = main(["leaks", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def guard(register: Path, *folders: Path) -> tuple[list[Path], list[str], list[str]]:
    """The run's guard: (files it withholds, lines on out, lines on err)."""
    out, err = io.StringIO(), io.StringIO()
    withheld = A.check_outputs(register, list(folders), out=out, err=err)
    return withheld, out.getvalue().splitlines(), err.getvalue().splitlines()


def anonymised(tmp_path: Path, src: Path, register: Path, capsys) -> Path:
    key = tmp_path / "secure" / "k.key.csv"
    assert main(["anonymise", str(src), "--register", str(register), "--out", str(tmp_path / "anon"),
                 "--key", str(key)]) == 0
    capsys.readouterr()
    return tmp_path / "anon"


def bomb(path: Path, small: dict[str, str], big: str, megabytes: int) -> Path:
    """A zip of `small` members and a member `big` of `megabytes` MB of one repeated byte, streamed in
    1 MB blocks: the zip is about a thousandth of that."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"a" * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in small.items():
            archive.writestr(name, text)
        with archive.open(big, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)
    return path


def loosely_packed(path: Path, small: dict[str, str], big: dict[str, int]) -> Path:
    """A zip of `small` members and members of `big[name]` MB each: one MB of random bytes, then one
    repeated byte, so each packs to about 1 MB, under the 100:1 ratio limit until ~100 MB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise, block = random.Random(14).randbytes(2**20), b"a" * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in small.items():
            archive.writestr(name, text)
        for name, megabytes in big.items():
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(noise)
                for _ in range(megabytes - 1):
                    member.write(block)
    return path


def packed(path: Path, member: str) -> str:
    """The end of helpers.limits' refusal of a member packed over 100:1: its packed size and ratio."""
    info = zipfile.ZipFile(path).getinfo(member)
    ratio = info.file_size / info.compress_size
    assert ratio > 100
    return f"{info.compress_size:,} (ratio {ratio:,.0f}:1, over the limit of 100:1); refused as a likely zip bomb"


def qdpx(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


# ----------------------------------------------------------------------------- 1. invisible characters
def test_soft_hyphen_zero_width_space_and_fullwidth_letters_hide_no_name(tmp_path, register, capsys):
    raw = tmp_path / "raw"
    t01 = put(raw / "T01.txt", "A: I spoke to Jen\u00adkins.\nB: And Sa\u200brah?\nA: Ｇｒｉｍｂｌｅｆｏｒｄ, yes.\n"
                               "B: The Painter\u2060ly light.\n")
    assert leaks(capsys, raw, "--register", register) == (1, [
        f"{shown(t01)}:1: name: Jenkins", f"{shown(t01)}:2: name: Sarah", f"{shown(t01)}:3: place: Grimbleford",
    ], ["3 identifier(s) found in 1 of 1 file(s)."])

    out = anonymised(tmp_path, raw, register, capsys)
    # the name is replaced with the invisible characters inside it; 'Painterly' is still a word of its own
    assert (out / "T01.txt").read_text(encoding="utf-8") == (
        "A: I spoke to [NAME-1].\nB: And [NAME-1]?\nA: [PLACE-1], yes.\nB: The Painter\u2060ly light.\n")
    assert leaks(capsys, out, "--register", register) == (0, ["No identifiers found in 2 file(s)."], [])  # + marker

    withheld, said, errors = guard(register, raw)
    assert withheld == [t01] and said == []
    assert errors[:3] == [f"leak: {shown(t01)}:1: name", f"leak: {shown(t01)}:2: name",
                          f"leak: {shown(t01)}:3: place"]
    assert errors[3].startswith("error: 3 identifier(s) from the register or patterns found in the outputs; "
                                "those 1 output file(s) are withheld ")
    assert not any(word in line for line in errors for word in ("Jen", "Sa", "Grimbleford"))


def test_reader_view_maps_every_offset_back_to_the_text_as_written():
    text = "x Ｊｅｎ\u00adkins y\n<b>Pain</b>ter Jose\u0301"
    view = A.reader_view(text, strip_tags=True)
    assert view.text == "x Jenkins y\nPainter José"
    start = view.text.index("Jenkins")
    assert text[view.start(start):view.end(start + len("Jenkins"))] == "Ｊｅｎ\u00adkins"
    start = view.text.index("Painter")
    assert text[view.start(start):view.end(start + len("Painter"))] == "Pain</b>ter"
    assert text[view.start(view.text.index("José")):view.end(len(view.text))] == "Jose\u0301"


# ----------------------------------------------------------------------------- 2. paths and identifiers
@pytest.mark.parametrize("text, found", [
    ("Sarah_Jenkins", [(1, "name", "Sarah_Jenkins")]),
    ("sarah-jenkins", [(1, "name", "sarah-jenkins")]),
    ("SarahJenkins", [(1, "name", "SarahJenkins")]),
    ("sarah.jenkins", [(1, "name", "sarah.jenkins")]),
    ("interviews/SARAH_JENKINS_2.txt", [(1, "name", "SARAH_JENKINS")]),
    ("notesForPainter.md", [(1, "name", "Painter")]),
    ("a Painterly light, Grimblefordshire and xPainter", []),  # a name inside an ordinary word is no hit
    ("Painters' union", [(1, "name", "Painters'")]),
])
def test_paths_and_identifiers_break_into_words_but_ordinary_words_do_not(tmp_path, register, text, found):
    assert A.scan_text(text, A.load_register(register)) == found


def test_a_folder_named_after_a_person_is_found_in_links_and_in_the_file_names(tmp_path, register, capsys):
    reports = tmp_path / "reports"
    index = put(reports / "index.html", '<html>\n<a href="Sarah_Jenkins_interviews/01.html">interviews</a>\n</html>\n')
    inner = put(reports / "Sarah_Jenkins_interviews" / "01.html", "<p>nothing identifying</p>\n")
    assert leaks(capsys, reports, "--register", register) == (1, [
        f"{shown(inner)} (name): name: Sarah_Jenkins", f"{shown(index)}:2: name: Sarah_Jenkins",
    ], ["2 identifier(s) found in 2 of 2 file(s)."])
    withheld, _, errors = guard(register, reports)
    assert withheld == [inner, index]
    assert errors[:2] == [f"leak: {shown(inner)} (name): name", f"leak: {shown(index)}:2: name"]

    raw = tmp_path / "raw"
    put(raw / "Sarah_Jenkins_interviews" / "t.txt", "A: hello\n")
    out = anonymised(tmp_path, raw, register, capsys)
    assert (out / "[NAME-1]_interviews" / "t.txt").read_text(encoding="utf-8") == "A: hello\n"


# ----------------------------------------------------------------------------- 3. highlighting
def test_a_name_split_by_highlighting_is_found_and_replaced_keeping_the_markup(tmp_path, register, capsys):
    reports = tmp_path / "reports"
    report = put(reports / "03_theme_coding.html",
                 "<table>\n<tr><td>… said Mr <mark>Pain</mark>ter, in <b>Grimble</b>&shy;ford</td></tr>\n</table>\n")
    notebook = reports / "03_theme_coding.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "source": [], "execution_count": 1, "outputs": [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": ["<div>\n", "<span class=\"hit\">Sa</span>rah was there\n", "</div>"]}}]}
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                                   indent=1), encoding="utf-8")
    line = next(i for i, text in enumerate(notebook.read_text().splitlines(), 1) if "rah was" in text)
    assert leaks(capsys, reports, "--register", register) == (1, [
        f"{shown(report)}:2: name: Mr Painter", f"{shown(report)}:2: place: Grimbleford",
        f"{shown(notebook)}:{line}: name: Sarah",
    ], ["3 identifier(s) found in 2 of 2 file(s)."])
    withheld, _, _ = guard(register, reports)
    assert withheld == [report, notebook]

    raw = tmp_path / "raw"
    put(raw / "T02.md", 'A: Mr <mark>Pain</mark>ter came.\nB: <b title="Sarah Jenkins">Pain</b>ter?\n')
    out = anonymised(tmp_path, raw, register, capsys)
    # the markup stays; a name inside a tag that a replacement keeps is replaced too
    assert (out / "T02.md").read_text(encoding="utf-8") == \
        'A: [NAME-2]<mark></mark> came.\nB: <b title="[NAME-1]">[NAME-2]</b>?\n'


# ----------------------------------------------------------------------------- 4. processed: .qdpx and Parquet
def test_inside_of_qdpx_exports_and_parquet_tables_is_scanned(tmp_path, register, capsys):
    processed = tmp_path / "processed"
    processed.mkdir()
    qde = "\n".join(['<?xml version="1.0" encoding="utf-8"?>', '<Project name="study">', *["<!-- -->"] * 9,
                     '<TextSource name="Interview with Sarah Jenkins" guid="1"/>', "</Project>"])
    export = qdpx(processed / "export.qdpx", {
        "project.qde": qde, "sources/1.txt": "A: fine\nB: we met in Grimbleford\n",
        "sources/Mr_Painter.txt": "nothing here\n", "sources/logo.png": "\x89PNG Sarah Jenkins"})
    table = processed / "matrix.parquet"
    pd.DataFrame({"segment": ["s1", "s2"], "text": ["fine", "ask Mr Painter"]}).to_parquet(table)
    put(processed / "clean.csv", "a,b\n1,2\n")
    assert leaks(capsys, processed, "--register", register) == (1, [
        f"{shown(export)}!project.qde:12: name: Sarah Jenkins",
        f"{shown(export)}!sources/1.txt:2: place: Grimbleford",
        f"{shown(export)}!sources/Mr_Painter.txt (name): name: Mr_Painter",
        f"{shown(table)}:3: name: Mr Painter",
    ], ["4 identifier(s) found in 2 of 3 file(s)."])
    withheld, _, errors = guard(register, processed)
    assert withheld == [export, table]
    assert errors[:4] == [f"leak: {shown(export)}!project.qde:12: name",
                          f"leak: {shown(export)}!sources/1.txt:2: place",
                          f"leak: {shown(export)}!sources/Mr_Painter.txt (name): name",
                          f"leak: {shown(table)}:3: name"]


def test_a_word_source_inside_a_qdpx_is_scanned(tmp_path, register, capsys):
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Interviewer: where do you work?")
    document.add_paragraph("C01: at the depot in Grimbleford")
    document.save(buffer)
    export = tmp_path / "export.qdpx"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", '<?xml version="1.0" encoding="utf-8"?>\n<Project name="study"/>\n')
        archive.writestr("sources/2.docx", buffer.getvalue())
    assert leaks(capsys, export, "--register", register) == (1, [
        f"{shown(export)}!sources/2.docx:2: place: Grimbleford"], ["1 identifier(s) found in 1 of 1 file(s)."])


# ----------------------------------------------------------------------------- bombs and damage
def test_a_qdpx_whose_member_unpacks_to_1_gb_is_refused_in_one_line_fast_and_small(tmp_path, register):
    processed = tmp_path / "processed"
    export = bomb(processed / "export.qdpx", {"project.qde": "<Project/>"}, "sources/big.txt", 1024)
    assert export.stat().st_size < 2 * 2**20
    refusal = f"{shown(export)}!sources/big.txt: unpacks to 1,073,741,824 bytes from {packed(export, 'sources/big.txt')}"
    proc, peak_mb = run_measured("leaks", str(processed), "--register", str(register))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {refusal}"]
    assert peak_mb < 500
    withheld, said, errors = guard(register, processed)
    assert withheld == [export] and said == []
    assert errors[0] == f"leak: {refusal} (so it is treated as leaking)"
    assert errors[1].startswith("error: 0 identifier(s) from the register or patterns found in the outputs, "
                                "1 output file(s) could not be scanned; those 1 output file(s) are withheld ")


def test_densely_packed_members_and_damaged_files_are_refused_naming_file_and_member(tmp_path, register, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    dense = bomb(folder / "dense.qdpx", {}, "project.qde", 40)
    broken = folder / "report.docx"
    broken.write_bytes(b"not a zip at all")
    put(folder / "ok.txt", "Grimbleford\n")
    code, out, err = leaks(capsys, folder, "--register", register)
    assert code == 2
    assert out == [f"{shown(folder / 'ok.txt')}:1: place: Grimbleford"]
    assert err == ["1 identifier(s) found in 1 of 3 file(s).",
                   f"error: {shown(dense)}!project.qde: unpacks to 41,943,040 bytes from {packed(dense, 'project.qde')}",
                   f"error: {shown(broken)}: cannot be read as a Word .docx file (BadZipFile); not scanned"]
    withheld, _, _ = guard(register, folder)
    assert withheld == [dense, folder / "ok.txt", broken]


def test_anonymise_refuses_a_word_file_with_a_huge_member_in_one_line(tmp_path, register, capsys):
    raw = tmp_path / "raw"
    doc = bomb(raw / "T03.docx", {"[Content_Types].xml": "<Types/>"}, "word/media/image1.png", 80)
    assert main(["anonymise", str(raw), "--register", str(register), "--out", str(tmp_path / "anon"),
                 "--key", str(tmp_path / "secure" / "k.key.csv")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {shown(doc)}!word/media/image1.png: unpacks to 83,886,080 bytes from "
        f"{packed(doc, 'word/media/image1.png')}"]
    assert not (tmp_path / "anon").exists()


def test_a_member_over_64_mib_packed_below_100_to_1_is_refused_when_read_small_and_fast(tmp_path, register):
    processed = tmp_path / "processed"
    export = loosely_packed(processed / "export.qdpx", {"project.qde": "<Project/>"}, {"sources/big.txt": 65})
    assert export.stat().st_size < 2 * 2**20
    refusal = (f"{shown(export)}!sources/big.txt: unpacks to 68,157,440 bytes, over the limit of 67,108,864 for "
               f"one member; refused")
    proc, peak_mb = run_measured("leaks", str(processed), "--register", str(register))
    assert (proc.returncode, proc.stderr.splitlines()) == (2, [f"error: {refusal}"])
    assert peak_mb < 500
    withheld, said, errors = guard(register, processed)
    assert (withheld, said, errors[0]) == ([export], [], f"leak: {refusal} (so it is treated as leaking)")


def test_a_word_file_python_docx_would_unpack_past_64_mib_in_all_is_refused(tmp_path, register, capsys):
    raw = tmp_path / "raw"
    doc = loosely_packed(raw / "T03.docx", {"[Content_Types].xml": "<Types/>"},
                         {"word/media/image1.png": 33, "word/media/image2.png": 33})
    assert main(["anonymise", str(raw), "--register", str(register), "--out", str(tmp_path / "anon"),
                 "--key", str(tmp_path / "secure" / "k.key.csv")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {shown(doc)}: members unpack to 69,206,024 bytes in all, over the limit of 67,108,864; refused"]
    assert not (tmp_path / "anon").exists()
    assert leaks(capsys, raw, "--register", register) == (2, [], [
        f"error: {shown(doc)}: members unpack to 69,206,024 bytes in all, over the limit of 67,108,864; refused"])


def test_a_refused_member_whose_name_breaks_the_line_is_named_on_one_line(tmp_path, register, capsys):
    folder = tmp_path / "out"
    name = "sources/a\nerror: b\x1b.txt"  # a line break and an escape character
    export = bomb(folder / "export.qdpx", {"project.qde": "<Project/>"}, name, 2)
    assert leaks(capsys, folder, "--register", register) == (2, [], [
        f"error: {shown(export)}!sources/a?error: b?.txt: unpacks to 2,097,152 bytes from {packed(export, name)}"])


# ----------------------------------------------------------------------------- 5. the guard's API
def test_guard_returns_nothing_for_clean_outputs_and_ignores_missing_folders(tmp_path, register):
    figures = tmp_path / "figures"
    put(figures / "chart.svg", "<svg><text>[NAME-1] and [PLACE-1]</text></svg>\n")
    (figures / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    withheld, said, errors = guard(register, figures, tmp_path / "processed")
    assert (withheld, errors) == ([], [])
    assert said == ["Leak check: no identifiers from the register or patterns in 1 output file(s)"]
    (figures / "Sarah_Jenkins.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    withheld, said, errors = guard(register, figures, tmp_path / "processed")
    assert withheld == [figures / "Sarah_Jenkins.png"]
    assert errors[0] == f"leak: {shown(figures / 'Sarah_Jenkins.png')} (name): name"


def test_a_notebooks_script_bundle_is_not_a_url_finding_but_its_text_is(tmp_path, register, capsys):
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": ["x"], "outputs": [
        {"output_type": "display_data", "metadata": {}, "data": {"text/html": [
            "<script>\n", "/*! DataTables https://datatables.net/license */\n", "</script>\n",
            "<table><tr><td>see www.example-clinic.org for details</td></tr></table>"]}}]}
    nb = put(tmp_path / "out" / "01.ipynb", json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                         "nbformat_minor": 5}, indent=1))
    code, out, _ = leaks(capsys, nb.parent, "--register", register)
    assert code == 1
    assert [line.split(": ", 2)[1] for line in out if line.startswith(shown(nb))] == ["url"]
    assert "www.example-clinic.org" in out[0] and "datatables" not in " ".join(out)
