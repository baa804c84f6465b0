"""Validate a large working tree: each constants file once, on every core, and not again.

Every check of a constants file looks at that file and at registry records, never at
another constants file; only the case-collision check looks at every path, and it reads
no content. So a batch file's problems are a function of its content (git blob), its
path, the registry and the checks themselves. ``validate`` reads and checks the registry
(small), then checks the constants files one by one in worker processes
(``batches.py``), keeping only their problems; and it keeps those in a cache keyed by
exactly what decides them. Next time, git's stat cache says which constants files are
unchanged (nothing read), their problems come from the cache, and only the rest are
read. The cache lives beside the index, in ``.git/calcat-git/validated.sqlite``;
deleting it loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from calcat_git.errors import NotFoundError, RepositoryError
from calcat_git.files.loading import Registry, load_worktree
from calcat_git.git.repo import GitRepo
from calcat_git.model.problems import Problem
from calcat_git.validation.batches import check_files
from calcat_git.validation.run import check_names, run_checks

SCHEMA = "CREATE TABLE IF NOT EXISTS checked(path TEXT, blob TEXT, registry TEXT, ccvs INTEGER, problems TEXT, " \
         "PRIMARY KEY (path, blob, registry))"


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    """What ``validate`` found: its problems (sorted), the registry (without batches), the
    numbers of constants files and CCVs that loaded, and how many of those files were
    taken from the cache."""

    problems: list[Problem]
    registry: Registry
    batches: int
    ccvs: int
    cached_batches: int


@cache
def _checks_version() -> str:
    """A digest of the code and schemas that decide problems: new code never trusts old results."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for folder in ("validation", "files", "files/schemas", "model"):
        for item in sorted((package / folder).iterdir()):
            if item.suffix in (".py", ".json"):
                digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


def registry_key(reg: Registry) -> str:
    """A digest of every registry record, what failed to load, and the checks' code."""
    tables = {kind: {k: v.to_dict() for k, v in sorted(getattr(reg, kind).items())} for kind in (
        "detector_types", "calibrations", "parameters", "instruments", "pdus", "detectors", "mappings")}
    text = json.dumps([tables, sorted(reg.broken), _checks_version()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_path(root: Path) -> tuple[Path, dict[str, str]] | None:
    """The cache file and the constants files git knows unchanged (path → blob), or None
    outside a git repository."""
    try:
        repo = GitRepo(root)
        clean = repo.clean_blobs(["constants_index"])
    except RepositoryError:
        return None
    path = repo.git_dir / "calcat-git" / "validated.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, clean


def _cached(path: Path, key: str, clean: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Path → (CCVs, problems as JSON) of the unchanged files checked before with this registry."""
    with closing(sqlite3.connect(path, timeout=30)) as conn, conn:
        conn.execute(SCHEMA)
        cached = {(p, b): (n, text) for p, b, n, text in conn.execute(
            "SELECT path, blob, ccvs, problems FROM checked WHERE registry = ?", (key,))}
    return {p: cached[(p, b)] for p, b in clean.items() if (p, b) in cached}


def validate_worktree(root: str | Path, skip: tuple[str, ...] = ()) -> Validated:
    """Problems of the working tree at ``root``, as :func:`run_checks` of all of it would
    give them, without holding its batches in memory."""
    root = Path(root)
    check_names(skip)
    if not (root / "registry").is_dir():
        raise NotFoundError(f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
                            "(the folder holding registry/ and constants_index/)")
    reg = load_worktree(root, batches=())
    problems = run_checks(reg)  # the registry's, and every path's names
    cache_file, clean = _cache_path(root) or (None, {})
    key = registry_key(reg) if cache_file else ""
    hits = _cached(cache_file, key, clean) if cache_file else {}
    batches, ccvs, rows = len(hits), sum(n for n, _ in hits.values()), []
    for checked in check_files(reg, root, [p for p in reg.unread if p not in hits]):
        problems += checked.problems
        if checked.ccvs is not None:
            batches, ccvs = batches + 1, ccvs + checked.ccvs
            if checked.path in clean:
                rows.append((checked.path, clean[checked.path], key, checked.ccvs,
                             json.dumps([x.to_dict() for x in checked.problems])))
    if cache_file:
        with closing(sqlite3.connect(cache_file, timeout=30)) as conn, conn:
            conn.executemany("INSERT OR REPLACE INTO checked VALUES (?, ?, ?, ?, ?)", rows)
    problems += [Problem(**d) for _, text in hits.values() for d in json.loads(text)]
    kept = sorted((p for p in problems if p.check not in skip), key=Problem.sort_key)
    return Validated(problems=kept, registry=reg, batches=batches, ccvs=ccvs, cached_batches=len(hits))
