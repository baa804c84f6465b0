"""The generated site's folder, rewritten in place: a file is written only when its bytes
change and files no longer generated are removed, so a rebuild after one new batch touches
only what that batch changed (the engine and web servers see unchanged files untouched)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from calcat_git.errors import SiteBuildError


class Output:
    """Writes into ``root``; :meth:`finish` removes what this run did not write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: set[Path] = set()
        self.written = self.unchanged = 0

    def put(self, rel: str, data: str | bytes) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.root / rel
        self.kept.add(path)
        try:
            if path.stat().st_size == len(raw) and path.read_bytes() == raw:
                self.unchanged += 1
                return
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(raw)
        os.replace(temporary, path)
        self.written += 1

    def json(self, rel: str, data: Any) -> None:
        self.put(rel, json.dumps(data, separators=(",", ":")))

    def copy_tree(self, source: Path, rel: str = "") -> None:
        """The files under ``source`` (e.g. the catalog's ``site/``) into ``rel``: regular files
        only, a symbolic link is refused (see :func:`refuse_links`), never followed."""
        refuse_links(source.parent, [source.name])
        for path in sorted(source.rglob("*")):
            if path.is_file():
                self.put(str(Path(rel) / path.relative_to(source)), path.read_bytes())

    def finish(self) -> int:
        """Remove files and folders this run did not write; the number of files removed."""
        removed = 0
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path not in self.kept:
                path.unlink()
                removed += 1
        return removed


def _odd_entries(root: Path, rel: str) -> Iterator[tuple[str, str]]:
    """What at or under ``root/rel`` is not a folder or a regular file (links are not followed), and why."""
    try:
        mode = (root / rel).lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        yield rel, "is a symbolic link"
    elif stat.S_ISDIR(mode):
        for folder, dirs, files in os.walk(root / rel):  # a linked folder is listed in dirs, never entered
            for name in sorted(dirs + files):
                path = Path(folder) / name
                if name in files or path.is_symlink():
                    yield from _odd_entries(root, str(path.relative_to(root)))
    elif not stat.S_ISREG(mode):
        yield rel, "is not a regular file"


def refuse_links(root: Path, rels: list[str]) -> None:
    """Refuse to read the files at or under ``root/rel`` when one is a symbolic link (or
    anything but a folder or a regular file): a link would publish what it points at."""
    odd = [entry for rel in rels for entry in _odd_entries(root, rel)]
    if odd:
        raise SiteBuildError(f"{'; '.join(f'{rel} {why}' for rel, why in odd)}: files the site build reads must be "
                             "regular files inside the repository; nothing was built", root / odd[0][0])


def reset(root: Path) -> None:
    """Make ``root`` a folder (a file or a symbolic link of that name is removed, never followed)."""
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        root.unlink()
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.rglob(".*.tmp"):  # an interrupted run's partial files
        leftover.unlink()
