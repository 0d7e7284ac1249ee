"""Parameter merging for `python -m helpers run` and refusal of unknown names."""

from __future__ import annotations

import pytest
import yaml

from helpers import paths, pipeline, run_index
from helpers.errors import InputError


def test_defaults_config_and_overrides_merge_in_that_order():
    config = {"01_corpus_overview": {"by": "site"}}
    overrides = pipeline.parse_overrides(["01_corpus_overview.by=gender"])
    _, params = pipeline.resolve_parameters(config, {}, paths.NOTEBOOKS)
    assert params["01_corpus_overview"]["by"] == "site"
    _, params = pipeline.resolve_parameters(config, overrides, paths.NOTEBOOKS)
    assert params["01_corpus_overview"]["by"] == "gender"
    assert params["01_corpus_overview"]["participants_csv"] == ""  # a notebook's default input is none


def test_override_values_are_yaml_scalars():
    parsed = pipeline.parse_overrides(["nb.a=3", "nb.b=0.5", "nb.c=true", "nb.d=hello", "nb.e=[x, y]", "nb.f=", "nb.g=null"])
    assert parsed == {"nb": {"a": 3, "b": 0.5, "c": True, "d": "hello", "e": ["x", "y"], "f": "", "g": None}}


@pytest.mark.parametrize("item", ["novalue", "nb=3", ".key=3", "nb.=3"])
def test_malformed_override_is_refused(item):
    with pytest.raises(InputError, match="expected NOTEBOOK.key=value"):
        pipeline.parse_overrides([item])


def test_unknown_parameter_in_set_names_it_and_lists_valid_ones():
    with pytest.raises(InputError) as err:
        pipeline.resolve_parameters({}, {"01_corpus_overview": {"no_such_parameter": 1}}, paths.NOTEBOOKS)
    (line,) = err.value.problems
    assert line.startswith("--set: 01_corpus_overview.no_such_parameter: unknown parameter;")
    assert "participants_csv" in line and "by" in line


def test_unknown_notebook_and_parameter_in_config_are_all_reported():
    config = {"99_nothing": {"a": 1}, "01_corpus_overview": {"typo": 1}, "pipeline": {"colour": "red"}}
    with pytest.raises(InputError) as err:
        pipeline.resolve_parameters(config, {}, paths.NOTEBOOKS)
    problems = err.value.problems
    assert len(problems) == 3
    assert any("unknown notebook '99_nothing'; valid notebooks: 01_corpus_overview" in p and "'all'" in p
               for p in problems)
    assert any("01_corpus_overview.typo: unknown parameter" in p for p in problems)
    assert any("pipeline.colour: unknown setting" in p for p in problems)


def test_shipped_config_is_valid_and_names_every_notebook():
    config = pipeline.load_config(paths.PIPELINE_CONFIG)
    run, params = pipeline.resolve_parameters(config, {}, paths.NOTEBOOKS)
    assert set(params) == set(pipeline.notebook_names())
    assert set(k for k in config if k not in ("pipeline", "all")) == set(params)
    assert run["title"]


def test_bad_yaml_config_names_the_line(tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text("01_corpus_overview:\n  by: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p.yaml:\d+: not valid YAML"):
        pipeline.load_config(cfg)


def test_only_selects_by_name_or_number_prefix():
    names = ["01_a", "02_b", "03_c"]
    assert pipeline.select(names, None) == names
    assert pipeline.select(names, ["03", "01_a.ipynb"]) == ["01_a", "03_c"]
    with pytest.raises(InputError, match="--only '09': unknown notebook; valid notebooks: 01_a, 02_b, 03_c"):
        pipeline.select(names, ["09"])


def test_input_files_follow_path_parameters(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.txt").write_text("x")
    (tmp_path / "p.csv").write_text("y")
    found = run_index.input_files({"nb": {"d": str(tmp_path / "t"), "f": str(tmp_path / "p.csv"), "n": 3, "s": "group"}})
    assert [p.name for p in found] == ["p.csv", "a.txt"] or [p.name for p in found] == ["a.txt", "p.csv"]
    assert len(found) == 2


def test_sha256_of_known_bytes(tmp_path):
    f = tmp_path / "abc.txt"
    f.write_bytes(b"abc")
    assert run_index.sha256(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_duplicate_section_in_config_is_refused_with_its_line(tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text("01_corpus_overview:\n  by: group\n01_corpus_overview:\n  by: site\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        pipeline.load_config(cfg)
    assert err.value.problems == [f"{cfg}:3: 01_corpus_overview: duplicate key '01_corpus_overview'; keep only one"]


def test_all_section_sets_a_parameter_in_every_notebook_that_has_it():
    config = {"all": {"by": "site"}, "01_corpus_overview": {}}
    _, params = pipeline.resolve_parameters(config, {}, paths.NOTEBOOKS)
    for name, values in params.items():
        if "by" in values:
            assert values["by"] == "site", name
    # a notebook section beats `all`, and --set all beats both
    config["01_corpus_overview"] = {"by": "gender"}
    _, params = pipeline.resolve_parameters(config, {}, paths.NOTEBOOKS)
    assert params["01_corpus_overview"]["by"] == "gender"
    _, params = pipeline.resolve_parameters(config, pipeline.parse_overrides(["all.by=age_band"]), paths.NOTEBOOKS)
    assert params["01_corpus_overview"]["by"] == "age_band"


def test_all_section_refuses_a_parameter_no_notebook_has():
    with pytest.raises(InputError) as err:
        pipeline.resolve_parameters({"all": {"transcript_dir": "x"}}, {}, paths.NOTEBOOKS)
    (line,) = err.value.problems
    assert line.startswith("pipeline.yaml: all.transcript_dir: unknown parameter; valid parameters of all: ")
    assert "transcripts_dir" in line


def test_run_settings_of_the_wrong_type_are_refused_before_anything_runs():
    with pytest.raises(InputError) as err:
        pipeline.resolve_parameters({"pipeline": {"title": 5, "register": ["a"]}}, {}, paths.NOTEBOOKS)
    assert err.value.problems == ["pipeline.yaml: pipeline.title: must be text, got 5",
                                  "pipeline.yaml: pipeline.register: must be text, got ['a']"]
    with pytest.raises(InputError, match=r"^pipeline.yaml: pipeline: must be a mapping"):
        pipeline.resolve_parameters({"pipeline": "fast"}, {}, paths.NOTEBOOKS)


def test_unreadable_config_is_one_input_error(tmp_path):
    with pytest.raises(InputError, match=r"cannot read the config file"):
        pipeline.load_config(tmp_path)  # a folder
    cfg = tmp_path / "p.yaml"
    cfg.write_bytes(b"title: caf\xe9\n")
    with pytest.raises(InputError, match=r"p.yaml: cannot read the config file \(invalid continuation byte\)"):
        pipeline.load_config(cfg)


def test_parameters_cell_with_broken_syntax_is_one_input_error(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("x: int = (1  # unclosed")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(InputError, match=r"01_x.ipynb: parameters cell, line 1: .*; fix the Python syntax"):
        pipeline.notebook_defaults(path)
