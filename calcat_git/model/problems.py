"""A problem found in the catalog: file, line, dotted field path, message, check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    check: str
    severity: str = "error"  # or "warning": reported to reviewers, does not fail

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}:{field} {prefix}{self.message} [{self.check}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "line": self.line, "field": self.field,
            "message": self.message, "check": self.check, "severity": self.severity,
        }

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line, self.field, self.message)
