"""The readers on real transcripts nobody here wrote (read in place from ../shared/corpora; skipped when absent).

Nothing from those files is copied here: expected values are counted from the files by simple, independent rules."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import transcripts
from test_transcripts import assert_nothing_lost

CORPORA = ROOT.parent / "shared" / "corpora"
PYPI = CORPORA / "pypi-mismatches-interviews"
AUTISTICA = CORPORA / "autistica-focus-groups"
PYPI_FILES = sorted(PYPI.glob("*-full.md"))
AUTISTICA_FILES = sorted(AUTISTICA.glob("2019*.md"))
CAPITALS_LABEL = re.compile(r"^([A-Z][A-Z ,]*): ")  # the interviews' own style: capitals, maybe ', MORE'
BULLET_CODE = re.compile(r"^\s*[*\-•]\s*\(([^()]+)\)\s*:")


def need(files: list[Path], folder: Path) -> None:
    if not files:
        pytest.skip(f"real corpus not present: {folder} (see ../shared/corpora/README.md)")


def after_marker(path: Path) -> list[tuple[int, str]]:
    """Numbered lines after the '# BEGIN TRANSCRIPT' line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = [line.strip().upper() for line in lines].index("# BEGIN TRANSCRIPT") + 1
    return list(enumerate(lines, start=1))[start:]


@pytest.mark.parametrize("name", ["donald-1-full.md", "ernest-1-full.md"])
def test_pypi_interview_speakers_and_turn_count_match_a_simple_count(name):
    need(PYPI_FILES, PYPI)
    path = PYPI / name
    labels = [(n, m[1]) for n, line in after_marker(path) if (m := CAPITALS_LABEL.match(line))]
    (doc,) = transcripts.read_transcript(path)
    assert Counter(t["speaker"] for t in doc.turns) == Counter(label for _, label in labels)
    assert [t["line"] for t in doc.turns] == [n for n, _ in labels]
    if name.startswith("ernest"):
        assert any(", " in label for _, label in labels)  # the 'NAME, TYPING' style is exercised


@pytest.mark.parametrize("path", PYPI_FILES or [PYPI / "absent"], ids=lambda p: p.name)
def test_every_pypi_interview_has_its_licence_as_front_matter_and_loses_no_text(path):
    need(PYPI_FILES, PYPI)
    (doc,) = transcripts.read_transcript(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    marker = len(lines) - len(after_marker(path))
    assert doc.preamble[-1] == (marker, "# BEGIN TRANSCRIPT")
    assert [n for n, _ in doc.preamble] == [n for n in range(1, marker + 1) if lines[n - 1].strip()]
    assert doc.metadata["preamble"] == lines[0].lstrip("#").strip()
    assert doc.turns[0]["speaker"] and all(t["speaker"] for t in doc.turns)
    assert doc.doubtful == [] and doc.headings == [] and doc.warnings == []
    assert doc.encoding == "utf-8"
    assert_nothing_lost(path)


@pytest.mark.parametrize("path", AUTISTICA_FILES or [AUTISTICA / "absent"], ids=lambda p: p.name)
def test_autistica_summaries_headings_are_headings_and_each_coded_bullet_is_a_turn(path):
    need(AUTISTICA_FILES, AUTISTICA)
    (doc,) = transcripts.read_transcript(path)
    numbered = list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    codes = [(n, re.sub(r"\s+", " ", m[1]).strip()) for n, line in numbered if (m := BULLET_CODE.match(line))]
    said = [t for t in doc.turns if t["speaker"]]
    assert [(t["line"], t["speaker"]) for t in said] == codes
    assert [n for n, _ in doc.headings] == [n for n, line in numbered if re.match(r"#{1,6} ", line)]
    assert doc.turns[0]["speaker"] == "" and doc.turns[0]["line"] < codes[0][0]  # contents and key: kept, unattributed
    assert_nothing_lost(path)
