"""Project root and standard folders. No other module builds project paths by hand."""

from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    """The project root: $IPS_WORKBENCH_ROOT, else the folder holding pipeline.yaml above here or cwd."""
    env = os.environ.get("IPS_WORKBENCH_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "pipeline.yaml").is_file() and (folder / "notebooks").is_dir():
                return folder
    return Path.cwd().resolve()


ROOT = _find_root()
DATA = ROOT / "data"
TRANSCRIPTS = DATA / "transcripts"
PARTICIPANTS = DATA / "participants.csv"
CODEBOOK = DATA / "codebook.yaml"
BUILTIN_STOPWORDS = Path(__file__).resolve().parent / "stopwords_en.txt"  # English, spoken fillers included
RAW = DATA / "raw"
PROCESSED = DATA / "processed"
NOTEBOOKS = ROOT / "notebooks"
PIPELINE_CONFIG = ROOT / "pipeline.yaml"


# The environment variables through which a run (or a notebook's project) names its output folders.
OUTPUT_ENV = {"reports": "IPS_REPORTS_DIR", "figures": "IPS_FIGURES_DIR", "processed": "IPS_PROCESSED_DIR"}
STAGING_PREFIX = ".run-staging-"  # a run builds its outputs in such a folder inside each output folder


def figures_dir() -> Path:
    """Where figures go: $IPS_FIGURES_DIR (set for a project's run or notebook) or ROOT/figures."""
    return Path(os.environ.get(OUTPUT_ENV["figures"], ROOT / "figures"))


def reports_dir() -> Path:
    """Where reports go: $IPS_REPORTS_DIR or ROOT/reports."""
    return Path(os.environ.get(OUTPUT_ENV["reports"], ROOT / "reports"))


def processed_dir() -> Path:
    """Where generated tables go: $IPS_PROCESSED_DIR or ROOT/data/processed."""
    return Path(os.environ.get(OUTPUT_ENV["processed"], PROCESSED))


def resolve(path: str | os.PathLike) -> Path:
    """A user-given path: absolute stays as is, relative is taken from the current folder (as any command
    line tool does; a project's config resolves its own relative paths from its folder)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path.cwd() / p)


def file_mode() -> int:
    """The permissions a new file gets under the user's umask (0644 with the usual umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a file via a temporary file beside it and a rename: never a half-written output.
    The file gets the permissions of the user's umask, like any other file they write."""
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def relative(path: str | os.PathLike) -> str:
    """A path shown relative to the project root when it lies inside it (for tables and reports)."""
    p = Path(path).resolve()
    if STAGING_PREFIX in str(p):  # a run's output shown where it will be once the run ends
        p = Path(*(part for part in p.parts if not part.startswith(STAGING_PREFIX)))
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()
