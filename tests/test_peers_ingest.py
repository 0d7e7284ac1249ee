"""The faster line classification of ingest (issue 17) reads every label style as trying every pattern did.

`transcripts._label` tries each label pattern only on lines whose first character the pattern can
match; the reference here tries them all, in order, as the reader did before. Hand-made lines cover
every label style and first characters of every kind (digits of other scripts, accented capitals,
bullets, brackets); a hand-made file of each style gives the exact turns.
"""

from __future__ import annotations

import pytest

from helpers import transcripts

LINES = [
    "**Dr Smith:** text", "**Dr Smith**: text", "[00:01:23] Anna: text", "00:01:23 Anna: text",
    "(00:01:23) Anna: text", "Anna [00:01:23]: text", "Anna (00:01:23): text", "Anna: text",
    "MEL, TYPING: text", "Dr Smith (GP): text", "Élodie: text", "Ørjan Berg: text", "* (CODE): quoted",
    "- (ESW): quoted", "• (HCP): quoted", "+ (C01): quoted", "* CODE): not opened", "interviewer: text",
    "ß: text", "anna: text", "# Heading", "## Part 2:", "Initial steps:", "Anna - text", "AB - Alice Brown",
    "٣:٤٥ Anna: text", "١٢ Anna: text", "3 Anna: text", "(pause) Anna: text", "[laughs]", "[NAME-1]: text",
    "Q: text", "I: text", "12:30 is when we met", "Note: this is prose: with colons", "a", "*", "(", "[", "-",
    "_under: text", "Ω: text", "ñandu: text", "Ángel: text", "Þór: text", "×: text",
]


def _reference_label(stripped: str, legend):
    """Every pattern tried in order (what `_label` did before it looked at the first character)."""
    if legend:
        m = transcripts._legend_label(tuple(legend)).match(stripped)
        if m:
            return m["name"], None, m["rest"], "legend"
    m = transcripts.BULLET_LABEL.match(stripped)
    if m:
        return transcripts._spaces(m["name"]), None, m["rest"], "bullet"
    for pattern in transcripts.LABEL_PATTERNS:
        m = pattern.match(stripped)
        if m:
            return transcripts._spaces(m["name"]), m.groupdict().get("ts"), m["rest"], "colon"
    return None


@pytest.mark.parametrize("legend", [None, {"AB": "Alice Brown", "CD": "Carl Dunn"}])
def test_label_on_every_style_and_first_character_is_what_trying_every_pattern_gives(legend):
    for line in LINES:
        assert transcripts._label(line, legend) == _reference_label(line, legend), line


def test_leads_name_the_kinds_each_first_character_can_start():
    assert transcripts._leads("*") == {"star", "bullet"}
    assert transcripts._leads("٣") == {"time"}  # an Arabic-Indic digit is a \d
    assert transcripts._leads("É") == {"name"} and transcripts._leads("ß") == {"lower"}
    assert transcripts._leads("#") == {"hash"} and transcripts._leads("") == frozenset()


STYLES = {
    "colon": "Interviewer: How was it?\n\nAnna: Fine.\nStill fine.\n\nInterviewer: Good.\n",
    "bold": "**Interviewer:** How was it?\n\n**Anna:** Fine.\nStill fine.\n\n**Interviewer:** Good.\n",
    "bold_outside": "**Interviewer**: How was it?\n\n**Anna**: Fine.\nStill fine.\n\n**Interviewer**: Good.\n",
    "bracket_time": "[00:00:01] Interviewer: How was it?\n[00:00:05] Anna: Fine.\nStill fine.\n"
                    "[00:01:00] Interviewer: Good.\n",
    "time_first": "00:00:01 Interviewer: How was it?\n00:00:05 Anna: Fine.\nStill fine.\n"
                  "00:01:00 Interviewer: Good.\n",
    "time_after": "Interviewer [00:00:01]: How was it?\nAnna (00:00:05): Fine.\nStill fine.\n"
                  "Interviewer [00:01:00]: Good.\n",
    "legend": "IN - Interviewer\nAN - Anna\n\nIN: How was it?\nAN - Fine.\nStill fine.\nIN Good.\n",
    "lower": "interviewer: How was it?\nanna: Fine.\nStill fine.\ninterviewer: Good.\nanna: Yes.\n",
    "dash": "Interviewer - How was it?\nAnna - Fine.\nStill fine.\nInterviewer - Good.\nAnna - Yes.\n",
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_label_style_read_from_a_file_gives_the_exact_turns(style, tmp_path):
    path = tmp_path / f"{style}.md"
    path.write_text(STYLES[style], encoding="utf-8")
    (doc,) = transcripts.read_transcripts(tmp_path)
    turns = [(t["speaker"], t["text"]) for t in doc.turns][:3]
    first, second = ("IN", "AN") if style == "legend" else (
        ("interviewer", "anna") if style == "lower" else ("Interviewer", "Anna"))
    assert turns == [(first, "How was it?"), (second, "Fine.\nStill fine."), (first, "Good.")]
    stamps = [t["timestamp"] for t in doc.turns][:3]
    assert stamps == ([1.0, 5.0, 60.0] if "time" in style else [None, None, None])
    assert doc.source.endswith(f"/{style}.md") and doc.warnings == []


def test_files_in_a_folder_are_named_as_paths_relative_names_them_links_by_their_target(tmp_path):
    from helpers import paths

    folder, elsewhere = tmp_path / "t", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "a.txt").write_text("Anna: hello\n", encoding="utf-8")
    (elsewhere / "c.txt").write_text("Anna: hi\n", encoding="utf-8")
    (folder / "b.txt").symlink_to(elsewhere / "c.txt")
    docs = transcripts.read_transcripts(folder)
    assert [d.source for d in docs] == [paths.relative(folder / "a.txt"), paths.relative(elsewhere / "c.txt")]
    assert docs[1].source.endswith("/elsewhere/c.txt")
