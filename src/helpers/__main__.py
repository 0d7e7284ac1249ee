"""Command line: `python -m helpers COMMAND …` (DESIGN.md §5). Exit 0 ok, 1 a finding, 2 bad input."""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import InputError

# Each module registers its own commands with `add_commands(subparsers)`.
COMMAND_MODULES = [
    "pipeline",
    "corpus",
    "cooccur",
    "keywords",
    "coding",
    "anonymise",
    "exchange",
    "agreement",
    "bench",
    "survey",
    "refine",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every module's sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"helpers.{name}").add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the command, turn bad input into one line per problem and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written (permissions, a folder, a full disk)
        if exc.filename is None:
            raise
        what = (exc.strerror or type(exc).__name__).lower()
        print(f"error: {exc.filename2 or exc.filename}: cannot read or write it ({what})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
