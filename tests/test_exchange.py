"""REFI-QDA exchange: import another tool's .qdpx/.qde, place selections on turns, export, round trip."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xmlschema

from conftest import run_cli
from helpers import exchange as ex
from helpers import paths
from helpers.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_TRANSCRIPTS = paths.DATA / "transcripts"
DEMO_PARTICIPANTS = paths.DATA / "participants.csv"
DEMO_CODEBOOK = paths.DATA / "codebook.yaml"
OTHER_TOOL = FIXTURES / "qdpx_other_tool"
# The REFI-QDA schema (MIT licence, notice inside) is copied into the fixtures so CI never
# depends on the shared folder beside the repository; that folder is only a fallback.
XSD = FIXTURES / "refi-qda" / "Project-mrt2019.xsd"
if not XSD.is_file():
    XSD = paths.ROOT.parent / "shared" / "refi-qda" / "Project-mrt2019.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(XSD))


@pytest.fixture(scope="module")
def codebook_schema():
    """The codebook (.qdc) schema: the same types in the codebook namespace, CodeBook as root."""
    text = XSD.read_text(encoding="utf-8").replace("urn:QDA-XML:project:1.0", "urn:QDA-XML:codebook:1.0")
    text = text.replace('<xsd:element name="Project" type="ProjectType">',
                        '<xsd:element name="CodeBook" type="CodeBookType"/>\n<xsd:element name="Project" type="ProjectType">')
    return xmlschema.XMLSchema(io.StringIO(text))


def make_turns() -> pd.DataFrame:
    rows = [
        ("T1", 0, "Interviewer", "", "interviewer", "", "Can you tell me about your pain?", 3),
        ("T1", 1, "C01", "C01", "participant", "client", "It's in my back. Some days I can't cope at all.", 5),
        ("T1", 2, "Interviewer", "", "interviewer", "", "And work?", 7),
        ("T1", 3, "C01", "C01", "participant", "client", "I lost my job last year.\n\nMy confidence went.", 9),
        ("T2", 0, "Interviewer", "", "interviewer", "", "What does the ESW do?", 1),
        ("T2", 1, "E01", "E01", "participant", "esw", "We find placements with employers who don't mind pain.", 2),
    ]
    df = pd.DataFrame(rows, columns=["transcript_id", "turn", "speaker", "participant_id", "role", "group", "text",
                                     "line"])
    df["timestamp"] = np.nan
    df["source"] = df["transcript_id"] + ".txt"
    return df[["transcript_id", "turn", "speaker", "participant_id", "role", "group", "timestamp", "text", "source",
               "line"]]


CODES = pd.DataFrame([
    ("situations", "", "Situations of chronic pain patients", "How clients live."),
    ("situations", "complex_needs", "Complex needs", "Pain, mood, money & care."),
    ("outcomes", "", "Outcomes", ""),
    ("outcomes", "confidence", "Confidence", "Feeling able to work."),
    ("programme_activities", "", "Programme activities", "What IPS does."),
    ("programme_activities", "placements", "Placements", ""),
], columns=["theme", "subtheme", "label", "description"])

PARTICIPANTS = pd.DataFrame({"participant_id": ["E01", "C01"], "group": ["esw", "client"],
                             "collection": ["interview", "interview"], "transcript_id": ["T2", "T1"],
                             "speaker_labels": ["E01", "C01"], "age": ["38", "45"], "site": ["Site B", ""]})


def codings_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["segment_id", "participant_id", "group", "theme", "subtheme", "term", "start",
                                     "end", "coder"])
    df.insert(1, "transcript_id", df["segment_id"].str.split(":").str[0])
    return ex.with_coder(df)


EXPECTED_OTHER_TOOL = codings_frame([
    ("T1:1", "C01", "client", "situations", "", "", 11, 47, "Alice"),
    ("T1:1", "C01", "client", "situations", "complex_needs", "", 29, 39, "Alice"),
    ("T1:3", "C01", "client", "situations", "", "", 0, 13, "Alice"),
    ("T1:3", "C01", "client", "outcomes", "confidence", "", 26, 44, "Bob"),
    ("T2:1", "E01", "esw", "programme_activities", "placements", "", 8, 33, "Bob"),
    ("T2:1", "E01", "esw", "random_stuff", "", "", 38, 53, "Bob"),
])


def zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return out


@pytest.fixture()
def other_tool_qdpx(tmp_path) -> Path:
    return zip_folder(OTHER_TOOL, tmp_path / "other tool.qdpx")


# ----------------------------------------------------------------------------- import
def test_other_tool_fixture_is_valid_refi_qda(schema):
    schema.validate(str(OTHER_TOOL / "Project.qde"))


def test_import_other_tool_conventions_places_every_selection_on_turns(other_tool_qdpx):
    result = ex.import_qdpx(other_tool_qdpx, make_turns(), CODES)
    pd.testing.assert_frame_equal(result.codings, EXPECTED_OTHER_TOOL)
    texts = make_turns().set_index(make_turns()["transcript_id"] + ":" + make_turns()["turn"].astype(str))["text"]
    got = [texts[s][a:b] for s, a, b in zip(result.codings["segment_id"], result.codings["start"], result.codings["end"])]
    assert got == ["back. Some days I can't cope at all.", "can't cope", "I lost my job", "My confidence went",
                   "placements with employers", "don't mind pain"]


def test_bare_qde_next_to_its_sources_folder_reads_the_same(tmp_path):
    shutil.copytree(OTHER_TOOL, tmp_path / "proj")
    result = ex.import_qdpx(tmp_path / "proj" / "Project.qde", make_turns(), CODES)
    pd.testing.assert_frame_equal(result.codings, EXPECTED_OTHER_TOOL)


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_sources_outside_the_project_by_absolute_or_relative_path(tmp_path, style):
    src = OTHER_TOOL / "Sources" / "7A1B2C3D-0000-4000-8000-0000000000A1.txt"
    (tmp_path / "texts").mkdir()
    shutil.copy(src, tmp_path / "texts" / "T1 interview.txt")
    path = f"absolute://{(tmp_path / 'texts' / 'T1 interview.txt').as_posix()}" if style == "absolute" \
        else "texts/T1 interview.txt"
    xml = (OTHER_TOOL / "Project.qde").read_text(encoding="utf-8").replace(
        "internal://7A1B2C3D-0000-4000-8000-0000000000A1.txt", path)
    (tmp_path / "project.qde").write_text(xml, encoding="utf-8")
    result = ex.import_qdpx(tmp_path / "project.qde", make_turns(), CODES)
    pd.testing.assert_frame_equal(result.codings, EXPECTED_OTHER_TOOL)


def test_unplaceable_selections_are_reported_with_source_offsets_and_reason(other_tool_qdpx):
    result = ex.import_qdpx(other_tool_qdpx, make_turns(), CODES)
    un = result.unplaced
    assert list(un.columns) == ex.UNPLACED_COLUMNS
    assert un[["source", "start", "end", "code", "coder"]].values.tolist() == [
        ["T1.txt", 101, 105, "Complex needs", "Alice"],
        ["T1.txt", 135, 145, "deadbeef-0000-4000-8000-000000000000", "Bob"],
        ["T1.txt", 168, 177, "Situations", "Alice"],
        ["T1.txt", 5000, 5010, "Complex needs", "Alice"],
    ]
    reasons = un["reason"].tolist()
    assert reasons[0].startswith("it covers only speaker labels, headers or blank text, or only interviewer turns")
    assert reasons[1] == "its code GUID is not in the project's code tree"
    assert reasons[3] == "offsets outside the source text (0..230)"
    at = f"{paths.relative(other_tool_qdpx)}!Project.qde"
    assert result.warnings[-3:] == [  # one warning per reason, with counts and an example
        f"{at}: 2 of 9 coded selection(s) not placed: it covers only speaker labels, headers or blank text, or only "
        "interviewer turns (e.g. [101, 105) of source 'T1.txt' coded 'Complex needs' by Alice)",
        f"{at}: 1 of 9 coded selection(s) not placed: its code GUID is not in the project's code tree (e.g. "
        "[135, 145) of source 'T1.txt' coded 'deadbeef-0000-4000-8000-000000000000' by Bob)",
        f"{at}: 1 of 9 coded selection(s) not placed: offsets outside the source text (0..230) (e.g. [5000, 5010) "
        "of source 'T1.txt' coded 'Complex needs' by Alice)"]


def test_media_selections_whole_source_codings_and_odd_codes_are_warned_about(other_tool_qdpx):
    warnings = ex.import_qdpx(other_tool_qdpx, make_turns(), CODES).warnings
    text = "\n".join(warnings)
    assert "skipped 1 coding(s) on picture source 'Pain drawing': only text sources can be placed" in text
    assert "Recording" not in text  # an audio source without codings is no loss
    assert "skipped 1 coding(s) of the whole source 'Interview two'" in text
    assert ("1 code(s) deeper than theme/subtheme were counted as their subtheme: "
            "Programme activities::Placements::Employer contact") in text
    assert "code 'Random stuff': theme not in the codebook; kept as random_stuff" in text


def test_interviewer_turns_are_kept_when_asked(other_tool_qdpx):
    result = ex.import_qdpx(other_tool_qdpx, make_turns(), CODES, include_interviewer=True)
    added = result.codings[result.codings["participant_id"] == ""]
    # "And work?" is coded by its own selection and by the one running from turn 1 to turn 3: one row
    assert added[["segment_id", "theme", "start", "end", "coder"]].values.tolist() == [
        ["T1:2", "situations", 0, 9, "Alice"]]
    assert len(result.unplaced) == 3


def test_cases_and_variables_become_participant_attributes(other_tool_qdpx):
    cases = ex.import_qdpx(other_tool_qdpx, make_turns(), CODES).cases
    assert cases.to_dict("records") == [{"participant_id": "C01", "gender": "female", "age": "45"},
                                        {"participant_id": "E01", "gender": "male", "age": ""}]


def test_without_a_codebook_code_names_become_codes():
    project = ex.read_project(OTHER_TOOL / "Project.qde")
    codes, warnings = ex.map_codes(project.codes)
    assert codes[["name", "theme", "subtheme"]].values.tolist() == [
        ["Situations", "situations", ""], ["Complex needs", "situations", "complex_needs"],
        ["Outcomes::Confidence", "outcomes", "confidence"], ["Programme activities", "programme_activities", ""],
        ["Placements", "programme_activities", "placements"],
        ["Employer contact", "programme_activities", "placements"], ["Random stuff", "random_stuff", ""]]
    assert len(warnings) == 1 and "deeper than theme/subtheme" in warnings[0]


def test_codes_map_by_guid_then_code_or_label_and_a_flat_subtheme_finds_its_theme():
    codes = pd.DataFrame({"guid": [ex.code_guid("outcomes", "confidence"), "x1", "x2", "x3"],
                          "name": ["renamed in the tool", "Complex needs", "PLACEMENTS", "Outcomes::Nonsense"],
                          "path": [("renamed in the tool",), ("Complex needs",), ("PLACEMENTS",),
                                   ("Outcomes", "Nonsense")], "description": "", "color": ""})
    mapped, warnings = ex.map_codes(codes, CODES)
    assert mapped[["theme", "subtheme"]].values.tolist() == [
        ["outcomes", "confidence"], ["situations", "complex_needs"], ["programme_activities", "placements"],
        ["outcomes", "nonsense"]]
    assert warnings == ["code 'Outcomes::Nonsense': subtheme not in the codebook; kept as outcomes/nonsense"]


def test_turn_missing_from_the_source_is_named_and_its_selection_reported(tmp_path):
    turns = make_turns()
    turns.loc[3, "text"] = "Words the source never had."
    shutil.copytree(OTHER_TOOL, tmp_path / "proj")
    result = ex.import_qdpx(tmp_path / "proj" / "Project.qde", turns, CODES)
    assert any("1 turn(s) of transcript T1 not found in its text: 3 (line 9)" in w for w in result.warnings)
    assert "T1:3" not in set(result.codings["segment_id"])
    confidence = result.unplaced[result.unplaced["code"] == "Outcomes::Confidence"]
    assert confidence["reason"].iloc[0].endswith("(or turns not found in the source: 1)")


def test_map_turns_verbatim_then_ignoring_whitespace_and_quote_style():
    source = "A: one two\n\nB: three\nfour’s\n\nA: one two"
    cmap = ex.map_turns(["one two", "three four's", "one two"], source)
    assert cmap.missing == []
    assert cmap.src[cmap.first[1]] == source.index("three")
    assert cmap.src[cmap.last[1] - 1] == source.index("four’s") + 5
    assert cmap.src[cmap.first[2]] == source.rindex("one two")  # in order, not the first occurrence again
    rows = ex.place_selections(np.array([7, 0, 3]), np.array([source.index("four"), 2, len(source)]), cmap)
    # selection 0 spans "two" .. "three"; 1 only a label; 2 covers all three turns
    assert rows.values.tolist() == [[0, 0, 4, 7], [0, 1, 0, 5], [2, 0, 0, 7], [2, 1, 0, 12], [2, 2, 0, 7]]


@pytest.mark.parametrize("content, message", [
    (b"not a zip", "not a zip file; a .qdpx must be the zip your QDA tool exports"),
    (None, "no project.qde inside this zip"),
])
def test_broken_qdpx_files_are_refused(tmp_path, content, message):
    path = tmp_path / "broken.qdpx"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("Sources/a.txt", "text")
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        ex.read_project(path)



@pytest.mark.parametrize("where", ["header", "data"])
def test_a_damaged_qdpx_zip_gives_one_error_line(tmp_path, where):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>' * 50)
    data = bytearray(buf.getvalue())
    at = 30 + len("project.qde") + (0 if where == "data" else -len("project.qde"))
    data[at:at + 8] = b"\xff" * 8  # the member's name in its local header, or its compressed bytes
    (tmp_path / "damaged.qdpx").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"damaged.qdpx: damaged zip file \(.+\); export the project again"):
        ex.read_project(tmp_path / "damaged.qdpx")

def test_bad_xml_names_the_file_and_line(tmp_path):
    (tmp_path / "p.qde").write_text('<?xml version="1.0"?>\n<Project name="x">\n<Users>\n</Project>\n')
    with pytest.raises(InputError, match=r"p.qde:4: not valid XML"):
        ex.read_project(tmp_path / "p.qde")


# ----------------------------------------------------------------------------- export
AUTO = codings_frame([
    ("T1:1", "C01", "client", "situations", "complex_needs", "can't cope", 29, 39, "auto"),
    ("T1:1", "C01", "client", "situations", "", "back", 11, 15, "auto"),
    ("T1:3", "C01", "client", "outcomes", "confidence", "confiden*", 29, 39, "auto"),
    ("T1:3", "C01", "client", "outcomes", "confidence", "confiden*", 29, 39, "Alice"),
    ("T2:1", "E01", "esw", "programme_activities", "placements", "placement*", 8, 18, "auto"),
    ("T2:1", "E01", "esw", "extra", "", "employers", 19, 33, "auto"),
])


def test_export_validates_and_carries_users_codes_cases_and_one_selection_per_match(schema):
    files = ex.project_files(make_turns(), AUTO, CODES, PARTICIPANTS, description="Synthetic test export")
    assert list(files)[0] == "project.qde" and all(n.startswith("sources/") for n in list(files)[1:])
    schema.validate(io.BytesIO(files["project.qde"]))
    project = schema.to_dict(io.BytesIO(files["project.qde"]))
    assert [u["@name"] for u in project["Users"]["User"]] == ["Alice", "auto"]
    codes = project["CodeBook"]["Codes"]["Code"]
    assert [c["@name"] for c in codes] == ["Situations of chronic pain patients", "Outcomes", "Programme activities",
                                          "extra"]
    assert codes[0]["Description"] == "How clients live."
    assert codes[0]["Code"][0]["@name"] == "Complex needs" and codes[0]["Code"][0]["Description"] == \
        "Pain, mood, money & care."
    assert [c["@color"] for c in codes] == ["#E69F00", "#56B4E9", "#009E73", "#CC79A7"]
    assert [v["@name"] for v in project["Variables"]["Variable"]] == ["group", "collection", "age", "site"]
    assert [v["@typeOfVariable"] for v in project["Variables"]["Variable"]] == ["Text", "Text", "Integer", "Text"]
    cases = project["Cases"]["Case"]
    assert [c["@name"] for c in cases] == ["C01", "E01"]
    assert len(cases[0]["VariableValue"]) == 3  # empty site left out
    assert cases[0]["VariableValue"][2]["IntegerValue"] == 45
    sources = project["Sources"]["TextSource"]
    assert [s["@name"] for s in sources] == ["T1", "T2"]
    selections = [sel for s in sources for sel in s.get("PlainTextSelection", [])]
    assert len(selections) == len(AUTO)
    assert all(len(sel["Coding"]) == 1 for sel in selections)
    text = files[sources[0]["@plainTextPath"].replace("internal://", "sources/")].decode("utf-8")
    assert text.startswith("Interviewer: Can you tell me about your pain?\n\nC01: It's in my back.")
    first = sources[0]["PlainTextSelection"][0]
    assert text[first["@startPosition"]:first["@endPosition"]] == "back" and first["@name"] == "back"
    assert project["Description"] == "Synthetic test export"


def test_two_exports_are_byte_identical_with_fixed_zip_entries(tmp_path):
    a = ex.export_qdpx(tmp_path / "a.qdpx", make_turns(), AUTO, CODES, PARTICIPANTS)
    b = ex.export_qdpx(tmp_path / "b.qdpx", make_turns(), AUTO.sample(frac=1, random_state=3), CODES,
                       PARTICIPANTS.iloc[::-1])
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert zf.namelist()[0] == "project.qde"
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_round_trip_export_then_import_gives_back_the_codings(tmp_path):
    out = ex.export_qdpx(tmp_path / "auto.qdpx", make_turns(), AUTO, CODES, PARTICIPANTS)
    result = ex.import_qdpx(out, make_turns(), CODES)
    pd.testing.assert_frame_equal(result.codings, ex.sort_codings(AUTO))
    assert result.unplaced.empty
    # unknown to the codebook, but still found again by name
    assert result.warnings == [f"{paths.relative(out)}!project.qde: code 'extra': theme not in the codebook; "
                               f"kept as extra"]
    assert result.cases["participant_id"].tolist() == ["C01", "E01"]


def test_round_trip_of_sentence_segments(tmp_path):
    sentence = codings_frame([
        ("T1:1.1", "C01", "client", "situations", "complex_needs", "can't cope", 12, 22, "auto"),
        ("T1:3.1", "C01", "client", "outcomes", "confidence", "confiden*", 3, 13, "auto")])
    out = ex.export_qdpx(tmp_path / "s.qdpx", make_turns(), sentence, CODES)
    result = ex.import_qdpx(out, make_turns(), CODES, unit="sentence")
    pd.testing.assert_frame_equal(result.codings, sentence)


def test_export_refuses_codings_from_another_corpus():
    bad = codings_frame([("T9:0", "C01", "client", "situations", "", "x", 0, 1, "auto"),
                         ("T1:1", "C01", "client", "situations", "", "x", 40, 99, "auto")])
    with pytest.raises(InputError) as err:
        ex.project_files(make_turns(), bad, CODES)
    assert err.value.problems == [
        "codings: segment 'T9:0' is not a turn (or sentence) of the corpus; export with the corpus the codings "
        "were made from",
        "codings: segment 'T1:1': offsets [40, 99) fall outside its text; export with the corpus the codings were "
        "made from"]


def test_qdc_codebook_validates_and_holds_the_code_tree(codebook_schema):
    data = ex.qdc_bytes(CODES)
    codebook_schema.validate(io.BytesIO(data))
    tree = codebook_schema.to_dict(io.BytesIO(data))
    assert [c["@name"] for c in tree["Codes"]["Code"]] == ["Situations of chronic pain patients", "Outcomes",
                                                         "Programme activities"]
    assert tree["Codes"]["Code"][1]["Code"][0]["@guid"] == ex.code_guid("outcomes", "confidence")


# ----------------------------------------------------------------------------- quotes, choosing codings
def test_codings_from_quotes_find_exact_words_and_report_every_problem(tmp_path):
    good = tmp_path / "q.yaml"
    good.write_text("coder: tester\ndescription: Synthetic\ncodings:\n"
                    "  - {transcript: T1, code: situations/complex_needs, quote: \"can't cope\"}\n"
                    "  - {transcript: T2, codes: [programme_activities/placements, situations], quote: placements}\n",
                    encoding="utf-8")
    codings, meta = ex.codings_from_quotes(good, make_turns(), CODES)
    assert meta == {"coder": "tester", "description": "Synthetic"}
    assert codings[["segment_id", "theme", "subtheme", "start", "end", "coder"]].values.tolist() == [
        ["T1:1", "situations", "complex_needs", 29, 39, "tester"],
        ["T2:1", "programme_activities", "placements", 8, 18, "tester"],
        ["T2:1", "situations", "", 8, 18, "tester"]]
    bad = tmp_path / "bad.yaml"
    bad.write_text("codings:\n  - {transcript: T9, code: situations, quote: x}\n"
                   "  - {transcript: T1, code: situations, quote: nowhere}\n"
                   "  - {transcript: T1, code: situations, quote: \"in\"}\n"
                   "  - {transcript: T1, code: nothing/here, quote: back}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        ex.codings_from_quotes(bad, make_turns(), CODES)
    shown = paths.relative(bad)
    assert err.value.problems == [
        f"{shown}: codings[0].transcript: 'T9' is not a transcript of the corpus",
        f"{shown}: codings[1].quote: 'nowhere' not found in one turn of T1 (0 time(s)); copy the words exactly "
        "from a single turn",
        f"{shown}: codings[2].quote: 'in' appears 2 times in T1; add `occurrence: N` or quote more words",
        f"{shown}: codings[3].code: nothing/here not in the codebook; write theme or theme/subtheme codes, "
        "e.g. outcomes"]
    odd = tmp_path / "odd.yaml"
    odd.write_text("codings:\n  - {transcript: T1, code: situations, quote: \"in\", occurrence: -1}\n"
                   "  - {transcript: T1, code: situations, quote: \"in\", occurrence: two}\n"
                   "  - {transcript: T2, codes: situations, quote: placements}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        ex.codings_from_quotes(odd, make_turns(), CODES)
    assert [p.split(": ", 2)[1] for p in err.value.problems] == ["codings[0].occurrence", "codings[1].occurrence"]
    odd.write_text("codings:\n  - {transcript: T2, codes: situations, quote: placements}\n", encoding="utf-8")
    codings, _ = ex.codings_from_quotes(odd, make_turns(), CODES)
    assert codings[["segment_id", "theme", "subtheme"]].values.tolist() == [["T2:1", "situations", ""]]


def test_load_codings_chooses_auto_human_or_both(other_tool_qdpx, capsys):
    auto = AUTO[AUTO["coder"] == "auto"].drop(columns="coder")
    both = ex.load_codings("both", auto, other_tool_qdpx, make_turns(), CODES)
    assert both.groupby("coding").size().to_dict() == {"auto": 5, "human": 6}
    assert set(both.loc[both["coding"] == "auto", "coder"]) == {"auto"}
    assert set(both.loc[both["coding"] == "human", "coder"]) == {"Alice", "Bob"}
    assert "warning:" in capsys.readouterr().out
    assert len(ex.load_codings("auto", auto)) == 5
    with pytest.raises(InputError, match="codings 'human' needs a human coding"):
        ex.load_codings("human", auto, "")
    with pytest.raises(InputError, match="use one of auto, human, both"):
        ex.load_codings("mine", auto)


def test_a_human_codings_table_is_read_like_every_other_codings_table(tmp_path):
    auto = AUTO[AUTO["coder"] == "auto"].drop(columns="coder")
    auto.drop(columns=["group", "term"]).to_csv(tmp_path / "human.csv", index=False)
    human = ex.load_codings("human", None, tmp_path / "human.csv")
    assert set(human["coder"]) == {"human"} and len(human) == 5
    assert ex.read_human_coding(tmp_path / "human.csv", None).codings["coder"].eq("human").all()
    auto.assign(start="1.5").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad.csv:2: start '1.5' is not a whole number"):
        ex.load_codings("human", None, tmp_path / "bad.csv")
    with pytest.raises(InputError, match=r"human.qdpx: file not found; give a .qdpx"):
        ex.load_codings("human", None, tmp_path / "human.qdpx")


# ----------------------------------------------------------------------------- command line
def test_cli_export_import_qdc_and_errors(tmp_path, other_tool_qdpx):
    make_turns().to_csv(tmp_path / "turns.csv", index=False)
    AUTO.to_csv(tmp_path / "codings.csv", index=False)
    PARTICIPANTS.to_csv(tmp_path / "participants.csv", index=False)
    book = tmp_path / "codebook.yaml"
    book.write_text("codebook: t\nthemes:\n  - code: situations\n    label: Situations\n    subthemes:\n"
                    "      - code: complex_needs\n        label: Complex needs\n        keywords: [cope]\n"
                    "  - code: outcomes\n    label: Outcomes\n    subthemes:\n"
                    "      - code: confidence\n        label: Confidence\n        keywords: [confiden*]\n",
                    encoding="utf-8")
    out = tmp_path / "auto.qdpx"
    proc = run_cli("export-qdpx", "--corpus", str(tmp_path / "turns.csv"), "--codings", str(tmp_path / "codings.csv"),
                   "--codebook", str(book), "--participants", str(tmp_path / "participants.csv"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "6 codings on 2 transcripts" in proc.stderr
    proc = run_cli("import-qdpx", str(out), "--out", str(tmp_path / "back.csv"), "--corpus", str(tmp_path / "turns.csv"),
                   "--codebook", str(book), "--cases-out", str(tmp_path / "cases.csv"))
    assert proc.returncode == 0, proc.stderr
    back = ex.read_codings_file(tmp_path / "back.csv")
    pd.testing.assert_frame_equal(back, ex.sort_codings(AUTO))
    assert pd.read_csv(tmp_path / "cases.csv")["participant_id"].tolist() == ["C01", "E01"]
    proc = run_cli("import-qdpx", str(other_tool_qdpx), "--out", str(tmp_path / "other.csv"), "--corpus",
                   str(tmp_path / "turns.csv"), "--codebook", str(book))
    assert proc.returncode == 0, proc.stderr
    assert "6 codings on 3 segments (coders: Alice, Bob); 4 selection(s) not placed" in proc.stderr
    assert proc.stderr.count("warning: ") >= 8
    proc = run_cli("export-qdc", "--codebook", str(book), "--out", str(tmp_path / "c.qdc"))
    assert proc.returncode == 0 and (tmp_path / "c.qdc").read_bytes().startswith(b'<?xml version="1.0"')
    proc = run_cli("import-qdpx", str(tmp_path / "missing.qdpx"), "--out", str(tmp_path / "x.csv"), "--corpus",
                   str(tmp_path / "turns.csv"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {paths.relative(tmp_path / 'missing.qdpx')}: file not found; give a .qdpx (or .qde) exported "
        "from your QDA tool"]
    assert not (tmp_path / "x.csv").exists()


# ----------------------------------------------------------------------------- a project's own sources
SOURCE_A = ("Interviewer: How is your back these days?\n"
            "P1: Some days I can't cope at all.\n"
            "It gets worse in winter.\n"
            "\n"
            "Interviewer: And work?\n"
            "P1: I started a placement in March.\n")
SOURCE_B = "Interviewer: What helped you most?\r\nP2: My employment worker listened to me.\r\n"
CODE_TREE = [("C0DE0000-0000-4000-8000-0000000000A1", "Situations", [("C0DE0000-0000-4000-8000-0000000000A2",
                                                                      "Complex needs")]),
             ("C0DE0000-0000-4000-8000-0000000000A3", "Outcomes", [])]


def write_project(out: Path, sources, selections) -> Path:
    """A .qdpx with these (name, text) sources in sources/ and (source, quote, code, coder[, occurrence])
    selections; the offsets are where the quote stands in the source's text."""
    code_guid = {name: g for g, name, _ in CODE_TREE} | {name: g for _, _, subs in CODE_TREE for g, name in subs}
    users = sorted({sel[3] for sel in selections})
    codes = "".join(f'<Code guid="{g}" name="{name}" isCodable="true">'
                    + "".join(f'<Code guid="{sg}" name="{sn}" isCodable="true"/>' for sg, sn in subs) + "</Code>"
                    for g, name, subs in CODE_TREE)
    parts = []
    for i, (name, text) in enumerate(sources):
        sels = []
        for j, (source, quote, code, coder, *occurrence) in enumerate(selections):
            if source != i:
                continue
            start = -1
            for _ in range(occurrence[0] if occurrence else 1):
                start = text.index(quote, start + 1)
            sels.append(f'<PlainTextSelection guid="5E1E0000-0000-4000-8000-{j:012d}" startPosition="{start}" '
                        f'endPosition="{start + len(quote)}" creatingUser="AAAAAAAA-0000-4000-8000-'
                        f'{users.index(coder):012d}"><Coding guid="C0D10000-0000-4000-8000-{j:012d}">'
                        f'<CodeRef targetGUID="{code_guid[code]}"/></Coding></PlainTextSelection>')
        parts.append(f'<TextSource guid="7A1B2C3D-0000-4000-8000-{i:012d}" name="{name}" '
                     f'plainTextPath="internal://7A1B2C3D-0000-4000-8000-{i:012d}.txt">{"".join(sels)}</TextSource>')
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="Own sources">'
           + "<Users>" + "".join(f'<User guid="AAAAAAAA-0000-4000-8000-{k:012d}" name="{u}"/>'
                                 for k, u in enumerate(users)) + "</Users>"
           + f"<CodeBook><Codes>{codes}</Codes></CodeBook><Sources>{''.join(parts)}</Sources></Project>")
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("project.qde", qde)
        for i, (_, text) in enumerate(sources):
            zf.writestr(f"sources/7A1B2C3D-0000-4000-8000-{i:012d}.txt", text.encode("utf-8"))
    return out


