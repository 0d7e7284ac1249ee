"""helpers.anonymise: register, matching, pattern detectors, pseudonymised copies, key/audit/review, leaks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import docx
import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import ROOT, run_cli
from helpers import anonymise as A
from helpers import pipeline
from helpers.__main__ import main
from helpers.errors import InputError

FIXTURES = ROOT / "tests" / "fixtures" / "anonymise"
REGISTER = FIXTURES / "register.csv"
TODAY = date(2026, 1, 1)

# Every identifier seeded into the raw fixtures (incl. the .docx built below), as `leaks` reports it.
SEEDED = {
    ("name", "Zebedee Quigglesworth"), ("name", "ZEBEDEE QUIGGLESWORTH"), ("name", "zebedee quigglesworth"),
    ("name", "Quigglesworth's"), ("name", "Quigglesworths"), ("name", "Hortensia"), ("name", "Hortensia Plumtree"),
    ("name", "Hortensia Plumtree's"), ("name", "Will Bumbleby"), ("name", "Will"), ("name", "ZEBEDEE's"),
    ("place", "Grimbleford"), ("place", "grimbleford"), ("place", "St Marzipan's Hospital"), ("place", "Wobbleton"),
    ("organisation", "Fizzbang Logistics"), ("organisation", "FIZZBANG LOGISTICS"), ("other", "Fluffernutter"),
    ("phone", "07700 900123"), ("phone", "0161 496 0000"), ("phone", "07700 900456"),
    ("email", "zeb.fake@example.com"), ("postcode", "GR1 4ZZ"), ("postcode", "gr1 4zz"), ("nhs", "943 476 5919"),
    ("dob", "14/02/1975"), ("dob", "3rd of March 1968"),
    ("url", "https://www.fizzbang-logistics.example/careers"), ("url", "www.grimbleford-ips.example"),
}


def make_docx(path: Path) -> None:
    """A Word transcript laid out as a table, a name split over three runs, identifiers in header and properties."""
    doc = docx.Document()
    doc.core_properties.author = "Hortensia Plumtree"
    doc.sections[0].header.paragraphs[0].text = "Transcribed for Zebedee Quigglesworth"
    doc.add_paragraph("Interview C03 (raw)")
    table = doc.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Speaker", "Text"
    table.cell(1, 0).text, table.cell(1, 1).text = "Interviewer", "Who helped you most with getting back to work?"
    table.cell(2, 0).text = "Client"
    para = table.cell(2, 1).paragraphs[0]
    para.add_run("My old boss, ")
    run = para.add_run("Zeb")
    run.bold = True
    para.add_run("edee Quiggles")
    para.add_run("worth, and the pain nurse in Grimbleford. Ring me on 07700 900456 if you need to.")
    doc.save(str(path))


@pytest.fixture
def raw(tmp_path):
    """A copy of the raw fixture corpus with the .docx transcript added."""
    src = tmp_path / "raw"
    shutil.copytree(FIXTURES / "raw", src)
    make_docx(src / "transcripts" / "C03.docx")
    return src


@pytest.fixture(scope="module")
def register():
    return A.load_register(REGISTER)


def replace(register, text, today=TODAY):
    return A.Pseudonymiser(register, today).replace(text)


# ----------------------------------------------------------------------------- register
def test_register_numbers_each_category_in_register_order_and_maps_name_parts(register):
    assert [(e.original, e.pseudonym) for e in register.entries] == [
        ("Zebedee Quigglesworth", "[NAME-1]"), ("Hortensia Plumtree", "[NAME-2]"), ("Will Bumbleby", "[NAME-3]"),
        ("Grimbleford", "[PLACE-1]"), ("St Marzipan's Hospital", "[PLACE-2]"), ("Wobbleton", "[PLACE-3]"),
        ("Fizzbang Logistics", "[ORG-1]"), ("Fluffernutter", "[OTHER-1]")]
    assert [(p.original, p.pseudonym) for p in register.parts] == [
        ("Zebedee", "[NAME-1]"), ("Quigglesworth", "[NAME-1]"), ("Hortensia", "[NAME-2]"), ("Plumtree", "[NAME-2]"),
        ("Will", "[NAME-3]"), ("Bumbleby", "[NAME-3]")]


def test_explicit_pseudonyms_are_kept_and_automatic_numbers_skip_them(tmp_path):
    reg = tmp_path / "r.csv"
    reg.write_text("original,category,pseudonym\nAda Brambleweed,name,\nBo Quince,name,[NAME-1]\n"
                   "Cy Quince,name,Mr Nobody\nDr Ada Fennelworth,name,\n", encoding="utf-8")
    r = A.load_register(reg)
    assert [e.pseudonym for e in r.entries] == ["[NAME-2]", "[NAME-1]", "Mr Nobody", "[NAME-3]"]
    # "Ada" belongs to two people -> its own number after the register's; "Quince" likewise; "Dr" is a title
    parts = {p.original: p.pseudonym for p in r.parts}
    assert parts == {"Brambleweed": "[NAME-2]", "Ada": "[NAME-4]", "Bo": "[NAME-1]", "Quince": "[NAME-5]",
                     "Cy": "Mr Nobody", "Fennelworth": "[NAME-3]"}


@pytest.mark.parametrize("content, message", [
    ("original,kind\nAda,name\n", "r.csv:1: missing column 'category'; the register needs the columns original, "
                                  "category (and optionally pseudonym)"),
    ("original,category\n", "r.csv: the register is empty; add one row per identifier (columns original, category)"),
    ("", "r.csv: the register is empty; add one row per identifier (columns original, category)"),
    ("original,category\nAda,name\n,place\n", "r.csv:3: empty original; write the identifier to replace, "
                                              "or delete the row"),
    ("original,category\nAda,planet\n", "r.csv:2: category 'planet' of 'Ada' is not one of name, place, "
                                        "organisation, other"),
    ("original,category\nAda,name\nADA,name\n", "r.csv:3: 'ADA' is already in the register at line 2; "
                                                "keep one row per identifier"),
    ("original,category,pseudonym\nAda,name,Ada Smith\n", "r.csv:2: pseudonym 'Ada Smith' contains the identifier "
                                                          "'Ada'; choose a pseudonym that reveals nothing"),
])
def test_bad_register_gives_one_line_naming_file_and_line(tmp_path, content, message):
    reg = tmp_path / "r.csv"
    reg.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        A.load_register(reg)
    assert [p.replace(A.paths.relative(reg), "r.csv") for p in err.value.problems] == [message]


def test_register_saved_by_excel_in_windows_1252_is_read(tmp_path):
    reg = tmp_path / "r.csv"
    reg.write_bytes("original,category\nSt Marzipan’s Hospital,place\n".encode("cp1252"))
    r = A.load_register(reg)
    assert replace(r, "at St Marzipan's Hospital.") == "at [PLACE-1]."


# ----------------------------------------------------------------------------- matching
def test_all_cases_possessives_plurals_and_a_line_break_inside_a_turn(register):
    text = ("Zebedee Quigglesworth, ZEBEDEE QUIGGLESWORTH and zebedee quigglesworth; Quigglesworth's idea;\n"
            "the Quigglesworths' card; Hortensia\nPlumtree; St. Marzipan’s\n  Hospital's ward; grimbleford.")
    assert replace(register, text) == (
        "[NAME-1], [NAME-1] and [NAME-1]; [NAME-1]'s idea;\n"
        "the [NAME-1]' card; [NAME-2]\n; [PLACE-2]'s\n ward; [PLACE-1].")  # line count kept


def test_whole_words_only_and_no_match_across_a_blank_line(register):
    text = "Grimblefordshire, Wobbletonian, xFluffernutter; Hortensia\n\nPlumtree"
    assert replace(register, text) == "Grimblefordshire, Wobbletonian, xFluffernutter; [NAME-2]\n\n[NAME-2]"


def test_a_name_part_that_is_a_common_word_is_replaced_only_capitalised_mid_sentence(register):
    text = "I will ring. Go and see Will, he knows. Will I cope? WILL BUMBLEBY said so."
    assert replace(register, text) == "I will ring. Go and see [NAME-3], he knows. Will I cope? [NAME-3] said so."


def test_an_identifier_inside_a_longer_one_goes_with_the_longer_one(register):
    assert replace(register, "mail grimbleford@example.com today") == "mail [EMAIL-1] today"


# ----------------------------------------------------------------------------- pattern detectors
def test_nhs_check_digit_modulus_11():
    # 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11 - 2 = 9 = the last digit
    assert A.nhs_number_valid("9434765919")
    assert not A.nhs_number_valid("9434765918")
    # 4*3 = 12; 12 mod 11 = 1; 11 - 1 = 10: no valid check digit exists
    assert not any(A.nhs_number_valid(f"000000040{d}") for d in range(10))
    # 1*10 = 10; 11 - 10 = 1
    assert A.nhs_number_valid("1000000001")
    assert not A.nhs_number_valid("943476591")


@pytest.mark.parametrize("text, expected", [
    ("call 07700 900123 now", [("phone", "07700900123")]),
    ("call 07700900123.", [("phone", "07700900123")]),
    ("ring +44 (0)161 496 0000", [("phone", "01614960000")]),
    ("ring +44 7700 900123", [("phone", "07700900123")]),
    ("ring (0161) 496 0000", [("phone", "01614960000")]),
    ("ring 020 7946 0958", [("phone", "02079460958")]),
    ("at 00:12:31 and 12345 and 0400 hours", []),
    ("NHS 943 476 5919 / 943-476-5919 / 9434765919", [("nhs", "9434765919")] * 3),
    ("not an NHS number: 943 476 5918", []),
    ("GR1 4ZZ, gr14zz, M1 1AE, SW1A 1AA", [("postcode", "GR14ZZ"), ("postcode", "GR14ZZ"), ("postcode", "M11AE"),
                                          ("postcode", "SW1A1AA")]),
    ("on the M6 4pm, see you", []),
    ("mail Zeb.Fake+x@Example.co.uk.", [("email", "zeb.fake+x@example.co.uk")]),
    ("see https://www.fizzbang.example/jobs?id=3, or www.grimbleford.example.", [
        ("url", "fizzbang.example/jobs?id=3"), ("url", "grimbleford.example")]),
    ("look on fizzbang.co.uk/careers today", [("url", "fizzbang.co.uk/careers")]),
    ('xmlns="http://www.w3.org/2000/svg" and https://matplotlib.org/', []),
    ("born 14/02/1975, 3rd of March 1968, March 3, 1968, 1975-02-14, 05/06/75",
     [("dob", "1975-02-14"), ("dob", "1968-03-03"), ("dob", "1968-03-03"), ("dob", "1975-02-14"),
      ("dob", "1975-06-05")]),
    ("started 14/02/2020; version 3.11.10; 31/02/1975; 14.02.75", []),
])
def test_pattern_detectors(text, expected):
    found = A.find_identifiers(text, None, TODAY)
    assert [(m.category, m.key) for m in found] == expected


def test_pattern_pseudonyms_follow_first_appearance_and_repeat_for_the_same_value(register):
    p = A.Pseudonymiser(register, TODAY)
    assert p.replace("07700 900123, 0161 496 0000") == "[PHONE-1], [PHONE-2]"
    assert p.replace("+44 7700 900123 or 14/02/1975 (14 February 1975)") == "[PHONE-1] or [DOB-1] ([DOB-1])"


# ----------------------------------------------------------------------------- anonymise
def run_anonymise(raw, tmp_path, name="out"):
    return A.anonymise(raw, REGISTER, tmp_path / name, tmp_path / "secure" / "study.key.csv", today=TODAY)


def test_anonymise_writes_copies_in_the_same_formats_with_nothing_left_to_find(raw, tmp_path, register):
    result = run_anonymise(raw, tmp_path)
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        ".anonymised", "participants.csv", "transcripts", "transcripts/C01.txt", "transcripts/C02.md",
        "transcripts/C03.docx", "transcripts/E01.vtt", "transcripts/E02.srt", "transcripts/FG1.csv"]
    c01 = (out / "transcripts" / "C01.txt").read_text(encoding="utf-8")
    assert "My manager was\n[NAME-1], and honestly [NAME-1] was the best boss" in c01
    assert "pain got bad, [NAME-1]\n sat me down" in c01 and "It was [NAME-1]'s idea" in c01
    assert "The [NAME-1] even sent a card. [laughs]" in c01
    assert "rang them on [PHONE-1] and they gave me an\ne-mail, [EMAIL-1], to send" in c01
    vtt = (out / "transcripts" / "E01.vtt").read_text(encoding="utf-8")
    assert "00:00:14.500 --> 00:00:24.000\n<v E01>The referrals come from the pain team at [PLACE-2]\n, mainly from " \
           "[NAME-2]'s clinic" in vtt
    assert (out / "participants.csv").read_text(encoding="utf-8").splitlines()[1] == \
        "C01,client,interview,C01,C01,female,[PLACE-1]"
    scan = A.scan_files([out], register, TODAY)
    assert scan.findings.empty and scan.scanned == 8 and scan.skipped == [] and scan.problems == []
    assert result.skipped == []


def test_the_ingester_reads_the_copies_into_the_same_turns_with_only_the_identifiers_changed(raw, tmp_path):
    from helpers import corpus

    run_anonymise(raw, tmp_path)
    before = corpus.load_corpus(raw / "transcripts", raw / "participants.csv")
    after = corpus.load_corpus(tmp_path / "out" / "transcripts", tmp_path / "out" / "participants.csv")
    same = ["transcript_id", "turn", "speaker", "participant_id", "role", "group", "timestamp", "line"]
    assert before[same].equals(after[same]) and len(after) == 24
    # turns holding identifiers: C01 3, C02 2, C03 1, E01 2 (cues merged), E02 1 (cues merged), FG1 3
    assert after["text"].str.contains(r"\[(?:NAME|PLACE|ORG|OTHER|PHONE|EMAIL|POSTCODE|NHS|DOB|URL)-\d+\]").sum() == 12
    assert (before["text"] != after["text"]).sum() == 12


def test_docx_names_split_across_runs_are_replaced_keeping_formatting(raw, tmp_path, register):
    run_anonymise(raw, tmp_path)
    doc = docx.Document(str(tmp_path / "out" / "transcripts" / "C03.docx"))
    cell = doc.tables[0].cell(2, 1).paragraphs[0]
    assert [r.text for r in cell.runs] == ["My old boss, ", "[NAME-1]", "",
                                           ", and the pain nurse in [PLACE-1]. Ring me on [PHONE-2] if you need to."]
    assert cell.runs[1].bold
    assert doc.sections[0].header.paragraphs[0].text == "Transcribed for [NAME-1]"
    assert doc.core_properties.author == "[NAME-2]"
    assert A.docx_lines(tmp_path / "out" / "transcripts" / "C03.docx")[:4] == [
        "Interview C03 (raw)", "Speaker", "Text", "Interviewer"]



def test_leaks_reads_every_docx_property_that_anonymise_rewrites(tmp_path, register):
    doc = docx.Document()
    doc.add_paragraph("Nothing here.")
    doc.core_properties.content_status = "Checked by Hortensia"
    doc.core_properties.identifier = "Grimbleford"
    doc.core_properties.version = "Fluffernutter"
    doc.save(str(tmp_path / "props.docx"))
    scan = A.scan_files([tmp_path / "props.docx"], register)
    assert scan.scanned == 1
    assert sorted(scan.findings["text"]) == ["Fluffernutter", "Grimbleford", "Hortensia"]

def test_key_audit_and_review_list(raw, tmp_path):
    result = run_anonymise(raw, tmp_path)
    key = pd.read_csv(result.key, dtype=str, keep_default_na=False)
    assert list(key.columns) == ["pseudonym", "category", "original", "source", "occurrences"]
    rows = {(r.pseudonym, r.original): int(r.occurrences) for r in key.itertuples()}
    assert rows[("[NAME-1]", "Zebedee Quigglesworth")] == 5  # C01: 3 (one across a line break); docx: cell, header
    assert rows[("[NAME-1]", "Zebedee")] == 1 and rows[("[NAME-1]", "Quigglesworth")] == 2
    assert rows[("[PHONE-1]", "07700 900123")] == 1 and rows[("[PHONE-2]", "07700 900456")] == 1
    assert rows[("[POSTCODE-1]", "GR1 4ZZ")] == 2
    assert rows[("[NHS-1]", "943 476 5919")] == 1 and rows[("[DOB-1]", "14/02/1975")] == 1

    audit_text = result.audit.read_text(encoding="utf-8")
    audit = pd.read_csv(result.audit)
    assert list(audit.columns) == ["file", *A.CATEGORIES, "total", "review_candidates"]
    c01 = audit.set_index("file").loc["transcripts/C01.txt"]
    assert (c01["name"], c01["place"], c01["organisation"], c01["other"], c01["phone"], c01["email"],
            c01["postcode"]) == (7, 2, 1, 1, 1, 1, 1)
    assert audit.set_index("file").loc["TOTAL", "total"] == audit["total"].iloc[:-1].sum()
    originals = [e.original for e in A.load_register(REGISTER).entries] + [k for k in key["original"]]
    for original in originals:
        assert original.casefold() not in audit_text.casefold()
    assert A.scan_text(audit_text, A.load_register(REGISTER)) == []

    review = pd.read_csv(result.review, dtype=str, keep_default_na=False)
    assert list(review.columns) == ["candidate", "count", "file", "line", "context"]
    hits = {(r.candidate, r.file, r.line) for r in review.itertuples()}
    assert ("Gwendolyn", "transcripts/C01.txt", "13") in hits  # a name the register missed
    assert ("Will", "transcripts/FG1.csv", "5") not in hits  # replaced: not a candidate any more
    assert {c for c, _, _ in hits} == {"Gwendolyn"}  # not: Interviewer, Monday, Tuesdays, CVs, Usually (a CSV cell)…


def test_review_candidates_skip_sentence_starts_common_words_acronyms_and_pseudonyms():
    text = ("Interviewer: Did Gwen help?\n\nC01: Yes. Bob and I went to see Mr Pickles on Monday.\n"
            "JT Hard work. We saw the GPs and [NAME-1]'s Mum.\nPeggy: hello\n"
            "00:00:01.000 --> 00:00:02.000\nTruly, he said, \"Dreadful,\" then Sid left.\nWill I cope?")
    assert [(n, w) for n, w, _ in A.review_candidates(text, {"hello"}, {"will"})] == [
        (1, "Gwen"), (3, "Pickles"), (5, "Peggy"), (7, "Sid"), (8, "Will")]
    assert A.review_candidates("we met Sid's brother", set())[0] == (1, "Sid", "we met Sid's brother")


def test_same_register_and_sources_give_byte_identical_outputs(raw, tmp_path):
    first = run_anonymise(raw, tmp_path, "a")
    keys = first.key.read_bytes(), first.audit.read_bytes(), first.review.read_bytes()
    run_anonymise(raw, tmp_path, "b")
    for name in ("participants.csv", "transcripts/C01.txt", "transcripts/E01.vtt", "transcripts/FG1.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (first.key.read_bytes(), first.audit.read_bytes(), first.review.read_bytes()) == keys


def test_rerun_replaces_an_output_folder_written_by_anonymise_but_refuses_any_other(raw, tmp_path):
    run_anonymise(raw, tmp_path)
    (raw / "transcripts" / "C02.md").unlink()
    run_anonymise(raw, tmp_path)
    assert not (tmp_path / "out" / "transcripts" / "C02.md").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="exists and was not written by anonymise"):
        run_anonymise(raw, tmp_path, "mine")
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_bad_source_files_are_all_named_and_leave_no_output_and_no_temporary_files(raw, tmp_path):
    (raw / "transcripts" / "Z98.docx").write_bytes(b"not a zip")
    (raw / "transcripts" / "Z99.txt").write_bytes(b"")
    with pytest.raises(InputError) as err:
        run_anonymise(raw, tmp_path)
    assert err.value.problems == [
        f"{(raw / 'transcripts' / 'Z98.docx').as_posix()}: cannot read as a Word .docx file (BadZipFile); "
        f"save it from Word as .docx, or export it as .txt",
        f"{(raw / 'transcripts' / 'Z99.txt').as_posix()}: empty file; add the transcript text or remove the file"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_file_names_are_pseudonymised_too_and_other_formats_are_left_out(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Interview Grimbleford 1.txt").write_text("A: hello from Grimbleford\n", encoding="utf-8")
    (src / "consent form.pdf").write_bytes(b"%PDF-1.4 Grimbleford")
    result = A.anonymise(src, REGISTER, tmp_path / "out", tmp_path / "k.csv", today=TODAY)
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name != ".anonymised"] == ["Interview [PLACE-1] 1.txt"]
    assert result.skipped == [(src / "consent form.pdf").as_posix()]


def test_leak_lines_are_counted_in_the_original_text_after_long_blank_runs(register):
    text = "a\n" + " " * 50 + "x\n\n\n   call " + " " * 20 + "b 07700 900123 or\nGrimbleford"
    assert A.scan_text(text, register, today=TODAY) == [(6, "place", "Grimbleford"), (5, "phone", "07700 900123")]


def test_key_must_lie_outside_the_output_folder_and_outside_git(tmp_path, raw):
    with pytest.raises(InputError) as err:
        A.anonymise(raw, REGISTER, tmp_path / "out", tmp_path / "out" / "key.csv")
    assert err.value.problems[0].startswith("--key ") and "lies inside the output folder" in err.value.problems[0]
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("secret/\n", encoding="utf-8")
    (repo / "tracked.csv").write_text("x\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "tracked.csv"], check=True)
    for key, why in [(repo / "key.csv", "is not git-ignored"), (repo / "tracked.csv", "is a file tracked by git")]:
        with pytest.raises(InputError) as err:
            A.anonymise(raw, REGISTER, tmp_path / "out", key)
        assert why in err.value.problems[0]
        assert not (tmp_path / "out").exists()
    A.anonymise(raw, REGISTER, tmp_path / "out", repo / "secret" / "key.csv")
    assert (repo / "secret" / "key.csv").is_file() and (repo / "secret" / "review-key.csv").is_file()


def test_cli_anonymise_prints_the_audit_and_where_key_and_review_list_went(raw, tmp_path):
    out, key = tmp_path / "out", tmp_path / "secure" / "k.csv"
    proc = run_cli("anonymise", str(raw), "--register", str(REGISTER), "--out", str(out), "--key", str(key))
    assert proc.returncode == 0, proc.stderr
    assert "Anonymised 7 file(s)" in proc.stdout and "Gwendolyn" not in proc.stdout
    assert f"Key (keep it safe, never share): {key.as_posix()}" in proc.stdout
    assert A.scan_text(proc.stdout, A.load_register(REGISTER)) == []


def test_cli_bad_inputs_exit_2_with_one_clear_line(raw, tmp_path, capsys):
    key = tmp_path / "secure" / "k.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("original,type\nAda,name\n", encoding="utf-8")
    cases = [
        (["--register", str(bad), "--out", str(tmp_path / "o2"), "--key", str(key)],
         f"error: {bad.as_posix()}:1: missing column 'category'; the register needs the columns original, category "
         f"(and optionally pseudonym)"),
        (["--register", str(REGISTER), "--out", str(tmp_path / "o3"), "--key", str(tmp_path / "o3" / "k.csv")],
         f"error: --key {(tmp_path / 'o3' / 'k.csv').as_posix()}: lies inside the output folder "
         f"{(tmp_path / 'o3').as_posix()}; write it somewhere outside it (e.g. a secure folder outside the repository)"),
    ]
    for args, message in cases:
        assert main(["anonymise", str(raw), *args]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [message]
    bad.write_text("original,category\n", encoding="utf-8")
    assert main(["leaks", str(raw), "--register", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: {bad.as_posix()}: the register is empty; add one row per identifier (columns original, category)"
    assert main(["leaks", str(tmp_path / "missing"), "--register", str(REGISTER)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {(tmp_path / 'missing').as_posix()}: no such file or folder"


# ----------------------------------------------------------------------------- leaks
def test_leaks_reads_html_notebooks_svg_json_and_skips_images(tmp_path, register):
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "r.html").write_text('<html><style>/* https://github.com/some/css */</style>\n<p>ok</p>\n'
                                   '<td>St Marzipan&#x27;s Hospital</td>\n<a href="http://www.w3.org/x">x</a>\n',
                                   encoding="utf-8")
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("print(1)")])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Hortensia\nPlumtree said hi\n")]
    nbformat.write(nb, folder / "n.ipynb")
    (folder / "f.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg">\n<g id="text_1">\n'
                                  '<!-- Words of Fluffernutter -->\n<path d="M 0 0 L 943 476 5919"/>\n</g></svg>\n',
                                  encoding="utf-8")
    (folder / "t.json").write_text(json.dumps({"quote": "ring 07700\u00a0900123"}), encoding="utf-8")
    (folder / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00Grimbleford")
    scan = A.scan_files([folder], register, TODAY)
    findings, scanned, skipped = scan.findings, scan.scanned, scan.skipped
    shown = A.paths.relative(folder)
    nb_line = next(i + 1 for i, line in enumerate((folder / "n.ipynb").read_text().splitlines()) if "Hortensia" in line)
    assert findings.values.tolist() == [
        [f"{shown}/f.svg", 3, "other", "Fluffernutter"],
        [f"{shown}/n.ipynb", nb_line, "name", "Hortensia Plumtree"],
        [f"{shown}/r.html", 3, "place", "St Marzipan's Hospital"],
        [f"{shown}/t.json", 1, "phone", "07700 900123"],
    ]
    assert scanned == 4 and [p.name for p in skipped] == ["f.png"]


def test_cli_leaks_exit_1_lists_file_line_category_and_exit_0_when_clean(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("fine\nwe met in Wobbleton's park\n", encoding="utf-8")
    (tmp_path / "clean.md").write_text("[PLACE-3] is fine\n", encoding="utf-8")
    proc = run_cli("leaks", str(tmp_path), "--register", str(REGISTER))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [f"{(tmp_path / 'a.txt').as_posix()}:2: place: Wobbleton's"]
    assert proc.stderr.strip() == "1 identifier(s) found in 1 of 2 file(s)."
    assert main(["leaks", str(tmp_path / "clean.md"), "--register", str(REGISTER)]) == 0
    assert capsys.readouterr().out.strip() == "No identifiers found in 1 file(s)."


def test_leaks_finds_every_seeded_identifier_in_the_raw_fixtures(raw, register):
    findings = A.scan_files([raw], register, TODAY).findings
    assert SEEDED <= set(zip(findings["category"], findings["text"]))


# ----------------------------------------------------------------------------- pipeline
def _leaky_notebooks(folder: Path) -> None:
    folder.mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# Leaky"), new_code_cell('place: str = "nowhere"  # a place'),
                             new_code_cell("print(place)")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_leaky.ipynb")


@pytest.mark.slow
def test_pipeline_run_with_a_register_fails_when_a_report_leaks(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    _leaky_notebooks(nbs)
    config = tmp_path / "pipeline.yaml"
    config.write_text(f"pipeline:\n  register: {REGISTER.as_posix()}\n", encoding="utf-8")
    kwargs = dict(config_path=config, notebooks_dir=nbs, reports=tmp_path / "r", figures=tmp_path / "f", jobs=1)
    assert pipeline.run(overrides=["01_leaky.place=Grimbleford"], **kwargs) == 1
    err = capsys.readouterr().err
    assert re.search(r"leak: .*/r/01_leaky\.html:\d+: place", err)
    assert "Grimbleford" not in err
    assert pipeline.run(overrides=["01_leaky.place=[PLACE-1]"], **kwargs) == 0
    config.write_text(f"pipeline:\n  register: {(tmp_path / 'nope.csv').as_posix()}\n", encoding="utf-8")
    with pytest.raises(InputError, match="register file not found"):
        pipeline.run(**kwargs)


@pytest.mark.slow
def test_end_to_end_anonymise_then_pipeline_then_no_leaks_anywhere(raw, tmp_path):
    """Raw fixtures -> anonymise -> the whole pipeline on the copies -> `leaks` finds nothing; raw leaks all."""
    out, key = tmp_path / "anon", tmp_path / "secure" / "study.key.csv"
    proc = run_cli("anonymise", str(raw), "--register", str(REGISTER), "--out", str(out), "--key", str(key))
    assert proc.returncode == 0, proc.stderr

    def run_pipeline(data: Path, name: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
        config = tmp_path / f"{name}.yaml"
        config.write_text(f"pipeline:\n  register: {REGISTER.as_posix()}\n", encoding="utf-8")
        sets = ["--set", f"all.codebook_yaml={(ROOT / 'data' / 'codebook.yaml').as_posix()}"]
        for nb in pipeline.notebook_names():
            params = pipeline.notebook_defaults(ROOT / "notebooks" / f"{nb}.ipynb")
            if "transcripts_dir" in params:
                sets += ["--set", f"{nb}.transcripts_dir={(data / 'transcripts').as_posix()}"]
            if "participants_csv" in params:
                sets += ["--set", f"{nb}.participants_csv={(data / 'participants.csv').as_posix()}"]
            if "by" in params and nb.startswith("01"):
                sets += ["--set", f"{nb}.by=site"]  # the site names reach the report unless anonymised
            if "human_coding" in params:  # the demo's human coding is about the demo transcripts
                sets += ["--set", f"{nb}.human_coding="]
        reports, figures = tmp_path / f"{name}-reports", tmp_path / f"{name}-figures"
        processed = tmp_path / f"{name}-processed"  # tables of the raw run must not land in data/processed
        proc = run_cli("run", "--config", str(config), *sets, "--reports", str(reports), "--figures", str(figures),
                       "--processed", str(processed), "--jobs", "1")
        return proc, reports, figures

    proc, reports, figures = run_pipeline(out, "anon")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Leak check: no identifiers" in proc.stdout
    assert any(figures.glob("*.svg")) and (reports / "index.html").is_file()
    proc = run_cli("leaks", str(out / "transcripts"), str(reports), str(figures), str(tmp_path / "anon-processed"),
                   "--register", str(REGISTER))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().endswith("file(s).") and "No identifiers found" in proc.stdout

    proc, raw_reports, raw_figures = run_pipeline(raw, "raw")
    assert proc.returncode == 1 and "leak: " in proc.stderr
    guarded = proc.stderr
    proc = run_cli("leaks", str(raw / "transcripts"), str(raw_reports), str(raw_figures), "--register", str(REGISTER))
    assert proc.returncode == 1
    found = Counter()
    for line in proc.stdout.splitlines():
        m = re.match(r"^(?P<file>.+?):(?P<line>\d+): (?P<category>\w+): (?P<text>.+)$", line)
        if m:
            found[(m["category"], m["text"])] += 1
    assert SEEDED <= set(found)
    assert any(("place", "Grimbleford") == k for k in found)
    # the guard named the leaking reports, and the run withheld them: none is published
    assert re.search(rf"leak: {re.escape(raw_reports.as_posix())}/\S*\.html:\d+: place", guarded)
    assert not any(f.startswith(raw_reports.as_posix()) and f.endswith(".html") for f in
                   (ln.split(":", 1)[0] for ln in proc.stdout.splitlines()))
