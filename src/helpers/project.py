"""A project: one pipeline.yaml, the inputs it names and the folders its outputs go to.

Relative paths in a config are taken from the config's folder, relative paths given on the command
line from the current folder; an input a project does not name is "none", never a demo file. The
repository's own pipeline.yaml is the demo project. The same resolution serves `helpers run` and a
notebook opened in JupyterLab (`notebook_parameters`), so both see the same values.
"""

from __future__ import annotations

import ast
import html
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import paths
from .codebook import format_problem, read_yaml
from .limits import load_yaml
from .errors import InputError

ALL_SECTION = "all"  # parameters given once for every notebook that has them
RUN_SECTION = "pipeline"  # run-level settings in pipeline.yaml (title, register, output folders), not a notebook
OUTPUT_FOLDERS = {"reports": "reports", "figures": "figures", "processed": "processed"}  # default: in the project
RUN_KEYS = {"title": str, "register": (str, type(None)), "timeout": int, **{k: str for k in OUTPUT_FOLDERS}}
DEFAULT_TIMEOUT = 3600  # seconds a notebook may run before the run stops it (pipeline.timeout)
PATH_PARAMETERS = ("transcripts_dir", "participants_csv", "codebook_yaml", "human_coding", "stopwords_file")
CONFIG_ENV = "IPS_CONFIG"  # the pipeline.yaml a notebook opened in JupyterLab takes its parameters from
RUN_ENV = "IPS_PIPELINE_RUN"  # set by `helpers run` for its notebooks: the injected parameters are final
TITLE_ENV = "IPS_PROJECT_TITLE"
DEFAULT_TITLE = "Transcript analysis reports"
SHARE_PARAMETER = "share"  # notebook parameter: true builds a report to share outside the research team
SHARED_MODE = "Built for sharing: whole turns left out"
FULL_MODE = "Full report: contains every turn verbatim; share only within the research team"


def notebook_names(folder: Path | None = None) -> list[str]:
    """Stems of the notebooks in notebooks/, in name order."""
    folder = folder or paths.NOTEBOOKS
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def parameters_cell(cells: list[dict], shown: str) -> tuple[int, str]:
    """Index and source of the cell tagged `parameters`; InputError unless there is exactly one."""
    tagged = [(i, c) for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise InputError(f"{shown}: has {len(tagged)} cells tagged 'parameters' (want exactly 1)")
    source = tagged[0][1].get("source", "")
    return tagged[0][0], "".join(source) if isinstance(source, list) else source


def notebook_defaults(path: Path) -> dict:
    """The literal default of each parameter in a notebook's `parameters` cell, in order.

    The notebook is read as plain JSON: nbformat takes a second to import, and every notebook of a run
    calls this once to show its parameters."""
    import json

    shown = paths.relative(path)
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{shown}: cannot read as a Jupyter notebook ({type(exc).__name__}); save it again "
                         f"from JupyterLab") from None
    _, source = parameters_cell(cells, shown)
    try:
        body = ast.parse(source).body
    except SyntaxError as exc:
        raise InputError(f"{paths.relative(path)}: parameters cell, line {exc.lineno}: {exc.msg}; "
                         f"fix the Python syntax") from None
    defaults = {}
    for node in body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if not isinstance(target, ast.Name) or node.value is None:
            raise InputError(f"{paths.relative(path)}: parameters cell may hold only `name: type = literal` lines")
        try:
            defaults[target.id] = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError):  # what ast.literal_eval raises for a non-literal
            raise InputError(f"{paths.relative(path)}: parameter {target.id!r} is not a literal value") from None
    return defaults


