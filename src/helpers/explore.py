"""Explore a project in JupyterLab: concordance, code browser, rule tester and participant view (issue 19).

`load_explorer` reads a project's inputs once (as `helpers run` would) into an `Explorer`: the
participant turns as segments, their token table, the auto-coding and, when one is named, the human
coding. Every query then works on these tables, nothing is read or tokenised again.

Each tool is three layers:
- a plain function computing the result (`concordance`, `code_passages`, `try_rules`,
  `participant_turns`), matching with the codebook's own engine (helpers.codebook, helpers.coding),
  so a word found here is a word a codebook rule would find;
- a function rendering it as HTML (`render_*`), every transcript text escaped;
- an ipywidgets tool (`ConcordanceTool` …) whose result area is an `ipywidgets.HTML`: setting a
  widget's value recomputes it, so the tools work (and are tested) in a plain Python process.

A bad query (empty box, invalid regular expression, unknown code) is one line in the result area.
Under `helpers run` (no live kernel) `static_demo` shows one fixed query of each tool instead.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from . import agreement, coding, corpus, exchange, figures, project, text
from .codebook import Codebook, load_codebook, parse_codebook
from .errors import InputError
from .keywords import PER, kwic_context
from .tables import highlight_spans

WINDOW = 8  # words of context on each side of a concordance match
MAX_LINES = 200  # concordance lines shown (the counts cover every match)
MAX_PASSAGES = 100  # passages shown per list (code browser, rule tester)
SOURCES = ("auto", "human")
ORDERS = ("longest", "densest")
EMPTY_QUERY = "type a word, a phrase, a wildcard such as pain* or a /regular expression/"
NO_HUMAN = "no human coding is loaded; name one in human_coding (a .qdpx or a codings table)"
CSS = """<style>
.ips-explore table {border-collapse: collapse; margin: .3em 0 .8em 0;}
.ips-explore td, .ips-explore th {padding: 2px 8px; border-bottom: 1px solid #e3e3e3; text-align: left;
  vertical-align: top;}