OWN_SELECTIONS = [(0, "can't cope", "Complex needs", "Alice"),
                  (0, "cope at all.\nIt gets worse", "Situations", "Alice"),  # across a line break of one turn
                  (0, "How is your back", "Situations", "Bob"),  # the interviewer's words
                  (0, "P1:", "Outcomes", "Bob", 2),  # only a speaker label
                  (0, "placement in March", "Outcomes", "Bob"),
                  (1, "employment worker listened", "Outcomes", "Alice")]


@pytest.fixture()
def own_qdpx(tmp_path) -> Path:
    return write_project(tmp_path / "own.qdpx", [("Interview A.txt", SOURCE_A), ("B02.docx", SOURCE_B)],
                         OWN_SELECTIONS)


def own_codings(pids, groups) -> pd.DataFrame:
    """The codings OWN_SELECTIONS give, with these participant ids and groups for P1 and P2."""
    return codings_frame([
        ("B02:1", pids[1], groups[1], "outcomes", "", "", 3, 29, "Alice"),
        ("Interview A:1", pids[0], groups[0], "situations", "complex_needs", "", 12, 22, "Alice"),
        ("Interview A:1", pids[0], groups[0], "situations", "", "", 18, 44, "Alice"),
        ("Interview A:3", pids[0], groups[0], "outcomes", "", "", 12, 30, "Bob")])


