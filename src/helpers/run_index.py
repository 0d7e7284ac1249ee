"""reports/index.html, the run's table of contents, and the run record it is built from.

The record (reports/run_record.json) keeps, for every notebook, how it last ran: status, time taken,
error, parameters and when. A run with --only updates the rows of the notebooks it ran and keeps the
others, marked with the time they last ran. The page links each report and executed notebook, every
table in the processed folder, and shows the figures with their titles, the parameters, the input
files' checksums and the software versions.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path

from . import paths

RECORD_NAME = "run_record.json"
REPORTED_PACKAGES = ["pandas", "numpy", "scipy", "matplotlib", "seaborn", "nltk", "papermill",
                     "nbconvert", "ipykernel", "pyyaml", "python-docx", "networkx", "regex", "ips-workbench"]
BADGES = {"ok": "✔ ok", "failed": "✘ FAILED", "skipped": "– skipped", "not run": "– not run"}


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


# ----------------------------------------------------------------------------- the run record
def read_record(reports: Path) -> dict[str, dict]:
    """The notebooks' rows of the last run record in `reports` ({} when there is none or it is damaged)."""
    try:
        data = json.loads((reports / RECORD_NAME).read_text(encoding="utf-8"))
        return {str(k): dict(v) for k, v in data.get("notebooks", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def update_record(previous: dict[str, dict], results: list, run_date: str, names: list[str]) -> dict[str, dict]:
    """The record after this run: rows of the notebooks it ran replaced, the others kept as they last
    ran; only notebooks that still exist (`names`), in their order."""
    rows = {n: previous[n] for n in names if n in previous}
    for r in results:
        rows[r.name] = {"status": r.status, "seconds": round(r.seconds, 1), "error": r.error,
                        "parameters": r.parameters, "last_run": run_date}
    return {n: rows[n] for n in names if n in rows}


def write_record(reports: Path, rows: dict[str, dict]) -> Path:
    """Write reports/run_record.json (sorted keys: the same run gives the same bytes but for dates)."""
    text = json.dumps({"notebooks": rows}, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    return paths.atomic_write(reports / RECORD_NAME, text + "\n")


# ----------------------------------------------------------------------------- the page
def _caption(png: Path) -> str:
    """A figure's title as saved with it, else its file name in words."""
    try:
        title = figure_title(png)
    except (OSError, ValueError):
        title = ""
    return title or png.stem.replace("_", " ")


def _link(target: Path, base: Path) -> str:
    """`target` as a relative link from the folder `base` (forward slashes, for a browser)."""
    return Path(os.path.relpath(target, base)).as_posix()


def write_index(reports: Path, pngs: list[Path], title: str, rows: dict[str, dict], run_date: str,
                tables: list[tuple[Path, int]] = (), final_reports: Path | None = None, failure: str = "",
                private: bool = False, gone: frozenset = frozenset()) -> Path:
    """Write `reports`/index.html (reports: where this run stages it; final_reports: where it will be
    read, for the links). Rows come from the run record; `tables` are the processed tables to link
    (where they will be, and their size in bytes);
    the figures `pngs` are copied into reports/figures/ with their SVGs. `failure` is shown at the top;
    `private` leaves out the parameters and input files (when the leak guard found identifiers there);
    `gone` are earlier reports the run removes (not linked)."""
    esc = html.escape
    final = final_reports or reports
    gallery_dir = reports / "figures"
    if gallery_dir.exists():
        shutil.rmtree(gallery_dir)
    if pngs:
        gallery_dir.mkdir(parents=True)
        for png in pngs:
            for f in (png, png.with_suffix(".svg")):
                if f.exists():
                    shutil.copy2(f, gallery_dir / f.name)
    lines = []
    for name, row in rows.items():
        exists = lambda rel: (reports / rel).exists() or ((final / rel).exists() and final / rel not in gone)  # noqa: E731
        link = f'<a href="{esc(name)}.html">{esc(name)}</a>' if exists(f"{name}.html") else esc(name)
        executed = (f'<a href="notebooks/{esc(name)}.ipynb">notebook</a>'
                    if exists(f"notebooks/{name}.ipynb") else "")
        status = row.get("status", "not run")
        extra = f'<div class="err">{esc(row.get("error") or "")}</div>' if row.get("error") else ""
        when = row.get("last_run", "")
        when_cell = esc(when) if when == run_date else f'{esc(when)} <span class="earlier">(an earlier run)</span>'
        lines.append(f'<tr class="{status.replace(" ", "-")}"><td>{link}</td><td>{BADGES.get(status, esc(status))}'
                     f'{extra}</td><td>{row.get("seconds", 0):.1f} s</td><td>{when_cell}</td><td>{executed}</td></tr>')
    parameters = {name: row.get("parameters", {}) for name, row in rows.items()}
    param_blocks = "".join(
        f"<h3>{esc(nb)}</h3><table>" + "".join(
            f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(json.dumps(v, ensure_ascii=False))}</code></td></tr>"
            for k, v in params.items()) + "</table>"
        for nb, params in parameters.items()) if not private else "<p>Withheld (see the error above).</p>"
    inputs = "" if private else "".join(
        f"<tr><td><code>{esc(paths.relative(p))}</code></td><td><code>{sha256(p)}</code></td></tr>"
        for p in input_files(parameters))
    table_rows = "".join(
        f'<tr><td><a href="{esc(_link(t, final))}">{esc(t.name)}</a></td><td>{size:,} bytes</td></tr>'
        for t, size in tables)
    versions = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in package_versions().items())
    thumbs = "".join(
        f'<figure><a href="figures/{esc(p.name)}"><img src="figures/{esc(p.name)}" alt="{esc(_caption(p))}"></a>'
        f'<figcaption>{esc(_caption(p))} (<a href="figures/{esc(p.with_suffix(".svg").name)}">SVG</a>)'
        f'</figcaption></figure>'
        for p in pngs)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222;}}
