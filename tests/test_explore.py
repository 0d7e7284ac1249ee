"""The explorer (helpers.explore, notebook 06): each tool's function, its HTML and its widgets, on a small
hand-made project whose counts are worked out by hand below.

The project (written by `project` into tmp_path):
  T1 (P1, client)  T1:1 "My pain flares up at work. The pain clinic helped."   10 words
                   T1:3 "I feel anxious and low. I cannot cope some days."     10 words
  T2 (P2, esw)     T2:1 "Clients with back pain need a fit note. Painful days happen."   11 words
                   T2:3 "Employers want a fit note first <ok>."                 7 words
Codebook: health/pain = pain* except "pain clinic"; health/mood = anxious, /\\bcannot cope\\b/;
work (a theme with rules of its own) = "fit note", employer*.
Auto-coding: health/pain on T2:1 (T1:1 is excluded by "pain clinic"), health/mood on T1:3, work on T2:1, T2:3.
Human coding: health/pain on T1:1 and T2:1, health/mood on T1:3, work on T2:3.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import explore
from helpers.errors import InputError

TRANSCRIPTS = {
    "T1": ("Interviewer: How is your pain at work?\n\n"
           "P1: My pain flares up at work. The pain clinic helped.\n\n"
           "Interviewer: And your mood?\n\n"
           "P1: I feel anxious and low. I cannot cope some days.\n"),
    "T2": ("Interviewer: Tell me about your clients.\n\n"
           "P2: Clients with back pain need a fit note. Painful days happen.\n\n"
           "Interviewer: Anything else?\n\n"
           "P2: Employers want a fit note first <ok>.\n"),
}
PARTICIPANTS = ("participant_id,group,collection,transcript_id,speaker_labels\n"
                "P1,client,interview,T1,P1\nP2,esw,interview,T2,P2\n")
CODEBOOK = """codebook: Test
version: 1
themes:
  - code: health
    label: Health
    subthemes:
      - code: pain
        label: Pain
        keywords: ["pain*"]
        exclude: ["pain clinic"]
      - code: mood
        label: Mood
        keywords: [anxious]
        patterns: ['\\bcannot cope\\b']
  - code: work
    label: Work
    keywords: ["fit note", "employer*"]
