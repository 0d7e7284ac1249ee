"""One exception for bad input: every problem is one line naming the file, line or key."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or usage. Carries one message per problem; the CLI prints them and exits 2."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def where(source: object, line: int | None = None) -> str:
    """Format a location as `file:line` (or just `file`) for error messages."""
    return f"{source}:{line}" if line is not None else f"{source}"


def raise_if(problems: list[str]) -> None:
    """Raise one InputError holding every collected problem, if there are any."""
    if problems:
        raise InputError(problems)
