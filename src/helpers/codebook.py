"""Load and validate the codebook (data/codebook.yaml, DESIGN.md §4) and compile its rules.

A codebook is a list of themes; a theme may have subthemes (codes) and rules of its own.
Rules: `keywords` (case-insensitive, matched on tokens; `*` at the start or end of a word is a
wildcard; spaces make a phrase of consecutive tokens), `patterns` (regular expressions on the
segment text) and `exclude` (keyword syntax: a segment matching one is not coded with that
theme or subtheme; a theme's exclude also keeps its subthemes off that segment).

Patterns are written in Python's `re` syntax (checked with `re`) and run with the `regex`
package, which matches the same way and can stop a search at a time limit (helpers.coding).

Loading checks everything and reports every problem at once, each as
`FILE:LINE: KEY.PATH: what is wrong; what to do`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import regex
import yaml

from . import paths
from .errors import InputError
from .limits import compose_yaml
from .text import APOSTROPHES, TOKEN_RE

CODE_RE = re.compile(r"^[a-z0-9_]+$")
TOP_KEYS = ("codebook", "version", "description", "themes")
THEME_KEYS = ("code", "label", "description", "keywords", "patterns", "exclude", "subthemes")
SUBTHEME_KEYS = ("code", "label", "description", "keywords", "patterns", "exclude")
RULE_KEYS = ("keywords", "patterns", "exclude")
# A word of a keyword may hold letters and digits with inner apostrophes or hyphens.
KEYWORD_WORD_RE = re.compile(r"^[^\W_]+(?:['\-][^\W_]*)*$")
RULE_COLUMNS = ["rule_id", "theme", "subtheme", "kind", "term", "path", "n_words"]
WORD_COLUMNS = ["rule_id", "position", "mode", "stem"]
CODE_COLUMNS = ["theme", "subtheme", "level", "code", "label", "description"]


@dataclass
class Codebook:
    """A validated codebook: its codes, its rules and their compiled forms.

    codes  - one row per theme (subtheme "") and per subtheme, in codebook order.
    rules  - one row per rule: rule_id, theme, subtheme ("" for a theme's own rule),
             kind (keyword | pattern | exclude), term (as written), path (YAML key path), n_words.
    words  - the words of keyword and exclude rules: rule_id, position (0-based within a phrase),
             mode (exact | prefix | suffix | infix) and stem (lower-case, without '*').
    patterns - compiled regular expressions (`regex` package, case-insensitive) by rule_id.
    lines  - the line of each key path in the codebook file (for messages; empty when not read from a file).
    """

    title: str
    version: object
    source: str
    codes: pd.DataFrame
    rules: pd.DataFrame
    words: pd.DataFrame
    patterns: dict[int, regex.Pattern] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def problem(self, path: str, message: str) -> str:
        """One line about a rule or key of this codebook: `SOURCE:LINE: KEY.PATH: message`."""
        return format_problem(self.source, path, message, self.lines)

    @property
    def themes(self) -> list[str]:
        """Theme codes in codebook order."""
        return self.codes.loc[self.codes["level"] == "theme", "theme"].tolist()

    def subthemes(self, theme: str | None = None) -> list[str]:
        """Subtheme codes in codebook order (of one theme, or of all)."""
        rows = self.codes[self.codes["level"] == "subtheme"]
        if theme is not None:
            rows = rows[rows["theme"] == theme]
        return rows["subtheme"].tolist()

    def label(self, theme: str, subtheme: str = "") -> str:
        """The label of a theme (subtheme "") or subtheme."""
        hit = self.codes[(self.codes["theme"] == theme) & (self.codes["subtheme"] == subtheme)]
        return str(hit["label"].iloc[0]) if len(hit) else subtheme or theme


# ----------------------------------------------------------------------------- YAML positions
def yaml_key_lines(node, path: str, lines: dict[str, int], problems: list[tuple[str, str]]) -> None:
    """Record the 1-based line of every key path in a composed YAML node tree; note duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = f"{path}.{key}" if path else str(key)
            if key in seen:
                lines.setdefault(f"{child}#dup", key_node.start_mark.line + 1)
                problems.append((f"{child}#dup", f"duplicate key {key!r}; keep only one"))
            seen.add(key)
            lines.setdefault(child, key_node.start_mark.line + 1)
            yaml_key_lines(value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yaml_key_lines(item, f"{path}[{i}]", lines, problems)


def read_yaml(text: str, shown: str, hint: str = "; fix the syntax") -> tuple[object, dict[str, int], list[tuple[str, str]]]:
    """Parse YAML text once: (data, line of every key path, duplicate-key problems as (path, message)).

    Bad syntax is one InputError `SHOWN:LINE: not valid YAML (problem)HINT`.
    """
    loader = None
    try:
        node, loader = compose_yaml(text, shown, yaml.SafeLoader)  # pure-Python loader: keeps key lines
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{shown}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc}){hint}") from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    if node is not None:
        yaml_key_lines(node, "", lines, problems)
    return data, lines, problems


