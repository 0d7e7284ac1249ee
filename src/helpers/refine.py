"""A codebook loop driven by the human coding (`python -m helpers refine`).

The codebook's rules are run on the segments the human coding covers and judged, segment by
segment, against the human's codes:
- per rule: the segments it codes, precision (share of them the human coded with the rule's code),
  recall (share of the human's segments of that code it finds) and the segments it gets wrong;
- per code: the human-coded segments no rule reaches, and the words and two-word phrases most
  over-represented in them (G², helpers.keywords.keyness_scores) against the segments the human did
  not code with it, each with the precision and recall it would have as a new keyword;
- a YAML snippet of suggested keywords in the codebook's own format (the codebook is never edited);
- with a second human coding (`--check-on`, transcripts left out of the refinement), the agreement
  of the codebook before and after adding the suggestions, on talk it was not tuned on.
Codes are judged at theme level (a subtheme's rule counts for its theme) or, with `level="subtheme"`,
each rule against its own code.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import agreement, paths
from .codebook import Codebook, load_codebook, parse_codebook
from .coding import code_segments, coded_pairs
from .errors import InputError
from .keywords import keyness_scores, ngrams, segment_tokens
from .text import normalise_phrase, stopword_list

LEVELS = agreement.LEVELS
TOP_TERMS = 10          # candidate words shown per code
SUGGEST_PER_CODE = 5    # suggestions per code written to the YAML snippet
MIN_MISSED = 2          # a suggestion must reach at least this many missed segments
MIN_PRECISION = 0.5     # ... and be right at least this often as a keyword
WRONG_SHOWN = 5         # wrong segments listed per rule
SNIPPET_CHARS = 100     # characters of a segment shown


# ----------------------------------------------------------------------------- segment sets
def segments_by_code(codings: pd.DataFrame, level: str = "theme") -> dict[str, set[str]]:
    """code -> the segment ids coded with it (a subtheme also codes its theme)."""
    pairs = coded_pairs(codings)
    if level == "theme":
        pairs = pairs[pairs["subtheme"] == ""]
    keys = agreement.code_of(pairs, level)
    return {code: set(ids) for code, ids in pairs.groupby(keys.to_numpy())["segment_id"]}


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def rule_table(codebook: Codebook, auto: pd.DataFrame, human: dict[str, set[str]],
               level: str = "theme") -> pd.DataFrame:
    """Per keyword/pattern rule: segments it codes, how many of them the human coded with its code
    (hits), precision, recall (of the human's segments of that code) and the wrong segment ids."""
    rules = codebook.rules[codebook.rules["kind"] != "exclude"]
    found = auto.groupby(["theme", "subtheme", "term"])["segment_id"].agg(lambda s: sorted(set(s)))
    rows = []
    for r, code in zip(rules.itertuples(index=False), agreement.code_of(rules, level)):
        segs = found.get((r.theme, r.subtheme, r.term), [])
        truth = human.get(code, set())
        hits = sum(s in truth for s in segs)
        rows.append({"code": code, "kind": r.kind, "term": r.term, "segments": len(segs), "hits": hits,
                     "precision": _ratio(hits, len(segs)), "recall": _ratio(hits, len(truth)),
                     "wrong": [s for s in segs if s not in truth]})
    return pd.DataFrame(rows, columns=["code", "kind", "term", "segments", "hits", "precision", "recall", "wrong"])


def _rule_terms(codebook: Codebook, code: str, level: str) -> set[str]:
    """The keywords (normalised) already in the codebook for a code."""
    rules = codebook.rules[codebook.rules["kind"] == "keyword"]
    return {normalise_phrase(term) for term, k in zip(rules["term"], agreement.code_of(rules, level)) if k == code}


# ----------------------------------------------------------------------------- suggestions
def term_segments(units: pd.DataFrame, max_words: int = 2) -> pd.DataFrame:
    """Distinct (term, segment_id) pairs: every non-stopword word and run of up to `max_words` such
    words in the units (tokens as the codebook's keywords match them)."""
    tokens = segment_tokens(units, columns=[], stopwords=stopword_list())
    parts = [ngrams(tokens, n)[["token", "segment_id"]] for n in range(1, max_words + 1)]
    pairs = pd.concat(parts, ignore_index=True).rename(columns={"token": "term"})
    return pairs.drop_duplicates().reset_index(drop=True)


def suggestions(units: pd.DataFrame, human: dict[str, set[str]], auto: dict[str, set[str]],
                codes: list[str], codebook: Codebook, level: str = "theme", top_n: int = TOP_TERMS,
                pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per code: the terms most over-represented in its missed segments (human-coded, no rule reaches
    them) against the segments the human did not code with it. Columns: code, term, missed_with
    (missed segments holding it), g2, precision and recall it would have as a keyword on its own, new_recall
    (recall of the code's rules with it added), suggested (meets MIN_MISSED and MIN_PRECISION)."""
    pairs = term_segments(units) if pairs is None else pairs
    all_ids = set(units["segment_id"])
    out = []
    for code in codes:
        truth = human.get(code, set()) & all_ids
        missed = truth - auto.get(code, set())
        if not missed:
            continue
        other = all_ids - truth
        in_missed = pairs["segment_id"].isin(missed)
        in_other = pairs["segment_id"].isin(other)
        in_truth = pairs["segment_id"].isin(truth)
        a = pairs[in_missed].groupby("term").size()
        b = pairs[in_other].groupby("term").size().reindex(a.index, fill_value=0)
        scores = keyness_scores(a.to_numpy(), b.to_numpy(), len(missed), len(other))
        table = pd.DataFrame({"code": code, "term": a.index, "missed_with": a.to_numpy(), "in_other": b.to_numpy(),
                              "g2": scores["g2"].to_numpy(), "log_ratio": scores["log_ratio"].to_numpy()})
        table = table[(table["log_ratio"] > 0) & ~table["term"].isin(_rule_terms(codebook, code, level))]
        hits = pairs[in_truth].groupby("term").size().reindex(table["term"], fill_value=0).to_numpy()
        n_found = len(truth) - len(missed)
        table = table.assign(precision=hits / (hits + table["in_other"].to_numpy()), recall=hits / len(truth),
                             new_recall=(n_found + table["missed_with"].to_numpy()) / len(truth))
        table = table.sort_values(["g2", "missed_with", "term"], ascending=[False, False, True]).head(top_n)
        out.append(table)
    columns = ["code", "term", "missed_with", "in_other", "g2", "precision", "recall", "new_recall"]
    if not out:
        return pd.DataFrame(columns=[*columns, "suggested"])
    table = pd.concat(out, ignore_index=True)[columns]
    table["suggested"] = (table["missed_with"] >= MIN_MISSED) & (table["precision"] >= MIN_PRECISION)
    table["suggested"] &= table.groupby("code")["suggested"].cumsum() <= SUGGEST_PER_CODE
    return table.reset_index(drop=True)


def suggested_terms(table: pd.DataFrame) -> dict[str, list[str]]:
    """code -> suggested keywords, in ranking order."""
    chosen = table[table["suggested"].astype(bool)]
    return {code: list(terms) for code, terms in chosen.groupby("code", sort=False)["term"]}


def snippet_data(codebook: Codebook, terms: dict[str, list[str]]) -> dict:
    """The suggestions as a codebook fragment (themes > subthemes > keywords) in the codebook's format."""
    themes = []
    for theme in codebook.themes:
        entry = {"code": theme, "label": codebook.label(theme)}
        if terms.get(theme):
            entry["keywords"] = list(terms[theme])
        subs = [{"code": s, "label": codebook.label(theme, s), "keywords": list(terms[f"{theme}/{s}"])}
                for s in codebook.subthemes(theme) if terms.get(f"{theme}/{s}")]
        if subs:
            entry["subthemes"] = subs
        if "keywords" in entry or subs:
            themes.append(entry)
    return {"codebook": f"suggested keywords for {codebook.title or codebook.source}", "themes": themes}


def snippet_yaml(codebook: Codebook, terms: dict[str, list[str]]) -> str:
    """The YAML text of snippet_data, with a header saying what it is."""
    head = (f"# Keywords suggested by `refine` from the human coding, for {codebook.source}.\n"
            "# Read each one in context before pasting it into the codebook; the codebook is not edited.\n")
    data = snippet_data(codebook, terms)
    if not data["themes"]:
        return head + "# no suggestions\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def with_suggestions(codebook_path: str | Path, codebook: Codebook, terms: dict[str, list[str]]) -> Codebook:
    """The codebook with the suggested keywords added (in memory only)."""
    data = copy.deepcopy(yaml.safe_load(paths.resolve(codebook_path).read_text(encoding="utf-8-sig")))
    for theme in data["themes"]:
        targets = [(theme, theme["code"])] + [(s, f"{theme['code']}/{s['code']}") for s in theme.get("subthemes") or []]
        for entry, key in targets:
            extra = [t for t in terms.get(key, []) if normalise_phrase(t) not in
                     {normalise_phrase(k) for k in entry.get("keywords") or []}]
            if extra:
                entry["keywords"] = list(entry.get("keywords") or []) + extra
    return parse_codebook(data, f"{codebook.source} + suggestions")


# ----------------------------------------------------------------------------- agreement
def pooled_kappa(auto: pd.DataFrame, human: pd.DataFrame, units: pd.DataFrame, codes: list[str],
                 level: str = "theme") -> tuple[float, int]:
    """Pooled kappa (segment level) over the codes at least one side used, and how many codes that is."""
    table = agreement.agreement_table(auto, human, units, "segment", level, codes, resamples=0)
    pooled = table.loc[table["code"] == agreement.POOLED, "kappa"].iloc[0]
    return float(pooled), len(table.attrs["used_codes"])


# ----------------------------------------------------------------------------- the loop
def covered_units(turns: pd.DataFrame, human: pd.DataFrame, project_sources: list[str] | None = None,
                  participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Turn segments of the transcripts the human coding covers: those it codes anything in, and the
    sources of its project (coded or not) that are among the turns."""
    from . import corpus

    covered = set(human["transcript_id"].astype(str)) | set(project_sources or [])
    segs = corpus.segments(turns, participants if participants is not None else corpus.participants_of_turns(turns))
    return segs[segs["transcript_id"].astype(str).isin(covered)].reset_index(drop=True)


def refine(units: pd.DataFrame, human: pd.DataFrame, codebook: Codebook, level: str = "theme") -> dict:
    """One round of the loop on `units`: rule table, suggestion table, suggested terms, the auto-coding."""
    if level not in LEVELS:
        raise InputError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    auto = code_segments(units, codebook)
    truth = segments_by_code(human, level)
    found = segments_by_code(auto, level)
    codes = agreement.codebook_codes(codebook.codes, level)
    if level == "subtheme":  # a theme's own rules are judged against the theme
        codes = list(dict.fromkeys(codes + agreement.code_of(codebook.rules, level).tolist()))
    rules = rule_table(codebook, auto, truth, level)
    table = suggestions(units, truth, found, codes, codebook, level)
    missed = {c: sorted((truth.get(c, set()) & set(units["segment_id"])) - found.get(c, set())) for c in codes}
    return {"rules": rules, "suggestions": table, "terms": suggested_terms(table), "auto": auto,
            "missed": missed, "codes": codes}


# ----------------------------------------------------------------------------- text output
def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def _fmt(x: float) -> str:
    return "  -  " if pd.isna(x) else f"{x:.2f}"


def report_text(result: dict, units: pd.DataFrame) -> str:
    """The readable report: rules, missed segments per code, candidate words."""
    texts = dict(zip(units["segment_id"], units["text"]))
    lines = [f"units: {len(units)} turn segments of {units['transcript_id'].nunique()} transcripts "
             f"({', '.join(sorted(units['transcript_id'].astype(str).unique()))})", "",
             "Rules (judged against the human's code)",
             f"{'code':<28} {'rule':<28} {'segs':>5} {'hits':>5} {'prec':>5} {'recall':>6}"]
    rules = result["rules"]
    for r in rules[rules["segments"] > 0].itertuples(index=False):
        lines.append(f"{r.code[:28]:<28} {r.term[:28]:<28} {r.segments:>5} {r.hits:>5} {_fmt(r.precision):>5} "
                     f"{_fmt(r.recall):>6}")
    idle = rules[rules["segments"] == 0]
    if len(idle):
        lines += ["", f"Rules that code no segment here ({len(idle)})"]
        lines += [f"  {code}: {', '.join(terms)}" for code, terms in idle.groupby("code", sort=False)["term"]]
    wrong = rules[rules["wrong"].str.len() > 0]
    if len(wrong):
        lines += ["", "Segments rules code that the human did not code with that code (to read)"]
        for r in wrong.itertuples(index=False):
            lines.append(f"  {r.code} / {r.term}: {len(r.wrong)} wrong")
            lines += [f"    {s}: {_short(texts.get(s, ''))}" for s in r.wrong[:WRONG_SHOWN]]
    lines += ["", "Human-coded segments no rule reaches, and the words over-represented in them"]
    table = result["suggestions"]
    for code in result["codes"]:
        missed = result["missed"].get(code, [])
        if not missed:
            continue
        lines.append(f"  {code}: {len(missed)} missed segment(s)")
        lines += [f"    {s}: {_short(texts.get(s, ''))}" for s in missed[:WRONG_SHOWN]]
        rows = table[table["code"] == code]
        if len(rows):
            lines.append(f"    {'term':<26} {'missed':>6} {'other':>6} {'G2':>7} {'prec':>5} {'recall':>6} "
                         f"{'recall with it':>14}")
        for t in rows.itertuples(index=False):
            mark = " *" if t.suggested else ""
            lines.append(f"    {t.term[:26]:<26} {t.missed_with:>6} {t.in_other:>6} {t.g2:>7.2f} "
                         f"{_fmt(t.precision):>5} {_fmt(t.recall):>6} {_fmt(t.new_recall):>14}{mark}")
    lines.append(f"  (* suggested: reaches >= {MIN_MISSED} missed segments with precision >= {MIN_PRECISION}; "
                 f"at most {SUGGEST_PER_CODE} per code)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line
def _read(path: str, turns: pd.DataFrame | None, book: Codebook) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """A human coding file: its codings, the turns it lies on, and its project's transcript ids."""
    from . import exchange

    result = exchange.read_human_coding(path, turns, book.codes)
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if turns is None:
        if result.project.sources.empty:
            raise InputError(f"{path}: a codings table needs the turns it codes; give --corpus TURNS")
        turns = exchange.turns_from_project(result.project)
    sources = result.project.sources
    ids = ([exchange.source_stem(n) for n, k in zip(sources["name"], sources["kind"]) if k == "text"]
           if not sources.empty else [])
    return result.codings, turns, ids


def command_refine(args) -> int:
    """`refine`: rules judged against the human coding, suggested keywords, optional held-out check."""
    from . import corpus

    book = load_codebook(args.codebook)
    if args.out and Path(args.out).suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"--out {args.out}: name a .yaml file")
    turns = corpus.read_turns(args.corpus) if args.corpus else None
    human, h_turns, sources = _read(args.human, turns, book)
    units = covered_units(h_turns, human, sources)
    if units.empty:
        raise InputError(f"{args.human}: the human coding covers no participant talk of the corpus")
    result = refine(units, human, book, args.level)
    print(report_text(result, units))
    text = snippet_yaml(book, result["terms"])
    print("\nSuggested keywords (YAML, to paste after reading):\n" + text)
    if args.out:
        paths.atomic_write(paths.resolve(args.out), text)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.check_on:
        check, c_turns, c_sources = _read(args.check_on, turns, book)
        c_units = covered_units(c_turns, check, c_sources)
        overlap = sorted(set(c_units["transcript_id"]) & set(units["transcript_id"]))
        if overlap:
            print(f"warning: --check-on shares {len(overlap)} transcript(s) with --human ({', '.join(overlap)}); "
                  f"the check is not on talk left out", file=sys.stderr)
        codes = result["codes"]
        before, n_before = pooled_kappa(code_segments(c_units, book), check, c_units, codes, args.level)
        refined = with_suggestions(args.codebook, book, result["terms"])
        after, n_after = pooled_kappa(code_segments(c_units, refined), check, c_units, codes, args.level)
        print(f"\nCheck on {args.check_on}: {len(c_units)} turn segments of {c_units['transcript_id'].nunique()} "
              f"transcripts, {args.level} level: pooled kappa {before:.3f} before ({n_before} codes used), "
              f"{after:.3f} with the suggestions ({n_after} codes used)")
    return 0


def add_commands(sub) -> None:
    """Register `refine`."""
    p = sub.add_parser("refine", help="judge the codebook's rules against a human coding and suggest keywords")
    p.add_argument("--human", required=True, metavar="FILE", help="human coding: .qdpx/.qde or a codings table")
    p.add_argument("--corpus", default=None, metavar="TURNS",
                   help="turns table from `ingest` (default: the .qdpx project's own sources)")
    p.add_argument("--codebook", required=True, metavar="YAML", help="codebook YAML file (never edited)")
    p.add_argument("--level", choices=LEVELS, default="theme", help="judge themes or subthemes (default theme)")
    p.add_argument("--out", default=None, metavar="SUGGESTIONS.yaml", help="write the suggested keywords here")
    p.add_argument("--check-on", default=None, metavar="FILE",
                   help="a second human coding (transcripts left out) to report agreement before/after")
    p.set_defaults(func=command_refine)
