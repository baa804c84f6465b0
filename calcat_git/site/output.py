"""The generated site's folder, rewritten in place: a file is written only when its bytes
change and files no longer generated are removed, so a rebuild after one new batch touches
only what that batch changed (the engine and web servers see unchanged files untouched)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


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


def reset(root: Path) -> None:
    """Make ``root`` a folder (a file of that name is replaced)."""
    if root.exists() and not root.is_dir():
        root.unlink()
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.rglob(".*.tmp"):  # an interrupted run's partial files
        leftover.unlink()
