"""Response time of each explorer tool (helpers.explore, notebook 06): on the demo project and on a
generated corpus of about 1M words (helpers.bench.generate_corpus, resampled from the demo).

Each query is driven through the tool's widgets as a person would drive it (a box or menu set, the
result area recomputed), in a plain Python process; the time is wall time from setting the value to
the HTML being in the result area, the median and the slowest of REPEATS runs, and the median processor
time (which a machine busy with other work does not stretch). The explorer is built
once per corpus (its load time is printed too). The 1M-word corpus has no human coding; to time the
human-coding paths (switch to the human coding, agreement in the rule tester) it stands in the
auto-coding of every third transcript as a "human" coding.

    .venv/bin/python benchmarks/explore_timing.py [--words 1000000] [--repeats 5] [--config PROJECT/pipeline.yaml]

Prints a Markdown table (for the README). Timings are for reading, not for tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers import bench, explore, paths, project

REPEATS = 5


def demo_parameters(config: Path | None = None) -> dict:
    """The parameters `helpers run` gives notebook 06 for a project (default: the repository's demo)."""
    _, params = project.project_parameters(project.load_project(config or paths.PIPELINE_CONFIG), {}, paths.NOTEBOOKS)
    return params["06_explore"]


def timed(action, repeats: int) -> tuple[float, float, float]:
    """(median, slowest) wall seconds of `action()`, and its median processor seconds (the same on a
    machine busy with other work, where wall time stretches)."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), max(times), statistics.median(cpu)


def set_value(widget, first, second):
    """An action that sets a widget to `first`, or to `second` when it already holds `first` (so every
    repeat is a change the tool answers)."""
    def act():
        widget.value = second if widget.value == first else first
    return act


def queries(ex: explore.Explorer) -> list[tuple[str, str, object, object, object]]:
    """(tool, query, widget, value, other value) of the timed queries."""
    kit = explore.tools(ex)
    code = explore.starting_code(ex, "situations/complex_needs")
    theme = code.partition("/")[0]
    busiest = ex.segments["participant_id"].value_counts().index[0]
    other = ex.people[0] if ex.people[0] != busiest else ex.people[-1]
    c, b, r, p = kit.concordance, kit.codes, kit.rules, kit.participant
    rules = explore.current_rules(ex.book, code)
    out = [("concordance", "pain* (every match)", c.box, "pain*", "pain"),
           ("concordance", "fit note* (phrase)", c.box, "fit note*", "fit note"),
           ("concordance", "/can(no|.)t cope/ (regex)", c.box, "/can(no|.)t cope/", "/can(no|.)t\\s+cope/"),
           ("concordance", "pain*, group filter", c.group, ex.groups[0], ex.groups[-1]),
           ("concordance", "pain*, theme filter", c.theme, theme, code),
           ("code browser", f"{code} / {theme}", b.code, code, theme),
           ("code browser", "group filter", b.group, ex.groups[0], ex.groups[-1]),
           ("code browser", "densest first", b.order, "densest", "longest"),
           ("rule tester", f"{code}: a keyword added", r.keywords, ", ".join([*rules["keywords"], "coping"]),
            ", ".join(rules["keywords"])),
           ("rule tester", "a pattern added", r.patterns, "\n".join([*rules["patterns"], r"\bcan'?t sleep\b"]),
            "\n".join(rules["patterns"]) or r"\bcannot cope\b"),
           ("participant view", f"{busiest} / {other}", p.participant, busiest, other)]
    if ex.has_human:
        out += [("code browser", "auto / human coding", b.coding, "human", "auto"),
                ("participant view", "auto / human coding", p.coding, "human", "auto")]
    c.box.value = "pain*"  # the filters below are timed with a query in the box
    return out


def measure(name: str, ex: explore.Explorer, seconds_to_load: float, repeats: int) -> list[str]:
    """Markdown rows: each query's median and slowest time on one corpus."""
    rows = [f"| {name} | (load: build the explorer once) | {seconds_to_load:.2f} s | | |"]
    for tool, query, widget, value, other in queries(ex):
        median, slowest, cpu = timed(set_value(widget, value, other), repeats)
        rows.append(f"| {name} | {tool}: {query} | {median:.3f} s | {slowest:.3f} s | {cpu:.3f} s |")
    return rows


def build(params: dict) -> tuple[explore.Explorer, float]:
    start = time.perf_counter()
    ex = explore.load_explorer(params)
    return ex, time.perf_counter() - start


def with_stand_in_human(ex: explore.Explorer) -> explore.Explorer:
    """The explorer rebuilt with the auto-coding of every third transcript as its human coding."""
    transcripts = sorted(ex.segments["transcript_id"].unique())[::3]
    auto = ex.codings["auto"]
    human = auto[auto["transcript_id"].isin(transcripts)].assign(coder="stand-in")
    return explore.build_explorer(ex.turns, ex.participants, ex.book, human)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="words of the generated corpus")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each query")
    parser.add_argument("--config", type=Path, help="the project's pipeline.yaml (default: the demo project)")
    args = parser.parse_args(argv)
    params = demo_parameters(args.config)
    ex, load = build(params)
    rows = measure(f"project ({len(ex.tokens):,} tokens)", ex, load, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        folder, people, written = bench.generate_corpus(Path(tmp), args.words)
        big_params = {**params, "transcripts_dir": str(folder), "participants_csv": str(people), "human_coding": ""}
        big, load = build(big_params)
        start = time.perf_counter()
        big = with_stand_in_human(big)
        load += time.perf_counter() - start
        rows += measure(f"generated ({written:,} words, {len(big.tokens):,} tokens)", big, load, args.repeats)
    print("| corpus | query | median | slowest | median processor time |\n|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; {args.repeats} runs of each query")
    return 0


if __name__ == "__main__":
    sys.exit(main())
