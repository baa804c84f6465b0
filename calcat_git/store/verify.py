"""``verify-store``: every file a snapshot names is present with its sha256.

CCVs imported from CALCAT carry no sha256 (their files live in the facility's store):
they are listed as ``unverifiable``, not checked.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.store.paths import file_sha256, store_file, store_root


def referenced_files(catalog: Catalog) -> dict[str, str]:
    """Store path → sha256 of every CCV file in the snapshot."""
    return catalog.backend.files()


def _state(root: Path, relative: str, sha: str) -> str:
    path = store_file(root, relative)
    if not path.is_file():
        return "missing"
    return "ok" if file_sha256(path) == sha else "mismatch"


def verify(catalog: Catalog, store: str | Path | None, jobs: int = 4) -> dict[str, Any]:
    root = store_root(store, catalog.root)
    named = referenced_files(catalog)
    files = sorted((path, sha) for path, sha in named.items() if sha)
    report: dict[str, Any] = {"store": str(root), "commit": catalog.commit, "checked": len(files),
                              "missing": [], "mismatch": [],
                              "unverifiable": sorted(path for path, sha in named.items() if not sha)}
    show = sys.stderr.isatty() and len(files) > 100
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for n, ((relative, _), state) in enumerate(zip(files, pool.map(lambda f: _state(root, *f), files),
                                                       strict=True), 1):
            if state != "ok":
                report[state].append(relative)
            if show and n % 100 == 0:
                print(f"\rcalcat-git: verified {n}/{len(files)} files", end="", file=sys.stderr, flush=True)
    if show:
        print(file=sys.stderr)
    return report