def load_config(config_path: Path) -> dict:
    """Read pipeline.yaml as a mapping (empty file -> {}); a YAML error is an InputError naming the line."""
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{config_path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, not UTF-8 …
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else (exc.strerror or exc)
        raise InputError(f"{config_path}: cannot read the config file ({reason}); give a UTF-8 YAML file") from None
    data, lines, duplicates = read_yaml(text, str(config_path), hint="")
    if duplicates:
        raise InputError([format_problem(str(config_path), key, message, lines) for key, message in duplicates])
    data = data or {}
    if not isinstance(data, dict):
        raise InputError(f"{config_path}: must be a mapping of notebook name -> parameters")
    return data


def parse_overrides(items: list[str]) -> dict[str, dict]:
    """`NOTEBOOK.key=value` strings -> {notebook: {key: value}}, values parsed as YAML scalars."""
    out: dict[str, dict] = {}
    for item in items or []:
        name_key, sep, raw = item.partition("=")
        notebook, dot, key = name_key.partition(".")
        if not sep or not dot or not notebook or not key:
            raise InputError(f"--set {item!r}: expected NOTEBOOK.key=value, e.g. 01_corpus_overview.top_n=20")
        try:
            value = load_yaml(raw, f"--set {name_key}") if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out.setdefault(notebook.strip(), {})[key.strip()] = value
    return out


def resolve_parameters(config: dict, overrides: dict[str, dict], notebooks_dir: Path,
                       config_name: str = "pipeline.yaml") -> tuple[dict, dict[str, dict]]:
    """Merge notebook defaults, config sections and --set overrides; refuse unknown names.

    The section `all` sets a parameter in every notebook that has it (e.g. transcripts_dir).
    Order, later wins: notebook default, config `all`, config notebook section, --set all.KEY,
    --set NOTEBOOK.KEY. Returns (run settings, {notebook: parameters}) in the notebooks' order.
    """
    names = notebook_names(notebooks_dir)
    defaults = {n: notebook_defaults(notebooks_dir / f"{n}.ipynb") for n in names}
    shared = sorted({k for params in defaults.values() for k in params})
    problems = []
    run = config.get(RUN_SECTION) or {}
    if not isinstance(run, dict):
        problems.append(f"{config_name}: {RUN_SECTION}: must be a mapping of setting -> value")
        run = {}
    for key, value in run.items():
        if key not in RUN_KEYS:
            problems.append(f"{config_name}: {RUN_SECTION}.{key}: unknown setting; valid settings: {', '.join(RUN_KEYS)}")
        elif RUN_KEYS[key] is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{config_name}: {RUN_SECTION}.{key}: must be a whole number of seconds (1 or more), "
                            f"got {value!r}")
        elif not isinstance(value, RUN_KEYS[key]):
            problems.append(f"{config_name}: {RUN_SECTION}.{key}: must be text, got {value!r}")
    for source, sections in ((config_name, {k: v for k, v in config.items() if k != RUN_SECTION}),
                             ("--set", overrides)):
        for nb, params in sections.items():
            if nb != ALL_SECTION and nb not in defaults:
                problems.append(f"{source}: unknown notebook {nb!r}; valid notebooks: {', '.join(names)} "
                                f"(or {ALL_SECTION!r} for every notebook)")
                continue
            if not isinstance(params, dict):
                problems.append(f"{source}: {nb}: must be a mapping of parameter -> value")
                continue
            valid = shared if nb == ALL_SECTION else list(defaults[nb])
            for key in params:
                if key not in valid:
                    problems.append(f"{source}: {nb}.{key}: unknown parameter; valid parameters of {nb}: "
                                    f"{', '.join(valid)}")
    if problems:
        raise InputError(problems)
    merged = {}
    for nb in names:
        params = dict(defaults[nb])
        for layer in (config.get(ALL_SECTION), config.get(nb), overrides.get(ALL_SECTION), overrides.get(nb)):
            for key, value in (layer or {}).items():
                if key in params:
                    params[key] = value
        merged[nb] = params
    return run, merged


def select(names: list[str], only: list[str] | None) -> list[str]:
    """The notebooks to run: all, or those named by --only (full stem or its number prefix)."""
    if not only:
        return names
    chosen = []
    for want in only:
        want = want.removesuffix(".ipynb")
        hits = [n for n in names if n == want or n.split("_", 1)[0] == want]
        if not hits:
            raise InputError(f"--only {want!r}: unknown notebook; valid notebooks: {', '.join(names)}")
        chosen.extend(h for h in hits if h not in chosen)
    return [n for n in names if n in chosen]


# ----------------------------------------------------------------------------- the project
@dataclass
class Project:
    """A pipeline.yaml and what it says: settings (`pipeline` section) and notebook parameter sections."""

    config_path: Path
    config: dict

    @property
    def root(self) -> Path:
        """The config's folder: relative paths in the config start here."""
        return self.config_path.parent

    @property
    def settings(self) -> dict:
        """The `pipeline` section (title, register, output folders)."""
        value = self.config.get(RUN_SECTION) or {}
        return value if isinstance(value, dict) else {}

    @property
    def title(self) -> str:
        return str(self.settings.get("title") or DEFAULT_TITLE)

    @property
    def is_demo(self) -> bool:
        """True for the repository's own pipeline.yaml (the synthetic demo project)."""
        return self.config_path.resolve() == paths.PIPELINE_CONFIG.resolve()

    def folder(self, key: str) -> Path:
        """An output folder (reports, figures, processed): as the config sets it, else inside the project."""
        value = self.settings.get(key)
        return self.from_config(value) if isinstance(value, str) and value.strip() else self.root / OUTPUT_FOLDERS[key]

    def from_config(self, value: str) -> Path:
        """A path written in the config, taken from the config's folder when relative."""
        p = Path(value).expanduser()
        return (p if p.is_absolute() else self.root / p).resolve()


