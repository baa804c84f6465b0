"""What a snapshot reads by parsing its YAML files: its records (when it has no index to
answer from, or a command needs them all), the mapping history up to it, and the
published sets its ``published-sets.yaml`` marks invalid. Imported on first use: a
look-up through the index parses no YAML."""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from calcat_git.catalog.history import DEFAULT_GRACE, HistoryEntry
from calcat_git.catalog.sets import SETS_FILE, Invalidation, invalid_sets, published_sets, warning
from calcat_git.errors import BrokenCatalogError, InvalidInputError, NotFoundError
from calcat_git.files.config import CONFIG_FILE, load_config, parse_config
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.loading import Registry, load_registry, load_worktree
from calcat_git.files.parse import DATA_ROOTS, LAYOUT, classify, not_regular, parse_file
from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo
from calcat_git.model.mapping import Mapping, MappingChange

MAPPINGS_DIR = "registry/mappings"


class SnapshotFiles:
    """The files of one snapshot: a commit of ``repo``, or (no commit) the working tree at ``root``."""

    def __init__(self, root: Path, repo: GitRepo | None = None, commit: Commit | None = None) -> None:
        self.root, self.repo, self.commit = root, repo, commit

    def registry(self, roots: Sequence[str] = DATA_ROOTS, batches: Container[str] | None = None) -> Registry:
        """The records of the files under ``roots`` (of the working tree: every file, the
        constants files limited to ``batches`` when given)."""
        if self.repo is None or self.commit is None:
            return load_worktree(self.root, batches)
        return load_registry(self.repo.tree_files(self.commit.sha, roots, MAX_BYTES))

    def read(self, path: str) -> Any:
        """The record of the catalog file at ``path`` of this commit (see ``Catalog.read``)."""
        assert self.repo is not None and self.commit is not None
        repo, commit = self.repo, self.commit
        if classify(path) is None or any(part in ("", ".", "..") for part in path.split("/")):
            raise InvalidInputError(f"{path!r} is {LAYOUT}")
        found = dict(repo.tree_files(commit.sha, [path], MAX_BYTES))
        if path not in found:
            raise NotFoundError(f"{path} is not in the catalog at {commit.sha[:12]}")
        raw = found[path]
        parsed = parse_file(path, raw) if raw is not None else not_regular(path)
        if not parsed.ok:
            raise BrokenCatalogError(f"{path} at {commit.sha[:12]} does not load: "
                                     f"{'; '.join(str(p) for p in parsed.problems)}; fix or revert it "
                                     "(`calcat-git validate` lists every problem)", list(parsed.problems))
        return parsed.record

    def config(self) -> dict[str, Any]:
        """The catalog's settings (``calcat-git.yaml``); {} without that file."""
        if self.repo is None or self.commit is None:
            return load_config(self.root)
        raw = self.repo.show_file(self.commit.sha, CONFIG_FILE)
        return parse_config(raw) if raw is not None else {}

    def mapping_history(self, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
        """Every mapping change up to this snapshot's commit (see :func:`mapping_history`)."""
        assert self.repo is not None and self.commit is not None
        return mapping_history(self.repo, self.commit.sha, grace)

    def invalid_sets(self) -> dict[str, Invalidation]:
        """The published sets ``published-sets.yaml`` marks invalid."""
        if self.repo is None or self.commit is None:
            path = self.root / SETS_FILE
            return invalid_sets(path.read_bytes() if path.is_file() and not path.is_symlink() else None)
        return invalid_sets(self.repo.show_file(self.commit.sha, SETS_FILE))

    def published_sets(self) -> list[dict[str, Any]]:
        """The repository's published sets (tags), each with its state as this snapshot says."""
        assert self.repo is not None
        return published_sets(self.repo, self.invalid_sets())

    def notes_on(self, tag: str) -> list[str]:
        """What every answer from the published set ``tag`` says: that it was marked invalid, if it was."""
        invalid = self.invalid_sets().get(tag)
        return [warning(invalid)] if invalid is not None else []


def _parse_mapping(path: str, raw: bytes) -> Mapping | None:
    """The mapping in a blob, or None when that version of the file was invalid."""
    record = parse_file(path, raw).record
    return record if isinstance(record, Mapping) else None


def _key(change: MappingChange) -> tuple[datetime, tuple[tuple[str, str | None], ...]]:
    return change.valid_from, change.modules


def mapping_history(repo: GitRepo, rev: str, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
    """Every mapping change on the first-parent line of ``rev``, attributed to the
    commit where it first appeared (oldest first). Changes later edited under a
    ``correction:`` appear again, attributed to the correcting commit. A change is
    backdated when it was recorded late: never in the commit that first records a
    detector's mapping (an installation or an import is history, not a late fix)."""
    touched = list(repo.changed_files(rev, [MAPPINGS_DIR]))
    blobs = [fc.blob for _, changes in touched for fc in changes if fc.blob and fc.regular]
    contents = dict(zip(blobs, repo.read_blobs(blobs), strict=True))
    known: dict[str, set[tuple[datetime, tuple[tuple[str, str | None], ...]]]] = {}
    entries: list[HistoryEntry] = []
    for commit, changes in touched:
        for fc in changes:
            mapping = _parse_mapping(fc.path, contents[fc.blob]) if fc.blob and fc.regular else None
            if mapping is None:
                continue
            seen = known.setdefault(fc.path, set())
            first_record = not seen  # a detector's first mapping (an installation, an import) is not late
            for change in mapping.changes:
                if _key(change) in seen:
                    continue
                seen.add(_key(change))
                entries.append(HistoryEntry(
                    detector=mapping.detector, valid_from=change.valid_from, modules=change.modules,
                    reason=change.reason, commit=commit.sha, committed_at=commit.committed_at,
                    author=commit.author, message=commit.message, correction=change.correction,
                    backdated=not first_record and change.valid_from < commit.committed_at - grace,
                ))
    return entries
