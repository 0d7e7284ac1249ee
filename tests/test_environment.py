"""environment.yml (conda) and pyproject.toml (pip) declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from helpers import paths

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    # the peers of `make bench` (extra "bench") are named in a comment of environment.yml, not installed
    pip_names |= {_name(r) for group, reqs in project["optional-dependencies"].items() if group != "bench"
                  for r in reqs}
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    conda_names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str) and _name(dep) not in {"python", "pip"}:
            conda_names.add(CONDA_TO_PYPI.get(_name(dep), _name(dep)))
    assert conda_names == pip_names, (
        f"only in environment.yml: {sorted(conda_names - pip_names)}; "
        f"only in pyproject.toml: {sorted(pip_names - conda_names)}")
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]


def test_lower_bounds_agree():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip_bounds = {_name(r): r.split(">=")[1] for r in project["dependencies"] if ">=" in r}
    conda_bounds = {_name(d): d.split(">=")[1] for d in env["dependencies"] if isinstance(d, str) and ">=" in d}
    for name, bound in pip_bounds.items():
        assert conda_bounds.get(name) == bound, f"{name}: pyproject >= {bound}, environment.yml >= {conda_bounds.get(name)}"