def _line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of a key path, or of its nearest parent that has one."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return lines.get("")


def format_problem(source: str, path: str, message: str, lines: dict[str, int] | None) -> str:
    """`source:line: path: message` (line only when known)."""
    line = _line_of(path, lines) if lines else None
    shown = path.removesuffix("#dup") or "(top level)"
    where = f"{source}:{line}" if line else source
    return f"{where}: {shown}: {message}"


# ----------------------------------------------------------------------------- keywords
def keyword_words(keyword: str) -> tuple[list[tuple[str, str]], str | None]:
    """Split a keyword into (mode, stem) words; return (words, problem or None).

    `anxi*` -> prefix, `*ache` -> suffix, `*pain*` -> infix, `GP` -> exact; stems are lower-case.
    """
    words = []
    for raw in keyword.split():
        word = raw.translate(APOSTROPHES).lower()
        stem = word.strip("*")
        if not stem:
            return [], f"{keyword!r} has a word that is only '*'; a wildcard needs letters before or after it"
        if "*" in stem:
            return [], f"wildcard in the middle of a word in {keyword!r}; '*' may only start or end a word"
        if not KEYWORD_WORD_RE.match(stem):
            return [], (f"{raw.strip('*')!r} in {keyword!r} is not a word (letters, digits, inner ' or -); "
                        f"write it as a pattern (regular expression) instead")
        starts, ends = word.startswith("*"), word.endswith("*")
        mode = "infix" if starts and ends else "suffix" if starts else "prefix" if ends else "exact"
        if mode == "exact" and not TOKEN_RE.fullmatch(stem):
            return [], (f"{raw!r} in {keyword!r} can never be one token (letters and digits are split); "
                        f"write it as a phrase with spaces or as a pattern")
        words.append((mode, stem))
    if not words:
        return [], "empty keyword; remove it"
    return words, None


def _check_pattern(pattern: str) -> tuple[regex.Pattern | None, str | None]:
    """Check a pattern in Python's `re` syntax and compile it case-insensitively with the `regex`
    package (which supports a time limit); return (compiled pattern, problem or None)."""
    try:
        checked = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        return None, f"bad regex {pattern!r}: {exc}; fix the regular expression"
    if checked.fullmatch(""):
        return None, f"pattern {pattern!r} matches empty text; make it match at least one character"
    try:
        rx = regex.compile(pattern, regex.IGNORECASE)
    except regex.error as exc:  # pragma: no cover - regex reads every pattern re reads, as far as known
        return None, f"regex {pattern!r} is not supported by the matcher ({exc}); write it another way"
    return rx, None


# ----------------------------------------------------------------------------- validation
def _check_keys(obj: dict, path: str, allowed: tuple[str, ...], required: tuple[str, ...], out: list) -> None:
    """Unknown and missing keys of one mapping."""
    for key in obj:
        if key not in allowed:
            out.append((f"{path}.{key}" if path else str(key),
                        f"unknown key {key!r}; valid keys here: {', '.join(allowed)}"))
    for key in required:
        if key not in obj:
            out.append((path, f"missing required key {key!r}"))


def _check_text(obj: dict, key: str, path: str, out: list) -> None:
    """A key that must hold non-empty text, when present."""
    if key in obj and (not isinstance(obj[key], str) or not obj[key].strip()):
        out.append((f"{path}.{key}", f"{key} must be non-empty text"))


