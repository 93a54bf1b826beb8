"""A problem a person must fix, located in a file: the one shape every check reports in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    message: str
    hint: str = ""
    rule: str | None = None  # a Coleman lint rule's id (hundred/validation/lint/rules.py); None for an error
    severity: str = "error"  # or "warning": the journey works, but neglects the customer somewhere

    def __str__(self) -> str:
        level = "warning: " if self.severity == "warning" else ""
        rule = f" [{self.rule}]" if self.rule else ""  # the id to set a threshold for, or to ignore with a reason
        head = f"{self.file}:{self.line}:{self.col}: {level}{self.message}{rule}"
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "message": self.message,
            "hint": self.hint,
        }


class Invalid(Exception):
    """Raised when a file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
