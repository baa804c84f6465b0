"""The catalog as one object: records, look-ups by name, mapping at a time."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from .errors import NotFoundError, RepositoryError, closest_names
from .gitrepo import SHA_LIKE, Commit, GitRepo, Timeline
from .history import DEFAULT_GRACE, HistoryEntry, mapping_history
from .loading import Registry, load_registry, load_worktree
from .model import PDU, Calibration, Detector, DetectorType, Instrument, Parameter
from .problems import Problem
from .timeutil import ensure_utc, now_utc

T = TypeVar("T")


def _get(table: dict[str, T], kind: str, name: str) -> T:
    try:
        return table[name]
    except KeyError:
        raise NotFoundError(
            f"unknown {kind} {name!r}{closest_names(name, list(table))}; "
            "`calcat-git validate` lists problems that may hide it"
        ) from None


class Catalog:
    """One state of a catalog repository: a snapshot (commit) or the working tree.

    ``Catalog.open(path)`` reads the newest commit of ``main`` from git objects;
    ``catalog.at(T)`` is the catalog as of the newest first-parent commit with committer
    time ≤ T, ``catalog.at(sha)`` pins a commit. ``worktree=True`` reads the files on
    disk as they are (uncommitted edits included), for validation and previews.
    """

    def __init__(self, registry: Registry, root: Path, *, repo: GitRepo | None = None,
                 timeline: Timeline | None = None, commit: Commit | None = None, rev: str = "HEAD") -> None:
        self.registry = registry
        self.root = root
        self._repo = repo
        self._timeline = timeline
        self._commit = commit
        self._rev = rev

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".", *, branch: str | None = None,
             worktree: bool = False) -> Catalog:
        """Open the catalog at ``path``; ``branch`` defaults to ``main`` (else ``HEAD``)."""
        root = Path(path)
        if worktree:
            if not (root / "registry").is_dir():
                raise NotFoundError(
                    f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
                    "(the folder holding registry/ and constants_index/)"
                )
            return cls(load_worktree(root), root)
        repo = GitRepo(root)
        rev = repo.resolve_branch(branch)
        timeline = Timeline(repo.first_parent_log(rev))
        return cls._at_commit(root, repo, timeline, timeline.commits[-1], rev)

    @classmethod
    def _at_commit(cls, root: Path, repo: GitRepo, timeline: Timeline, commit: Commit, rev: str) -> Catalog:
        return cls(load_registry(repo.tree_files(commit.sha)), root, repo=repo, timeline=timeline,
                   commit=commit, rev=rev)

    @property
    def commit(self) -> str | None:
        """The commit this catalog was read from (None for a working tree)."""
        return self._commit.sha if self._commit else None

    @property
    def committed_at(self) -> datetime | None:
        return self._commit.committed_at if self._commit else None

    def _git(self) -> tuple[GitRepo, Timeline]:
        if self._repo is None or self._timeline is None:
            raise RepositoryError("this catalog was read from a working tree: open it without worktree=True "
                                  "to travel in time")
        return self._repo, self._timeline

    def snapshot(self, snapshot: datetime | str) -> Commit:
        """The commit answering for ``snapshot``: a timestamp or a commit sha."""
        repo, timeline = self._git()
        if isinstance(snapshot, str) and SHA_LIKE.match(snapshot):
            sha = repo.rev_parse(snapshot)
            return timeline.by_sha.get(sha) or repo.commit_info(sha)
        return timeline.at(ensure_utc(snapshot, "snapshot time"))

    def at(self, snapshot: datetime | str) -> Catalog:
        """The catalog as of ``snapshot`` (a timestamp or a commit sha)."""
        repo, timeline = self._git()
        commit = self.snapshot(snapshot)
        if commit.sha == self.commit:
            return self
        return self._at_commit(self.root, repo, timeline, commit, self._rev)

    def history(self, name: str, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
        """Every mapping change of a detector, or naming a PDU, with the commit that
        introduced it (up to this snapshot), oldest first; backdated ones are marked."""
        repo, _ = self._git()
        is_detector = name in self.registry.detectors
        if not is_detector and name not in self.registry.pdus:
            known = list(self.registry.detectors) + list(self.registry.pdus)
            raise NotFoundError(f"{name!r} is neither a detector nor a PDU{closest_names(name, known)}")
        entries = mapping_history(repo, self.commit or self._rev, grace)
        if is_detector:
            return [e for e in entries if e.detector == name]
        return [e for e in entries if self._moves_pdu(e, name)]

    def _moves_pdu(self, entry: HistoryEntry, pdu: str) -> bool:
        """Does ``entry`` put ``pdu`` into a slot or take it out of one?"""
        if any(name == pdu for _, name in entry.modules):
            return True
        mapping = self.registry.mappings.get(entry.detector)
        before = mapping.state_at(entry.valid_from - timedelta(microseconds=1)) if mapping else {}
        return any(before.get(aggregator) == pdu for aggregator, _ in entry.modules)

    def validate(self, skip: tuple[str, ...] = ()) -> list[Problem]:
        from .validation import run_checks

        return run_checks(self.registry, skip)

    def detector(self, name: str) -> Detector:
        return _get(self.registry.detectors, "detector", name)

    def detector_type(self, name: str) -> DetectorType:
        return _get(self.registry.detector_types, "detector type", name)

    def pdu(self, name: str) -> PDU:
        return _get(self.registry.pdus, "PDU", name)

    def calibration(self, name: str) -> Calibration:
        return _get(self.registry.calibrations, "calibration", name)

    def instrument(self, name: str) -> Instrument:
        return _get(self.registry.instruments, "instrument", name)

    def parameter(self, spelling: str) -> Parameter:
        return _get(self.registry.parameter_by_spelling(), "parameter", spelling)

    def mapping(self, detector: str, at: datetime | str | None = None) -> dict[str, str | None]:
        """Slot (aggregator) → PDU of ``detector`` valid at ``at`` (default: now).

        Every module of the detector appears; an empty slot maps to ``None``.
        """
        det = self.detector(detector)
        moment = now_utc() if at is None else ensure_utc(at, "'at' time")
        mapping = self.registry.mappings.get(detector)
        state = mapping.state_at(moment) if mapping else {}
        return {agg: state.get(agg) for agg in det.aggregators}
