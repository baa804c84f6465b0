"""The catalog as one object: records, look-ups by name, mapping at a time."""

from __future__ import annotations

import os
import warnings
from collections.abc import Container
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from calcat_git.catalog.broken import BrokenFile, check
from calcat_git.catalog.history import DEFAULT_GRACE, HistoryEntry
from calcat_git.catalog.snapshot import IndexedSnapshot, LoadedSnapshot, SnapshotBackend
from calcat_git.catalog.travel import locate
from calcat_git.errors import CatalogProblemWarning, NotFoundError, RepositoryError, closest_names
from calcat_git.git.history import Commit, Timeline
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
from calcat_git.model.mapping import Mapping
from calcat_git.model.problems import Problem
from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Parameter
from calcat_git.timeutil import ensure_utc, now_utc

if TYPE_CHECKING:
    from calcat_git.catalog.published import SiteCatalog
    from calcat_git.catalog.reading import SnapshotFiles
    from calcat_git.catalog.sets import Invalidation
    from calcat_git.edit.change import Change
    from calcat_git.files.loading import Registry

R = TypeVar("R")


def _files(root: Path, repo: GitRepo | None = None, commit: Commit | None = None) -> SnapshotFiles:
    """The YAML files of a snapshot (a commit of ``repo``, or the working tree at ``root``)."""
    from calcat_git.catalog.reading import SnapshotFiles  # imported on use: a look-up through the index parses no YAML

    return SnapshotFiles(root, repo, commit)


def _check_catalog(repo: GitRepo, rev: str, root: Path) -> None:
    if not repo.has_path(rev, "registry"):
        raise RepositoryError(f"{root.resolve()} is a git repository but not a calcat-git catalog: {rev} has no "
                              "registry/ folder; open the folder holding registry/ (Catalog.open(PATH), --repo PATH "
                              "on the command line)")