"""
HUMAN = [("T1:1", "P1", "client", "health", "pain", 3, 7), ("T2:1", "P2", "esw", "health", "pain", 18, 22),
         ("T1:3", "P1", "client", "health", "mood", 7, 14), ("T2:3", "P2", "esw", "work", "", 0, 9)]


def write_project(folder, human: bool = True) -> dict:
    """The small project's files; returns the notebook parameters naming them."""
    (folder / "transcripts").mkdir(parents=True)
    for name, body in TRANSCRIPTS.items():
        (folder / "transcripts" / f"{name}.txt").write_text(body, encoding="utf-8")
    (folder / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    (folder / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    rows = [{"segment_id": s, "transcript_id": s.split(":")[0], "participant_id": p, "group": g, "theme": t,
             "subtheme": st, "term": "", "start": a, "end": b, "coder": "ann"} for s, p, g, t, st, a, b in HUMAN]
    pd.DataFrame(rows).to_csv(folder / "human.csv", index=False)
    return {"transcripts_dir": str(folder / "transcripts"), "participants_csv": str(folder / "participants.csv"),
            "interviewer_labels": ["Interviewer"], "codebook_yaml": str(folder / "codebook.yaml"),
            "human_coding": str(folder / "human.csv") if human else ""}


@pytest.fixture(scope="module")
def ex(tmp_path_factory):
    return explore.load_explorer(write_project(tmp_path_factory.mktemp("explore")))


@pytest.fixture(scope="module")
def ex_auto(tmp_path_factory):
    return explore.load_explorer(write_project(tmp_path_factory.mktemp("explore_auto"), human=False))


def body(html: str) -> str:
    """The result without the style sheet."""
    return html.split("</style>", 1)[-1]


# ----------------------------------------------------------------------------- concordance
def test_concordance_counts_per_group_and_participant_with_rates(ex):
    found = explore.concordance(ex, "pain*")
    assert found.n_matches == 4
    assert found.lines["match"].tolist() == ["pain", "pain", "pain", "Painful"]
    assert found.lines["segment_id"].tolist() == ["T1:1", "T1:1", "T2:1", "T2:1"]
    groups = found.by_group.set_index("group")
    assert groups.loc["client", "matches"] == 2 and groups.loc["client", "words"] == 20
    assert groups.loc["client", "per_10k_words"] == 1000.0
    assert groups.loc["esw", "matches"] == 2 and groups.loc["esw", "words"] == 18
    assert groups.loc["esw", "per_10k_words"] == 1111.1
    assert found.by_participant.set_index("participant_id")["matches"].to_dict() == {"P1": 2, "P2": 2}


def test_concordance_lines_keep_window_words_each_side(ex):
    found = explore.concordance(ex, "pain", window=2)
    line = found.lines[found.lines["segment_id"] == "T2:1"].iloc[0]
    assert (line["left"], line["match"], line["right"]) == ("with back", "pain", "need a")
    first = found.lines.iloc[0]  # at the start of the turn: the left context is what there is
    assert (first["left"], first["match"], first["right"]) == ("My", "pain", "flares up")


def test_concordance_phrase_regex_and_filters(ex):
    assert explore.concordance(ex, "fit note").n_matches == 2
    assert explore.concordance(ex, "/cannot\\s+cope/").lines["match"].tolist() == ["cannot cope"]
    assert explore.concordance(ex, "pain*", group="esw").n_matches == 2
    assert explore.concordance(ex, "pain*", participant="P1").lines["segment_id"].tolist() == ["T1:1", "T1:1"]
    assert explore.concordance(ex, "pain*", theme="work").lines["segment_id"].unique().tolist() == ["T2:1"]
    assert explore.concordance(ex, "pain*", theme="health/mood").n_matches == 0
    # the human coding codes health/pain on T1:1 too
    assert explore.concordance(ex, "pain*", theme="health/pain", source="human").n_matches == 4


def test_concordance_widget_shows_counts_and_escaped_lines(ex):
    tool = explore.ConcordanceTool(ex)
    assert explore.EMPTY_QUERY in tool.result.value  # an empty box: the one-line hint
    tool.box.value = "pain*"
    html = body(tool.result.value)
    assert "<b>4</b> matches of <code>pain*</code>" in html
    assert '<td class="kw"><mark>Painful</mark></td>' in html
    assert '<a href="#ips-turn-T2-1"' in html
    tool.group.value = "client"
    assert "<b>2</b> matches" in tool.result.value
    tool.box.value = "first"
    tool.group.value = ""
    assert "&lt;ok&gt;" in tool.result.value and "<ok>" not in tool.result.value


@pytest.mark.parametrize("query, message", [
    ("", explore.EMPTY_QUERY),
    ("   ", explore.EMPTY_QUERY),
    ("/(/", "bad regex '(': missing ), unterminated subpattern at position 0; fix the regular expression"),
    ("pa*in", "wildcard in the middle of a word in 'pa*in'; '*' may only start or end a word"),
])
def test_bad_queries_give_one_line_in_the_result_area(ex, query, message):
    tool = explore.ConcordanceTool(ex)
    tool.box.value = query
    html = body(tool.result.value)
    assert html == f'<div class="ips-explore"><p class="ips-msg">{explore.esc(message)}</p></div>'


def test_unknown_code_is_a_message(ex):
    html = body(explore.answer(lambda: explore.render_concordance(explore.concordance(ex, "pain", theme="nope"))))
    assert "unknown code &#x27;nope&#x27;; pick a theme or subtheme of the codebook" in html
    assert html.count("<p") == 1


def test_human_source_without_human_coding_is_a_message(ex_auto):
    with pytest.raises(InputError, match="no human coding is loaded"):
        explore.code_passages(ex_auto, "work", source="human")
    assert explore.CodeBrowserTool(ex_auto).coding.options == (("auto-coding", "auto"),)


# ----------------------------------------------------------------------------- code browser
def test_code_passages_n_of_n_spans_and_order(ex):
    pain = explore.code_passages(ex, "health/pain")
    assert (pain.n, pain.N) == (1, 2)
    assert pain.passages["segment_id"].tolist() == ["T2:1"]
    assert [tuple(map(int, s)) for s in pain.passages["spans"].iloc[0]] == [(18, 22), (40, 47)]
    work = explore.code_passages(ex, "work")
    assert work.passages["segment_id"].tolist() == ["T2:1", "T2:3"]  # longest first
    dense = explore.code_passages(ex, "work", order="densest")
    assert dense.passages["segment_id"].tolist() == ["T2:3", "T2:1"]  # 2 matches / 7 words before 1 / 11
    assert dense.passages["matches"].tolist() == [2, 1]
    client = explore.code_passages(ex, "work", group="client")
    assert (client.n, client.N, len(client.passages)) == (0, 1, 0)


def test_code_browser_widget_highlights_and_switches_to_the_human_coding(ex):
    tool = explore.CodeBrowserTool(ex, "health/pain")
    html = body(tool.result.value)
    assert "<b>1 of 2</b> all participants · 1 coded passage" in html
    assert "Clients with back <mark>pain</mark> need a fit note. <mark>Painful</mark> days happen." in html
    tool.coding.value = "human"
    html = body(tool.result.value)
    assert "<b>2 of 2</b>" in html and "My <mark>pain</mark> flares up" in html
    tool.group.value = "esw"
    assert "<b>1 of 1</b> employment support workers" in tool.result.value


# ----------------------------------------------------------------------------- rule tester
def test_rule_tester_added_lost_and_agreement_before_after(ex):
    result = explore.try_rules(ex, "health/pain", ["pain*"])  # the exclude rule dropped
    assert (result.new, result.current) == ({"T1:1", "T2:1"}, {"T2:1"})
    assert result.added["segment_id"].tolist() == ["T1:1"] and result.lost.empty
    assert result.kept["segment_id"].tolist() == ["T2:1"]
    table = result.agreement.set_index("rules")
    assert table.loc["current codebook", ["segments", "precision", "recall", "kappa"]].tolist() == [1, 1.0, 0.5, 0.5]
    assert table.loc["with these rules", ["segments", "precision", "recall", "kappa"]].tolist() == [2, 1.0, 1.0, 1.0]
    flare = explore.try_rules(ex, "health/pain", ["flare*"])
    assert flare.added["segment_id"].tolist() == ["T1:1"] and flare.lost["segment_id"].tolist() == ["T2:1"]
    assert flare.kept.empty


def test_rule_tester_widget_starts_with_the_codes_rules_and_prints_yaml(ex):
    tool = explore.RuleTesterTool(ex, "health/pain")
    assert (tool.keywords.value, tool.patterns.value, tool.exclude.value) == ("pain*", "", "pain clinic")
    assert "<b>Added</b>: 0 segments" in tool.result.value and "<b>Lost</b>: 0 segments" in tool.result.value
    tool.exclude.value = ""
    html = body(tool.result.value)
    assert "these rules code <b>2</b> segments; the current codebook codes 1" in html
    assert "<b>Added</b>: 1 segment coded by these rules" in html and "The <mark>pain</mark> clinic helped." in html
    tool.button.click()
    assert "- code: pain\n  label: Pain\n  keywords:\n  - pain*\n" in explore.html.unescape(tool.yaml_out.value)
    tool.code.value = "health/mood"
    assert tool.patterns.value == "\\bcannot cope\\b" and tool.keywords.value == "anxious"
    assert tool.yaml_out.value == ""


@pytest.mark.parametrize("keywords, patterns, message", [
    ("", "", "type at least one keyword or pattern for the code"),
    ("pa*in", "", "wildcard in the middle of a word in 'pa*in'"),
    ("pain", "(", "bad regex '(': missing ), unterminated subpattern"),
])
def test_rule_tester_bad_rules_give_one_line(ex, keywords, patterns, message):
    tool = explore.RuleTesterTool(ex, "health/pain")
    tool.keywords.value, tool.patterns.value = keywords, patterns
    html = body(tool.result.value)
    assert html.startswith('<div class="ips-explore"><p class="ips-msg">') and html.count("<p") == 1
    assert explore.esc(message) in html


# ----------------------------------------------------------------------------- participant view
def test_participant_view_turns_in_order_with_questions_and_codes(ex):
    turns = explore.participant_turns(ex, "P1")
    assert turns["segment_id"].tolist() == ["T1:0", "T1:1", "T1:2", "T1:3"]
    assert turns["role"].tolist() == ["interviewer", "participant", "interviewer", "participant"]
    assert turns["codes"].tolist() == [[], [], [], ["Health › Mood"]]
    assert explore.participant_turns(ex, "P1", "human")["codes"].tolist()[1] == ["Health › Pain"]
    assert explore.participant_turns(ex, "P2")["codes"].tolist()[1] == ["Health › Pain", "Work"]
    with pytest.raises(InputError, match="unknown participant 'P9'"):
        explore.participant_turns(ex, "P9")


def test_participant_widget_escapes_and_concordance_opens_a_turn(ex):
    kit = explore.tools(ex)
    kit.participant.participant.value = "P2"
    html = body(kit.participant.result.value)
    assert "Employers want a fit note first &lt;ok&gt;." not in html  # marked, so split by <mark>
    assert "first &lt;ok&gt;." in html and "<ok>" not in html
    assert '<div class="ips-turn interviewer" id="ips-turn-T2-0"><b>Interviewer</b>' in html
    kit.participant.participant.value = "P1"
    kit.concordance.box.value = "pain*"
    assert kit.concordance.open.options[1:] == (("T1:1", "T1:1"), ("T2:1", "T2:1"))
    kit.concordance.open.value = "T2:1"
    assert kit.participant.participant.value == "P2"
    assert '<div class="ips-turn focus" id="ips-turn-T2-1">' in kit.participant.result.value


# ----------------------------------------------------------------------------- static demonstration
def test_static_demos_show_each_tool_and_share_leaves_whole_turns_out(ex):
    full = explore.static_demos(ex, "pain*", "health/pain", "flare*", "P1")
    assert "<b>4</b> matches" in full.concordance.data
    assert "<b>1 of 2</b>" in full.codes.data
    # flare* added, but T1:1 (My pain flares …) stays excluded by "pain clinic"
    assert "these rules code <b>1</b> segment; the current codebook codes 1" in full.rules.data
    assert "My pain flares up at work. The pain clinic helped." in full.participant.data  # excluded: no marks
    shared = explore.static_demos(ex, "pain*", "health/pain", "flare*", "P1", share=True)
    assert "Left out of this report" in shared.participant.data
    unmarked = shared.codes.data.replace("<mark>", "").replace("</mark>", "")
    assert "Clients with back pain need a fit note. Painful days happen." not in unmarked  # the whole turn
    assert "…Clients with back <mark>pain</mark> need a fit note.… …need a fit note. <mark>Painful</mark> days happen.…" \
        in shared.codes.data  # each marked word with four words either side
