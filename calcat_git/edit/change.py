"""``Change``: the one way anything is written into a catalog.

    catalog = Catalog.open(".")
    with catalog.change("MID Q1M2 replaced", branch="mid-q1m2") as change:
        change.swap("MID_DET_AGIPD1M-1", {"Q1M2": "AGIPD_SIV1_AGIPDV11_M315"},
                    since="2024-05-10T06:00:00Z", reason="damaged ASIC")
        change.inject(["dark/r0042_m3.h5"], report="xfel/reports/MID/dark_r0042.pdf", report_id=42)
    # one validated commit, or nothing at all

Edits (``swap``, ``add_pdu``, ``inject``, …) and plain ``put``/``delete`` collect new file
contents; ``commit`` validates the whole catalog with them (new errors block the change;
problems the catalog had before are reported, not blamed on it) and writes them as one
(see :mod:`calcat_git.edit.write`). An exception inside the ``with`` block writes nothing.
Every writer of the package (the edit commands, ``inject``, ``import-calcat``) goes
through here, under one lock kept in the git directory.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from calcat_git.edit import flags, mapping, registry
from calcat_git.edit.draft import Draft, TreeFiles, Verdict
from calcat_git.edit.inject import InjectResult
from calcat_git.edit.inject import inject as inject_files
from calcat_git.edit.target import commits_to, resolve_target
from calcat_git.edit.write import Written, uncommitted_hint, write_change
from calcat_git.errors import CalcatGitError, CatalogInvalidError, InvalidInputError, NotFoundError, RepositoryError
from calcat_git.files.loading import ParseCache, Registry
from calcat_git.git.repo import GitRepo
from calcat_git.locks import exclusive
from calcat_git.store.paths import store_root
from calcat_git.timeutil import ensure_utc, now_utc

WAITING = "another change is being written to this catalog; waiting for it …"


def _repo(root: Path, needed: bool) -> GitRepo | None:
    try:
        return GitRepo(root)
    except RepositoryError:
        if needed:
            raise
        return None


def write_lock(repo: GitRepo) -> AbstractContextManager[None]:
    """The one write lock of a repository, in its git directory (shared by linked worktrees):
    hold it around reading what a change builds on and a ``Change(..., lock_held=True)``."""
    return exclusive(repo.common_dir() / "calcat-git" / "write.lock", WAITING)


def _hint(exc: CalcatGitError, draft: Draft) -> None:
    """Name the uncommitted catalog files a refused commit does not hold (once)."""
    hint = uncommitted_hint(draft)
    if hint and hint not in str(exc):
        exc.args = (f"{exc}{hint}", *exc.args[1:])


class Change:
    """A change to the catalog at ``root``: with ``branch``, committed onto that branch (new,
    from HEAD, or an existing one not checked out; the checkout stays as it is); else with
    ``commit`` (the default) committed on the checked-out branch; else only written into
    the working tree. ``store``: the constant store root for ``inject`` (default: as
    ``calcat-git inject`` finds it). ``identity``: who a commit onto ``branch`` names as its
    author and committer (name, e-mail), e.g. the user a server writes for; else git's."""

    def __init__(self, root: str | os.PathLike[str], message: str | None = None, *, branch: str | None = None,
                 commit: bool = True, store: str | os.PathLike[str] | None = None,
                 identity: tuple[str, str] | None = None, lock_held: bool = False,
                 cache: ParseCache | None = None, trees: TreeFiles | None = None) -> None:
        self.root = Path(root)
        self.message = message
        self.identity = identity
        self._held = lock_held  # the caller holds write_lock() (e.g. to read the branches it builds on)
        self._cache = cache  # parsed files kept between changes (a server that writes)
        self._trees = trees  # the files of commits read or made before (a server that writes)
        if branch is not None and not commit:
            raise InvalidInputError("a change onto a branch is a commit: leave commit=True, or give no branch to "
                                    "write the working tree only")
        self._branch, self._commit, self._store = branch, commit and branch is None, store
        self.repo = _repo(self.root, needed=branch is not None or commit)
        self.draft = Draft(self.root, self.repo, resolve_target(self.repo, branch, self._commit), cache,
                           trees)
        self.written: Written | None = None
        self._lock: ExitStack | None = None

    # -- the lock: one per repository, in its git directory (shared by linked worktrees) --

    def _locked(self) -> ExitStack:
        stack = ExitStack()
        if self._lock is None and not self._held and self.repo is not None:
            stack.enter_context(write_lock(self.repo))
        return stack

    def __enter__(self) -> Change:
        self._lock = self._locked()
        try:
            if not self.draft.files:  # what the change builds on, read again under the lock
                self.draft = Draft(self.root, self.repo, resolve_target(self.repo, self._branch, self._commit),
                                   self._cache, self._trees)
        except BaseException:
            self._lock.close()
            self._lock = None
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if isinstance(exc, (NotFoundError, CatalogInvalidError)):
                _hint(exc, self.draft)
            if kind is None and self.written is None:
                self.commit()
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.close()

    # -- files ---------------------------------------------------------------------------------

    @property
    def target(self) -> str:
        """Where the change goes: "worktree", "checked-out" or "branch"."""
        return self.draft.target.mode

    @property
    def branch(self) -> str | None:
        return self.draft.target.branch

    def read(self, path: str) -> bytes | None:
        """A catalog file as the change leaves it (None: absent)."""
        return self.draft.read(path)

    def put(self, path: str, data: bytes | str) -> None:
        """Write ``path`` (under registry/ or constants_index/) with ``data``."""
        self.draft.put(path, data.encode() if isinstance(data, str) else data)

    def delete(self, path: str) -> None:
        self.draft.delete(path)

    def registry(self) -> Registry:
        """The catalog's records with the change."""
        return self.draft.registry()

    def problems(self) -> Verdict:
        """``new`` problems the change causes (its errors block it) and ``old`` ones."""
        return self.draft.problems()

    def diff(self) -> dict[str, tuple[bytes | None, bytes | None]]:
        """Path → (content before, content after) of every file the change writes."""
        return {p: (self.draft.read_base(p), new) for p, new in self.draft.files.items()}

    # -- edits -------------------------------------------------------------------------------------

    def _catalog(self) -> Registry:
        """The registry an edit reads; a folder without registry/ is not a catalog (an import
        alone may start one)."""
        if not (self.root / "registry").is_dir() and not any(p.startswith("registry/") for p in self.draft.base()):
            raise NotFoundError(f"{self.root} has no registry/ folder: pass the root of a calcat-git catalog "
                                "(the folder holding registry/ and constants_index/)")
        return self.draft.registry()

    def swap(self, detector: str, modules: dict[str, str], *, since: datetime | str, reason: str) -> dict[str, str]:
        """Record that each slot of ``modules`` (aggregator or ``Q1M2`` name) holds that PDU
        (``"-"``: empty) from ``since`` on; returns path → the text appended."""
        self._catalog()
        return mapping.swap(self.draft, detector, modules, ensure_utc(since, "since time"), reason)

    def add_pdu(self, name: str, *, detector_type: str, uuid: int, description: str | None = None) -> str:
        """A new PDU (admins); returns its file's path."""
        self._catalog()
        return mapping.add_pdu(self.draft, name, detector_type, uuid, description)

    def inject(self, files: list[str | Path] | list[str] | list[Path], *, report: str, report_id: int | None = None,
               store: str | os.PathLike[str] | None = None, slug: str | None = None) -> InjectResult:
        """One new constants batch for the constant ``files`` (HDF5); their copies go to the
        store when the change is written."""
        self._catalog()
        root = store_root(store or self._store, self.root)
        self._store = root
        return inject_files(self.draft, root, list(files), report, report_id, slug)

    def add_calibration(self, name: str, *, types: list[str], parameters: list[str],
                        description: str | None = None) -> list[str]:
        """A calibration for each of ``types``, looked up with ``parameters``; returns the files."""
        self._catalog()
        return registry.add_calibration(self.draft, name, types, parameters, description)

    def add_parameter(self, name: str, *, types: list[str], calibrations: tuple[str, ...] = (), default: Any = None,
                      legacy: Any = None, lower_deviation: float | None = None, upper_deviation: float | None = None,
                      unit: str | None = None, text: bool = False) -> list[str]:
        """A parameter (a CALCAT spelling) for each of ``types``; ``calibrations``, ``default``
        and ``legacy`` join the types' look-up rules. Returns the files."""
        self._catalog()
        return registry.add_parameter(self.draft, name, types, calibrations=calibrations, default=default,
                                      legacy=legacy, lower_deviation=lower_deviation,
                                      upper_deviation=upper_deviation, unit=unit, text=text)

    def add_detector(self, identifier: str, *, detector_type: str, instrument: str, modules: int,
                     first_module_index: int = 0, source_name_pattern: str | None = None) -> str:
        """A detector with ``modules`` slots; returns its file."""
        self._catalog()
        return registry.add_detector(self.draft, identifier, detector_type, instrument, modules, first_module_index,
                                     source_name_pattern)

    def flag(self, ccvs: list[str], flag: str, *, reason: str, at: datetime | str | None = None) -> list[tuple[str, str]]:
        """Set ``flag`` ("bad-quality", "good-quality", "not-deployed", "deployed") of the CCVs
        named by integer or content id, keeping ``reason``; returns (batch file, content id)."""
        self._catalog()
        when = now_utc().replace(microsecond=0) if at is None else ensure_utc(at, "flag time")
        return flags.flag(self.draft, ccvs, flag, reason, when)

    # -- writing -------------------------------------------------------------------------------------

    def commit(self, message: str | None = None) -> str | None:
        """Validate and write the change (see the class); returns the commit, or None when
        the change is only written into the working tree or holds nothing."""
        if self.written is not None:
            raise RepositoryError("this change was written already: start a new one")
        text = message or self.message
        if not text and self.target != "worktree":
            raise RepositoryError("a commit needs a message: Change(root, message) or commit(message)")
        with self._locked():
            if not self.draft.files and not self.draft.store:
                self.written = Written()
                return None
            try:
                self.written = write_change(self.draft, text or "", lambda: store_root(self._store, self.root),
                                            self.identity)
            except CatalogInvalidError as exc:
                _hint(exc, self.draft)
                raise
        if self._trees is not None and self.written.commit is not None and self.target == "branch":
            self._trees.put(self.written.commit, self.draft.result())  # built from exactly these files
        return self.written.commit

    def result(self) -> dict[str, Any]:
        """What was written, as JSON: commit, branch, files, store files."""
        done = self.written or Written()
        return {"commit": done.commit, "branch": self.branch if self.target != "worktree" else None,
                "files": done.files, "store_files": done.store_files}


def inject(root: str | os.PathLike[str], files: list[str | Path] | list[str] | list[Path], *, report_path: str,
           report_id: int | None = None, store: str | os.PathLike[str] | None = None, commit: bool = False,
           branch: str | None = None, slug: str | None = None) -> InjectResult:
    """``calcat-git inject``: one batch, written (``commit``: committed on the checked-out
    branch; ``branch``: committed onto that branch) with its store files, or nothing."""
    with Change(root, branch=branch, commit=commits_to(branch, commit), store=store) as change:
        result = change.inject(files, report=report_path, report_id=report_id, slug=slug)
        change.message = f"inject {result.ccvs} constant(s) of {result.detector} ({report_path})"
    assert change.written is not None
    result.commit, result.store_files = change.written.commit, change.written.store_files
    return result
