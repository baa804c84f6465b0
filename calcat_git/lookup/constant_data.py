"""A constant's data in the store, read with h5py and numpy. Imported on first use (by
:mod:`calcat_git.lookup.results`): a look-up reads no data, and loads neither."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

from calcat_git.store.hdf5 import check_self_contained, read_data
from calcat_git.store.paths import store_file

T = TypeVar("T")


class ConstantStore:
    """The constant files under one store root (``caldb_root``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def file(self, relative: Path) -> Path:
        """The file at ``relative`` (refused if it would leave the store)."""
        return store_file(self.root, relative.as_posix())

    @staticmethod
    def dataset(path: Path, name: str) -> Any:
        """The ``h5py.Dataset`` ``<name>/data`` of the file at ``path`` (checked; the file stays open)."""
        handle = h5py.File(path, "r")
        check_self_contained(path, handle)
        return handle[name]["data"]

    @staticmethod
    def array(path: Path, name: str) -> Any:
        """``<name>/data`` of the file at ``path`` as a numpy array (checked before anything is read)."""
        return read_data(path, name)

    @staticmethod
    def stack(read: Callable[[T], Any], items: Sequence[T], parallel: int = 0) -> Any:
        """The arrays ``read`` gives for ``items``, stacked along a new first axis;
        ``parallel`` > 0 reads with that many threads."""
        if parallel > 0:
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                return np.stack(list(pool.map(read, items)))
        return np.stack([read(item) for item in items])
