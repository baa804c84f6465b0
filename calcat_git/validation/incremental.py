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
deleting it loses nothing, and a damaged one (or a symbolic link there) is said and made anew.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
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
        return repo.state_dir() / "validated.sqlite", clean
    except RepositoryError:
        return None


def _unusable(path: Path, why: object) -> None:
    """Say so and remove a cache file that cannot be used (a link is removed, never followed)."""
    print(f"calcat-git: validation cache {path.name} is unusable ({why}); rebuilding", file=sys.stderr)
    for stale in (path, path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")):
        stale.unlink(missing_ok=True)


def _connect(path: Path) -> sqlite3.Connection:
    """The cache, checked: a symbolic link, or a file that is not this cache, is replaced by a new one."""
    for attempt in range(2):
        if path.is_symlink():
            _unusable(path, "a symbolic link")
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute(SCHEMA)
            conn.execute("SELECT path, blob, registry, ccvs, problems FROM checked LIMIT 1").fetchall()
            return conn
        except sqlite3.DatabaseError as exc:
            conn.close()
            if attempt:
                raise
            _unusable(path, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _cached(path: Path, key: str, clean: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Path → (CCVs, problems as JSON) of the unchanged files checked before with this registry."""
    try:
        with closing(_connect(path)) as conn, conn:
            cached = {(p, b): (n, text) for p, b, n, text in conn.execute(
                "SELECT path, blob, ccvs, problems FROM checked WHERE registry = ?", (key,))}
        return {p: cached[(p, b)] for p, b in clean.items() if (p, b) in cached and _sound(cached[(p, b)])}
    except sqlite3.DatabaseError as exc:  # damaged beyond its first page
        _unusable(path, exc)
        return {}


def _sound(row: tuple[int, str]) -> bool:
    """A cached row as this code writes it (else the file is checked again)."""
    try:
        return isinstance(row[0], int) and all(isinstance(d, dict) and Problem(**d) for d in json.loads(row[1]))
    except (TypeError, ValueError):
        return False


def _store(path: Path, rows: list[tuple[str, str, str, int, str]]) -> None:
    try:
        with closing(_connect(path)) as conn, conn:
            conn.executemany("INSERT OR REPLACE INTO checked VALUES (?, ?, ?, ?, ?)", rows)
    except sqlite3.DatabaseError as exc:  # the results stand; the next run checks these files again
        _unusable(path, exc)


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
        _store(cache_file, rows)
    problems += [Problem(**d) for _, text in hits.values() for d in json.loads(text)]
    kept = sorted((p for p in problems if p.check not in skip), key=Problem.sort_key)
    return Validated(problems=kept, registry=reg, batches=batches, ccvs=ccvs, cached_batches=len(hits))