table {{border-collapse: collapse; margin: .5em 0 1.5em 0;}} td, th {{padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top;}}
tr.failed td {{background: #fde2e2;}} .failure {{background: #fde2e2; border: 2px solid #a00; padding: .6em; font-weight: bold;}} .err {{font-family: monospace; font-size: .85em; color: #a00;}}
.earlier {{color: #666; font-size: .85em;}}
.gallery {{display: flex; flex-wrap: wrap; gap: 1em;}} figure {{margin: 0; width: 220px;}}
figure img {{width: 220px; height: 160px; object-fit: contain; border: 1px solid #ccc; background: #fff;}}
figcaption {{font-size: .8em;}} code {{font-size: .85em;}}
</style></head><body>
<h1>{esc(title)}</h1>
{f'<p class="failure">{esc(failure)}</p>' if failure else ''}
<p>Run on {esc(run_date)}. Each report below is a self-contained HTML page; open it in any browser, no Python needed.
The executed notebooks hold the same results with their code, for JupyterLab.</p>
<h2>Reports</h2>
<table><tr><th>Notebook</th><th>Status</th><th>Time</th><th>Last ran</th><th>Executed notebook</th></tr>{''.join(lines)}</table>
<h2>Tables</h2>
{f'<table><tr><th>File</th><th>Size</th></tr>{table_rows}</table>' if table_rows else '<p>No tables were written.</p>'}
<h2>Figures</h2>
<div class="gallery">{thumbs or '<p>No figures were produced.</p>'}</div>
<h2>Parameters used</h2>{param_blocks}
<h2>Input files (SHA-256)</h2>
<table><tr><th>File</th><th>SHA-256</th></tr>{inputs}</table>
<h2>Software</h2><table>{versions}</table>
</body></html>
"""
    return paths.atomic_write(reports / "index.html", page)


def figure_title(path: str | Path) -> str:
    """The title save_figure recorded in a PNG ("Title" text) or SVG (<title>); '' when it has none."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        head = path.read_text(encoding="utf-8", errors="replace")[:20_000]
        found = re.search(r"<title>(.*?)</title>", head, re.DOTALL)
        return html.unescape(found.group(1)).strip() if found else ""
    from PIL import Image

    try:
        with Image.open(path) as image:  # the text chunks before the pixels (where save_figure writes them):
            return str(image.info.get("Title", "")).strip()  # not image.text, which decodes the whole image
    except (OSError, SyntaxError, ValueError):  # not an image PIL can read
        return ""