class Catalog:
    """One state of a catalog repository: a snapshot (commit) or the working tree.

    ``Catalog.open(path)`` reads the newest commit of ``main`` from git objects, through
    the index (built or updated on first use); ``catalog.at(T)`` is the catalog as of the
    newest first-parent commit with committer time ≤ T, ``catalog.at(sha)`` pins a
    commit. ``worktree=True`` reads the files on disk as they are (uncommitted edits
    included), for validation and previews; ``index=False`` reads every file at the
    commit instead of the index (the naive way, for checks and baselines).
    """

    def __init__(self, root: Path, *, registry: Registry | None = None, repo: GitRepo | None = None,
                 index: Index | None = None, timeline: Timeline | None = None, commit: Commit | None = None,
                 seq: int | None = None, rev: str = "HEAD") -> None:
        self.root = root
        self._registry = registry
        self._repo = repo
        self._index = index
        self._timeline = timeline
        self._commit = commit
        self._seq = seq  # position on the indexed first-parent line, if there
        self._rev = rev
        self._backend: SnapshotBackend | None = None
        self._broken: list[BrokenFile] | None = None
        self.notes: list[str] = []  # what every answer from this snapshot says besides (see check_loads)
        self._warned = False
        self.tag: str | None = None  # the published set (git tag) this snapshot was asked by, if any

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".", *, branch: str | None = None, worktree: bool = False,
             index: bool = True, batches: Container[str] | None = None, rebuild: bool = False) -> Catalog:
        """Open the catalog at ``path``; ``branch`` defaults to ``main`` (else ``HEAD``).
        With ``worktree``, ``batches`` limits the constants files read to those paths;
        ``rebuild`` builds the index anew (it was found damaged)."""
        root = Path(path)
        if worktree:
            if not (root / "registry").is_dir():
                raise NotFoundError(
                    f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
                    "(the folder holding registry/ and constants_index/)"
                )
            return cls(root, registry=_files(root).registry(batches=batches))
        repo, rev = cls.locate(root, branch)
        if index:
            idx = Index.open(repo, rev, rebuild=rebuild)
            seq, commit = idx.latest()
            return cls(root, repo=repo, index=idx, commit=commit, seq=seq, rev=rev)
        timeline = Timeline(repo.first_parent_log(rev))
        return cls(root, repo=repo, timeline=timeline, commit=timeline.commits[-1], rev=rev)

    @staticmethod
    def locate(root: Path, branch: str | None = None, check: bool = False) -> tuple[GitRepo, str]:
        """The git repository at ``root`` and the revision to read: outside a git repository
        say so and name --repo; with ``check``, also in one whose revision has no registry/
        (look-ups check that only when a name is not found, so a cold look-up runs no git)."""
        try:
            repo = GitRepo(root)
        except RepositoryError as exc:
            raise RepositoryError(f"{root.resolve()} is not in a git repository, so not a calcat-git catalog: open "
                                  "the folder holding registry/ (Catalog.open(PATH), --repo PATH on the command line, "
                                  "or run inside it)") from exc
        rev = repo.resolve_branch(branch)
        if check:
            _check_catalog(repo, rev, root)
        return repo, rev

    def _elsewhere(self, name: str) -> str:
        """Where else ``name`` exists when this catalog does not have it: on the checked-out
        branch (if another is read) or in the working tree, as a hint naming the option."""
        if self._repo is None:
            return ""
        _check_catalog(self._repo, self._rev, self.root)
        current = self._repo.current_branch()
        if current and current != self._rev and any(
                f.endswith(f"/{name}.yaml") for f in self._repo.list_files(current, ["registry"])):
            return (f"; it exists on the checked-out branch {current!r}, and {self._rev} is read by default: "
                    f"pass --branch {current} (branch={current!r} to Catalog.open)")
        if any((self.root / "registry").glob(f"**/{name}.yaml")):
            return (f"; it exists in the working tree (not committed on {self._rev}): pass --worktree (worktree=True "
                    "to Catalog.open), or commit it")
        return ""

    @staticmethod
    def from_site(url_or_path: str | os.PathLike[str]) -> SiteCatalog:
        """Read-only look-ups from a published site's static JSON API (folder or URL)."""
        from calcat_git.catalog.published import SiteCatalog  # imported on use: only a published site needs its reader

        return SiteCatalog(url_or_path)

    @property
    def registry(self) -> Registry:
        """Every record of this snapshot, loaded from git on first use."""
        if self._registry is None:
            self._registry = _files(self.root, *self._git()).registry()
        return self._registry

    def entities(self) -> Registry:
        """The records of registry/ only (no constants): cheap at any catalog size."""
        if self._registry is not None or self._repo is None or self._commit is None:
            return self.registry
        return _files(self.root, self._repo, self._commit).registry(["registry"])

    def read(self, path: str) -> Any:
        """The record of the catalog file at repo-relative ``path`` in this commit, read by the one
        parser (``files.parse.parse_file``; a batch is a ``ConstantBatch``). A path that is no
        catalog file is refused, one this commit does not hold is not found, and a file that
        does not load raises :class:`BrokenCatalogError` with its problems."""
        return _files(self.root, *self._git()).read(path)

    def config(self) -> dict[str, Any]:
        """The catalog's settings (``calcat-git.yaml``) in this commit, or in the working tree
        read; {} without that file."""
        return _files(self.root, self._repo, self._commit).config()

    def mapping_history(self, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
        """Every mapping change of every detector up to this snapshot (see :meth:`history`)."""
        repo, commit = self._git()
        if repo.shallow():  # the boundary commit would look like it added every change: wrong times
            raise RepositoryError("mapping history needs the whole history but this clone is shallow: run "
                                  "`git fetch --unshallow` first")
        return _files(self.root, repo, commit).mapping_history(grace)

    @property
    def revision(self) -> str | None:
        """The branch (or revision) read, e.g. ``main``; None for a working tree."""
        return self._rev

    def checked_out_branch(self) -> str | None:
        """The branch checked out in the repository (None when detached, or for a working tree)."""
        return self._repo.current_branch() if self._repo is not None else None

    @property
    def commit(self) -> str | None:
        """The commit this catalog was read from (None for a working tree)."""
        return self._commit.sha if self._commit else None

    @property
    def committed_at(self) -> datetime | None:
        return self._commit.committed_at if self._commit else None

    def _git(self) -> tuple[GitRepo, Commit]:
        if self._repo is None or self._commit is None:
            raise RepositoryError("this catalog was read from a working tree: open it without worktree=True "
                                  "to travel in time")
        return self._repo, self._commit

    def _locate(self, snapshot: datetime | str) -> tuple[int | None, Commit, str | None]:
        """Position (if indexed), commit and tag name (if a tag was given) of ``snapshot``."""
        repo, _ = self._git()
        return locate(repo, self._index, self._timeline, snapshot)

    def snapshot(self, snapshot: datetime | str) -> Commit:
        """The commit answering for ``snapshot``: a time, or a revision (a commit, a tag, a branch)."""
        return self._locate(snapshot)[1]

    def at(self, snapshot: datetime | str) -> Catalog:
        """The catalog as of ``snapshot``: a time (the newest first-parent commit at or
        before it), or a revision (a commit sha, a tag, a branch: that commit exactly). A
        published set (a tag) is named in ``tag``; one marked invalid since (in this
        catalog's ``published-sets.yaml``) still answers, and its answers say so."""
        seq, commit, tag = self._locate(snapshot)
        if commit.sha == self.commit and tag == self.tag:
            return self
        pinned = Catalog(self.root, repo=self._repo, index=self._index if seq is not None else None,
                         timeline=self._timeline, commit=commit, seq=seq, rev=self._rev)
        pinned.tag = tag
        if tag:
            pinned.notes += _files(self.root, self._repo, self._commit).notes_on(tag)
        return pinned

    def published_sets(self) -> list[dict[str, Any]]:
        """The repository's published sets (tags), each with its state as this snapshot says."""
        return _files(self.root, *self._git()).published_sets()

    def invalid_sets(self) -> dict[str, Invalidation]:
        """The published sets this snapshot's ``published-sets.yaml`` marks invalid."""
        return _files(self.root, self._repo, self._commit).invalid_sets()

    def history(self, name: str, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
        """Every mapping change of a detector, or moving a PDU, with the commit that
        introduced it (up to this snapshot), oldest first; backdated ones are marked."""
        self._git()  # a working tree has no history: say so first
        detectors, pdus = self.names("detector"), self.names("pdu")
        if name not in detectors and name not in pdus:
            raise NotFoundError(f"{name!r} is neither a detector nor a PDU{closest_names(name, detectors + pdus)}"
                                f"{self._elsewhere(name)}")
        entries = self.mapping_history(grace)
        if name in detectors:
            return [e for e in entries if e.detector == name]
        return [e for e in entries if self._moves_pdu(e, name)]

    def _moves_pdu(self, entry: HistoryEntry, pdu: str) -> bool:
        """Does ``entry`` put ``pdu`` into a slot or take it out of one?"""
        if any(name == pdu for _, name in entry.modules):
            return True
        try:
            mapping = self._record("mapping", Mapping, entry.detector)
        except NotFoundError:
            return False
        before = mapping.state_at(entry.valid_from - timedelta(microseconds=1))
        return any(before.get(aggregator) == pdu for aggregator, _ in entry.modules)

    def validate(self, skip: tuple[str, ...] = ()) -> list[Problem]:
        from calcat_git.validation.run import run_checks  # imported on use: the checks load the JSON Schemas (jsonschema)

        return run_checks(self.registry, skip)

    def change(self, message: str | None = None, branch: str | None = None, *, commit: bool = True,
               store: str | os.PathLike[str] | None = None) -> Change:
        """A change to this catalog's repository, as one validated commit or nothing:
        ``with catalog.change("why", branch="name") as change: change.swap(…)``. With
        ``branch`` it is committed onto that branch (your checkout stays as it is), else on
        the checked-out branch; ``commit=False`` only writes the working tree's files."""
        from calcat_git.edit.change import Change  # imported on use: a look-up never loads the write path

        return Change(self.root, message, branch=branch, commit=commit, store=store)

    @property
    def backend(self) -> SnapshotBackend:
        """Where this snapshot's answers come from, picked once: its index when it is on the
        indexed first-parent line, else its records loaded into memory."""
        if self._backend is None:
            if self._index is not None and self._seq is not None:
                self._backend = IndexedSnapshot(self._index, self._seq)
            else:
                self._backend = LoadedSnapshot(lambda: self.registry)
        return self._backend

    def broken_files(self) -> list[BrokenFile]:
        """The files of this snapshot that do not load (from the index when it has one)."""
        if self._broken is None:
            backend = self.backend
            if isinstance(backend, IndexedSnapshot):
                self._broken = [BrokenFile(path, message, sha) for path, sha, message in backend.index.broken_at(
                    backend.seq)]
            else:
                self._broken = [BrokenFile(p.file, f"line {p.line}: {p.message}" if p.line > 1 else p.message)
                                for p in self.registry.load_problems]
        return self._broken

    def last_loading(self) -> Catalog | None:
        """The newest snapshot at or before this one in which every file loads (this one if
        it does; None if there is none, or this snapshot is not on the indexed line)."""
        if not self.broken_files():
            return self
        backend = self.backend
        if not isinstance(backend, IndexedSnapshot):
            return None
        seq = backend.index.last_good(backend.seq)
        return None if seq is None else self.at(backend.index.commit_at(seq).sha)

    def check_loads(self, detector: str | None = None) -> list[str]:
        """Refuse a look-up of ``detector`` (None: of anything) that a file not loading in
        this snapshot can change (:class:`BrokenCatalogError`, naming the file); else the
        problems the answer must state (also warned once, as :class:`CatalogProblemWarning`)."""
        broken = self.broken_files()
        where = f"commit {self.commit[:12]}" if self.commit else "the working tree"
        notes = check(broken, where, detector, self._type_of(detector) if broken else None)
        notes += self.notes
        if notes and not self._warned:
            self._warned = True
            for note in notes:
                warnings.warn(note, CatalogProblemWarning, stacklevel=3)
        return notes

    def _type_of(self, detector: str | None) -> str | None:
        if detector is None:
            return None
        try:
            return self.backend.record("detector", detector, Detector).type_name()
        except NotFoundError:
            return None

    def _record(self, kind: str, cls: type[R], name: str) -> R:
        try:
            return self.backend.record(kind, name, cls)
        except NotFoundError as exc:
            hint = self._elsewhere(name)
            if not hint:
                raise
            raise NotFoundError(f"{exc.args[0]}{hint}") from None

    def names(self, kind: str) -> list[str]:
        """Identifiers of every record of ``kind`` (``detector``, ``pdu``, …) in this snapshot."""
        return self.backend.names(kind)

    def detector(self, name: str) -> Detector:
        return self._record("detector", Detector, name)

    def detector_type(self, name: str) -> DetectorType:
        return self._record("detector_type", DetectorType, name)

    def pdu(self, name: str) -> PDU:
        return self._record("pdu", PDU, name)

    def calibration(self, name: str) -> Calibration:
        return self._record("calibration", Calibration, name)

    def instrument(self, name: str) -> Instrument:
        return self._record("instrument", Instrument, name)

    def parameter(self, spelling: str) -> Parameter:
        for name in self.names("parameter"):
            record = self._record("parameter", Parameter, name)
            if spelling in record.spellings:
                return record
        raise NotFoundError(f"unknown parameter {spelling!r}")

    def parameter_deviations(self) -> dict[str, tuple[float, float]]:
        """Default (lower, upper) deviation of every parameter spelling."""
        out = {}
        for name in self.names("parameter"):
            record = self._record("parameter", Parameter, name)
            out.update({s: (float(record.lower_deviation), float(record.upper_deviation)) for s in record.spellings})
        return out

    def mapping(self, detector: str, at: datetime | str | None = None) -> dict[str, str | None]:
        """Slot (aggregator) → PDU of ``detector`` valid at ``at`` (default: now).

        Every module of the detector appears; an empty slot maps to ``None``.
        """
        self.check_loads(detector)
        det = self.detector(detector)
        moment = now_utc() if at is None else ensure_utc(at, "'at' time")
        state = self.backend.mapping(detector, moment, det.aggregators)
        return {agg: state.get(agg) for agg in det.aggregators}
