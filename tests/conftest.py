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


def run_measured(*args: str, timeout: int = 60) -> tuple[subprocess.CompletedProcess, float]:
    """`python -m helpers ARGS` in a process of its own: (its result, its peak resident memory in MiB).
    A wrapper process runs the command, so that its RUSAGE_CHILDREN holds this one command only; the
    timeout is the time bound."""
    import tempfile

    wrapper = ("import resource, subprocess, sys\n"
               "p = subprocess.run([sys.executable, '-m', 'helpers', *sys.argv[2:]])\n"
               "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
               "sys.exit(p.returncode)\n")
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak_kib"
        proc = subprocess.run([sys.executable, "-c", wrapper, str(peak_file), *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        return proc, int(peak_file.read_text()) / 1024


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """Run the whole pipeline once into temporary reports/ and figures/ folders."""
    out = tmp_path_factory.mktemp("pipeline")
    reports, figures = out / "reports", out / "figures"
    proc = run_cli("run", "--reports", str(reports), "--figures", str(figures), "--processed",
                   str(out / "processed"), "--jobs", "2")
    return proc, reports, figures
