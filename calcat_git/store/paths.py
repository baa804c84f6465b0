"""The constant store: where the HDF5 files named by CCVs live (never in git).

Its root comes from, in order: an explicit ``--store``/``store=``, the
``CALCAT_GIT_STORE`` environment variable, or ``store:`` in the catalog's
``calcat-git.yaml`` (relative to the catalog root).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from calcat_git.errors import InvalidInputError, NotFoundError, StoreDamagedError
from calcat_git.files.config import CONFIG_FILE, load_config
from calcat_git.model.store_path import store_path_problem

ENV = "CALCAT_GIT_STORE"


def store_root(explicit: str | os.PathLike[str] | None = None, catalog_root: str | os.PathLike[str] | None = None) -> Path:
    """The store root to use (see the module docstring for the order)."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    if catalog_root is not None:
        configured = load_config(Path(catalog_root)).get("store")
        if configured:
            return (Path(catalog_root) / str(configured)).resolve()
    raise NotFoundError(f"no constant store given: pass store=DIR (--store DIR on the command line), set {ENV}, "
                        f"or write `store: DIR` into {CONFIG_FILE} at the catalog root")


def store_file(root: Path, relative: str) -> Path:
    """``relative`` under ``root``, refusing anything that would leave the store."""
    why = store_path_problem(relative)
    if why:
        raise InvalidInputError(f"unsafe store path: {why}")
    path = root / relative
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root):
        raise StoreDamagedError(f"store path {relative!r} leaves the store through a symbolic link: replace the "
                                "link in the store by the file it points at", path)
    return path


def content_path(sha256: str) -> str:
    """The store-relative, content-derived path of a constant file."""
    return f"calcat-git/{sha256[:2]}/{sha256}.h5"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
