"""Read, parse and check constants batch files one by one, on every core.

A batch file's problems depend on its content, its path and the registry only (see
``registry.py``), so each worker process gets the loaded registry once (by fork) and
sends back, for each file it reads, its problems and CCV count: no batch record crosses a
process boundary or stays in memory, however large the catalog. Results come back in
the order of the paths asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from calcat_git.files.loading import Registry, read_worktree_file
from calcat_git.files.parse import ignored, parse_file
from calcat_git.files.schema import compile_all
from calcat_git.model.problems import Problem
from calcat_git.validation.run import batch_file_problems

CHUNK = 64  # files per worker task
PARALLEL_FROM = 4 * CHUNK  # fewer files than this are checked in-process
WORKERS = 4  # at most


@dataclass(frozen=True, slots=True)
class Checked:
    """One constants file: its problems, and its number of CCVs (None: it did not load)."""

    path: str
    ccvs: int | None
    problems: list[Problem]


def check_file(reg: Registry, root: Path, path: str) -> Checked:
    """Read the constants file at ``root/path`` and check it against ``reg``."""
    if ignored(path):
        return Checked(path, None, [])
    raw = read_worktree_file(root / path, path)
    if isinstance(raw, Problem):
        return Checked(path, None, [raw])
    parsed = parse_file(path, raw)
    ccvs = len(parsed.record.constants) if parsed.ok else None
    return Checked(path, ccvs, batch_file_problems(reg, parsed))


_job: tuple[Registry, Path] | None = None  # set before the workers fork; they inherit it


def _check_many(paths: list[str]) -> list[Checked]:
    assert _job is not None, "check_files sets the job before forking"
    reg, root = _job
    return [check_file(reg, root, path) for path in paths]


def check_files(reg: Registry, root: str | os.PathLike[str], paths: list[str]) -> Iterator[Checked]:
    """:func:`check_file` of every path, in order; many files are shared out to worker
    processes (one per core, forked with the registry)."""
    global _job
    cores = min(os.cpu_count() or 1, WORKERS)
    if len(paths) < PARALLEL_FROM or cores < 2:
        yield from (check_file(reg, Path(root), path) for path in paths)
        return
    compile_all()  # once here, not once per worker
    _job = (reg, Path(root))
    try:
        with get_context("fork").Pool(cores) as pool:
            for checked in pool.imap(_check_many, [paths[i:i + CHUNK] for i in range(0, len(paths), CHUNK)]):
                yield from checked
    finally:
        _job = None