def test_import_without_a_corpus_places_the_codings_on_the_projects_own_sources(own_qdpx):
    result = ex.import_qdpx(own_qdpx)
    pd.testing.assert_frame_equal(result.codings, own_codings(["P1", "P2"], ["", ""]))
    turns = result.turns
    assert turns[["transcript_id", "turn", "speaker", "role", "line"]].values.tolist() == [
        ["B02", 0, "Interviewer", "interviewer", 1], ["B02", 1, "P2", "participant", 2],
        ["Interview A", 0, "Interviewer", "interviewer", 1], ["Interview A", 1, "P1", "participant", 2],
        ["Interview A", 2, "Interviewer", "interviewer", 5], ["Interview A", 3, "P1", "participant", 6]]
    assert set(turns["source"]) == {f"{paths.relative(own_qdpx)}:sources/Interview A.txt",
                                    f"{paths.relative(own_qdpx)}:sources/B02.docx"}
    text = dict(zip(turns["transcript_id"] + ":" + turns["turn"].astype(str), turns["text"]))
    assert [text[s][a:b] for s, a, b in zip(result.codings["segment_id"], result.codings["start"],
                                            result.codings["end"])] == [
        "employment worker listened", "can't cope", "cope at all.\nIt gets worse", "placement in March"]
    assert result.unplaced[["source", "start", "end", "code", "coder"]].values.tolist() == [
        ["Interview A.txt", 13, 29, "Situations", "Bob"], ["Interview A.txt", 126, 129, "Outcomes", "Bob"]]
    assert result.unplaced["reason"].tolist() == [
        "it covers only speaker labels, headers or blank text, or only interviewer turns"] * 2