def load_project(config_path: str | Path | None = None) -> Project:
    """The project of a pipeline.yaml: the one named, else $IPS_CONFIG, else the repository's demo project."""
    path = Path(config_path or os.environ.get(CONFIG_ENV) or paths.PIPELINE_CONFIG).expanduser().resolve()
    return Project(path, load_config(path))


def _absolute(value, base: Path):
    """A path parameter's value made absolute from `base` ("" and non-text values stay as they are)."""
    if not isinstance(value, str) or not value.strip():
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def _paths_from(sections: dict, base: Path) -> dict:
    """Config or --set sections with every path parameter made absolute from `base`."""
    out = {}
    for name, params in sections.items():
        if name != RUN_SECTION and isinstance(params, dict):
            params = {k: (_absolute(v, base) if k in PATH_PARAMETERS else v) for k, v in params.items()}
        out[name] = params
    return out


def project_parameters(project: Project, overrides: dict[str, dict], notebooks_dir: Path) -> tuple[dict, dict]:
    """`resolve_parameters` for a project: paths in its config taken from its folder, in --set from the
    current folder, so every notebook gets absolute paths whatever its working folder."""
    config = _paths_from(project.config, project.root)
    return resolve_parameters(config, _paths_from(overrides, Path.cwd()), notebooks_dir, str(project.config_path))


# ----------------------------------------------------------------------------- inputs, checked once
KEYNESS_NOTEBOOKS = ("02_keywords",)  # notebooks that compare the values of `by` with each other


def by_values(participants, turns, by: str) -> list[str] | None:
    """The distinct values of a grouping column among participants' turns (a turns column or a participant
    attribute), or None when neither table has that column."""
    talk = turns[turns["role"] == "participant"]
    if by in talk.columns:
        return sorted(set(talk[by].astype(str)))
    if by in participants.columns:
        speaking = participants[participants["participant_id"].isin(set(talk["participant_id"]))]
        return sorted(set(speaking[by].astype(str)))
    return None


def _check_by(name: str, by: str, participants, turns) -> list[str]:
    """Problems with a notebook's `by`: a column that does not exist, or one value only where groups are compared."""
    values = by_values(participants, turns, by)
    if values is None:
        columns = sorted({"speaker", "transcript_id", "participant_id", "group"}
                         | {c for c in participants.columns if c not in ("speaker_labels",)})
        return [f"{name}.by: {by!r} is not a column of the turns or the participants; use one of: {', '.join(columns)}"]
    if name in KEYNESS_NOTEBOOKS and len(values) < 2:
        shown = ", ".join(repr(v) for v in values) or "none"
        return [f"{name}.by: {by!r} has {len(values)} value(s) among the participants ({shown}), and keyness compares "
                f"two or more; fill in the group column of the participants file, or set by to speaker, "
                f"participant_id or transcript_id"]
    return []


def check_inputs(parameters: dict[str, dict]) -> list[str]:
    """Read and check every input the notebooks of a run name, once per distinct set; return the warnings.

    Raises one InputError listing every problem of every input (transcripts, participants, codebook,
    stopwords, human coding, grouping columns), each once."""
    from . import codebook, corpus, text
    from .transcripts import IngestWarning

    problems, notes, done = [], [], {}

    def add(found) -> None:
        """Record problems, each once."""
        problems.extend(p for p in found if p not in problems)

    def attempt(key, fn, *args):
        """fn(*args) once per key; its InputError problems and warnings collected; its result (None if it failed)."""
        if key in done:
            return done[key]
        done[key] = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IngestWarning)
            try:
                done[key] = fn(*args)
            except InputError as exc:
                add(exc.problems)
        notes.extend(str(w.message) for w in caught if issubclass(w.category, IngestWarning)
                     and str(w.message) not in notes)
        return done[key]

    for name, params in parameters.items():
        if "transcripts_dir" in params:
            corpus_args = (params.get("transcripts_dir"), params.get("participants_csv") or None,
                           params.get("interviewer_labels"), bool(params.get("allow_unknown_speakers")),
                           tuple(params.get("exclude_files") or ()), params.get("csv_columns") or None)
            loaded = attempt(("corpus", repr(corpus_args)), corpus.load_inputs, *corpus_args)
            if loaded is not None and isinstance(params.get("by"), str):
                add(_check_by(name, params["by"], *loaded))
        if params.get("codebook_yaml"):
            attempt(("codebook", params["codebook_yaml"]), codebook.load_codebook, params["codebook_yaml"])
        if "stopwords_file" in params:
            attempt(("stopwords", params["stopwords_file"]), text.load_stopwords, params["stopwords_file"] or None)
        human = params.get("human_coding")
        if human and not Path(human).is_file():
            add([f"{paths.relative(human)}: human coding file not found; give a .qdpx (or codings table) or set "
                 f"human_coding to an empty string"])
        if params.get("codings_source") in ("human", "both") and not human:
            add([f"{name}.codings_source is {params['codings_source']!r} but no human_coding is named; name the "
                 f".qdpx or set codings_source to auto"])
    if problems:
        raise InputError(problems)
    return notes


