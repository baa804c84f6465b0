"""What a snapshot reads by parsing its YAML files: its records (when it has no index to
answer from, or a command needs them all) and the published sets its
``published-sets.yaml`` marks invalid. Imported on first use: a look-up through the
index parses no YAML."""

from __future__ import annotations

from collections.abc import Container, Sequence
from pathlib import Path
from typing import Any

from calcat_git.catalog.sets import SETS_FILE, Invalidation, invalid_sets, published_sets, warning
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.loading import Registry, load_registry, load_worktree
from calcat_git.files.parse import DATA_ROOTS
from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo


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