def _check_code(obj: dict, path: str, seen: dict[str, str], out: list) -> str | None:
    """The code of a theme or subtheme: valid name, unique across the whole codebook."""
    if "code" not in obj:
        return None
    code = obj["code"]
    where = f"{path}.code"
    if not isinstance(code, str) or not CODE_RE.match(code):
        out.append((where, f"invalid code {code!r}; use lower-case letters, digits and _ only "
                           f"(e.g. complex_needs)"))
        return None
    if code in seen:
        out.append((where, f"duplicate code {code!r}; first used at {seen[code]}; codes must be unique"))
        return None
    seen[code] = where
    return code


def _collect_rules(obj: dict, path: str, theme: str, subtheme: str, rules: list, words: list,
                   patterns: dict, out: list) -> int:
    """Check and compile the keywords, patterns and exclude of one theme/subtheme; return rule count."""
    found = 0
    seen: dict[tuple[str, str], str] = {}
    for key in RULE_KEYS:
        if key not in obj:
            continue
        items = obj[key]
        kpath = f"{path}.{key}"
        if not isinstance(items, list):
            out.append((kpath, f"{key} must be a list, e.g. {key}: [anxiety, \"depress*\"]"
                        if key != "patterns" else "patterns must be a list of regular expressions"))
            continue
        if not items:
            out.append((kpath, f"empty list; add {key} or remove the key"))
            continue
        for i, item in enumerate(items):
            ipath = f"{kpath}[{i}]"
            if not isinstance(item, str):
                out.append((ipath, f"must be text, got {item!r}; quote it in the YAML"))
                continue
            if not item.strip():
                out.append((ipath, "empty rule; remove it"))
                continue
            kind = "pattern" if key == "patterns" else ("exclude" if key == "exclude" else "keyword")
            norm = item if kind == "pattern" else " ".join(item.translate(APOSTROPHES).lower().split())
            key_ = (kind == "exclude", norm)  # a keyword and a pattern of the same text are one rule twice
            if key_ in seen:
                out.append((ipath, f"duplicate rule {item!r} (also at {seen[key_]}); remove one"))
                continue
            seen[key_] = ipath
            rule_id = len(rules)
            if kind == "pattern":
                rx, problem = _check_pattern(item)
                if problem:
                    out.append((ipath, problem))
                    continue
                patterns[rule_id] = rx
                n_words = 0
            else:
                parts, problem = keyword_words(item)
                if problem:
                    out.append((ipath, problem))
                    continue
                words.extend((rule_id, pos, mode, stem) for pos, (mode, stem) in enumerate(parts))
                n_words = len(parts)
            rules.append((rule_id, theme, subtheme, kind, item, ipath, n_words))
            if kind != "exclude":
                found += 1
    return found


def _check_entry(entry, path: str, kind: str, allowed, out: list) -> bool:
    """A theme or subtheme entry: a mapping with known keys, code and label, text fields; False if unusable."""
    if not isinstance(entry, dict):
        out.append((path, f"each {kind} must be a mapping with code, label, description, rules …"))
        return False
    _check_keys(entry, path, allowed, ("code", "label"), out)
    _check_text(entry, "label", path, out)
    _check_text(entry, "description", path, out)
    return True


