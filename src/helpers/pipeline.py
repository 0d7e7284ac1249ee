"""Run every notebook with papermill, export HTML reports in-process, build reports/index.html."""

from __future__ import annotations

import io
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import paths
from .errors import InputError
from .anonymise import check_outputs, load_register
from .outputs import OutputFolders, die_with_parent
from .run_index import RECORD_NAME, read_record, update_record, write_index, write_record
from .project import (CONFIG_ENV, DEFAULT_TIMEOUT, RUN_ENV, TITLE_ENV, check_inputs, load_config,  # noqa: F401
                      load_project, notebook_defaults, notebook_names, parse_overrides, project_parameters,
                      resolve_parameters, select, skip_reason)

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass
class NotebookResult:
    """What happened to one notebook in a run."""

    name: str
    status: str = "not run"  # ok | failed | skipped | not run
    seconds: float = 0.0
    error: str = ""
    parameters: dict = field(default_factory=dict)
    exported: bool = False  # its HTML report was written (or tried)


# ----------------------------------------------------------------------------- execution
# Imported by jsonschema (through papermill -> nbformat) to check the "iri" string format, which no
# notebook schema uses: building its grammars takes ~1.8 s of every worker's start.
UNUSED_IMPORTS = ("rfc3987_syntax",)
KILL_GRACE = 60  # seconds past a notebook's timeout before the run kills a worker whose kernel stopped answering


def _execute(name: str, notebooks_dir: str, out_dir: str, params: dict, env: dict,
             timeout: int = DEFAULT_TIMEOUT) -> NotebookResult:
    """Execute one notebook with papermill (in a worker process); never raises for notebook errors.
    The notebook as a whole gets `timeout` seconds: each cell may use what is left of them."""
    for module in UNUSED_IMPORTS:  # import fails fast; jsonschema then goes without that format check
        sys.modules.setdefault(module, None)
    import papermill as pm

    os.environ.update(env)
    result = NotebookResult(name=name, parameters=params)
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    try:
        pm.execute_notebook(
            str(Path(notebooks_dir) / f"{name}.ipynb"),
            str(Path(out_dir) / f"{name}.ipynb"),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(paths.ROOT),
            # the kernel's own start-up chatter (e.g. its TCP notice) is not a report finding
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            timeout_func=lambda cell: max(1, int(deadline - time.monotonic() + 0.999)),
        )
        result.status = "ok"
    except pm.PapermillExecutionError as exc:
        result.status = "failed"
        # papermill's cell_index counts its injected-parameters cell; report the source notebook's cell
        import nbformat

        source = nbformat.read(Path(notebooks_dir) / f"{name}.ipynb", as_version=4)
        index = exc.cell_index - (1 if params else 0)
        first_line = next((ln for ln in source.cells[index].source.splitlines() if ln.strip()), "")
        result.error = (f"notebook {name} failed at cell {index + 1} "
                        f"(`{first_line.strip()[:80]}`): {exc.ename}: {exc.evalue}")
    except TimeoutError:  # nbclient's CellTimeoutError: the notebook used up its time
        result.status = "failed"
        result.error = timed_out(name, timeout)
    except Exception as exc:  # kernel died, bad notebook file …: still one line
        result.status = "failed"
        result.error = f"notebook {name} failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    result.seconds = time.perf_counter() - start
    return result


def _execute_and_export(name: str, notebooks_dir: str, out_dir: str, html_dir: str, params: dict, env: dict,
                        timeout: int, show_code: bool) -> NotebookResult:
    """Execute one notebook and export its HTML report, both in the worker process, so that the two
    workers share the export work instead of the parent doing it while they run."""
    result = _execute(name, notebooks_dir, out_dir, params, env, timeout)
    export_report(result, Path(out_dir), Path(html_dir), show_code)
    return result


def export_report(res: NotebookResult, executed_dir: Path, html_dir: Path, show_code: bool) -> None:
    """Export a notebook's HTML report once (code shown when it failed); a notebook cut short may not
    be valid JSON: an ok notebook whose export fails is marked failed."""
    kept = executed_dir / f"{res.name}.ipynb"
    if res.exported or not (res.status == "ok" or kept.exists()):
        return
    res.exported = True
    try:
        export_html(kept, html_dir / f"{res.name}.html", show_code or res.status != "ok")
    except Exception as exc:
        if res.status == "ok":
            res.status, res.error = "failed", f"notebook {res.name}: HTML export failed: {exc}"


# Started first when no earlier run recorded how long each notebook takes: the demo's longest notebook.
LONGEST_WITHOUT_RECORD = ("04_cooccurrence",)