def skip_reason(params: dict) -> str:
    """Why a notebook cannot run with these parameters ("" when it can): theme notebooks need a codebook."""
    if "codebook_yaml" in params and not params["codebook_yaml"]:
        return "skipped: no codebook named (set codebook_yaml in the project's pipeline.yaml to run it)"
    return ""


# ----------------------------------------------------------------------------- JupyterLab
def is_demo_corpus(transcripts_dir) -> bool:
    """True when the transcripts are the repository's synthetic demo corpus."""
    try:
        return bool(transcripts_dir) and paths.resolve(transcripts_dir).resolve() == paths.TRANSCRIPTS.resolve()
    except (OSError, TypeError):
        return False


def notebook_parameters(name: str, namespace: dict) -> dict:
    """The parameters a notebook runs with, shown as its first output with where each value came from.

    Under `helpers run` the injected values are final. Opened in JupyterLab, a value left at the
    notebook's default takes the project's value (pipeline.yaml, or the file named by $IPS_CONFIG),
    so the notebook sees what `run` would give it; a value edited in the parameters cell wins (a relative
    path there is taken from the project's folder, as in its config). The
    project's output folders are used for figures and tables in both cases."""
    defaults = notebook_defaults(paths.NOTEBOOKS / f"{name}.ipynb")
    current = {k: namespace.get(k, v) for k, v in defaults.items()}
    if os.environ.get(RUN_ENV):
        values, sources = current, {k: "helpers run" for k in current}
        title, config_shown = os.environ.get(TITLE_ENV) or DEFAULT_TITLE, os.environ.get(CONFIG_ENV, "")
    else:
        project = load_project()
        _, resolved = project_parameters(project, {}, paths.NOTEBOOKS)
        config_shown = paths.relative(project.config_path)
        values, sources = {}, {}
        for key, default in defaults.items():
            if current[key] != default:
                edited = _absolute(current[key], project.root) if key in PATH_PARAMETERS else current[key]
                values[key], sources[key] = edited, "this notebook's parameters cell"
            elif resolved[name][key] != default:
                values[key], sources[key] = resolved[name][key], config_shown
            else:
                values[key], sources[key] = default, "notebook default"
        for key, env in paths.OUTPUT_ENV.items():
            os.environ[env] = str(project.folder(key))
        title = project.title
    _show_parameters(title, config_shown, values, sources)
    return values


def report_mode(share: bool) -> str:
    """The line saying how a report was built: for sharing (whole turns left out) or in full."""
    return SHARED_MODE if share else FULL_MODE


def left_out(what: str):
    """What a report built for sharing shows in place of a table or figure holding whole turns."""
    from IPython.display import HTML

    return HTML(f"<p><i>Left out of this report, which is built for sharing: {html.escape(what)} (it holds whole "
                f"turns). The full report, for the research team only, has it.</i></p>")


def _show_parameters(title: str, config_shown: str, values: dict, sources: dict) -> None:
    """Display the project title, the demo note when it applies, the report's mode (when the notebook has a
    `share` parameter) and each parameter with its source."""
    import json

    esc = html.escape
    rows = "".join(f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(json.dumps(v, ensure_ascii=False))}</code></td>"
                   f"<td>{esc(sources[k])}</td></tr>" for k, v in values.items())
    demo = ("<blockquote>The transcripts are the shipped demo corpus, which is <b>synthetic</b>: written for "
            "this project in the shape of the published IPS chronic-pain study (14 interviews, 3 focus groups, "
            "25 participants); no real person is described.</blockquote>"
            ) if is_demo_corpus(values.get("transcripts_dir")) else ""
    if demo and values.get("human_coding") and paths.resolve(values["human_coding"]).name.startswith("human_coding_demo"):
        demo += ("<blockquote>The human coding is the demo's too: passages of three transcripts hand-coded for "
                 "this project by a fictional coder, to show what the report looks like.</blockquote>")
    mode = (f'<p class="report-mode"><b>{esc(report_mode(values[SHARE_PARAMETER]))}</b></p>'
            if SHARE_PARAMETER in values else "")
    body = (f"<h2>{esc(title)}</h2>{mode}{demo}<details><summary>Parameters of this report (project: "
            f"<code>{esc(config_shown or 'none')}</code>)</summary><table><tr><th>parameter</th><th>value</th>"
            f"<th>from</th></tr>{rows}</table></details>")
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(HTML(body))
    else:  # plain Python: the same facts as text
        print(title)
        if SHARE_PARAMETER in values:
            print(report_mode(values[SHARE_PARAMETER]))
        for k, v in values.items():
            print(f"  {k} = {v!r}  ({sources[k]})")
