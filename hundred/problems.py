"""A problem a person must fix, located in a file: the one shape every check reports in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}:{self.col}: {self.message}"
        return f"{head}\n  hint: {self.hint}" if self.hint else head


class Invalid(Exception):
    """Raised when a file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