def test_participants_resolve_the_speakers_of_the_projects_own_sources(own_qdpx, tmp_path):
    people = pd.DataFrame({"participant_id": ["C01", "E01", "H09"], "group": ["client", "esw", "hcp"],
                           "collection": ["interview"] * 3, "transcript_id": ["Interview A", "B02", "not here"],
                           "speaker_labels": ["P1", "P2", ""]})
    result = ex.import_qdpx(own_qdpx, participants=people)
    pd.testing.assert_frame_equal(result.codings, own_codings(["C01", "E01"], ["client", "esw"]))
    people.to_csv(tmp_path / "people.csv", index=False)
    turns = ex.turns_from_project(own_qdpx, tmp_path / "people.csv")
    assert turns["participant_id"].tolist() == ["", "E01", "", "C01", "", "C01"]
    assert turns["group"].tolist() == ["", "esw", "", "client", "", "client"]


def test_interviewer_labels_decide_which_speakers_are_interviewers(own_qdpx):
    turns = ex.turns_from_project(own_qdpx, interviewer_labels="P1")
    assert turns["role"].tolist() == ["participant", "participant", "participant", "interviewer", "participant",
                                      "interviewer"]
    result = ex.import_qdpx(own_qdpx, interviewer_labels="P1|P2")
    assert result.codings[["segment_id", "participant_id", "start", "end"]].values.tolist() == [
        ["Interview A:0", "Interviewer_Interview_A", 0, 16]]