def longest_first(names: list[str], previous: dict[str, dict]) -> list[str]:
    """The notebooks in the order to start them, so that the workers finish together: by the seconds
    each took in the previous run (`previous`: the run record's rows), longest first, a notebook
    without a recorded time before all others; without any record, LONGEST_WITHOUT_RECORD first.
    Ties keep the notebooks' own order."""
    seconds = {n: previous.get(n, {}).get("seconds") for n in names}
    if not any(isinstance(s, (int, float)) for s in seconds.values()):
        return sorted(names, key=lambda n: n not in LONGEST_WITHOUT_RECORD)
    return sorted(names, key=lambda n: -seconds[n] if isinstance(seconds[n], (int, float)) else float("-inf"))


def timed_out(name: str, timeout: int) -> str:
    """The one-line error of a notebook stopped by its time limit."""
    return (f"notebook {name} timed out: still running after {timeout} s (pipeline.timeout in pipeline.yaml); "
            "a codebook pattern that backtracks without end, or a corpus too big for the limit?")


def _outcome(fut, name: str) -> NotebookResult:
    """A finished worker's result, or a failure when the worker process itself died."""
    try:
        return fut.result()
    except Exception as exc:  # BrokenProcessPool: the worker was killed (out of memory, a timeout)
        return NotebookResult(name=name, status="failed",
                              error=f"notebook {name} failed: its worker process died ({type(exc).__name__})")


def export_html(executed: Path, out_html: Path, show_code: bool) -> None:
    """Convert an executed notebook to a self-contained, offline HTML report (in-process)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name="offline",
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
                or show_code]
    title = next((line.lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"
                  for line in c.source.splitlines() if line.startswith("# ")), executed.stem)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    paths.atomic_write(out_html, body)


# ----------------------------------------------------------------------------- run
def run(config_path: Path | None = None, overrides: list[str] | None = None, only: list[str] | None = None,
        show_code: bool = False, jobs: int | None = None, reports: Path | None = None,
        figures: Path | None = None, notebooks_dir: Path | None = None, processed: Path | None = None,
        out=sys.stdout) -> int:
    """Run a project's pipeline; return the exit code (0 ok, 1 a notebook failed or a leak).

    The project is the config named (default: the repository's demo pipeline.yaml); its inputs are
    read and checked once before any notebook starts (bad input raises one InputError listing every
    problem); outputs go to the project's folders unless --reports/--figures/--processed say otherwise."""
    project = load_project(config_path or paths.PIPELINE_CONFIG)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else paths.NOTEBOOKS
    reports = Path(reports) if reports else project.folder("reports")
    figures = Path(figures) if figures else project.folder("figures")
    processed = Path(processed) if processed else project.folder("processed")
    run_settings, parameters = project_parameters(project, parse_overrides(overrides or []), notebooks_dir)
    chosen = select(list(parameters), only)
    skipped = {n: why for n in chosen if (why := skip_reason(parameters[n]))}
    to_run = [n for n in chosen if n not in skipped]
    register = run_settings.get("register")
    if register:  # a bad register stops the run before any notebook runs
        register = str(project.from_config(register))
        load_register(register)
    for note in check_inputs({n: parameters[n] for n in to_run}):
        print(f"warning: {note}", file=sys.stderr)
    timeout = int(run_settings.get("timeout") or DEFAULT_TIMEOUT)
    outputs = OutputFolders({"reports": reports, "figures": figures, "processed": processed})
    with outputs:  # one run at a time per output folder; outputs swapped in only when the run ends
        leftovers = outputs.clean_leftovers()
        if leftovers:
            print(f"Removed {len(leftovers)} leftover(s) of an interrupted run", file=out)
        stage = {key: outputs.staging(key) for key in outputs.folders}
        to_run = longest_first(to_run, read_record(reports))
        results = _run_notebooks(chosen, to_run, skipped, parameters, notebooks_dir, stage, project, timeout,
                                 jobs, show_code, out)
        return _publish(outputs, stage, results, chosen, skipped, parameters, project.title, register,
                        full=not only, out=out)


def _run_notebooks(chosen, to_run, skipped, parameters, notebooks_dir, stage, project, timeout, jobs, show_code,
                   out) -> dict[str, NotebookResult]:
    """Execute the notebooks (in parallel, each with its time limit) into the staging folders and export
    their HTML there; stop starting new ones after a failure. Returns every chosen notebook's result."""
    executed_dir = stage["reports"] / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    env = {**{paths.OUTPUT_ENV[k]: str(folder) for k, folder in stage.items()},
           CONFIG_ENV: str(project.config_path),
           RUN_ENV: "1", TITLE_ENV: project.title, "IPS_WORKBENCH_ROOT": str(paths.ROOT), "PYTHONHASHSEED": "0"}
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(to_run) or 1))
    results = {n: NotebookResult(name=n, parameters=parameters[n]) for n in chosen}
    for n, why in skipped.items():
        results[n].status, results[n].error = "skipped", why
    print(f"Running {len(to_run)} notebook(s) with {jobs} job(s) -> {paths.relative(stage['reports'])}",
          file=out, flush=True)
    failed = []

    def finished(res: NotebookResult) -> None:
        """Record a notebook's result, export its HTML (code shown when it failed), print one line."""
        results[res.name] = res
        export_report(res, executed_dir, stage["reports"], show_code)  # a worker that died did not
        if res.status != "ok":
            failed.append(res)
        print(f"  {res.name:<28} {'ok' if res.status == 'ok' else 'FAILED':<7} {res.seconds:6.1f} s", file=out, flush=True)

    queue = list(to_run)
    running: dict = {}  # future -> (notebook, when it started)
    with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) as pool:
        while queue or running:
            while queue and not failed and len(running) < jobs:
                n = queue.pop(0)
                args = (n, str(notebooks_dir), str(executed_dir), str(stage["reports"]), parameters[n], env, timeout,
                        show_code)
                running[pool.submit(_execute_and_export, *args)] = (n, time.monotonic())
            if not running:
                break
            done, _ = wait(running, timeout=5, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f][0]):
                finished(_outcome(fut, running.pop(fut)[0]))
            overdue = [n for n, t0 in running.values() if time.monotonic() - t0 > timeout + KILL_GRACE]
            if overdue:  # a kernel that no longer answers: stop every worker (their kernels follow)
                import multiprocessing

                for child in multiprocessing.active_children():
                    child.kill()
                for n, t0 in sorted(running.values()):
                    error = timed_out(n, timeout) if n in overdue else f"notebook {n} stopped: the run ended"
                    finished(NotebookResult(name=n, status="failed", error=error, seconds=time.monotonic() - t0))
                running.clear()
    for n, why in skipped.items():
        print(f"  {n:<28} {'skipped':<7}   ({why.removeprefix('skipped: ')})", file=out, flush=True)
    return results


