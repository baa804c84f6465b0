"""Exceptions of calcat-git. Each one says what to do next.

They subclass ``KeyError`` or ``ValueError`` so that callers who catch the builtin
kinds keep working; the CLI turns any :class:`CalcatGitError` into one line on stderr
and exit code 1.
"""

from __future__ import annotations

from typing import Any


class CalcatGitError(Exception):
    """Base class of every error this package raises on purpose."""

    def __str__(self) -> str:  # KeyError would repr() its message otherwise
        return str(self.args[0]) if self.args else self.__class__.__name__


class NotFoundError(CalcatGitError, KeyError):
    """A named entity (detector, PDU, calibration, …) does not exist."""


class InvalidInputError(CalcatGitError, ValueError):
    """Input given by a user (a timestamp, an option) is malformed."""


class CatalogInvalidError(CalcatGitError, ValueError):
    """The catalog files do not pass validation; ``problems`` lists why."""

    def __init__(self, message: str, problems: list[Any] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class BrokenCatalogError(CatalogInvalidError):
    """The snapshot holds a file that does not load and the look-up asked depends on it."""


class CatalogProblemWarning(UserWarning):
    """An answer was given from a snapshot with problems that did not change it (a file
    that does not load elsewhere in the catalog, a published set marked invalid)."""


class RepositoryError(CalcatGitError, ValueError):
    """The git repository is missing, or not in a state we can read."""


class NoSnapshotError(RepositoryError):
    """A time before the first commit the clone holds; ``first`` is that commit's time."""

    def __init__(self, message: str, first: str = "never") -> None:
        super().__init__(message)
        self.first = first


def no_snapshot(moment: str, first: str) -> NoSnapshotError:
    return NoSnapshotError(f"no snapshot at {moment}: the catalog's first commit is at {first}; ask for a later "
                           "time", first)


def closest_names(name: str, candidates: list[str], n: int = 3) -> str:
    """A ``did you mean`` suffix for unknown-name errors ('' when nothing is close)."""
    import difflib  # imported on use: only an unknown name needs it, not every start

    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + ", ".join(lowered[c] for c in close) + "?)"
