"""Validate a large working tree without reading again what was already checked.

Every check of a constants file looks at that file and at registry records, never at
another constants file; only the case-collision check looks at every path, and it reads
no content. So a batch file's problems are a function of its content (git blob), its
path, the registry and the checks themselves, and they are kept in a cache keyed by
exactly those. ``validate`` reads the registry (small), asks git's stat cache which
constants files are unchanged (nothing read), takes their problems from the cache, and
reads and checks only the rest. The cache lives beside the index, in
``.git/calcat-git/validated.sqlite``; deleting it loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from functools import cache
from pathlib import Path

from calcat_git.errors import NotFoundError, RepositoryError
from calcat_git.files.loading import Registry, add_worktree_files, load_worktree
from calcat_git.git.repo import GitRepo
from calcat_git.model.problems import Problem
from calcat_git.validation.run import check_names, run_checks

PATH_CHECKS = ("case-collision",)  # checks of names only: run over every path each time
SCHEMA = "CREATE TABLE IF NOT EXISTS checked(path TEXT, blob TEXT, registry TEXT, ccvs INTEGER, problems TEXT, " \
         "PRIMARY KEY (path, blob, registry))"


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


def validate_worktree(root: str | Path, skip: tuple[str, ...] = ()) -> tuple[list[Problem], Registry, int, int]:
    """Problems of the working tree at ``root`` (as :func:`run_checks` of all of it would
    give them), the registry as loaded (with the constants files that were read), and the
    numbers of constants files and of CCVs taken from the cache."""
    root = Path(root)
    check_names(skip)
    if not (root / "registry").is_dir():
        raise NotFoundError(f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
                            "(the folder holding registry/ and constants_index/)")
    reg = load_worktree(root, batches=())
    try:
        repo = GitRepo(root)
        clean = repo.clean_blobs(["constants_index"])
    except RepositoryError:
        add_worktree_files(reg, root, reg.unread)
        return run_checks(reg, skip), reg, 0, 0
    key = registry_key(reg)
    path = repo.git_dir / "calcat-git" / "validated.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as conn, conn:
        conn.execute(SCHEMA)
        cached = {(p, b): (n, text) for p, b, n, text in conn.execute(
            "SELECT path, blob, ccvs, problems FROM checked WHERE registry = ?", (key,))}
        hits = {p: cached[(p, b)] for p, b in clean.items() if (p, b) in cached}
        add_worktree_files(reg, root, [p for p in reg.unread if p not in hits])
        problems = run_checks(reg)
        conn.executemany("INSERT OR REPLACE INTO checked VALUES (?, ?, ?, ?, ?)", [
            (p, clean[p], key, len(batch.constants), json.dumps([
                x.to_dict() for x in problems if x.file == p and x.check not in PATH_CHECKS]))
            for p, batch in reg.batches.items() if p in clean])
    problems += [Problem(**d) for n, text in hits.values() for d in json.loads(text)]
    kept = [p for p in problems if p.check not in skip]
    return sorted(kept, key=Problem.sort_key), reg, len(hits), sum(n for n, _ in hits.values())