def _guard(register: str, outputs: OutputFolders, stage: dict[str, Path], out) -> tuple[list[Path], list[Path]]:
    """The leak guard over everything this run staged and every earlier output it leaves in place.
    Returns (this run's leaking outputs, deleted from staging; earlier outputs that leak, left alone:
    the run did not write them, but it must not report the folder clean)."""
    kept = []
    for key, folder in outputs.folders.items():
        staged = {p.relative_to(stage[key]) for p in outputs.staged_files(key)}
        kept += [f for f in folder.rglob("*") if f.is_file() and f.relative_to(folder) not in staged
                 and not any(part.startswith(".") for part in f.relative_to(folder).parts)]
    leaking = check_outputs(register, [*(stage[k] for k in ("reports", "figures", "processed")), *sorted(set(kept))],
                            out=out)
    leaking = set(leaking) | {w.with_suffix(".png") for w in leaking  # a PNG shows what its SVG twin holds
                              if w.suffix == ".svg" and w.with_suffix(".png").exists()}
    withheld = sorted(w for w in leaking if any(s in w.parents for s in stage.values()))
    for w in withheld:
        w.unlink()
    return withheld, sorted(leaking.difference(withheld))


def _publish(outputs: OutputFolders, stage: dict[str, Path], results: dict[str, NotebookResult], chosen, skipped,
             parameters, title, register, full: bool, out) -> int:
    """Write the run record and index.html, run the leak guard over everything staged (identifying
    outputs are deleted, never published), then swap the staged outputs in. Returns the exit code."""
    figures, reports, processed = (outputs.folders[k] for k in ("figures", "reports", "processed"))
    staged_pngs = {p.name: p for p in stage["figures"].glob("*.png")}
    kept_pngs = {} if full else {p.name: p for p in figures.glob("*.png")}
    pngs = [p for _, p in sorted({**kept_pngs, **staged_pngs}.items())]
    run_date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    names = list(parameters)
    previous = read_record(reports)
    shared = any(parameters[n].get("share") is True for n in chosen)  # built for sharing: link this run's tables only

    def index(failure: str = "", withheld=(), page_title: str = title, private: bool = False) -> Path:
        """Write the record and the page for the current results (without the outputs withheld)."""
        rows = update_record(previous, [results[n] for n in chosen], run_date, names)
        if stage["reports"] / RECORD_NAME not in withheld:
            write_record(stage["reports"], rows)
        earlier_tables = [] if shared else _visible_files(processed)  # an earlier full run's may hold turns
        files = {t.name: t for t in [*earlier_tables, *_visible_files(stage["processed"])]
                 if t not in withheld and processed / t.name not in withheld}
        tables = [(processed / name, files[name].stat().st_size) for name in sorted(files)]
        gone = frozenset(reports / w.relative_to(stage["reports"]) for w in withheld if stage["reports"] in w.parents)
        return write_index(stage["reports"], [p for p in pngs if p not in withheld], page_title, rows, run_date,
                           tables=tables, final_reports=reports, failure=failure, private=private, gone=gone)

    failed = [results[n] for n in chosen if results[n].status == "failed"]
    page = index("This run failed: see the notebooks marked FAILED." if failed else "")
    withheld, earlier = _guard(register, outputs, stage, out) if register else ([], [])
    for leaking in withheld:
        name = leaking.stem
        if name in results and leaking.suffix in (".html", ".ipynb"):
            results[name].status = "failed"
            results[name].error = f"notebook {name}: report withheld: the leak check found identifiers in it"
    if withheld or earlier:
        failure = "This run failed the leak check: identifiers from the register or patterns were found"
        if withheld:
            failure += (f" in {len(withheld)} of its outputs, which were deleted and not published: "
                        f"{', '.join(paths.relative(w) for w in withheld)}")
        if earlier:
            failure += (f"{';' if withheld else ''} in {len(earlier)} earlier output(s) this run did not replace, "
                        f"left in place: {', '.join(paths.relative(e) for e in earlier)} (delete them or run "
                        "every notebook)")
        failure += ". Fix the input data and run again."
        private = page in withheld or any(w.suffix in (".ipynb", ".json") for w in withheld)
        page = index(failure, withheld, private=private)
        if check_outputs(register, [page], out=io.StringIO(), err=io.StringIO()):  # the title itself
            page = index(failure, withheld, "Reports (title withheld by the leak check)", private=True)
    removed = []
    if full:  # a full run replaces every figure and the gallery; an --only run keeps the others
        removed += sorted(figures.glob("*.png")) + sorted(figures.glob("*.svg"))
        removed += sorted((reports / "figures").glob("*")) if (reports / "figures").is_dir() else []
    for n in skipped:
        removed.append(reports / f"{n}.html")  # an earlier run's report would not match this run
    for w in withheld:  # an earlier version of a withheld output must not stand in for it
        key = next(k for k in ("reports", "figures", "processed") if stage[k] in w.parents)
        removed.append(outputs.folders[key] / w.relative_to(stage[key]))
    for key in ("processed", "figures", "reports"):
        outputs.swap_in(key, remove=[r for r in removed if outputs.folders[key] in r.parents], last=("index.html",))
    final_index = reports / "index.html"
    for res in failed:
        print(f"error: {res.error} (partly executed notebook kept in "
              f"{paths.relative(reports / 'notebooks' / (res.name + '.ipynb'))})", file=sys.stderr)
    if failed or withheld or earlier:
        print(f"Run failed: {paths.relative(final_index)}", file=out)
        return 1
    print(f"Done: {final_index}", file=out)
    return 0