def test_a_project_coded_only_on_interviewer_turns_and_labels_is_refused(tmp_path):
    qdpx = write_project(tmp_path / "asked.qdpx", [("A.txt", SOURCE_A)], [
        (0, "How is your back", "Situations", "Bob"), (0, "P1:", "Outcomes", "Bob"), (0, "And work?", "Outcomes", "Bob")])
    with pytest.raises(InputError) as err:
        ex.import_qdpx(qdpx)
    assert err.value.problems == [
        f"{paths.relative(qdpx)}: 0 of 3 coded selections could be placed on the turns of the project's own "
        "sources: it covers only speaker labels, headers or blank text, or only interviewer turns (3); check that the "
        "codings are on participant speech (name the interviewers with --interviewer-labels, or keep interviewer "
        "turns with --include-interviewer)"]
    kept = ex.import_qdpx(qdpx, include_interviewer=True)
    assert kept.codings[["segment_id", "start", "end"]].values.tolist() == [["A:0", 0, 16], ["A:2", 0, 9]]


def test_sources_with_the_same_id_are_told_apart(tmp_path):
    qdpx = write_project(tmp_path / "dup.qdpx", [("T1.txt", SOURCE_A), ("t1.md", SOURCE_B)],
                         [(0, "can't cope", "Complex needs", "Alice"), (1, "listened", "Outcomes", "Alice")])
    with pytest.warns(ex.IngestWarning) as caught:
        result = ex.import_qdpx(qdpx)
    assert [str(w.message) for w in caught if issubclass(w.category, ex.IngestWarning)] == [
        f"{paths.relative(qdpx)}:sources/t1.md: transcript id 't1' is already another source's; read as 't1_2' "
        "(rename the source in the QDA tool to choose its id)"]
    assert result.codings[["segment_id", "participant_id", "start", "end"]].values.tolist() == [
        ["T1:1", "P1", 12, 22], ["t1_2:1", "P2", 21, 29]]