def parse_codebook(data, source: str = "codebook", lines: dict[str, int] | None = None,
                   early: list[tuple[str, str]] | None = None) -> Codebook:
    """Validate a codebook already read from YAML and compile it; InputError lists every problem."""
    out: list[tuple[str, str]] = list(early or [])
    rules: list[tuple] = []
    words: list[tuple] = []
    patterns: dict[int, regex.Pattern] = {}
    codes: list[tuple] = []
    if data is None:
        out.append(("", "empty codebook; it needs a 'themes' list (see the codebook section of README.md)"))
    elif not isinstance(data, dict):
        out.append(("", "must be a mapping with a 'themes' list (see the codebook section of README.md)"))
    else:
        _check_keys(data, "", TOP_KEYS, ("themes",), out)
        _check_text(data, "codebook", "", out)
        _check_text(data, "description", "", out)
        if "version" in data and (isinstance(data["version"], bool) or
                                  not isinstance(data["version"], (int, float, str))):
            out.append(("version", "version must be a number or text"))
        themes = data.get("themes")
        if "themes" in data and not isinstance(themes, list):
            out.append(("themes", "themes must be a list of themes (each with code, label, …)"))
        elif isinstance(themes, list) and not themes:
            out.append(("themes", "empty list; add at least one theme"))
        seen_codes: dict[str, str] = {}
        for t, theme in enumerate(themes if isinstance(themes, list) else []):
            tpath = f"themes[{t}]"
            if not _check_entry(theme, tpath, "theme", THEME_KEYS, out):
                continue
            tcode = _check_code(theme, tpath, seen_codes, out) or f"?{t}"
            codes.append((tcode, "", "theme", tcode, theme.get("label"), theme.get("description", "")))
            n_rules = _collect_rules(theme, tpath, tcode, "", rules, words, patterns, out)
            subs = theme.get("subthemes")
            if "subthemes" in theme and not isinstance(subs, list):
                out.append((f"{tpath}.subthemes", "subthemes must be a list of subthemes"))
                subs = None
            elif isinstance(subs, list) and not subs:
                out.append((f"{tpath}.subthemes", "empty list; add subthemes or remove the key"))
            for s, sub in enumerate(subs or []):
                spath = f"{tpath}.subthemes[{s}]"
                if not _check_entry(sub, spath, "subtheme", SUBTHEME_KEYS, out):
                    continue
                scode = _check_code(sub, spath, seen_codes, out) or f"?{t}.{s}"
                codes.append((tcode, scode, "subtheme", scode, sub.get("label"), sub.get("description", "")))
                if not _collect_rules(sub, spath, tcode, scode, rules, words, patterns, out) and \
                        not any(k in sub for k in ("keywords", "patterns")):
                    out.append((spath, "no rules; give keywords or patterns"))
            if not subs and not n_rules and not any(k in theme for k in ("keywords", "patterns")):
                out.append((tpath, "no rules and no subthemes; give keywords, patterns or subthemes"))
    if out:
        raise InputError([format_problem(source, p, m, lines) for p, m in out])
    return Codebook(
        title=str(data.get("codebook", "")),
        version=data.get("version"),
        source=source,
        codes=pd.DataFrame(codes, columns=CODE_COLUMNS).astype(
            {"label": object, "description": object}).fillna(""),
        rules=pd.DataFrame(rules, columns=RULE_COLUMNS).astype({"rule_id": "int64", "n_words": "int64"}),
        words=pd.DataFrame(words, columns=WORD_COLUMNS).astype({"rule_id": "int64", "position": "int64"}),
        patterns=patterns,
        lines=dict(lines or {}),
    )


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read, validate and compile a codebook YAML file (there is no default: a project names its own)."""
    if not path:
        raise InputError("no codebook given; name a codebook YAML file (--codebook, or codebook_yaml in the "
                         "project's pipeline.yaml)")
    path = paths.resolve(path)
    shown = paths.relative(path)
    if not path.is_file():
        raise InputError(f"{shown}: codebook not found; give the path of a codebook YAML file "
                         f"(e.g. data/codebook.yaml)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    data, lines, early = read_yaml(text, shown)
    return parse_codebook(data, shown, lines, early)


def describe(codebook: Codebook) -> pd.DataFrame:
    """One row per theme/subtheme: label, description, rule counts and the rules themselves."""
    rules = codebook.rules
    keys = ["theme", "subtheme"]
    out = codebook.codes[keys + ["level", "label", "description"]].copy()
    for kind, column in (("keyword", "keywords"), ("pattern", "patterns"), ("exclude", "exclude")):
        these = rules[rules["kind"] == kind].groupby(keys, sort=False)["term"]
        out = out.merge(these.size().rename(f"n_{column}").reset_index(), on=keys, how="left")
        out = out.merge(these.agg(", ".join).rename(column).reset_index(), on=keys, how="left")
        out[f"n_{column}"] = out[f"n_{column}"].fillna(0).astype("int64")
        out[column] = out[column].astype(object).fillna("")
    return out
