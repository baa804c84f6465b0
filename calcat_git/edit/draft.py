"""A change being prepared: the catalog files it starts from, the files it writes or
removes, the store files it adds, and the problems the result would have.

Nothing here writes anything: :mod:`calcat_git.edit.write` does, all of it or nothing.
The files a change starts from are those its commit will hold: the working tree's for a
change that is only written, else the commit it builds on (so what a branch commit
contains is exactly what is validated). A change that writes only constants files is
validated as ``validate --changed-since`` validates: the registry, every path's name and
the constants files it writes; the others are listed, not read (a constants file's
problems depend on it and the registry alone, so theirs are the same before and after).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from calcat_git.edit.target import Target
from calcat_git.errors import InvalidInputError
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.loading import (
    UNREAD,
    ParseCache,
    Registry,
    Unread,
    iter_worktree,
    load_registry,
    read_worktree_file,
)
from calcat_git.files.parse import DATA_ROOTS, ROOT_FILES
from calcat_git.git.repo import GitRepo
from calcat_git.model.problems import Problem
from calcat_git.validation.run import run_checks

Raw = bytes | Problem | Unread | None
BATCHES = "constants_index/"


def check_catalog_path(path: str) -> None:
    """Refuse a path a change may not write: only files under registry/ and
    constants_index/, with no empty, '.' or '..' part, backslash or control character."""
    parts = path.split("/")
    if path in ROOT_FILES:
        return
    if (parts[0] not in DATA_ROOTS or len(parts) < 3 or any(p in ("", ".", "..") for p in parts)
            or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path)):
        raise InvalidInputError(f"a change would write {path!r}: only files under registry/ and constants_index/ (and "
                                f"{', '.join(ROOT_FILES)}) are written; nothing was written")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The problems of the catalog with the change: ``new`` ones it causes (its errors block
    it), ``old`` ones the catalog had before (reported, never blamed on the change)."""

    new: tuple[Problem, ...] = ()
    old: tuple[Problem, ...] = ()

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.new if p.severity == "error"]


def _key(problem: Problem) -> tuple[str, str, str, str, str]:  # no line: lines move when a file grows
    return (problem.file, problem.field, problem.message, problem.check, problem.severity)


class TreeFiles:
    """The catalog files of the last few commits a long-lived writer read or made, by
    commit (a commit's files never change), so that a change built on the commit the
    previous one made reads nothing from git."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._files: dict[str, dict[str, Raw]] = {}

    def get(self, sha: str) -> dict[str, Raw] | None:
        found = self._files.get(sha)
        return dict(found) if found is not None else None

    def put(self, sha: str, files: dict[str, Raw]) -> None:
        self._files.pop(sha, None)
        self._files[sha] = dict(files)
        while len(self._files) > self.keep:
            del self._files[next(iter(self._files))]


class Draft:
    def __init__(self, root: Path, repo: GitRepo | None, target: Target, cache: ParseCache | None = None,
                 trees: TreeFiles | None = None) -> None:
        self.root, self.repo, self.target = root, repo, target
        self.cache = cache  # parsed files shared with other drafts (a long-lived writer)
        self.trees = trees  # the files of commits read or made before (a long-lived writer)
        self.files: dict[str, bytes | None] = {}  # path → new content (None: removed), in the order given
        self.store: dict[str, Path] = {}  # sha256 → a source file for the store's content path
        self._base: dict[str, Raw] | None = None
        self._registry: Registry | None = None

    def base(self) -> dict[str, Raw]:
        """The catalog files the change starts from (read once)."""
        if self._base is None:
            if self.target.mode == "worktree":
                self._base = dict(iter_worktree(self.root))
                self._base.update({p: read_worktree_file(self.root / p, p) for p in ROOT_FILES
                                   if (self.root / p).is_file() or (self.root / p).is_symlink()})
            elif self.target.parent is None or self.repo is None:
                self._base = {}
            else:
                self._base = self.trees.get(self.target.parent) if self.trees is not None else None
                if self._base is None:
                    self._base = dict(self.repo.tree_files(self.target.parent, [*DATA_ROOTS, *ROOT_FILES], MAX_BYTES))
                    if self.trees is not None:
                        self.trees.put(self.target.parent, self._base)
        return self._base

    def result(self) -> dict[str, Raw]:
        """The catalog files with the change, as :meth:`base` reads a commit's."""
        files = dict(self.base())
        for path, raw in self.files.items():
            if raw is None:
                files.pop(path, None)
            else:
                files[path] = raw[:MAX_BYTES + 1]
        return files

    def read(self, path: str) -> bytes | None:
        """The file as the change leaves it (None: absent, or not a regular file)."""
        raw = self.files[path] if path in self.files else self.base().get(path)
        return raw if isinstance(raw, bytes) else None

    def read_base(self, path: str) -> bytes | None:
        """The file as the change found it."""
        raw = self.base().get(path)
        return raw if isinstance(raw, bytes) else None

    def exists(self, path: str) -> bool:
        """Is ``path`` taken: in the change's catalog, or (when the change writes the working
        tree) on disk, e.g. an untracked file?"""
        if path in self.files:
            return self.files[path] is not None
        on_disk = self.target.mode != "branch" and (self.root / path).exists()
        return path in self.base() or on_disk

    def put(self, path: str, data: bytes) -> None:
        check_catalog_path(path)
        self.files[path] = bytes(data)
        self._registry = None

    def delete(self, path: str) -> None:
        check_catalog_path(path)
        if not self.exists(path):
            raise InvalidInputError(f"{path} does not exist: nothing to remove")
        self.files[path] = None
        self._registry = None

    def add_store_file(self, sha256: str, source: Path) -> None:
        self.store[sha256] = source

    def _view(self) -> Iterator[tuple[str, Raw]]:
        for path, raw in self.base().items():
            if path not in self.files:
                yield path, raw
            elif self.files[path] is not None:
                yield path, self.files[path]
        yield from ((p, raw) for p, raw in self.files.items() if raw is not None and p not in self.base())

    def registry(self) -> Registry:
        """The catalog's records with the change (loaded again after each put)."""
        if self._registry is None:
            self._registry = load_registry(((p, raw) for p, raw in self._view() if p not in ROOT_FILES), self.cache)
        return self._registry

    def _load(self, files: Iterator[tuple[str, Raw]]) -> Registry:
        """``files`` loaded for validation, every constants file the change does not write
        listed but not read (see the module)."""
        return load_registry(((p, UNREAD if p.startswith(BATCHES) and p not in self.files and isinstance(raw, bytes)
                               else raw) for p, raw in files), self.cache)

    def problems(self) -> Verdict:
        """One rule for every write: the change's new errors block it; problems the catalog
        had before are old (reported with it, not blamed on it)."""
        batches_only = all(p.startswith(BATCHES) for p in self.files)
        view = (item for item in self._view() if item[0] not in ROOT_FILES)
        after = run_checks(self._load(view) if batches_only else self.registry())
        if not after:
            return Verdict()
        base = iter(self.base().items())
        before = {_key(p) for p in run_checks(self._load(base) if batches_only else load_registry(base, self.cache))}
        return Verdict(new=tuple(p for p in after if _key(p) not in before),
                       old=tuple(p for p in after if _key(p) in before))