def test_a_project_whose_sources_are_not_the_corpus_is_refused(own_qdpx):
    with pytest.raises(InputError) as err:
        ex.import_qdpx(own_qdpx, make_turns(), CODES)
    assert err.value.problems == [
        f"{paths.relative(own_qdpx)}: 0 of 6 coded selections could be placed on the corpus: the sources' texts do "
        "not match the turns given (the source matches no transcript of the corpus (by name or text) (6)); import "
        "without --corpus to use the project's own sources, or give the turns table ingested from the same "
        "transcripts"]
    # same names, other words: every turn is missing from the source
    renamed = make_turns().replace({"transcript_id": {"T1": "Interview A", "T2": "B02"}})
    with pytest.raises(InputError) as err:
        ex.import_qdpx(own_qdpx, renamed, CODES)
    covers = "it covers only speaker labels, headers or blank text, or only interviewer turns"
    assert err.value.problems == [
        f"{paths.relative(own_qdpx)}: 0 of 6 coded selections could be placed on the corpus: the sources' texts do "
        f"not match the turns given ({covers} (or turns not found in the source: 3) (5); {covers} (or turns not found "
        "in the source: 2) (1)); import without --corpus to use the project's own sources, or give the turns table "
        "ingested from the same transcripts"]


def test_a_project_without_text_codings_is_refused(tmp_path):
    qdpx = write_project(tmp_path / "empty.qdpx", [("A.txt", SOURCE_A)], [])
    with pytest.raises(InputError) as err:
        ex.import_qdpx(qdpx)
    assert err.value.problems == [
        f"{paths.relative(qdpx)}: the project has no coded text selections to import (only codings of passages of "
        "text sources can be placed on turns); code the transcripts in the QDA tool and export the project again"]


