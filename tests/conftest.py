"""Shared fixtures: the project root, a runner for the command line, one pipeline run per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `python -m helpers ARGS…` and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """Run the whole pipeline once into temporary reports/ and figures/ folders."""
    out = tmp_path_factory.mktemp("pipeline")
    reports, figures = out / "reports", out / "figures"
    proc = run_cli("run", "--reports", str(reports), "--figures", str(figures), "--processed",
                   str(out / "processed"), "--jobs", "2")
    return proc, reports, figures
