"""``verify-store``: every file a snapshot names is present with its sha256, and holds all
the data its constants read (no external links or storage, no virtual datasets, no shared
objects: a file injected before these were refused could read data its checksum misses).

CCVs imported from CALCAT carry no sha256 (their files live in the facility's store):
they are listed as ``unverifiable``, not checked.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import h5py

from calcat_git.errors import InvalidInputError
from calcat_git.store.hdf5 import check_self_contained
from calcat_git.store.paths import file_sha256, store_file, store_root


class _Files(Protocol):
    def files(self) -> dict[str, str]: ...


class Snapshot(Protocol):
    """What verify reads of a catalog snapshot (``Catalog`` is one; the store sits below
    the catalog, so it names only these)."""

    root: Path

    @property
    def commit(self) -> str | None: ...

    @property
    def backend(self) -> _Files: ...


def referenced_files(catalog: Snapshot) -> dict[str, str]:
    """Store path → sha256 of every CCV file in the snapshot."""
    return catalog.backend.files()


def _state(root: Path, relative: str, sha: str) -> tuple[str, str]:
    """("ok" | "missing" | "mismatch" | "elsewhere", why) of one store file."""
    path = store_file(root, relative)
    if not path.is_file():
        return "missing", ""
    if file_sha256(path) != sha:
        return "mismatch", ""
    try:
        with h5py.File(path, "r") as handle:
            check_self_contained(path, handle)
    except InvalidInputError as exc:
        return "elsewhere", str(exc).removeprefix(f"{path}: ")
    except OSError as exc:
        return "elsewhere", f"not a readable HDF5 file: {exc}"
    return "ok", ""


def verify(catalog: Snapshot, store: str | Path | None, jobs: int = 4) -> dict[str, Any]:
    root = store_root(store, catalog.root)
    named = referenced_files(catalog)
    files = sorted((path, sha) for path, sha in named.items() if sha)
    report: dict[str, Any] = {"store": str(root), "commit": catalog.commit, "checked": len(files),
                              "missing": [], "mismatch": [], "elsewhere": [],
                              "unverifiable": sorted(path for path, sha in named.items() if not sha)}
    show = sys.stderr.isatty() and len(files) > 100
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for n, ((relative, _), (state, why)) in enumerate(zip(files, pool.map(lambda f: _state(root, *f), files),
                                                              strict=True), 1):
            if state == "elsewhere":
                report[state].append(f"{relative}: {why}")
            elif state != "ok":
                report[state].append(relative)
            if show and n % 100 == 0:
                print(f"\rcalcat-git: verified {n}/{len(files)} files", end="", file=sys.stderr, flush=True)
    if show:
        print(file=sys.stderr)
    return report