def test_round_trip_without_a_corpus_reads_the_exported_transcripts_back(tmp_path):
    out = ex.export_qdpx(tmp_path / "auto.qdpx", make_turns(), AUTO, CODES, PARTICIPANTS)
    result = ex.import_qdpx(out, None, CODES, participants=PARTICIPANTS)
    assert result.unplaced.empty
    keys = ["segment_id", "participant_id", "group", "theme", "subtheme", "term", "coder"]
    assert result.codings[keys].values.tolist() == ex.sort_codings(AUTO)[keys].values.tolist()
    original = make_turns().set_index(make_turns()["transcript_id"] + ":" + make_turns()["turn"].astype(str))["text"]
    again = result.turns.set_index(result.turns["transcript_id"] + ":" + result.turns["turn"].astype(str))["text"]
    words = [(original[s][a:b], again[s][c:d]) for s, a, b, c, d in zip(
        ex.sort_codings(AUTO)["segment_id"], ex.sort_codings(AUTO)["start"], ex.sort_codings(AUTO)["end"],
        result.codings["start"], result.codings["end"])]
    assert [w for w, _ in words] == [w for _, w in words] == [
        "back", "can't cope", "confidence", "confidence", "placements", "with employers"]


def test_no_demo_files_without_named_inputs():
    assert ex.codebook_codes_or_none(None) is None and ex.codebook_codes_or_none("") is None
    with pytest.raises(InputError, match="no codebook given; name the codebook YAML file with --codebook"):
        ex.codebook_codes_or_none(None, required=True)
    with pytest.raises(InputError, match=r"no turns table given; .+ \(--corpus TURNS\)"):
        ex.load_turns(None)
    from helpers.__main__ import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("import-qdpx", "export-qdpx", "export-qdc", "quotes-to-qdpx"):
        text = sub.choices[name].format_help()
        assert "default data/" not in text and "default: read data/" not in text, name


def cli(capsys, *args: str) -> tuple[int, list[str]]:
    """Run the command line in this process: (exit code, stderr lines)."""
    from helpers.__main__ import main

    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code
    return code, capsys.readouterr().err.strip().splitlines()


def test_cli_import_without_corpus_with_participants_and_refusals(own_qdpx, tmp_path, capsys):
    shown = paths.relative(own_qdpx)
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "own.csv"))
    assert code == 0
    assert err == [
        "turns read from the project's own sources: 6 turns of 2 transcripts",
        f"warning: {shown}!project.qde: 2 of 6 coded selection(s) not placed: it covers only speaker labels, headers "
        "or blank text, or only interviewer turns (e.g. [13, 29) of source 'Interview A.txt' coded 'Situations' by "
        "Bob)",
        f"4 codings on 3 segments (coders: Alice, Bob); 2 selection(s) not placed -> {tmp_path / 'own.csv'}"]
    pd.testing.assert_frame_equal(ex.read_codings_file(tmp_path / "own.csv"), own_codings(["P1", "P2"], ["", ""]))

    pd.DataFrame({"participant_id": ["C01"], "group": ["client"], "collection": ["interview"],
                  "transcript_id": ["Interview A"], "speaker_labels": ["P1"]}).to_csv(tmp_path / "p.csv", index=False)
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "p_out.csv"), "--participants",
                    str(tmp_path / "p.csv"))
    assert code == 2 and not (tmp_path / "p_out.csv").exists()
    assert len(err) == 1 and err[0].startswith(f"error: {shown}:sources/B02.docx: transcript 'B02' is not in ")
    people = pd.DataFrame({"participant_id": ["C01", "E01"], "group": ["client", "esw"],
                           "collection": ["interview", "interview"], "transcript_id": ["Interview A", "B02"],
                           "speaker_labels": ["P1", ""]})
    people.to_csv(tmp_path / "p.csv", index=False)
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "p_out.csv"), "--participants",
                    str(tmp_path / "p.csv"))
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"error: {shown}:sources/B02.docx:2: unknown speaker label 'P2' in transcript B02 (1 turn)")
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "p_out.csv"), "--participants",
                    str(tmp_path / "p.csv"), "--allow-unknown-speakers")
    assert code == 0
    assert err[0].startswith(f"warning: {shown}:sources/B02.docx:2: unknown speaker label 'P2' in transcript B02")
    assert ex.read_codings_file(tmp_path / "p_out.csv")[["segment_id", "participant_id", "group"]].values.tolist() == [
        ["B02:1", "", ""], ["Interview A:1", "C01", "client"], ["Interview A:1", "C01", "client"],
        ["Interview A:3", "C01", "client"]]

    make_turns().to_csv(tmp_path / "turns.csv", index=False)
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "x.csv"), "--corpus",
                    str(tmp_path / "turns.csv"))
    assert (code, err) == (2, [
        f"error: {shown}: 0 of 6 coded selections could be placed on the corpus: the sources' texts do not match the "
        "turns given (the source matches no transcript of the corpus (by name or text) (6)); import without --corpus "
        "to use the project's own sources, or give the turns table ingested from the same transcripts"])
    assert not (tmp_path / "x.csv").exists()
    code, err = cli(capsys, "import-qdpx", str(own_qdpx), "--out", str(tmp_path / "x.csv"), "--corpus",
                    str(tmp_path / "turns.csv"), "--participants", str(tmp_path / "p.csv"), "--interviewer-labels", "I")
    assert (code, err) == (2, [
        "error: --participants, --interviewer-labels: only for turns read from the project's own sources; the turns "
        "table of --corpus already names its speakers (leave out --corpus or these options)"])


@pytest.mark.parametrize("args, missing", [
    (["export-qdc", "--out", "c.qdc"], "--codebook"),
    (["export-qdpx", "--corpus", "t.csv", "--codings", "c.csv", "--out", "a.qdpx"], "--codebook"),
    (["quotes-to-qdpx", "q.yaml", "--out", "a.qdpx"], "--corpus, --codebook"),
])
def test_cli_export_commands_need_their_inputs_named(capsys, args, missing):
    code, err = cli(capsys, *args)
    assert code == 2 and err[-1].endswith(f"error: the following arguments are required: {missing}")


