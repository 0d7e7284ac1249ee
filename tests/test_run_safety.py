"""A run is exclusive, time-bounded and atomic: a second run waits its turn, a hung notebook is stopped,
a killed run leaves the previous outputs whole and no process behind, and its leftovers are cleaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import ROOT
from helpers import outputs, paths, pipeline
from helpers.errors import InputError

WRITE_OUTPUTS = """
from helpers import paths
(paths.figures_dir() / f"{label}.png").write_bytes(label.encode())
(paths.processed_dir() / "table.csv").write_text(label)
print("outputs of", label)
"""


def _notebook(path: Path, code: str) -> None:
    nb = new_notebook(cells=[new_markdown_cell(f"# {path.stem}"), new_code_cell('label: str = "first"  # a name'),
                             new_code_cell(code)])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _project(tmp_path: Path, code: str, settings: str = "") -> tuple[Path, Path, dict]:
    nbs = tmp_path / "nbs"
    nbs.mkdir(exist_ok=True)
    _notebook(nbs / "01_write.ipynb", code)
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(f"pipeline:\n  title: Safety\n{settings}")
    folders = {k: tmp_path / k for k in ("reports", "figures", "processed")}
    return nbs, cfg, folders


def _run(nbs, cfg, folders, *sets) -> int:
    return pipeline.run(cfg, list(sets), None, False, 1, folders["reports"], folders["figures"], notebooks_dir=nbs,
                        processed=folders["processed"])


def _snapshot(folders: dict) -> dict[str, bytes]:
    """The published outputs (a killed run's hidden staging folder is not among them)."""
    return {str(p.relative_to(f.parent)): p.read_bytes() for f in folders.values() for p in sorted(f.rglob("*"))
            if p.is_file() and p.name != outputs.LOCK_NAME and paths.STAGING_PREFIX not in str(p)}


def _start_run(tmp_path, nbs, cfg, folders, marker: str, *sets) -> subprocess.Popen:
    """`pipeline.run` in a process of its own, every descendant carrying the environment marker."""
    code = ("import sys; from pathlib import Path; from helpers import pipeline; "
            f"sys.exit(pipeline.run(Path({str(cfg)!r}), {list(sets)!r}, None, False, 1, Path({str(folders['reports'])!r}), "
            f"Path({str(folders['figures'])!r}), notebooks_dir=Path({str(nbs)!r}), "
            f"processed=Path({str(folders['processed'])!r})))")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "IPS_TEST_MARKER": marker},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if f"IPS_TEST_MARKER={marker}".encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_outputs_are_staged_and_swapped_in_and_the_run_reports_the_final_paths(tmp_path, capsys):
    nbs, cfg, folders = _project(tmp_path, WRITE_OUTPUTS)
    assert _run(nbs, cfg, folders) == 0
    assert (folders["figures"] / "first.png").read_bytes() == b"first"
    assert (folders["processed"] / "table.csv").read_text() == "first"
    assert (folders["reports"] / "01_write.html").is_file() and (folders["reports"] / "index.html").is_file()
    assert (folders["reports"] / "figures" / "first.png").read_bytes() == b"first"  # the gallery
    assert not list(tmp_path.rglob(f"{paths.STAGING_PREFIX}*"))
    assert paths.STAGING_PREFIX not in capsys.readouterr().out
    assert _run(nbs, cfg, folders, "01_write.label=second") == 0  # a full run replaces every figure
    assert sorted(p.name for p in folders["figures"].glob("*.png")) == ["second.png"]
    assert sorted(p.name for p in (folders["reports"] / "figures").iterdir()) == ["second.png"]


def test_a_second_run_on_the_same_folders_exits_2_naming_the_first(tmp_path):
    nbs, cfg, folders = _project(tmp_path, "import time\ntime.sleep(120)")
    first = _start_run(tmp_path, nbs, cfg, folders, uuid.uuid4().hex)
    try:
        lock = folders["figures"] / outputs.LOCK_NAME
        assert _wait_for(lambda: lock.is_file() and lock.read_text().startswith(f"PID {first.pid}"), 60)
        with pytest.raises(InputError) as err:
            _run(nbs, cfg, folders, "01_write.label=second")
    finally:
        first.kill()
        first.wait(timeout=30)
    (message,) = err.value.problems
    folder = sorted(str(f) for f in folders.values())[0]
    assert message.startswith(f"{folder}: another run is writing here (PID {first.pid}, started 20")
    assert message.endswith("UTC); wait for it to finish or stop it, or give this run other output folders")
    assert not (folders["reports"] / "index.html").exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path):
    nbs, cfg, folders = _project(tmp_path, WRITE_OUTPUTS)
    for folder in folders.values():
        folder.mkdir()
        (folder / outputs.LOCK_NAME).write_text("PID 999999, started 2026-01-01 00:00:00 UTC\n")
    assert _run(nbs, cfg, folders) == 0
    assert (folders["reports"] / outputs.LOCK_NAME).read_text().startswith(f"PID {os.getpid()}, started ")


def test_a_notebook_over_its_time_limit_is_stopped_and_reported_failed(tmp_path, capsys):
    nbs, cfg, folders = _project(tmp_path, "import time\ntime.sleep(120)", "  timeout: 3\n")
    start = time.monotonic()
    assert _run(nbs, cfg, folders) == 1
    assert time.monotonic() - start < 60
    err = capsys.readouterr().err
    assert ("error: notebook 01_write timed out: still running after 3 s (pipeline.timeout in pipeline.yaml); "
            "a codebook pattern that backtracks without end, or a corpus too big for the limit?") in err
    index = (folders["reports"] / "index.html").read_text()
    assert '<tr class="failed"><td><a href="01_write.html">01_write</a></td><td>✘ FAILED' in index
    assert "This run failed" in index


