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
    assert result.codings["transcript_id"].nunique() == 3


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
