"""Reports built for sharing (`run --share`, the notebook parameter `share`): no whole turn in them but the
exemplar quotes, a line saying how each report was built, and no export of the transcripts.

The full side is the session's whole-pipeline run (conftest.pipeline_run, shared with test_pipeline_run);
the shared side runs the notebooks that hold whole turns (01, 03, 05) once more with --share."""

from __future__ import annotations

import html
import re

import nbformat
import pandas as pd
import pytest

from conftest import run_cli
from helpers import corpus, paper, paths, project
from helpers.tables import unescape_formula

pytestmark = pytest.mark.slow

TURN_NOTEBOOKS = ("01_corpus_overview", "03_theme_coding", "05_agreement")  # the reports that list whole turns
# whole turns of the demo corpus that only the full reports show, and where
KNOWN_TURNS = {
    "01_corpus_overview": "Did you find us all right? I know the signs in this corridor are a bit of a puzzle.",  # turns table
    "03_theme_coding": "And he just, he started crying. Not a little bit. Like properly sobbing",  # the longest uncoded segment
    "05_agreement": "I suppose I was, yes. You don't think of it like that when you're in it.",  # human-coded, no rule matches
}
MIN_WORDS = 12  # turns at least this long count as "whole turns" when scanning a report


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    """The notebooks that hold whole turns, run with --share into temporary folders."""
    out = tmp_path_factory.mktemp("shared")
    only = [arg for name in TURN_NOTEBOOKS for arg in ("--only", name[:2])]
    proc = run_cli("run", "--share", *only, "--reports", str(out / "reports"), "--figures", str(out / "figures"),
                   "--processed", str(out / "processed"), "--jobs", "3")
    assert proc.returncode == 0, proc.stderr
    return out


def visible_text(raw: str) -> str:
    """What a reader sees of an HTML page or a notebook output: tags dropped, entities and JSON escapes
    (tables whose rows sit in a script) decoded, white space collapsed."""
    text = html.unescape(raw)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace('\\"', '"').replace("\\/", "/").replace("\\n", " ")
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return " ".join(text.split())


def notebook_text(path) -> str:
    """Every output of an executed notebook (HTML, plain text, printed lines) as one visible text."""
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
    return visible_text("\n".join(parts))


def whole_turns() -> list[str]:
    """Every turn of the demo corpus of at least MIN_WORDS words, white space collapsed."""
    _, turns = corpus.load_inputs(paths.TRANSCRIPTS, paths.PARTICIPANTS, project.notebook_defaults(
        paths.NOTEBOOKS / "01_corpus_overview.ipynb")["interviewer_labels"])
    texts = turns["text"].astype(str)
    return [" ".join(t.split()) for t in texts[texts.str.split().str.len() >= MIN_WORDS]]


def test_shared_reports_hold_no_whole_turn_but_the_exemplar_quotes(shared_run):
    quotes = pd.read_csv(shared_run / "processed" / "paper_quotes.csv", dtype=str, keep_default_na=False)
    exemplars = {" ".join(unescape_formula(q).split()) for q in quotes["Quote"]}
    assert exemplars
    turns = whole_turns()
    for name in TURN_NOTEBOOKS:
        for shown, text in ((f"{name}.html", visible_text((shared_run / "reports" / f"{name}.html").read_text())),
                            (f"{name}.ipynb", notebook_text(shared_run / "reports" / "notebooks" / f"{name}.ipynb"))):
            leaked = [t for t in turns if t in text and t not in exemplars]
            assert not leaked, f"{shown} built for sharing shows {len(leaked)} whole turn(s), e.g. {leaked[0][:80]!r}"
            assert KNOWN_TURNS[name] not in text
            assert text.count(project.SHARED_MODE) == 1 and project.FULL_MODE not in text


def test_full_reports_show_the_turns_a_shared_report_leaves_out(pipeline_run):
    proc, reports, _ = pipeline_run
    assert proc.returncode == 0, proc.stderr
    for name in project.notebook_names():
        text = visible_text((reports / f"{name}.html").read_text())
        assert text.count(project.FULL_MODE) == 1 and project.SHARED_MODE not in text, name
        if name in KNOWN_TURNS:
            assert KNOWN_TURNS[name] in text, name


def test_shared_run_writes_the_paper_tables_but_not_the_transcripts(shared_run, pipeline_run):
    full = pipeline_run[1].parent / "processed"
    assert (full / "auto_coding.qdpx").is_file()
    assert not (shared_run / "processed" / "auto_coding.qdpx").exists()
    made_by_shared = {f for f, nb in paper.FILES.items() if nb in TURN_NOTEBOOKS}
    assert made_by_shared == {"paper_table1_participants.csv", "paper_prevalence.csv", "paper_quotes.csv"}
    for name in made_by_shared:
        assert (shared_run / "processed" / name).read_bytes() == (full / name).read_bytes(), name
    for name in paper.FILES:
        assert (full / name).is_file(), name
    assert "auto_coding.qdpx, the transcripts with their auto-coding" in visible_text(
        (shared_run / "reports" / "05_agreement.html").read_text())