def _visible_files(folder: Path) -> list[Path]:
    """The files directly in `folder` that are not hidden (staging, lock and temporary files are)."""
    return sorted(f for f in folder.glob("*") if f.is_file() and not f.name.startswith(".")) if folder.is_dir() else []


def add_commands(sub) -> None:
    """Register `run` on the command line."""
    p = sub.add_parser("run", help="run every notebook, write HTML reports and reports/index.html")
    p.add_argument("--config", type=Path, default=None,
                   help="the project's pipeline.yaml (default: the demo project's); relative paths in it are "
                        "taken from its folder, and outputs go to its reports/, figures/ and processed/")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NOTEBOOK.key=value",
                   help="override one parameter (value parsed as YAML); repeatable")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only this notebook (name or number prefix); repeatable")
    p.add_argument("--show-code", action="store_true", help="show code cells in the HTML reports")
    p.add_argument("--share", action="store_true",
                   help="build reports for sharing outside the research team: no table or figure of whole turns, "
                        "quotes limited to the chosen exemplars (the same as --set all.share=true)")
    p.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: CPU cores)")
    p.add_argument("--reports", type=Path, default=None, help="reports folder (default: the project's reports/)")
    p.add_argument("--figures", type=Path, default=None, help="figures folder (default: the project's figures/)")
    p.add_argument("--processed", type=Path, default=None,
                   help="generated tables (default: the project's processed/; data/processed/ for the demo)")
    p.set_defaults(func=lambda a: run(a.config, a.overrides + (["all.share=true"] if a.share else []), a.only,
                                      a.show_code, a.jobs, a.reports, a.figures, processed=a.processed))
