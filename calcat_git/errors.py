"""Exceptions of calcat-git. Each one says what to do next.

They subclass ``KeyError`` or ``ValueError`` so that callers who catch the builtin
kinds keep working; the CLI turns any :class:`CalcatGitError` into one line on stderr
and exit code 1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class CalcatGitError(Exception):
    """Base class of every error this package raises on purpose."""

    def __str__(self) -> str:  # KeyError would repr() its message otherwise
        return str(self.args[0]) if self.args else self.__class__.__name__


class NotFoundError(CalcatGitError, KeyError):
    """A named entity (detector, PDU, calibration, …) does not exist."""


class InvalidInputError(CalcatGitError, ValueError):
    """Input is malformed or refused; the message names it and what to give instead.

    Raised as it is for what a user gives (a timestamp, an option, a condition, a request's
    body): correct that input and try again. Its subclasses say when the input is something
    else, and carry what it is about: a constant file (:class:`ConstantFileError`), a reply
    of CALCAT (:class:`CalcatReplyError`), the constant store (:class:`StoreDamagedError`)
    or the site build (:class:`SiteBuildError`). Catching this class catches them all."""


class ConstantFileError(InvalidInputError):
    """A constant file (HDF5) cannot be used: it does not read as HDF5, its layout or a
    value is not what calcat-git reads, or it names what the catalog does not hold (a PDU,
    a calibration, a parameter of its detector type). ``path`` is the file (None when the
    constant was not read from one).

    Write the file again (``calcat_git.store.hdf5.write_constant`` writes the layout read),
    or first add what it names to the catalog, then inject it again; nothing was injected."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path else None


class CalcatReplyError(InvalidInputError):
    """A reply of CALCAT, fetched live or recorded in a cassette, cannot be imported: it is
    not a CALCAT reply, is malformed or too large, or holds a record calcat-git cannot keep.
    ``origin`` is where it came from (its URL, or the cassette file and interaction
    number; '' where that is not known), ``record`` the CALCAT record at fault ('' if none).

    Check that ``--url`` or ``--replies`` names CALCAT, record the replies again, or have
    the record corrected in CALCAT; the import wrote nothing."""

    def __init__(self, message: str, origin: str = "", record: str = "") -> None:
        super().__init__(message)
        self.origin = origin
        self.record = record


class StoreDamagedError(InvalidInputError):
    """The constant store holds what calcat-git did not write there: a file whose content
    is not the checksum its name says, or a symbolic link leading out of the store.
    ``path`` is that file or link.

    Restore the file from a copy or remove it (``inject`` writes it again), replace a link
    by the file it points at, then run ``calcat-git verify-store`` to check the rest."""

    def __init__(self, message: str, path: str | os.PathLike[str]) -> None:
        super().__init__(message)
        self.path = Path(path)


class SiteBuildError(InvalidInputError):
    """The site was not built: the site engine (mkdocs or zensical) failed, or a file the
    build reads is a symbolic link or not a regular file. ``path`` is the catalog folder
    built or the file refused; ``output`` is the end of the engine's error output ('' when
    the engine did not run).

    Fix what ``output`` or the message names (``mkdocs build --strict`` fails on a warning
    too: a broken link, a page missing from the navigation) and build again; the site
    already published, if any, is unchanged."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None, output: str = "") -> None:
        super().__init__(message)
        self.path = Path(path) if path else None
        self.output = output


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
