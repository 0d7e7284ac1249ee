"""Run every notebook with papermill, export HTML reports in-process, build reports/index.html."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import paths
from .errors import InputError
from .project import (CONFIG_ENV, RUN_ENV, TITLE_ENV, check_inputs, load_config, load_project,  # noqa: F401
                      notebook_defaults, notebook_names, parse_overrides, project_parameters,
                      resolve_parameters, select, skip_reason)

REPORTED_PACKAGES = ["pandas", "numpy", "scipy", "matplotlib", "seaborn", "nltk", "papermill",
                     "nbconvert", "ipykernel", "pyyaml", "python-docx", "networkx", "ips-workbench"]
TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass
class NotebookResult:
    """What happened to one notebook in a run."""

    name: str
    status: str = "not run"  # ok | failed | skipped | not run
    seconds: float = 0.0
    error: str = ""
    parameters: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- execution
def _execute(name: str, notebooks_dir: str, out_dir: str, params: dict, env: dict) -> NotebookResult:
    """Execute one notebook with papermill (in a worker process); never raises for notebook errors."""
    import papermill as pm

    os.environ.update(env)
    result = NotebookResult(name=name, parameters=params)
    start = time.perf_counter()
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
    except Exception as exc:  # kernel died, bad notebook file …: still one line
        result.status = "failed"
        result.error = f"notebook {name} failed: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - start
    return result


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
    out_html.write_text(body, encoding="utf-8")


# ----------------------------------------------------------------------------- index.html
def input_files(parameters: dict[str, dict]) -> list[Path]:
    """Every existing file that a parameter value points to (folders expanded), sorted and unique."""
    found = set()
    for params in parameters.values():
        for value in params.values():
            if not isinstance(value, str) or not value or "\n" in value or len(value) > 500:
                continue
            p = paths.resolve(value)
            try:
                if p.is_file():
                    found.add(p.resolve())
                elif p.is_dir() and p.resolve() not in (paths.ROOT, Path(p.anchor)):
                    found.update(f.resolve() for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            except OSError:
                continue
    return sorted(found)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Python and the key packages' versions, for the report's provenance section."""
    out = {"python": sys.version.split()[0]}
    for name in REPORTED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_index(reports: Path, figures: Path, title: str, results: list[NotebookResult],
                parameters: dict[str, dict], run_date: str) -> Path:
    """Write reports/index.html: provenance, links to reports, a figure gallery; copy figures in."""
    esc = html.escape
    gallery_dir = reports / "figures"
    if gallery_dir.exists():
        shutil.rmtree(gallery_dir)
    pngs = sorted(figures.glob("*.png")) if figures.is_dir() else []
    if pngs:
        gallery_dir.mkdir(parents=True)
        for png in pngs:
            for f in (png, png.with_suffix(".svg")):
                if f.exists():
                    shutil.copy2(f, gallery_dir / f.name)
    rows = []
    for r in results:
        link = (f'<a href="{esc(r.name)}.html">{esc(r.name)}</a>'
                if (reports / f"{r.name}.html").exists() else esc(r.name))
        badge = {"ok": "✔ ok", "failed": "✘ FAILED", "skipped": "– skipped", "not run": "– not run"}[r.status]
        extra = f'<div class="err">{esc(r.error)}</div>' if r.error else ""
        rows.append(f'<tr class="{r.status.replace(" ", "-")}"><td>{link}</td><td>{badge}{extra}</td>'
                    f'<td>{r.seconds:.1f} s</td></tr>')
    param_blocks = "".join(
        f"<h3>{esc(nb)}</h3><table>" + "".join(
            f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(json.dumps(v, ensure_ascii=False))}</code></td></tr>"
            for k, v in params.items()) + "</table>"
        for nb, params in parameters.items())
    inputs = "".join(f"<tr><td><code>{esc(paths.relative(p))}</code></td><td><code>{sha256(p)}</code></td></tr>"
                     for p in input_files(parameters))
    versions = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in package_versions().items())
    thumbs = "".join(
        f'<figure><a href="figures/{esc(p.name)}"><img src="figures/{esc(p.name)}" alt="{esc(p.stem)}"></a>'
        f'<figcaption>{esc(p.stem)} (<a href="figures/{esc(p.with_suffix(".svg").name)}">SVG</a>)</figcaption></figure>'
        for p in pngs)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222;}}
