"""Hostile input files (issue 14): zip bombs in .qdpx and .docx, entity expansion in a Word part, absurd
.qdpx positions, unreadable files, mixed encodings, files skipped without a word and one huge line.
Each fixture is generated here; a "1 GB member" is a run of one byte streamed into a ~1 MB zip."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest

from conftest import ROOT, run_measured
from helpers import limits, paths, project, survey, transcripts
from helpers.__main__ import main
from helpers.errors import InputError

MiB = 2**20
SUPPORTED = "txt, md, docx, vtt, srt or csv"
GUID = {"user": "AAAAAAAA-0000-4000-8000-000000000000", "code": "C0000000-0000-4000-8000-000000000001",
        "source": "7A1B2C3D-0000-4000-8000-000000000000"}
SOURCE_TEXT = "Interviewer: How was the support?\nP1: The support worker listened to me.\n"
CODED = (str(SOURCE_TEXT.index("support worker")), str(SOURCE_TEXT.index(" worker listened")))  # 'support' of P1
MEMORY_MIB = 400  # a generous bound on a command's peak memory (Python, pandas and numpy alone take ~150 MB)


# ----------------------------------------------------------------------------- fixtures
def stream_member(zf: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of `size` bytes of b'a', streamed so that nothing big is ever held."""
    block = b"a" * MiB
    with zf.open(name, "w", force_zip64=True) as out:
        for _ in range(size // MiB):
            out.write(block)


def selection(k: int, start: str | None, end: str | None) -> str:
    """A coded PlainTextSelection; None leaves a position attribute out."""
    where = "".join(f' {name}="{value}"' for name, value in (("startPosition", start), ("endPosition", end))
                    if value is not None)
    return (f'<PlainTextSelection guid="5E1E0000-0000-4000-8000-{k:012d}"{where} creatingUser="{GUID["user"]}">'
            f'<Coding guid="C0D10000-0000-4000-8000-{k:012d}"><CodeRef targetGUID="{GUID["code"]}"/></Coding>'
            f'</PlainTextSelection>')


def write_qdpx(path: Path, positions=(CODED,), source_size: int = 0, source: bytes | None = None) -> Path:
    """A one-source project coded at `positions` (start, end as written); the source is SOURCE_TEXT, or
    `source`, or `source_size` bytes of b'a' streamed in."""
    sels = "".join(selection(k, start, end) for k, (start, end) in enumerate(positions))
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
           f'<Users><User guid="{GUID["user"]}" name="A"/></Users>'
           f'<CodeBook><Codes><Code guid="{GUID["code"]}" name="Support" isCodable="true"/></Codes></CodeBook>'
           f'<Sources><TextSource guid="{GUID["source"]}" name="T1.txt" plainTextPath="internal://t1.txt">{sels}'
           f'</TextSource></Sources></Project>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        if source_size:
            stream_member(zf, "sources/t1.txt", source_size)
        else:
            zf.writestr("sources/t1.txt", SOURCE_TEXT.encode("utf-8") if source is None else source)
    return path


def write_docx(path: Path, replace: dict[str, bytes | int] | None = None, text: str = "Interviewer: Hello?\n"
               "P1: Hi, the support was good.") -> Path:
    """A Word file made by python-docx, with members replaced or added: bytes as given, an int as that many
    bytes of b'a' streamed in."""
    d = docx.Document()
    for line in text.splitlines():
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    replace = replace or {}
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename not in replace:
                out.writestr(info, src.read(info))
        for name, content in replace.items():
            if isinstance(content, int):
                stream_member(out, name, content)
            else:
                out.writestr(name, content)
    return path


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def warned(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


# ----------------------------------------------------------------------------- 1. zip bombs in a .qdpx
def test_a_qdpx_whose_source_unpacks_to_1_gb_is_refused_before_unpacking(tmp_path):
    bomb = write_qdpx(tmp_path / "bomb.qdpx", source_size=1024 * MiB)
    assert bomb.stat().st_size < 2 * MiB
    proc, peak = run_measured("import-qdpx", str(bomb), "--out", str(tmp_path / "codings.csv"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.splitlines()
    assert re.fullmatch(rf"error: {re.escape(paths.relative(bomb))}!sources/t1\.txt: unpacks to 1,073,741,824 bytes "
                        rf"from [\d,]+ \(ratio [\d,]+:1, over the limit of 100:1\); refused as a likely zip bomb", line)
    assert peak < MEMORY_MIB
    assert not (tmp_path / "codings.csv").exists()


def test_a_member_that_declares_less_than_it_holds_is_read_no_further(tmp_path, capsys):
    """The central directory says 1,000 bytes (so no ratio check applies); the source holds 16 MiB."""
    f = write_qdpx(tmp_path / "liar.qdpx", source=os.urandom(16) * MiB)
    data = bytearray(f.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the central directory entry of the last member, the source
    data[entry + 24:entry + 28] = (1000).to_bytes(4, "little")  # its uncompressed size
    f.write_bytes(bytes(data))
    assert main(["import-qdpx", str(f), "--out", str(tmp_path / "c.csv")]) == 2
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(f)}: damaged zip file (Bad CRC-32 for file 'sources/t1.txt'); export the project "
        f"again as REFI-QDA (.qdpx)"]


def test_zip_limits_count_total_ratio_method_and_bounded_reads(tmp_path, monkeypatch):
    def archive(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> tuple[zipfile.ZipFile, int]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return zipfile.ZipFile(io.BytesIO(buf.getvalue())), len(buf.getvalue())

    # members each too small for the ratio check, a bomb together
    zf, size = archive({f"m{k}.txt": b"a" * (MiB // 2) for k in range(40)})
    with pytest.raises(InputError) as exc:
        limits.ZipReader(zf, "x.qdpx", size)
    assert re.fullmatch(r"x\.qdpx: members unpack to 20,971,520 bytes in all from a file of [\d,]+ "
                        r"\(ratio [\d,]+:1, over the limit of 100:1\); refused as a likely zip bomb", exc.value.problems[0])
    # the member count, before anything is read
    monkeypatch.setattr(limits, "ZIP_MAX_MEMBERS", 3)
    zf, size = archive({f"m{k}": b"x" for k in range(4)})
    with pytest.raises(InputError) as exc:
        limits.ZipReader(zf, "x.docx", size)
    assert exc.value.problems == ["x.docx: 4 members in the zip, over the limit of 3; refused (not a document or "
                                  "project this workbench reads)"]
    # one member's declared size, and the bytes read from one archive together
    monkeypatch.setattr(limits, "ZIP_MAX_MEMBER_BYTES", 1000)
    monkeypatch.setattr(limits, "ZIP_MAX_READ_BYTES", 1500)
    zf, size = archive({"big": os.urandom(1001), "a": os.urandom(800), "b": os.urandom(800)})
    reader = limits.ZipReader(zf, "x.qdpx", size)
    with pytest.raises(InputError) as exc:
        reader.read("big")
    assert exc.value.problems == ["x.qdpx!big: unpacks to 1,001 bytes, over the limit of 1,000 for one member; refused"]
    assert len(reader.read("a")) == 800
    with pytest.raises(InputError) as exc:
        reader.read("b")
    assert exc.value.problems == ["x.qdpx!b: unpacks to 800 bytes; with the 800 already read that is over the limit "
                                  "of 1,500 read from one archive; refused"]
    # only stored and deflated members are unpacked (bzip2 and lzma decompress without a bound on one step)
    zf, size = archive({"a": b"text"}, zipfile.ZIP_BZIP2)
    with pytest.raises(InputError) as exc:
        limits.ZipReader(zf, "x.qdpx", size).read("a")
    assert exc.value.problems == ["x.qdpx!a: compression method 12 is not read (only stored and deflated members); "
                                  "save the file again from its program"]
    # a bounded read stops one byte past the limit, whatever the stream holds
    assert limits.read_at_most(io.BytesIO(b"x" * 10), 10) == b"x" * 10
    assert limits.read_at_most(io.BytesIO(b"x" * 11), 10) is None


# ----------------------------------------------------------------------------- 2. Word files
@pytest.mark.parametrize("member", ["word/document.xml", "docProps/thumbnail.jpeg"])
def test_a_docx_with_a_member_unpacking_to_1_gb_is_refused_before_unpacking(tmp_path, member):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    bomb = write_docx(folder / "C01.docx", {member: 1024 * MiB})
    proc, peak = run_measured("ingest", str(folder), "--out", str(tmp_path / "turns.csv"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = errors(proc.stderr)
    assert re.fullmatch(rf"error: {re.escape(paths.relative(bomb))}!{re.escape(member)}: unpacks to 1,073,741,824 "
                        rf"bytes from [\d,]+ \(ratio [\d,]+:1, over the limit of 100:1\); refused as a likely zip bomb",
                        line)
    assert peak < MEMORY_MIB


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (k, (b"&lol%d;" % (k - 1) if k > 1 else b"&lol;") * 10)
                             for k in range(1, 10))
                  + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                    b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")


def test_a_docx_with_entity_expansion_is_refused_in_one_line(tmp_path, capsys):
    bomb = write_docx(tmp_path / "C01.docx", {"word/document.xml": BILLION_LAUGHS})
    assert main(["ingest", str(bomb)]) == 2
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(bomb)}!word/document.xml: XML with a document type or entity declarations "
        f"(<!DOCTYPE / <!ENTITY); refused: a Word document never has them (entity expansion?)"]


def test_a_docx_is_read_from_its_text_parts_only_with_the_same_text(tmp_path, monkeypatch):
    """A large picture (random bytes: no bomb) is never unpacked; the text is what python-docx reads."""
    f = write_docx(tmp_path / "C01.docx", {"docProps/thumbnail.jpeg": os.urandom(4 * MiB),
                                           "word/media/image1.png": os.urandom(MiB)})
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    (doc,) = transcripts.read_transcript(f)
    assert sorted(opened) == ["[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "word/document.xml"]
    monkeypatch.undo()
    assert [(t["speaker"], t["text"]) for t in doc.turns] == [("Interviewer", "Hello?"),
                                                              ("P1", "Hi, the support was good.")]
    assert [p.text for p in docx.Document(f).paragraphs] == ["Interviewer: Hello?", "P1: Hi, the support was good."]


# ----------------------------------------------------------------------------- 3. positions in a .qdpx
@pytest.mark.parametrize("start", ["100000000000000000000000000", str(2**63), "-1", "12abc", None])
def test_a_qdpx_position_that_is_no_position_is_one_line(tmp_path, capsys, start):
    f = write_qdpx(tmp_path / "p.qdpx", positions=[(start, "60")])
    assert main(["import-qdpx", str(f), "--out", str(tmp_path / "c.csv")]) == 2
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(f)}!project.qde: <PlainTextSelection guid='5E1E0000-0000-4000-8000-000000000000'> "
        f"startPosition={start!r} is not a character position (a whole number from 0 to 9,223,372,036,854,775,807); "
        f"export the project again from your QDA tool"]


def test_a_qdpx_position_past_the_source_end_is_not_placed_and_never_wraps(tmp_path, capsys):
    end = str(2**63 - 1)
    f = write_qdpx(tmp_path / "p.qdpx", positions=[CODED, (str(2**63 - 2), end)])
    assert main(["import-qdpx", str(f), "--out", str(tmp_path / "c.csv")]) == 0
    assert f"not placed: offsets outside the source text (0..{len(SOURCE_TEXT)}) (e.g. [{2**63 - 2}, {end})" in \
        capsys.readouterr().err
    codings = pd.read_csv(tmp_path / "c.csv")
    assert codings[["start", "end"]].values.tolist() == [[4, 11]]  # 'support' in P1's turn


# ----------------------------------------------------------------------------- 4. unreadable files
def test_an_unreadable_file_is_one_line(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "C01.txt").write_text("Interviewer: Hi\nP1: Hello\n", encoding="utf-8")
    locked = folder / "C02.txt"
    locked.write_text("Interviewer: Hi\nP2: Hello\n", encoding="utf-8")
    qdpx = write_qdpx(tmp_path / "p.qdpx")
    real_read_bytes, real_open = Path.read_bytes, open

    def read_bytes(self):
        if self.name == "C02.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    def open_file(file, *args, **kwargs):
        if str(file).endswith("p.qdpx"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr("helpers.exchange.open", open_file, raising=False)
    assert main(["ingest", str(folder)]) == 2
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(locked)}: cannot read the file (Permission denied); check that you may read it "
        f"(its permissions) or copy it here again"]
    assert main(["import-qdpx", str(qdpx), "--out", str(tmp_path / "c.csv")]) == 2
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(qdpx)}: cannot read the file (Permission denied); check that you may read it "
        f"(its permissions) or copy it here again"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="as root (or off POSIX) chmod 000 does not stop reading; simulated in the test above")
def test_a_file_without_read_permission_is_one_line(tmp_path, capsys):
    f = tmp_path / "C01.txt"
    f.write_text("Interviewer: Hi\nP1: Hello\n", encoding="utf-8")
    f.chmod(0)
    try:
        assert main(["ingest", str(f)]) == 2
    finally:
        f.chmod(0o644)
    assert errors(capsys.readouterr().err) == [
        f"error: {paths.relative(f)}: cannot read the file (Permission denied); check that you may read it "
        f"(its permissions) or copy it here again"]


# ----------------------------------------------------------------------------- 5. mixed encodings
def test_a_file_mixing_utf8_and_windows_1252_is_decoded_per_line_with_one_warning(tmp_path, capsys):
    f = tmp_path / "C01.txt"
    f.write_bytes("Interviewer: Was the café open?\n".encode("utf-8")
                  + "P1: Yes, and the crème brûlée was good.\n".encode("cp1252")
                  + "Interviewer: “Good” — and then?\n".encode("utf-8")
                  + "P1: Naïve me.\n".encode("cp1252"))
    out = tmp_path / "turns.csv"
    assert main(["ingest", str(f), "--out", str(out)]) == 0
    assert warned(capsys.readouterr().err) == [
        f"warning: {paths.relative(f)}:2: 2 line(s) are not UTF-8 (line 2, 4) and were read as Windows-1252, the "
        f"other lines as UTF-8; check those lines and re-save the file as UTF-8"]
    assert pd.read_csv(out)["text"].tolist() == ["Was the café open?", "Yes, and the crème brûlée was good.",
                                                 "“Good” — and then?", "Naïve me."]
    (doc,) = transcripts.read_transcript(f)
    assert doc.encoding == "utf-8+cp1252"


def test_a_wholly_windows_1252_file_is_read_as_before_and_a_bad_byte_names_its_line(tmp_path):
    f = tmp_path / "C01.txt"
    f.write_bytes("Interviewer: Was the café open?\nP1: Yes.\n".encode("cp1252"))
    (doc,) = transcripts.read_transcript(f)
    assert (doc.encoding, doc.warnings, doc.turns[0]["text"]) == ("cp1252", [], "Was the café open?")
    f.write_bytes("Interviewer: café “open”?\n".encode("utf-8") + b"P1: \xe9t\xe9 \x81\n")
    with pytest.raises(InputError) as exc:
        transcripts.read_transcript(f)
    assert exc.value.problems == [f"{paths.relative(f)}:2: undecodable byte 0x81 (not UTF-8, UTF-16 or Windows-1252); "
                                  f"re-save the file as UTF-8"]


# ----------------------------------------------------------------------------- 6. skipped files are listed
@pytest.fixture()
def odd_folder(tmp_path) -> Path:
    """A transcripts folder with a link to a transcript, a link loop, a dangling link, an .rtf, a hidden file,
    a subfolder and a file the user excludes."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "A.txt").write_text("Interviewer: Hi\nP1: Hello there\n", encoding="utf-8")
    (folder / "B.txt").symlink_to("A.txt")
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "dangling.txt").symlink_to("missing.txt")
    (folder / "notes.rtf").write_text("{\\rtf1 notes}", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "old").mkdir()
    (folder / "legend.txt").write_text("not a transcript\n", encoding="utf-8")
    return folder


def skip_lines(folder: Path) -> list[str]:
    shown = paths.relative(folder)
    return [f"{shown}/.DS_Store: skipped: hidden or temporary file",
            f"{shown}/dangling.txt: skipped: broken symbolic link (its target 'missing.txt' does not exist); "
            f"restore the file or remove the link",
            f"{shown}/loop.txt: skipped: symbolic link loop (the link leads back to itself); remove it",
            f"{shown}/notes.rtf: skipped: unsupported extension '.rtf'; supported: {SUPPORTED}",
            f"{shown}/old: skipped: a folder (transcripts in subfolders are not read); name it as well to read it"]


def test_every_skipped_file_is_listed_with_its_reason_by_ingest_run_and_survey(odd_folder, tmp_path, capsys):
    out = tmp_path / "turns.csv"
    assert main(["ingest", str(odd_folder), "--exclude", "legend.txt", "--out", str(out)]) == 0
    assert warned(capsys.readouterr().err) == [f"warning: {line}" for line in skip_lines(odd_folder)]
    turns = pd.read_csv(out)
    assert sorted(turns["transcript_id"].unique()) == ["A", "B"]  # the link inside the folder is read
    # `run` checks its inputs before any notebook: the same lines are its warnings
    notes = project.check_inputs({"01": {"transcripts_dir": str(odd_folder), "exclude_files": ["legend.txt"]}})
    assert [n for n in notes if ": skipped: " in n] == skip_lines(odd_folder)
    # `survey` lists them in its report, with the excluded file
    result = survey.survey(odd_folder, exclude=["legend.txt"])
    assert {p.name: why for p, why in result.skipped} == {
        **{line.split(": skipped: ")[0].rsplit("/", 1)[1]: line.split(": skipped: ")[1]
           for line in skip_lines(odd_folder)}, "legend.txt": "excluded (legend.txt)"}


def test_many_hidden_files_are_listed_in_one_line(tmp_path, recwarn):
    (tmp_path / "A.txt").write_text("Interviewer: Hi\nP1: Hello\n", encoding="utf-8")
    for name in (".DS_Store", "._A.txt", ".~lock.A.txt#", "~$A.docx", ".Rhistory", ".notes"):
        (tmp_path / name).write_bytes(b"x")
    transcripts.read_transcripts(tmp_path)
    assert [str(w.message) for w in recwarn if issubclass(w.category, transcripts.IngestWarning)] == [
        f"{paths.relative(tmp_path)}: skipped: 6 hidden or temporary files (.DS_Store, .Rhistory, ._A.txt, .notes, "
        f".~lock.A.txt#, …)"]


# ----------------------------------------------------------------------------- 7. one huge line
def test_a_transcript_of_one_30_mb_line_is_read_within_a_few_times_its_size(tmp_path):
    f = tmp_path / "T1.txt"
    line = "P1: " + "and then we talked about the support " * 800_000
    f.write_text("Interviewer: Tell me.\n" + line + "\n", encoding="utf-8")
    size = f.stat().st_size / MiB
    assert size > 28
    script = ("import resource, sys\n"
              "from helpers import transcripts\n"
              "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "(doc,) = transcripts.read_transcripts(sys.argv[1])\n"
              "assert len(doc.turns) == 2 and len(doc.turns[1]['text']) > 28_000_000\n"
              "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(f)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 5 * size