.ips-explore td.left {text-align: right; white-space: nowrap; color: #333;}
.ips-explore td.kw {text-align: center; font-weight: bold; white-space: nowrap;}
.ips-explore td.right {white-space: nowrap; color: #333;}
.ips-explore td.num, .ips-explore th.num {text-align: right;}
.ips-explore mark {background: #ffe08a; padding: 0 1px;}
.ips-explore .ips-msg {color: #a00; font-weight: bold;}
.ips-explore .ips-turn {margin: .25em 0; padding: .2em .5em; border-left: 4px solid #ccc;}
.ips-explore .ips-turn.interviewer {border-left-color: #999; color: #555; font-style: italic;}
.ips-explore .ips-turn.focus {background: #fff6d6;}
.ips-explore .ips-codes {font-size: .85em; color: #0072B2;}
.ips-explore .ips-passage {margin: .3em 0 .6em 0; padding: .2em .5em; border-left: 4px solid #E69F00;}
.ips-explore .ips-meta {font-size: .85em; color: #555;}
.ips-explore pre {background: #f6f6f6; padding: .5em; max-height: 14em; overflow: auto;}
</style>"""

esc = html.escape


# ----------------------------------------------------------------------------- the explorer
@dataclass
class Explorer:
    """A project's inputs, read once, and the tables every query uses.

    segments - participant turns (corpus.segments, unit turn) with `n_words`, in corpus order.
    tokens   - their token table (text.token_table), in text order: the codebook engine matches on it.
    codings  - 'auto' (the codebook applied to the segments) and, when loaded, 'human'.
    units    - per coding, the segments it is judged on: every segment for 'auto', the transcripts
               the human coded for 'human' (as exchange.analysed takes them).
    """

    turns: pd.DataFrame
    participants: pd.DataFrame
    book: Codebook
    segments: pd.DataFrame
    tokens: pd.DataFrame
    codings: dict[str, pd.DataFrame]
    units: dict[str, pd.DataFrame]
    prevalence: dict[str, pd.DataFrame] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # results that do not change between queries (agreement before)

    @property
    def groups(self) -> list[str]:
        """The groups of the participants who speak, in the project's order."""
        return figures.group_order(self.segments["group"].fillna("").astype(str).unique())

    @property
    def people(self) -> list[str]:
        """Participant ids in corpus order."""
        return list(dict.fromkeys(self.segments["participant_id"].astype(str)))

    @property
    def has_human(self) -> bool:
        return "human" in self.codings

    def codes(self) -> list[tuple[str, str]]:
        """(label shown, code key) of every theme and subtheme in codebook order; a subtheme's key is
        `theme/subtheme` (agreement.code_of at subtheme level)."""
        out = []
        for row in self.book.codes.itertuples(index=False):
            key = row.theme if row.subtheme == "" else f"{row.theme}/{row.subtheme}"
            shown = str(row.label) if row.subtheme == "" else f"  {row.label}"
            out.append((shown.upper() if row.subtheme == "" else shown, key))
        return out


def build_explorer(turns: pd.DataFrame, participants: pd.DataFrame, book: Codebook,
                   human: pd.DataFrame | None = None) -> Explorer:
    """Segments, token table and codings of a loaded corpus, built once; `human` is a codings table
    (exchange.read_human_coding(...).codings) or None."""
    segments = corpus.segments(turns, participants, unit="turn")
    segments = segments.assign(n_words=coding.word_counts(segments))
    tokens = text.token_table(segments["text"])
    auto = exchange.with_coder(coding.code_segments(segments, book, tokens=tokens))
    codings, units = {"auto": auto}, {"auto": segments}
    if human is not None:
        known = set(segments["segment_id"])
        human = human[human["segment_id"].astype(str).isin(known)].reset_index(drop=True)
        units["human"], _ = exchange.analysed(segments, human.assign(coding="human"))
        codings["human"] = human
    prevalence = {name: coding.prevalence(units[name], codings[name], book) for name in codings}
    return Explorer(turns, participants, book, segments, tokens, codings, units, prevalence)


def load_explorer(params: dict) -> Explorer:
    """The explorer of a notebook's parameters (those `helpers run` or project.notebook_parameters
    give): transcripts, participants, codebook and the human coding when named. Warnings of the
    human coding's import are printed, as the other notebooks print them."""
    participants, turns = corpus.load_inputs(params["transcripts_dir"], params.get("participants_csv") or None,
                                             params.get("interviewer_labels"),
                                             bool(params.get("allow_unknown_speakers")),
                                             params.get("exclude_files") or (), params.get("csv_columns") or None)
    book = load_codebook(params.get("codebook_yaml"))
    human = None
    if params.get("human_coding"):
        result = exchange.read_human_coding(params["human_coding"], turns, book.codes, unit="turn")
        for w in result.warnings:
            print(f"warning: {w}")
        human = result.codings
    return build_explorer(turns, participants, book, human)


def is_live() -> bool:
    """True in a JupyterLab kernel a person drives; False under `helpers run` (papermill), which sets
    project.RUN_ENV for its notebooks: there the notebook shows static demonstrations instead."""
    return not os.environ.get(project.RUN_ENV)


# ----------------------------------------------------------------------------- matching
def split_terms(value: str) -> list[str]:
    """Keywords typed in a box: separated by commas or line breaks (a keyword holds neither)."""
    return [t.strip() for t in re.split(r"[,\n]", value or "") if t.strip()]


def split_lines(value: str) -> list[str]:
    """Regular expressions typed in a box: one per line (a pattern may hold commas)."""
    return [t.strip() for t in (value or "").splitlines() if t.strip()]


def _probe_problem(problem: str) -> str:
    """A codebook problem about a typed rule, without the probe codebook's key path."""
    return re.sub(r"^[^:]*: themes\[0\](?:\.subthemes\[\d+\])?(?:\.\w+(?:\[\d+\])?)?: ", "", problem)


def query_rules(query: str) -> dict:
    """A search box's text as codebook rules: `/…/` is a regular expression (a pattern), anything
    else a keyword in the codebook's syntax (word, phrase, `pain*`, `*ache`)."""
    q = (query or "").strip()
    if not q:
        raise InputError(EMPTY_QUERY)
    if len(q) > 2 and q.startswith("/") and q.endswith("/"):
        return {"patterns": [q[1:-1]]}
    return {"keywords": [q]}


def rule_matches(ex: Explorer, rules: dict) -> pd.DataFrame:
    """Where rules in the codebook's syntax ({'keywords': […], 'patterns': […], 'exclude': […]})
    match in the segments: the codings table of a one-code codebook (coding.code_segments) on the
    explorer's token table. A rule the codebook would refuse is an InputError with its message."""
    try:
        probe = parse_codebook({"themes": [{"code": "query", "label": "query", **rules}]}, "query")
    except InputError as exc:
        raise InputError([_probe_problem(p) for p in exc.problems]) from None
    return coding.code_segments(ex.segments, probe, tokens=ex.tokens)


def _code_parts(ex: Explorer, code: str) -> tuple[str, str]:
    """(theme, subtheme) of a code key (`theme` or `theme/subtheme`); InputError for an unknown one."""
    known = dict((key, key) for _, key in ex.codes())
    if code not in known:
        raise InputError(f"unknown code {code!r}; pick a theme or subtheme of the codebook "
                         f"({', '.join(list(known)[:6])}{' …' if len(known) > 6 else ''})")
    theme, _, sub = code.partition("/")
    return theme, sub


def _of_code(codings: pd.DataFrame, theme: str, sub: str) -> pd.DataFrame:
    """The codings rows that code `theme` (any of its rules and subthemes) or one subtheme."""
    hit = codings["theme"] == theme
    if sub:
        hit &= codings["subtheme"] == sub
    return codings[hit]


def _source(ex: Explorer, source: str) -> pd.DataFrame:
    if source not in SOURCES:
        raise InputError(f"coding {source!r}: use one of {', '.join(SOURCES)}")
    if source not in ex.codings:
        raise InputError(NO_HUMAN)
    return ex.codings[source]


# ----------------------------------------------------------------------------- 1. concordance
@dataclass
class Concordance:
    """Matches of a query: `lines` (KWIC, the first MAX_LINES), `matches` (all: segment_id, start, end,
    participant_id, group), counts per group and per participant (raw and per 10,000 words)."""

    query: str
    lines: pd.DataFrame
    n_matches: int
    by_group: pd.DataFrame
    by_participant: pd.DataFrame


def _rates(hits: pd.Series, words: pd.Series, name: str) -> pd.DataFrame:
    """Matches and words per value, with the rate per PER words, for every value that has words."""
    out = pd.DataFrame({"matches": hits.reindex(words.index, fill_value=0).astype(np.int64),
                        "words": words.astype(np.int64)})
    out[f"per_{PER // 1000}k_words"] = (PER * out["matches"] / out["words"].where(out["words"] > 0)).round(1)
    out.index.name = name
    return out.reset_index()


def kwic_lines(ex: Explorer, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray,
               window: int = WINDOW) -> pd.DataFrame:
    """Keyword-in-context lines for character spans in segments (row numbers of ex.segments):
    `window` words of the segment on each side, white space squashed."""
    t_row, t_start, t_end = (ex.tokens[c].to_numpy(dtype=np.int64) for c in ("row", "start", "end"))
    scale = int(ex.segments["text"].str.len().max() or 0) + 2
    key = t_row * scale + t_start
    first = np.searchsorted(key, rows * scale + starts, "left")  # first token at or after the match
    last = np.searchsorted(key, rows * scale + ends, "left") - 1  # last token starting inside it
    row_first = np.searchsorted(key, rows * scale, "left")
    row_last = np.searchsorted(key, (rows + 1) * scale, "left") - 1
    texts = ex.segments["text"].to_numpy(dtype=object)
    left, match, right = kwic_context(texts, rows, starts, ends, first, last, row_first, row_last,
                                      t_start, t_end, window)
    seg = ex.segments.iloc[rows]
    return pd.DataFrame({"segment_id": seg["segment_id"].to_numpy(dtype=object),
                         "participant_id": seg["participant_id"].to_numpy(dtype=object),
                         "group": seg["group"].to_numpy(dtype=object),
                         "left": left, "match": match, "right": right,
                         "start": starts.astype(np.int64), "end": ends.astype(np.int64)})


def concordance(ex: Explorer, query: str, group: str = "", participant: str = "", theme: str = "",
                source: str = "auto", window: int = WINDOW) -> Concordance:
    """Every match of `query` (query_rules) in the participant turns, filtered by group, participant and
    theme (a code key, coded by `source`); KWIC lines of the first MAX_LINES, counts per group and per
    participant over the filtered turns (words: ex.segments' n_words)."""
    found = rule_matches(ex, query_rules(query))
    scope = np.ones(len(ex.segments), dtype=bool)
    if group:
        scope &= (ex.segments["group"].astype(str) == group).to_numpy()
    if participant:
        scope &= (ex.segments["participant_id"].astype(str) == participant).to_numpy()
    if theme:
        coded = set(_of_code(_source(ex, source), *_code_parts(ex, theme))["segment_id"])
        scope &= ex.segments["segment_id"].isin(coded).to_numpy()
    row_of = pd.Series(np.arange(len(ex.segments)), index=ex.segments["segment_id"].to_numpy())
    rows = row_of.reindex(found["segment_id"]).to_numpy(dtype=np.int64)
    keep = scope[rows]
    rows, found = rows[keep], found[keep]
    lines = kwic_lines(ex, rows[:MAX_LINES], found["start"].to_numpy(dtype=np.int64)[:MAX_LINES],
                       found["end"].to_numpy(dtype=np.int64)[:MAX_LINES], window)
    seen = ex.segments[scope]
    group_words = seen.groupby(seen["group"].astype(str))["n_words"].sum()
    group_words = group_words.reindex([g for g in ex.groups if g in group_words.index])
    people_words = seen.groupby(seen["participant_id"].astype(str), sort=False)["n_words"].sum()
    return Concordance(query=query.strip(), lines=lines, n_matches=int(len(found)),
                       by_group=_rates(found["group"].astype(str).value_counts(), group_words, "group"),
                       by_participant=_rates(found["participant_id"].astype(str).value_counts(), people_words,
                                             "participant_id"))


def turn_anchor(segment_id: str) -> str:
    """The HTML id of a turn in the participant view (a concordance line links to it)."""
    return "ips-turn-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(segment_id))


def _table(df: pd.DataFrame, numeric=()) -> str:
    """A small HTML table, every cell escaped."""
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{esc(str(c).replace("_", " "))}</th>'
                   for c in df.columns)
    body = "".join("<tr>" + "".join(f'<td class="{"num" if c in numeric else ""}">'
                                    f'{esc("" if pd.isna(v) else str(v))}</td>' for c, v in zip(df.columns, row))
                   + "</tr>" for row in df.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def message_html(problem: str) -> str:
    """A bad query's one-line message, as the result area shows it."""
    return f'{CSS}<div class="ips-explore"><p class="ips-msg">{esc(problem)}</p></div>'


def render_concordance(result: Concordance) -> str:
    """Counts per group and participant, then the KWIC lines with the keyword column aligned; each line
    links to its turn in the participant view."""
    shown = len(result.lines)
    head = (f"<p><b>{result.n_matches}</b> match{'es' if result.n_matches != 1 else ''} of "
            f"<code>{esc(result.query)}</code>"
            + (f" (the first {shown} shown)" if shown < result.n_matches else "") + "</p>")
    numeric = ("matches", "words", f"per_{PER // 1000}k_words")
    counts = (f'<div style="display:flex;gap:2em;flex-wrap:wrap"><div><b>Per group</b>'
              f'{_table(result.by_group, numeric)}</div><div><b>Per participant</b>'
              f'{_table(result.by_participant[result.by_participant["matches"] > 0], numeric)}</div></div>')
    rows = "".join(
        f'<tr><td class="left">{esc(r.left)}</td><td class="kw"><mark>{esc(r.match)}</mark></td>'
        f'<td class="right">{esc(r.right)}</td><td>{esc(str(r.group))}</td>'
        f'<td><a href="#{turn_anchor(r.segment_id)}" title="the turn in the participant view">'
        f'{esc(str(r.segment_id))}</a></td></tr>'
        for r in result.lines.itertuples(index=False))
    lines = f"<table>{rows}</table>" if rows else ""
    return f'{CSS}<div class="ips-explore">{head}{counts if result.n_matches else ""}{lines}</div>'


# ----------------------------------------------------------------------------- 2. code browser
@dataclass
class Passages:
    """The passages of one code: `n` of `N` participants (of the group, or all) coded with it, and each
    coded segment with its matched spans (`spans`), words, matches and density (matches per word)."""

    code: str
    label: str
    source: str
    group: str
    n: int
    N: int
    passages: pd.DataFrame


def lists_by(keys: pd.Series, values: list) -> dict:
    """key -> the values of its rows, in row order (one sort, no loop over groups)."""
    ids = keys.to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")
    distinct, counts = np.unique(ids[order], return_counts=True)
    edges = np.concatenate([[0], np.cumsum(counts)]).tolist()
    ordered = [values[i] for i in order.tolist()]
    return {k: ordered[a:b] for k, a, b in zip(distinct.tolist(), edges[:-1], edges[1:])}


def _passages_of(ex: Explorer, codings: pd.DataFrame, order: str = "longest") -> pd.DataFrame:
    """Segments of the codings with their spans, words, matches and density, longest or densest first."""
    if order not in ORDERS:
        raise InputError(f"order {order!r}: use one of {', '.join(ORDERS)}")
    spans = lists_by(codings["segment_id"], list(zip(codings["start"].tolist(), codings["end"].tolist())))
    per = pd.DataFrame({"segment_id": pd.Series(list(spans), dtype=object),
                        "matches": np.array([len(v) for v in spans.values()], dtype=np.int64),
                        "spans": pd.Series(list(spans.values()), dtype=object)})
    seg = ex.segments.assign(seg_rank=np.arange(len(ex.segments)))
    out = seg.merge(per, on="segment_id")
    out["density"] = out["matches"] / out["n_words"].clip(lower=1)
    first_key = "n_words" if order == "longest" else "density"
    out = out.sort_values([first_key, "seg_rank"], ascending=[False, True], kind="stable")
    return out[["segment_id", "transcript_id", "participant_id", "group", "text", "n_words", "matches", "density",
                "spans"]].reset_index(drop=True)


def code_passages(ex: Explorer, code: str, group: str = "", source: str = "auto",
                  order: str = "longest") -> Passages:
    """Every passage of a code (key `theme` or `theme/subtheme`) in one coding, of one group or all;
    n of N participants from coding.prevalence (the human coding over the transcripts it covers)."""
    codings = _source(ex, source)
    theme, sub = _code_parts(ex, code)
    units = ex.units[source]
    hits = _of_code(codings, theme, sub)
    hits = hits[hits["segment_id"].isin(units["segment_id"])]
    if group:
        hits = hits[hits["segment_id"].isin(units.loc[units["group"].astype(str) == group, "segment_id"])]
    prev = ex.prevalence[source]
    row = prev[(prev["theme"] == theme) & (prev["subtheme"] == sub) & (prev["group"] == (group or "all"))]
    n, N = (int(row["participants_coded"].iloc[0]), int(row["participants_total"].iloc[0])) if len(row) else (0, 0)
    return Passages(code=code, label=ex.book.label(theme, sub), source=source, group=group, n=n, N=N,
                    passages=_passages_of(ex, hits, order))


def _passage_html(row, share: bool) -> str:
    """One passage: who, where, words and density, the text with its spans marked (in a shared report
    only the marked words with a few words around them, not the whole turn)."""
    meta = (f'<div class="ips-meta"><a href="#{turn_anchor(row.segment_id)}">{esc(str(row.segment_id))}</a> · '
            f'{esc(str(row.participant_id))} ({esc(str(row.group))}) · {row.n_words} words · {row.matches} '
            f'match{"es" if row.matches != 1 else ""} · density {row.density:.3f}</div>')
    body = _excerpts(row.text, row.spans) if share else highlight_spans(row.text, row.spans)
    return f'<div class="ips-passage">{meta}{body}</div>'


def _excerpts(txt: str, spans, words: int = 4) -> str:
    """Only the marked words of a text with `words` words either side, joined by ' … ' (for shared reports)."""
    parts = []
    for s, e in sorted(spans):
        before = txt[:s].split()[-words:]
        after = txt[e:].split()[:words]
        parts.append(f"…{esc(' '.join(before))} <mark>{esc(' '.join(txt[s:e].split()))}</mark> "
                     f"{esc(' '.join(after))}…")
    return " ".join(parts)


def render_passages(result: Passages, share: bool = False, limit: int = MAX_PASSAGES) -> str:
    """n of N, then the passages (the first `limit`) with the matched words highlighted."""
    who = figures.group_label(result.group) if result.group else "all participants"
    n_pass = len(result.passages)
    head = (f"<p><b>{esc(result.label)}</b> ({esc(result.code)}, {esc(result.source)} coding): "
            f"<b>{result.n} of {result.N}</b> {esc(who.lower() if result.group else who)} · {n_pass} coded "
            f"passage{'s' if n_pass != 1 else ''}"
            + (f" (the first {limit} shown)" if n_pass > limit else "") + "</p>")
    body = "".join(_passage_html(r, share) for r in result.passages.head(limit).itertuples(index=False))
    return f'{CSS}<div class="ips-explore">{head}{body}</div>'


# ----------------------------------------------------------------------------- 3. rule tester
@dataclass
class RuleTest:
    """What typed rules for one code would code: `new` (segment ids), `current` (the codebook's), and
    per list (kept, added, lost) the passages; `agreement` before/after against the human coding
    (precision, recall, kappa; None without one); `yaml` the entry to paste into the codebook."""

    code: str
    new: set
    current: set
    kept: pd.DataFrame
    added: pd.DataFrame
    lost: pd.DataFrame
    agreement: pd.DataFrame | None
    yaml: str


def current_rules(book: Codebook, code: str) -> dict[str, list[str]]:
    """The code's own rules as written in the codebook: {'keywords': […], 'patterns': […], 'exclude': […]}."""
    theme, _, sub = code.partition("/")
    rules = book.rules[(book.rules["theme"] == theme) & (book.rules["subtheme"] == sub)]
    return {key: rules.loc[rules["kind"] == kind, "term"].tolist()
            for key, kind in (("keywords", "keyword"), ("patterns", "pattern"), ("exclude", "exclude"))}


def theme_entry(book: Codebook, theme: str, replace: tuple[str, dict] | None = None,
                only: str | None = None) -> dict:
    """One theme of a codebook as its YAML mapping (codes, labels, rules; descriptions left out), with
    the rules of the code `replace[0]` replaced by `replace[1]`; with `only`, of its subthemes only that
    one (and of the theme's own rules only its exclude rules, which keep the subtheme off too)."""
    def rules_of(code: str) -> dict:
        rules = replace[1] if replace and replace[0] == code else current_rules(book, code)
        if only and code == theme:
            rules = {"exclude": rules["exclude"]}
        return {k: list(v) for k, v in rules.items() if v}

    entry = {"code": theme, "label": book.label(theme), **rules_of(theme)}
    subs = [{"code": s, "label": book.label(theme, s), **rules_of(f"{theme}/{s}")} for s in book.subthemes(theme)
            if only is None or s == only]
    if subs:
        entry["subthemes"] = subs
    return entry


def rules_yaml(book: Codebook, code: str, rules: dict) -> str:
    """The code's entry with the typed rules, in the codebook's YAML format, to paste over the old one."""
    theme, _, sub = code.partition("/")
    entry = {"code": sub or theme, "label": book.label(theme, sub), **{k: list(v) for k, v in rules.items() if v}}
    where = f"themes > {theme} > subthemes" if sub else "themes"
    head = (f"# {book.source}: the rules of {code} as tried in the rule tester; replace the entry's keywords, "
            f"patterns and exclude under {where} (the tool never edits the codebook)\n")
    return head + yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)


def try_rules(ex: Explorer, code: str, keywords=(), patterns=(), exclude=()) -> RuleTest:
    """The code's own rules replaced by the typed ones (the rest of its theme as the codebook has it):
    the segments coded before and after, kept/added/lost, and precision, recall and kappa of the
    auto-coding against the human coding before and after (segment level, over the human's units)."""
    theme, sub = _code_parts(ex, code)
    rules = {"keywords": list(keywords), "patterns": list(patterns), "exclude": list(exclude)}
    if not rules["keywords"] and not rules["patterns"]:
        raise InputError("type at least one keyword or pattern for the code")
    try:
        book = parse_codebook({"themes": [theme_entry(ex.book, theme, (code, rules), sub or None)]}, "rule tester")
    except InputError as exc:
        raise InputError([_probe_problem(p) for p in exc.problems]) from None
    after = _of_code(coding.code_segments(ex.segments, book, tokens=ex.tokens), theme, sub)
    before = _of_code(ex.codings["auto"], theme, sub)
    new, current = set(after["segment_id"]), set(before["segment_id"])
    lists = {name: _passages_of(ex, part) for name, part in (
        ("kept", after[after["segment_id"].isin(current)]), ("added", after[~after["segment_id"].isin(current)]),
        ("lost", before[~before["segment_id"].isin(new)]))}
    table = None
    if ex.has_human:
        level = "subtheme" if sub else "theme"
        human, units = ex.codings["human"], ex.units["human"]
        rows = []
        for name, auto in (("current codebook", before), ("with these rules", after)):
            key = ("agreement", code)
            if name == "with these rules" or key not in ex.cache:
                t = agreement.agreement_table(auto, human, units, "segment", level, codes=[code], resamples=0)
                r = t[t["code"] == code].iloc[0]
                row = {"rules": name, "segments": int(r["both"] + r["a_only"]), "precision": r["precision"],
                       "recall": r["recall"], "kappa": r["kappa"]}
                if name == "current codebook":
                    ex.cache[key] = row
            rows.append(row if name == "with these rules" else ex.cache[key])
        table = pd.DataFrame(rows).round(3)
    return RuleTest(code=code, new=new, current=current, kept=lists["kept"], added=lists["added"],
                    lost=lists["lost"], agreement=table, yaml=rules_yaml(ex.book, code, rules))


def render_rule_test(result: RuleTest, share: bool = False, limit: int = MAX_PASSAGES) -> str:
    """Counts, agreement before/after, then the added, lost and kept passages (marked words highlighted)."""
    head = (f"<p><b>{esc(result.code)}</b>: these rules code <b>{len(result.new)}</b> "
            f"segment{'s' if len(result.new) != 1 else ''}; the current codebook codes {len(result.current)}. "
            f"Already coded: <b>{len(result.kept)}</b> · added: "
            f"<b>{len(result.added)}</b> · lost: <b>{len(result.lost)}</b></p>")
    agree = ("" if result.agreement is None else
             "<p><b>Against the human coding</b> (segments of the transcripts it covers)</p>"
             + _table(result.agreement, ("segments", "precision", "recall", "kappa")))
    parts = []
    for name, df, what in (("Added", result.added, "coded by these rules, not by the codebook"),
                           ("Lost", result.lost, "coded by the codebook, not by these rules"),
                           ("Already coded", result.kept, "coded by both")):
        shown = "".join(_passage_html(r, share) for r in df.head(limit).itertuples(index=False))
        more = f" (the first {limit} shown)" if len(df) > limit else ""
        parts.append(f"<details{' open' if name != 'Already coded' else ''}><summary><b>{name}</b>: {len(df)} "
                     f"segment{'s' if len(df) != 1 else ''} {what}{more}</summary>{shown}</details>")
    return f'{CSS}<div class="ips-explore">{head}{agree}{"".join(parts)}</div>'


# ----------------------------------------------------------------------------- 4. participant view
def code_label(book: Codebook, theme: str, subtheme: str = "") -> str:
    """'Theme › Subtheme' (or the theme's label alone for a theme's own rule)."""
    return book.label(theme) + (f" › {book.label(theme, subtheme)}" if subtheme else "")


def participant_turns(ex: Explorer, participant: str, source: str = "auto") -> pd.DataFrame:
    """A participant's turns in order with the interviewer's turns of the same transcripts, each with
    the codes of `source` on it (code_label, in the order found) and its matched spans. Columns: segment_id,
    transcript_id, turn, speaker, role, text, codes, spans."""
    codings = _source(ex, source)
    if participant not in set(ex.people):
        raise InputError(f"unknown participant {participant!r}; pick one of {', '.join(ex.people[:8])}"
                         f"{' …' if len(ex.people) > 8 else ''}")
    transcripts = set(ex.segments.loc[ex.segments["participant_id"] == participant, "transcript_id"])
    t = ex.turns
    mine = t[t["transcript_id"].isin(transcripts)
             & ((t["participant_id"].astype(str) == participant) | (t["role"] == "interviewer"))]
    mine = mine.assign(segment_id=mine["transcript_id"].astype(str) + ":" + mine["turn"].astype(str))
    coded = codings[codings["segment_id"].isin(set(mine["segment_id"]))]
    codes = coded[["segment_id", "theme", "subtheme"]].drop_duplicates()
    names = {key: code_label(ex.book, *key) for key in set(zip(codes["theme"], codes["subtheme"]))}
    labels = lists_by(codes["segment_id"], [names[key] for key in zip(codes["theme"], codes["subtheme"])])
    spans = lists_by(coded["segment_id"], list(zip(coded["start"].tolist(), coded["end"].tolist())))
    out = mine[["segment_id", "transcript_id", "turn", "speaker", "role", "text"]].reset_index(drop=True)
    out["codes"] = [labels.get(s, []) for s in out["segment_id"]]
    out["spans"] = [spans.get(s, []) for s in out["segment_id"]]
    return out


def render_participant(turns: pd.DataFrame, participant: str, focus: str = "") -> str:
    """The turns in order, the interviewer's in grey, codes beside each participant turn; `focus` (a
    segment id) is shaded. Each turn carries turn_anchor(segment_id) as its id."""
    body = []
    for r in turns.itertuples(index=False):
        cls = "ips-turn" + (" interviewer" if r.role == "interviewer" else "") + (" focus" if r.segment_id == focus else "")
        codes = (f'<div class="ips-codes">{esc(" · ".join(r.codes))}</div>' if r.codes else "")
        body.append(f'<div class="{cls}" id="{turn_anchor(r.segment_id)}"><b>{esc(str(r.speaker))}</b> '
                    f'<span class="ips-meta">{esc(str(r.segment_id))}</span><br>'
                    f'{highlight_spans(str(r.text), r.spans)}{codes}</div>')
    n = int((turns["role"] != "interviewer").sum())
    head = f"<p><b>{esc(participant)}</b>: {n} turn{'s' if n != 1 else ''}, with the interviewer's questions</p>"
    return f'{CSS}<div class="ips-explore">{head}{"".join(body)}</div>'


# ----------------------------------------------------------------------------- widgets
def answer(compute) -> str:
    """The HTML of `compute()`, or a bad query's one-line message (an InputError's first problem)."""
    try:
        return compute()
    except InputError as exc:
        return message_html(exc.problems[0] if exc.problems else "bad query")


def _choices(all_label: str, values, labels=None) -> list[tuple[str, str]]:
    """Dropdown options: ('all …', '') first, then each value (shown by its label when given)."""
    return [(all_label, "")] + [((labels or {}).get(v, v), v) for v in values if v != ""]


def starting_code(ex: Explorer, code: str = "") -> str:
    """The code a tool starts on: `code` when the codebook has it, else its first subtheme (or theme)."""
    keys = [k for _, k in ex.codes()]
    return code if code in keys else next((k for k in keys if "/" in k), keys[0])


def _coding_choice(ex: Explorer):
    """The auto/human switch (human only when a human coding is loaded)."""
    import ipywidgets as w

    options = [("auto-coding", "auto")] + ([("human coding", "human")] if ex.has_human else [])
    toggle = w.ToggleButtons(options=options, value="auto", description="Coding")
    if not ex.has_human:
        toggle.layout.display = "none"  # nothing to switch to
    return toggle


class _Tool:
    """A tool: its input widgets, its `result` (ipywidgets.HTML) recomputed whenever an input changes."""

    title = ""

    def _watch(self, *inputs) -> None:
        for item in inputs:
            item.observe(lambda _change: self.refresh(), names="value")

    def refresh(self) -> None:
        self.result.value = answer(self.compute)

    def _repr_mimebundle_(self, **kwargs):
        """Shown in a notebook as its widgets."""
        return self.widget._repr_mimebundle_(**kwargs)


class ConcordanceTool(_Tool):
    """Search box and filters (group, participant, theme); KWIC lines and counts. `open` (a turn of the
    result) shows that turn in the participant view given as `viewer`."""

    title = "Concordance"

    def __init__(self, ex: Explorer, viewer: "ParticipantTool | None" = None, query: str = ""):
        import ipywidgets as w

        self.ex, self.viewer = ex, viewer
        self.box = w.Text(value=query, description="Search", continuous_update=False,
                          placeholder="word, phrase, pain*, *ache or /regular expression/")
        self.group = w.Dropdown(options=_choices("all groups", ex.groups, {g: figures.group_label(g) for g in ex.groups}),
                                description="Group")
        self.participant = w.Dropdown(options=_choices("all participants", ex.people), description="Participant")
        self.theme = w.Dropdown(options=[("any theme", "")] + ex.codes(), description="Theme")
        self.coding = _coding_choice(ex)
        self.open = w.Dropdown(options=[("(pick a line's turn)", "")], description="Open turn")
        self.result = w.HTML()
        self._watch(self.box, self.group, self.participant, self.theme, self.coding)
        self.open.observe(lambda change: self.show_turn(change["new"]), names="value")
        self.widget = w.VBox([w.HBox([self.box, self.group]), w.HBox([self.participant, self.theme]), self.coding,
                              self.result, self.open])
        self.refresh()

    def compute(self) -> str:
        found = concordance(self.ex, self.box.value, self.group.value, self.participant.value, self.theme.value,
                            self.coding.value)
        self.open.options = [("(pick a line's turn)", "")] + [(s, s) for s in dict.fromkeys(found.lines["segment_id"])]
        return render_concordance(found)

    def refresh(self) -> None:
        self.open.options = [("(pick a line's turn)", "")]
        super().refresh()

    def show_turn(self, segment_id: str) -> None:
        """Open the participant view at a turn of the result."""
        if segment_id and self.viewer is not None:
            self.viewer.show(segment_id)


class CodeBrowserTool(_Tool):
    """Pick a theme or subtheme and a group: n of N and every coded passage, longest or densest first."""

    title = "Code browser"

    def __init__(self, ex: Explorer, code: str = ""):
        import ipywidgets as w

        self.ex = ex
        codes = ex.codes()
        self.code = w.Dropdown(options=codes, value=starting_code(ex, code), description="Code")
        self.group = w.Dropdown(options=_choices("all groups", ex.groups, {g: figures.group_label(g) for g in ex.groups}),
                                description="Group")
        self.order = w.ToggleButtons(options=[("longest first", "longest"), ("densest first", "densest")],
                                     description="Order")
        self.coding = _coding_choice(ex)
        self.result = w.HTML()
        self._watch(self.code, self.group, self.order, self.coding)
        self.widget = w.VBox([w.HBox([self.code, self.group]), self.order, self.coding, self.result])
        self.refresh()

    def compute(self) -> str:
        return render_passages(code_passages(self.ex, self.code.value, self.group.value, self.coding.value,
                                             self.order.value))


class RuleTesterTool(_Tool):
    """Keywords, patterns and excludes for a code, in the codebook's syntax (filled with the code's
    current rules when a code is picked); what they code, add and lose, and agreement with the human
    coding. The button writes the YAML to paste into the codebook in `yaml_out`."""

    title = "Rule tester"

    def __init__(self, ex: Explorer, code: str = ""):
        import ipywidgets as w

        self.ex = ex
        codes = ex.codes()
        self.code = w.Dropdown(options=codes, value=starting_code(ex, code), description="Code")
        layout = w.Layout(width="95%")
        self.keywords = w.Textarea(description="Keywords", placeholder="comma-separated: anxiety, depress*, "
                                   "mental health", layout=layout, continuous_update=False)
        self.patterns = w.Textarea(description="Patterns", placeholder="one regular expression a line",
                                   layout=layout, continuous_update=False)
        self.exclude = w.Textarea(description="Exclude", placeholder="comma-separated keywords", layout=layout,
                                  continuous_update=False)
        self.button = w.Button(description="Show YAML", tooltip="the YAML of these rules, to paste into the codebook")
        self.yaml_out = w.HTML()
        self.result = w.HTML()
        self._filling = False
        self.code.observe(lambda _change: self.fill(), names="value")
        self._watch(self.keywords, self.patterns, self.exclude)
        self.button.on_click(lambda _b: self.show_yaml())
        self.widget = w.VBox([self.code, self.keywords, self.patterns, self.exclude, self.button, self.yaml_out,
                              self.result])
        self.fill()

    def fill(self) -> None:
        """Put the picked code's current rules in the boxes."""
        rules = current_rules(self.ex.book, self.code.value)
        self._filling = True
        self.keywords.value = ", ".join(rules["keywords"])
        self.patterns.value = "\n".join(rules["patterns"])
        self.exclude.value = ", ".join(rules["exclude"])
        self._filling = False
        self.yaml_out.value = ""
        self.refresh()

    def refresh(self) -> None:
        if not self._filling:
            super().refresh()

    def _tested(self) -> RuleTest:
        return try_rules(self.ex, self.code.value, split_terms(self.keywords.value), split_lines(self.patterns.value),
                         split_terms(self.exclude.value))

    def compute(self) -> str:
        return render_rule_test(self._tested())

    def show_yaml(self) -> None:
        self.yaml_out.value = answer(lambda: f'{CSS}<div class="ips-explore"><pre>{esc(self._tested().yaml)}</pre></div>')


class ParticipantTool(_Tool):
    """One participant's turns in order, with the interviewer's questions and the codes beside each turn."""

    title = "Participant view"

    def __init__(self, ex: Explorer, participant: str = ""):
        import ipywidgets as w

        self.ex, self.focus = ex, ""
        start = participant if participant in ex.people else (ex.people[0] if ex.people else None)
        self.participant = w.Dropdown(options=ex.people, value=start, description="Participant")
        self.coding = _coding_choice(ex)
        self.result = w.HTML()
        self._watch(self.participant, self.coding)
        self.widget = w.VBox([w.HBox([self.participant, self.coding]), self.result])
        self.refresh()

    def compute(self) -> str:
        if not self.participant.value:
            raise InputError("no participant to show")
        turns = participant_turns(self.ex, self.participant.value, self.coding.value)
        return render_participant(turns, self.participant.value, self.focus)

    def show(self, segment_id: str) -> None:
        """Show the participant of a turn, that turn shaded."""
        hit = self.ex.segments.loc[self.ex.segments["segment_id"] == segment_id, "participant_id"]
        self.focus = segment_id
        if len(hit) and self.participant.value != hit.iloc[0]:
            self.participant.value = hit.iloc[0]  # refreshes
        else:
            self.refresh()


@dataclass
class Tools:
    """The four tools of one explorer, the concordance linked to the participant view; `widget` is a Tab."""

    concordance: ConcordanceTool
    codes: CodeBrowserTool
    rules: RuleTesterTool
    participant: ParticipantTool
    widget: object


def tools(ex: Explorer, query: str = "", code: str = "", participant: str = "") -> Tools:
    """The four live tools in one Tab."""
    import ipywidgets as w

    viewer = ParticipantTool(ex, participant)
    parts = [ConcordanceTool(ex, viewer, query), CodeBrowserTool(ex, code), RuleTesterTool(ex, code), viewer]
    tab = w.Tab(children=[p.widget for p in parts])
    for i, p in enumerate(parts):
        tab.set_title(i, p.title)
    return Tools(*parts, widget=tab)


# ----------------------------------------------------------------------------- static demonstration
DEMO_PASSAGES = 5  # passages per list in the static demonstration
LIVE_NOTE = ("This report shows one fixed query of each tool. The live tools (type a word, pick a code, try a "
             "rule, read a participant's turns) need JupyterLab: open notebooks/06_explore.ipynb there "
             "(make lab) and run all cells.")


def mode_note():
    """What the notebook shows: the live tools, or (under `helpers run`) fixed queries, with LIVE_NOTE."""
    from IPython.display import HTML

    if is_live():
        return HTML("<p><i>Live tools: change a box or a menu and the result below it is recomputed.</i></p>")
    return HTML(f"<blockquote>{esc(LIVE_NOTE)}</blockquote>")


def static_demos(ex: Explorer, query: str, code: str = "", rule: str = "", participant: str = "",
                 share: bool = False) -> Tools:
    """One fixed query of each tool as HTML (IPython.display.HTML), for a report: the concordance of
    `query`, the passages of `code` (default: the first subtheme), the code's rules with the keyword `rule`
    added, the turns of `participant` (default: the first). In a report built for sharing, passages show
    only their marked words with a few words around them, and the participant view (whole turns) is
    left out."""
    from IPython.display import HTML

    code = code or starting_code(ex)
    person = participant or (ex.people[0] if ex.people else "")
    known = dict((k, k) for _, k in ex.codes())
    rules = current_rules(ex.book, code) if code in known else {}
    tried = list(dict.fromkeys([*rules.get("keywords", []), *split_terms(rule)]))

    def shown(title: str, body: str) -> HTML:
        return HTML(f'<p class="ips-demo"><b>{esc(title)}</b></p>{body}')

    if share:
        people = ("<p><i>Left out of this report, which is built for sharing: the participant's turns (whole "
                  "turns). The full report, for the research team only, has them.</i></p>")
    else:
        people = answer(lambda: render_participant(participant_turns(ex, person), person))
    return Tools(
        concordance=shown(f"Concordance of {query}", answer(lambda: render_concordance(concordance(ex, query)))),
        codes=shown(f"Code browser: {code}, longest passages first",
                    answer(lambda: render_passages(code_passages(ex, code), share, DEMO_PASSAGES))),
        rules=shown(f"Rule tester: the rules of {code} with the keyword {rule} added",
                    answer(lambda: render_rule_test(try_rules(ex, code, tried, rules.get("patterns", []),
                                                              rules.get("exclude", [])), share, DEMO_PASSAGES))),
        participant=shown(f"Participant view: {person}", people),
        widget=None)


def explorer_tools(ex: Explorer, query: str, code: str = "", rule: str = "", participant: str = "",
                   share: bool = False) -> Tools:
    """The live tools in a JupyterLab kernel, the static demonstrations under `helpers run`."""
    if is_live():
        return tools(ex, query, code, participant)
    return static_demos(ex, query, code, rule, participant, share)