table {{border-collapse: collapse; margin: .5em 0 1.5em 0;}} td, th {{padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top;}}
tr.failed td {{background: #fde2e2;}} .err {{font-family: monospace; font-size: .85em; color: #a00;}}
.gallery {{display: flex; flex-wrap: wrap; gap: 1em;}} figure {{margin: 0; width: 220px;}}
figure img {{width: 220px; height: 160px; object-fit: contain; border: 1px solid #ccc; background: #fff;}}
figcaption {{font-size: .8em; word-break: break-all;}} code {{font-size: .85em;}}
</style></head><body>
<h1>{esc(title)}</h1>
<p>Run on {esc(run_date)}. Each report below is a self-contained HTML page; open it in any browser, no Python needed.</p>
<h2>Reports</h2>
<table><tr><th>Notebook</th><th>Status</th><th>Time</th></tr>{''.join(rows)}</table>
<h2>Figures</h2>
<div class="gallery">{thumbs or '<p>No figures were produced.</p>'}</div>
<h2>Parameters used</h2>{param_blocks}
<h2>Input files (SHA-256)</h2>
<table><tr><th>File</th><th>SHA-256</th></tr>{inputs}</table>
<h2>Software</h2><table>{versions}</table>
</body></html>
"""
    index = reports / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


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
        from .anonymise import load_register

        register = str(project.from_config(register))
        load_register(register)
    for note in check_inputs({n: parameters[n] for n in to_run}):
        print(f"warning: {note}", file=sys.stderr)
    executed_dir = reports / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    if not only and figures.is_dir():
        for stale in list(figures.glob("*.png")) + list(figures.glob("*.svg")):
            stale.unlink()
    figures.mkdir(parents=True, exist_ok=True)
    title = project.title
    folders = {"reports": reports, "figures": figures, "processed": processed}
    env = {**{paths.OUTPUT_ENV[k]: str(folder.resolve()) for k, folder in folders.items()},
           CONFIG_ENV: str(project.config_path),
           RUN_ENV: "1", TITLE_ENV: title, "IPS_WORKBENCH_ROOT": str(paths.ROOT), "PYTHONHASHSEED": "0"}
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(to_run) or 1))
    results = {n: NotebookResult(name=n, parameters=parameters[n]) for n in chosen}
    for n, why in skipped.items():
        results[n].status, results[n].error = "skipped", why
        (reports / f"{n}.html").unlink(missing_ok=True)  # an earlier run's report would not match this run
    print(f"Running {len(to_run)} notebook(s) with {jobs} job(s) -> {reports}", file=out, flush=True)
    failed = []

    def finished(res: NotebookResult) -> None:
        """Record a notebook's result, export its HTML (code shown when it failed), print one line."""
        results[res.name] = res
        kept = executed_dir / f"{res.name}.ipynb"
        if res.status == "ok" or kept.exists():
            export_html(kept, reports / f"{res.name}.html", show_code or res.status != "ok")
        if res.status != "ok":
            failed.append(res)
        print(f"  {res.name:<28} {'ok' if res.status == 'ok' else 'FAILED':<7} {res.seconds:6.1f} s", file=out, flush=True)

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_execute, n, str(notebooks_dir), str(executed_dir), parameters[n], env): n
                   for n in to_run}
        pending = set(futures)
        while pending and not failed:  # _execute never raises: wait for each notebook as it finishes
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: futures[f]):
                finished(fut.result())
        for fut in pending:  # a notebook failed: those not started yet stay "not run"
            fut.cancel()
        for fut in sorted(wait(pending)[0], key=lambda f: futures[f]):
            if not fut.cancelled():
                finished(fut.result())
    for n, why in skipped.items():
        print(f"  {n:<28} {'skipped':<7}   ({why.removeprefix('skipped: ')})", file=out, flush=True)
    run_date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    index = write_index(reports, figures, title, [results[n] for n in chosen],
                        {n: parameters[n] for n in chosen}, run_date)
    leaked = 0
    if register:  # nothing identifiable may reach a report or a figure
        from .anonymise import check_outputs

        leaked = check_outputs(register, [reports, figures], out=out)
    if failed:
        for res in failed:
            print(f"error: {res.error} (partly executed notebook kept in "
                  f"{executed_dir / (res.name + '.ipynb')})", file=sys.stderr)
        return 1
    if leaked:
        return 1
    print(f"Done: {index}", file=out)
    return 0


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
    p.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: CPU cores)")
    p.add_argument("--reports", type=Path, default=None, help="reports folder (default: the project's reports/)")
    p.add_argument("--figures", type=Path, default=None, help="figures folder (default: the project's figures/)")
    p.add_argument("--processed", type=Path, default=None,
                   help="generated tables (default: the project's processed/; data/processed/ for the demo)")
    p.set_defaults(func=lambda a: run(a.config, a.overrides, a.only, a.show_code, a.jobs, a.reports, a.figures,
                                      processed=a.processed))
