"""Notebooks stay thin: no outputs committed, one literal `parameters` cell, no def/class, no ../ paths."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from helpers import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks_named_nn_snake_case():
    assert NOTEBOOKS
    for nb in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", nb.name), nb.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_typed_literals_and_comments(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} parameters cells"
    source = tagged[0].source
    tree = ast.parse(source)
    assert tree.body, "parameters cell is empty"
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), f"{path.name}: parameter without type hint: {ast.unparse(node)}"
        ast.literal_eval(node.value)  # raises if not a literal
    for line in source.splitlines():
        if line.strip():
            assert "#" in line, f"{path.name}: parameter line without a trailing comment: {line}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_functions_classes_or_hand_built_paths(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), \
                f"{path.name}: define functions in src/helpers, not in notebooks"
        assert "../" not in cell.source and not re.search(r"['\"]/(home|work|tmp|Users)/", cell.source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_comes_right_after_the_title(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    # no code before the parameters cell: the pipeline's "failed at cell N" relies on it
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "python3"