# ----------------------------------------------------------------------------- the shipped demo
def test_demo_human_coding_is_synthetic_valid_and_places_completely(schema):
    from helpers import codebook, corpus

    demo = paths.DATA / "human_coding_demo.qdpx"
    with zipfile.ZipFile(demo) as zf:
        qde = zf.read("project.qde")
    schema.validate(io.BytesIO(qde))
    project = ex.read_project(demo)
    assert "synthetic" in project.description.lower()
    turns = corpus.load_corpus(DEMO_TRANSCRIPTS, DEMO_PARTICIPANTS)
    book = codebook.load_codebook(DEMO_CODEBOOK)
    result = ex.align(project, turns, book.codes)
    assert result.unplaced.empty and not result.warnings
    from_yaml, _ = ex.codings_from_quotes(paths.DATA / "human_coding_demo.yaml", turns, book.codes)
    pd.testing.assert_frame_equal(result.codings, from_yaml)
    assert sorted(result.codings["transcript_id"].unique()) == ["C01", "C04", "E01", "E02", "FG1"]


def test_analysed_keeps_the_transcripts_the_human_coded_and_by_coding_sets_codings_side_by_side():
    auto = ex.with_coder(AUTO[AUTO["coder"] == "auto"].drop(columns="coder")).assign(coding="auto")
    human = ex.with_coder(AUTO[AUTO["transcript_id"] == "T1"]).assign(coding="human")
    both = pd.concat([auto, human], ignore_index=True)
    segments = make_turns().assign(segment_id=lambda d: d["transcript_id"] + ":" + d["turn"].astype(str))
    segs, cods = ex.analysed(segments, both)
    assert set(segs["transcript_id"]) == {"T1"} and set(cods["transcript_id"]) == {"T1"}
    assert ex.analysed(segments, auto)[0] is segments  # the auto-coding alone analyses everything

    def count(segments, codings, by):
        return codings.drop(columns=by).merge(segments[["segment_id", by]], on="segment_id").groupby(by).size().rename("n").reset_index()

    assert ex.by_coding(count, segs, cods, "group").values.tolist() == [["client (auto)", 3], ["client (human)", 4]]
    assert ex.by_coding(count, segments, auto, "group").values.tolist() == [["client", 3], ["esw", 2]]


def test_round_trip_of_the_demo_auto_coding(tmp_path, schema):
    from helpers import codebook, coding, corpus

    turns = corpus.load_corpus(DEMO_TRANSCRIPTS, DEMO_PARTICIPANTS)
    book = codebook.load_codebook(DEMO_CODEBOOK)
    people = corpus.load_participants(DEMO_PARTICIPANTS)
    auto = coding.code_segments(corpus.segments(turns, people), book)
    out = ex.export_qdpx(tmp_path / "demo.qdpx", turns, auto, book.codes, people)
    with zipfile.ZipFile(out) as zf:
        schema.validate(io.BytesIO(zf.read("project.qde")))
    result = ex.import_qdpx(out, turns, book.codes)
    assert result.warnings == [] and result.unplaced.empty
    pd.testing.assert_frame_equal(result.codings, ex.sort_codings(ex.with_coder(auto)))


def test_a_turn_merged_from_subtitle_cues_is_found_in_pieces():
    source = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Ann>I have good days and bad days.</v>\n\n"
              "2\n00:00:04.500 --> 00:00:07.000\n<v Ann>Some weeks I cannot get out of bed.</v>\n\n"
              "3\n00:00:07.500 --> 00:00:09.000\n<v Bob>Right.</v>\n")
    turns = ["I have good days and bad days. Some weeks I cannot get out of bed.", "Right."]
    cmap = ex.map_turns(turns, source)
    assert cmap.missing == []
    got = "".join(source[i] for i in cmap.src[cmap.first[0]:cmap.last[0]])
    assert got == turns[0].replace(" ", "")
    # a selection from "bad days" across the cue break to "get out" lands in one turn, offsets in its text
    rows = ex.place_selections([source.index("bad days")], [source.index("get out") + 7], cmap)
    assert rows[["turn", "start", "end"]].values.tolist() == [[0, 21, 58]]
    assert turns[0][21:58] == "bad days. Some weeks I cannot get out"
    assert ex.map_turns(["words that are nowhere at all in it"], source).missing == [0]


def test_the_readers_warnings_on_a_projects_own_sources_are_shown(tmp_path):
    qdpx = write_project(tmp_path / "w.qdpx", [("C9.txt", "(tape starts)\nInterviewer: Hello.\nP1: I can't cope.\n")],
                         [(0, "can't cope", "Complex needs", "Alice")])
    with pytest.warns(ex.IngestWarning) as caught:
        result = ex.import_qdpx(qdpx)
    assert [str(w.message) for w in caught if issubclass(w.category, ex.IngestWarning)] == [
        f"{qdpx}:sources/C9.txt:1: 1 line(s) before the first speaker label kept as a turn without a speaker; "
        f"label them, or end a preamble with a line '# BEGIN TRANSCRIPT'"]
    assert result.turns["role"].tolist() == ["unattributed", "interviewer", "participant"]


def test_a_source_path_outside_the_projects_folder_is_not_read(tmp_path):
    src = OTHER_TOOL / "Sources" / "7A1B2C3D-0000-4000-8000-0000000000A1.txt"
    secret = tmp_path / "elsewhere" / "private.txt"
    secret.parent.mkdir()
    shutil.copy(src, secret)
    project = tmp_path / "received"
    project.mkdir()
    for path in (f"absolute://{secret.as_posix()}", "../elsewhere/private.txt", "relative://../elsewhere/private.txt"):
        xml = (OTHER_TOOL / "Project.qde").read_text(encoding="utf-8").replace(
            "internal://7A1B2C3D-0000-4000-8000-0000000000A1.txt", path)
        (project / "project.qde").write_text(xml, encoding="utf-8")
        result = ex.import_qdpx(project / "project.qde", make_turns(), CODES)
        assert set(result.codings["transcript_id"]) == {"T2"}  # the source kept inside the project still counts
        from_t1 = result.unplaced[result.unplaced["source"] == "T1.txt"]
        why = (f"plain text file {path} is outside the folder of {project / 'project.qde'}, so it is not read; "
               "copy it into that folder (or export the project with its sources inside)")
        # every selection of T1 but the one whose code is unknown (a reason that comes first)
        assert sorted(from_t1["reason"].tolist()) == ["its code GUID is not in the project's code tree"] + [why] * 6