def test_timeout_must_be_a_whole_number_of_seconds(tmp_path):
    nbs, cfg, folders = _project(tmp_path, WRITE_OUTPUTS, "  timeout: soon\n")
    with pytest.raises(InputError) as err:
        _run(nbs, cfg, folders)
    assert err.value.problems == [f"{cfg}: pipeline.timeout: must be a whole number of seconds (1 or more), "
                                  "got 'soon'"]


def test_a_killed_run_leaves_the_previous_outputs_whole_and_no_process_behind(tmp_path):
    slow = WRITE_OUTPUTS + "import time\ntime.sleep(120)\n"
    nbs, cfg, folders = _project(tmp_path, "import time\nlabel == 'first' or time.sleep(120)\n" + WRITE_OUTPUTS)
    assert _run(nbs, cfg, folders) == 0
    before = _snapshot(folders)
    _notebook(nbs / "01_write.ipynb", slow)
    marker = uuid.uuid4().hex
    proc = _start_run(tmp_path, nbs, cfg, folders, marker, "01_write.label=second")
    staged = lambda: list(folders["figures"].glob(f"{paths.STAGING_PREFIX}*/second.png"))  # noqa: E731
    assert _wait_for(staged, 90), "the killed run never wrote its first output"
    assert len(_processes_with(marker)) >= 3  # the run, its worker and the worker's kernel
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _wait_for(lambda: not _processes_with(marker), 20), "processes of the killed run live on"
    assert _snapshot(folders) == before  # the previous reports, figures and tables, whole
    # the next run removes what the killed one left and publishes its own outputs
    (folders["processed"] / ".table.csv.abc123.tmp").write_text("half")
    _notebook(nbs / "01_write.ipynb", WRITE_OUTPUTS)
    out = tmp_path / "out.txt"
    with out.open("w") as fh:
        assert pipeline.run(cfg, ["01_write.label=third"], None, False, 1, folders["reports"], folders["figures"],
                            notebooks_dir=nbs, processed=folders["processed"], out=fh) == 0
    assert "Removed 4 leftover(s) of an interrupted run" in out.read_text()
    assert not list(tmp_path.rglob(f"{paths.STAGING_PREFIX}*")) and not list(tmp_path.rglob(".*.tmp"))
    assert (folders["processed"] / "table.csv").read_text() == "third"


LEAKY = """
from helpers import paths
(paths.processed_dir() / "table.csv").write_text(label)
(paths.figures_dir() / "chart.svg").write_text("<svg><text>chart</text></svg>")
(paths.figures_dir() / "words.svg").write_text(f"<svg><text>{label}</text></svg>")
(paths.figures_dir() / "words.png").write_bytes(b"a picture of the words")
print(label)
"""


def test_a_run_that_fails_the_leak_guard_publishes_none_of_the_leaking_outputs(tmp_path, capsys):
    register = tmp_path / "register.csv"
    register.write_text("original,category\nSarah Jenkins,name\n")
    nbs, cfg, folders = _project(tmp_path, LEAKY, f"  register: {register}\n")
    assert _run(nbs, cfg, folders, "01_write.label=clean words") == 0
    assert (folders["processed"] / "table.csv").read_text() == "clean words"
    capsys.readouterr()
    # a soft hyphen inside the surname, printed into the report and written into a table
    assert _run(nbs, cfg, folders, "01_write.label=notes of Sarah Jen\u00adkins") == 1
    captured = capsys.readouterr()
    assert "leak: " in captured.err and "Jen" not in captured.err  # findings never repeat the identifier
    assert "output file(s) are withheld (deleted, not published)" in captured.err
    for gone in ("reports/01_write.html", "reports/notebooks/01_write.ipynb", "processed/table.csv",
                 "figures/words.svg", "figures/words.png", "reports/figures/words.png"):
        assert not (tmp_path / gone).exists(), gone  # neither this run's version nor the earlier one
    assert (folders["figures"] / "chart.svg").is_file()  # a clean output of the same run is published
    index = (folders["reports"] / "index.html").read_text()
    assert "This run failed the leak check" in index
    assert '<tr class="failed"><td>01_write</td><td>✘ FAILED' in index
    assert "Sarah" not in index and "Jen" not in index
    assert not list(tmp_path.rglob(f"{paths.STAGING_PREFIX}*"))


def test_earlier_outputs_an_only_run_leaves_in_place_are_checked_too(tmp_path, capsys):
    register = tmp_path / "register.csv"
    register.write_text("original,category\nSarah Jenkins,name\n")
    nbs, cfg, folders = _project(tmp_path, LEAKY, f"  register: {register}\n")
    folders["reports"].mkdir()
    old = folders["reports"] / "02_other.html"
    old.write_text("<p>an earlier report about Sarah Jenkins</p>")
    code = pipeline.run(cfg, ["01_write.label=clean words"], ["01"], False, 1, folders["reports"], folders["figures"],
                        notebooks_dir=nbs, processed=folders["processed"])
    assert code == 1
    assert old.is_file()  # not this run's output: reported, not deleted
    assert (folders["reports"] / "01_write.html").is_file()  # this run's clean outputs are published
    index = (folders["reports"] / "index.html").read_text()
    assert (f"in 1 earlier output(s) this run did not replace, left in place: {old} (delete them or run every "
            "notebook). Fix the input data and run again.") in index
