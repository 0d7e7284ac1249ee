"""Corpus: speaker resolution against participants.csv, segments (turn and sentence), who talks how much."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import corpus, figures, paths, transcripts  # noqa: E402
from helpers.errors import InputError  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "corpus"
PARTICIPANTS_CSV = FIX / "participants.csv"


@pytest.fixture(scope="module")
def participants():
    return corpus.load_participants(PARTICIPANTS_CSV)


@pytest.fixture(scope="module")
def turns():
    return corpus.load_corpus(FIX / "transcripts", PARTICIPANTS_CSV)


# ----------------------------------------------------------------------------- speaker resolution
def test_every_turn_resolved_by_label_legend_monologue_and_default_interviewer_labels(turns):
    assert list(turns.columns) == transcripts.TURN_COLUMNS
    assert turns[["transcript_id", "turn", "speaker", "participant_id", "role", "group"]].values.tolist() == [
        ["A01", 0, "Interviewer", "", "interviewer", ""],
        ["A01", 1, "Client", "A01", "participant", "client"],      # speaker_labels: Client
        ["A01", 2, "Interviewer", "", "interviewer", ""],
        ["A01", 3, "Client", "A01", "participant", "client"],
        ["A02", 0, "", "A02", "participant", "client"],             # no labels: the transcript's one participant
        ["A02", 1, "", "A02", "participant", "client"],
        ["A03", 0, "XY", "", "interviewer", ""],                    # legend: XY - Interviewer
        ["A03", 1, "ZW", "A03", "participant", "client"],           # legend: ZW - Client (A03)
        ["G1", 0, "Facilitator", "", "interviewer", ""],
        ["G1", 1, "H01", "H01", "participant", "hcp"],              # participant id is always a label
        ["G1", 2, "Co-facilitator", "", "interviewer", ""],
        ["G1", 3, "Nurse", "H02", "participant", "hcp"],
        ["G1", 4, "H01", "H01", "participant", "hcp"],
    ]
    assert turns["line"].tolist() == [4, 5, 6, 7, 1, 3, 4, 5, 1, 2, 3, 4, 5]
    assert turns["text"].iloc[3] == "Dr. Smith said rest.\nIt helps."
    assert turns["timestamp"].isna().all() and turns["timestamp"].dtype == np.float64
    assert turns["source"].iloc[0] == "tests/fixtures/corpus/transcripts/A01.txt"


def test_label_key_and_interviewer_pattern():
    assert corpus.label_key(" Interviewer  2 ") == "interviewer2"
    pat = corpus.interviewer_pattern()
    hits = [lab for lab in ["Interviewer", "interviewer 1", "Interviewer2", "INT", "I", "Q", "Researcher",
                            "Facilitator", "Co-facilitator", "Moderator", "Interviewee", "A", "P1", "Interviewer X"]
            if pat.match(corpus.label_key(lab))]
    assert hits == ["Interviewer", "interviewer 1", "Interviewer2", "INT", "I", "Q", "Researcher", "Facilitator",
                    "Co-facilitator", "Moderator"]
    custom = corpus.interviewer_pattern("Dr Who|Chair N")
    assert [bool(custom.match(corpus.label_key(x))) for x in ["dr who", "Chair 3", "Chair", "Interviewer"]] == \
        [True, True, False, False]


def test_interviewer_labels_is_a_parameter(tmp_path, participants):
    folder = tmp_path / "t"
    folder.mkdir()
    for f in (FIX / "transcripts").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "G1.txt").write_text("Chair: Welcome.\nH01: Thanks.\nNurse: Yes.\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        corpus.load_corpus(folder, PARTICIPANTS_CSV)
    assert len(exc.value.problems) == 1 and "unknown speaker label 'Chair'" in exc.value.problems[0]
    turns = corpus.load_corpus(folder, PARTICIPANTS_CSV, interviewer_labels=["Chair", "Interviewer", "XY"])
    assert turns.loc[turns["transcript_id"] == "G1", "role"].tolist() == ["interviewer", "participant", "participant"]


def test_participants_may_not_share_a_label_within_a_transcript(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text(PARTICIPANTS_CSV.read_text().replace("H01,hcp,focus_group,G1,,", "H01,hcp,focus_group,G1,Nurse,"),
                   encoding="utf-8")
    with pytest.raises(InputError) as exc:
        corpus.load_corpus(FIX / "transcripts", csv)
    assert exc.value.problems == [f"{paths.relative(csv)}:6: speaker label 'Nurse' of H02 is also a label of H01 in "
                                  f"transcript G1; give each participant its own labels"]


def test_a_participant_who_never_speaks_is_a_warning(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text(PARTICIPANTS_CSV.read_text() + "H03,hcp,focus_group,G1,,male,North\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        turns = corpus.load_corpus(FIX / "transcripts", csv)
    assert [str(w.message) for w in caught if w.category is corpus.IngestWarning] == [
        f"{paths.relative(csv)}:7: participant H03 has no turns in transcript G1; check their speaker_labels"]
    assert len(turns) == 13


def test_participants_dataframe_can_be_passed_directly(participants, turns):
    pd.testing.assert_frame_equal(corpus.load_corpus(FIX / "transcripts", participants), turns)


# ----------------------------------------------------------------------------- segments
SEGMENT_START = ["segment_id", "transcript_id", "turn", "sentence", "speaker", "participant_id", "role", "group", "text"]


def test_turn_segments_are_participant_turns_with_attributes_joined(turns, participants):
    seg = corpus.segments(turns, participants)
    assert list(seg.columns) == SEGMENT_START + ["collection", "gender", "site", "start", "end"]
    assert seg["segment_id"].tolist() == ["A01:1", "A01:3", "A02:0", "A02:1", "A03:1", "G1:1", "G1:3", "G1:4"]
    assert seg["sentence"].tolist() == [0] * 8
    assert seg["site"].tolist() == ["North", "North", "South", "South", "South", "North", "North", "North"]
    assert seg["gender"].tolist()[-3:] == ["male", "female", "male"]
    assert (seg["start"] == 0).all() and (seg["end"] == seg["text"].str.len()).all()
    assert list(seg.index) == list(range(8))


def test_sentence_segments_keep_exact_offsets_in_the_turn(turns, participants):
    seg = corpus.segments(turns, participants, unit="sentence")
    assert seg[["segment_id", "text", "start", "end"]].values.tolist() == [
        ["A01:1.0", "Not bad.", 0, 8],
        ["A01:1.1", "Bad days though. [laughs]", 9, 34],   # a note alone joins the sentence before it
        ["A01:3.0", "Dr. Smith said rest.", 0, 20],         # 'Dr.' is a known abbreviation
        ["A01:3.1", "It helps.", 21, 30],                   # a new line starts a new sentence
        ["A02:0.0", "I manage.", 0, 9],
        ["A02:0.1", "Mostly.", 10, 17],
        ["A02:1.0", "Work is hard.", 0, 13],
        ["A03:1.0", "Hi.", 0, 3],
        ["A03:1.1", "[pause] Pain is bad today.", 4, 30],
        ["G1:1.0", "Thanks.", 0, 7],
        ["G1:3.0", "[crosstalk]", 0, 11],
        ["G1:4.0", "Agreed, fit notes.", 0, 18],
    ]
    text_of = turns.set_index(["transcript_id", "turn"])["text"]
    for row in seg.itertuples():
        assert text_of[(row.transcript_id, row.turn)][row.start:row.end] == row.text


def test_segments_with_interviewers_have_empty_attributes(turns, participants):
    seg = corpus.segments(turns, participants, include_interviewer=True)
    assert len(seg) == len(turns)
    first = seg.iloc[0]
    assert (first["segment_id"], first["role"], first["participant_id"], first["group"], first["site"]) == \
        ("A01:0", "interviewer", "", "", "")


def test_segments_reject_an_unknown_unit(turns, participants):
    with pytest.raises(InputError, match="unit 'paragraph': use 'turn' or 'sentence'"):
        corpus.segments(turns, participants, unit="paragraph")


# ----------------------------------------------------------------------------- who talks how much
def test_words_per_turn_leave_notes_out(turns):
    assert corpus.with_words(turns)["words"].tolist() == [3, 5, 2, 6, 3, 3, 2, 5, 2, 1, 4, 0, 3]


def test_talk_by_group(turns, participants):
    table = corpus.talk_by(turns, participants, by="group")
    assert table.to_dict("list") == {
        "group": ["client", "hcp"], "participants": [3, 2], "transcripts": [3, 1], "turns": [5, 3],
        "words": [22, 4], "mean_words_per_turn": [4.4, 1.3], "median_words_per_turn": [5.0, 1.0],
        "share_of_words": [22 / 26, 4 / 26]}


def test_talk_by_any_attribute_and_bad_attribute(turns, participants):
    table = corpus.talk_by(turns, participants, by="site")
    assert table[["site", "participants", "words"]].values.tolist() == [["North", 3, 15], ["South", 2, 11]]
    with pytest.raises(InputError, match="by='colour' is neither a column of the turns nor of the participants"):
        corpus.talk_by(turns, participants, by="colour")


def test_talk_by_participant(turns, participants):
    table = corpus.talk_by_participant(turns, participants)
    assert table.values.tolist() == [["A01", "A01", "client", 2, 11, 5.5], ["A02", "A02", "client", 2, 6, 3.0],
                                     ["A03", "A03", "client", 1, 5, 5.0], ["H01", "G1", "hcp", 2, 4, 2.0],
                                     ["H02", "G1", "hcp", 1, 0, 0.0]]


def test_interviewer_share_of_talk(turns, participants):
    share = corpus.interviewer_share(turns, participants)
    assert list(share.columns) == ["transcript_id", "group", "collection", "interviewer_turns", "interviewer_words",
                                   "participant_turns", "participant_words", "interviewer_share"]
    assert share[["transcript_id", "interviewer_words", "participant_words", "interviewer_share"]].values.tolist() == [
        ["A01", 5, 11, 0.3125], ["A02", 0, 6, 0.0], ["A03", 2, 5, 0.2857], ["G1", 6, 4, 0.6]]


@pytest.mark.parametrize("make", ["turn_lengths", "words_by_participant", "interviewer_share"])
def test_figures_have_title_axis_labels_source_note_and_are_deterministic(tmp_path, turns, participants, make):
    def build():
        figures.apply_style()
        if make == "turn_lengths":
            return corpus.plot_turn_lengths(turns, participants)
        if make == "words_by_participant":
            return corpus.plot_words_by_participant(corpus.talk_by_participant(turns, participants))
        return corpus.plot_interviewer_share(corpus.interviewer_share(turns, participants))

    fig = build()
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert any(t.get_text().startswith("n = ") for t in fig.texts)
    a = figures.save_figure(fig, make, tmp_path / "a")
    b = figures.save_figure(build(), make, tmp_path / "b")
    assert [x.read_bytes() for x in a] == [x.read_bytes() for x in b]


def test_turn_length_figure_counts_each_box(turns, participants):
    fig = corpus.plot_turn_lengths(turns, participants)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Clients (n = 5)", "Healthcare professionals (n = 3)", "Interviewers (n = 5)"]


# ----------------------------------------------------------------------------- the demo corpus
def test_demo_corpus_shape_matches_the_study():
    participants = corpus.load_participants(paths.PARTICIPANTS)
    turns = corpus.load_corpus(paths.TRANSCRIPTS, paths.PARTICIPANTS)
    assert participants["group"].value_counts().to_dict() == {"hcp": 11, "client": 9, "esw": 5}
    assert turns["transcript_id"].nunique() == 17
    seg = corpus.segments(turns, participants)
    assert seg["participant_id"].nunique() == 25 and (seg["participant_id"] != "").all()
    words = corpus.talk_by(turns, participants)["words"].sum()
    assert words >= 25_000


# ----------------------------------------------------------------------------- the turns file
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_turns_gives_back_what_ingest_wrote(tmp_path, turns, suffix):
    out = corpus.write_table(turns, tmp_path / f"turns{suffix}")
    pd.testing.assert_frame_equal(corpus.read_turns(out), turns)


def test_read_turns_problems_name_file_and_line(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("transcript_id,turn,participant_id,role,group,text\nA,0,P,participant,g,hi\nA,x,P,participant,g,yo\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as exc:
        corpus.read_turns(f)
    assert exc.value.problems == [f"{paths.relative(f)}:3: turn 'x' is not a whole number"]
    f.write_text("transcript_id,text\nA,hi\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        corpus.read_turns(f)
    assert [p.split(";")[0] for p in exc.value.problems] == [
        f"{paths.relative(f)}:1: missing column '{c}'" for c in ("turn", "participant_id", "role", "group")]


def test_read_table_names_the_file_and_the_place_of_each_row(tmp_path):
    shown = paths.relative(tmp_path)
    with pytest.raises(InputError) as exc:
        corpus.read_table(tmp_path / "gone.csv", "codings", "python -m helpers code --out FILE")
    assert exc.value.problems == [f"{shown}/gone.csv: codings file not found; write it with "
                                  "`python -m helpers code --out FILE`"]
    broken = tmp_path / "t.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=rf"^{re.escape(shown)}/t.parquet: cannot read as a turns table \("):
        corpus.read_table(broken, "turns", "ingest")
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    df, where = corpus.read_table(tmp_path / "t.csv", "turns", "ingest")
    assert df.to_dict("list") == {"a": ["1", "3"], "b": ["2", "4"]} and where(1) == f"{shown}/t.csv:3"
    df.to_parquet(tmp_path / "u.parquet")
    assert corpus.read_table(tmp_path / "u.parquet", "turns", "ingest")[1](1) == f"{shown}/u.parquet: row 2"


def test_write_table_refuses_other_extensions(tmp_path, turns):
    with pytest.raises(InputError, match=r"output must end in \.csv or \.parquet"):
        corpus.write_table(turns, tmp_path / "turns.xlsx")
    assert list(tmp_path.iterdir()) == []
