"""Look-up results with the names, signatures and meanings of EXtra's ``extra.calibration``:
``SingleConstant`` (one CCV; its data in the store), ``MultiModuleConstant`` (one calibration
for several modules). ``CalibrationData`` is in :mod:`calcat_git.lookup.caldata`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calcat_git.lookup.ccv_metadata import ccv_metadata, row_by_int_id
from calcat_git.lookup.detector_data import full_catalog
from calcat_git.lookup.extra_api import StoreFileError, caldb_root_of, get_catalog
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import format_timestamp

if TYPE_CHECKING:
    from calcat_git.lookup.constant_data import ConstantStore

__all__ = ["MultiModuleConstant", "NoDimensionLabelsError", "SingleConstant", "ccv_int_id"]


def _constant_store() -> type[ConstantStore]:
    from calcat_git.lookup.constant_data import ConstantStore  # on use: it loads h5py and numpy, which look-ups do not need

    return ConstantStore


class NoDimensionLabelsError(ValueError):
    """The constant's file has no dimension labels (``dims``)."""


@dataclass
class SingleConstant:
    """A calibration constant for one detector module (CALCAT's CCV).

    ``ccv_id`` is CALCAT's integer id (calcat-git's stable integer for a CCV that never was
    in CALCAT); ``ccv_hash`` is calcat-git's content id. ``path`` is relative to the store
    (``caldb_root``)."""

    path: Path
    dataset: str
    ccv_id: int | None
    pdu_name: str | None
    _metadata: dict[str, Any] = field(default_factory=dict)
    _have_calcat_metadata: bool = False
    calibration: str = ""
    aggregator: str = ""
    module_number: int | None = None
    virtual_device_name: str | None = None
    ccv_hash: str = ""
    begin_at: datetime | None = None
    sha256: str = ""
    commit: str | None = None
    report_path: str = ""
    catalog_root: Path | None = None
    _catalog: Any = field(default=None, repr=False, compare=False)
    _row: CCVRow | None = field(default=None, repr=False, compare=False)

    @property
    def int_id(self) -> int | None:
        """``ccv_id`` (the integer id), by the name calcat-git used before."""
        return self.ccv_id

    def file_path(self, caldb_root: str | os.PathLike[str] | None = None) -> Path:
        """The constant's file: ``caldb_root`` (default: ``get_default_caldb_root()``) / ``path``."""
        return _constant_store()(caldb_root_of(caldb_root, self.catalog_root)).file(Path(self.path))

    def _stored_file(self, caldb_root: str | os.PathLike[str] | None) -> Path:
        path = self.file_path(caldb_root)
        if not path.is_file():
            raise StoreFileError(self._missing_file(path))
        return path

    def dataset_obj(self, caldb_root: str | os.PathLike[str] | None = None) -> Any:
        """The ``h5py.Dataset`` of the constant's data (``<dataset>/data``; the file stays open)."""
        return _constant_store().dataset(self._stored_file(caldb_root), self.dataset)

    def _missing_file(self, path: Path) -> str:
        what = f"{self.calibration or 'constant'} CCV {self.ccv_id} of {self.pdu_name}"
        imported = self._row.calcat_id is not None if self._row is not None else (self.ccv_id or 0) < 2**52
        why = (f"it was imported from CALCAT, whose own store keeps the file (at European XFEL: "
               f"/gpfs/exfel/d/cal/caldb_store/{Path(self.path).as_posix()}); copy it into this store"
               if imported else "it was injected into the catalog, but its file is not (or no longer) in this store")
        return (f"the file of {what} is not in the store: {path} does not exist; {why}; or pass caldb_root= "
                "(or call calcat_git.set_default_caldb_root(...)) to read another store")

    def ndarray(self, caldb_root: str | os.PathLike[str] | None = None) -> Any:
        """Load the constant data as a numpy array (checked before anything is read)."""
        return _constant_store().array(self._stored_file(caldb_root), self.dataset)

    def dimension_names(self, caldb_root: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
        """The order of dimensions saved in the constant file (``dims``)."""
        dataset = self.dataset_obj(caldb_root)
        try:
            return tuple(str(d.decode() if isinstance(d, bytes) else d) for d in dataset.attrs["dims"].tolist())
        except KeyError:
            raise NoDimensionLabelsError("This constant was saved without dimension labels") from None
        finally:
            dataset.file.close()

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The order of dimensions saved in the constant file."""
        return self.dimension_names()

    def _load_calcat_metadata(self, client: Any = None) -> None:
        catalog = full_catalog(self._catalog if client is None and self._catalog is not None else get_catalog(client))
        row = self._row if self._row is not None else row_by_int_id(catalog, int(self.ccv_id))  # type: ignore[arg-type]
        slot = None
        if self.aggregator:
            module = next((m for m in catalog.detector(row.detector).modules if m.aggregator == self.aggregator), None)
            slot = (self.aggregator, module)
        self._metadata = ccv_metadata(catalog, row, slot) | self._metadata  # known values win, as in EXtra
        self._have_calcat_metadata = True

    def metadata(self, key: str, client: Any = None) -> Any:
        """One metadata field as CALCAT names it, e.g. ``'begin_validity_at'``."""
        if key not in self._metadata and not self._have_calcat_metadata:
            if self.ccv_id is None:
                raise KeyError(f"{key!r} (no CCV id to look its metadata up)")
            self._load_calcat_metadata(client)
        return self._metadata[key]

    def metadata_dict(self, client: Any = None) -> dict[str, Any]:
        """Every metadata field, as CALCAT's ``calibration_constant_versions/<id>`` shows them."""
        if not self._have_calcat_metadata and self.ccv_id is not None:
            self._load_calcat_metadata(client)
        return self._metadata.copy()

    def to_dict(self) -> dict[str, Any]:
        """The ``lookup --json`` shape (there ``ccv_id`` is the content id, ``int_id`` the integer)."""
        return {"ccv_id": self.ccv_hash, "int_id": self.ccv_id, "pdu": self.pdu_name, "file": Path(self.path).as_posix(),
                "dataset": self.dataset, "begin_at": format_timestamp(self.begin_at) if self.begin_at else None}


def prepare_selection(module_details: list[dict[str, Any]], module_nums: Any = None, aggregator_names: Any = None,
                      qm_names: Any = None) -> list[str]:
    """The aggregators of the modules chosen by number, aggregator or ``Q1M1``-style name."""
    if sum(x is not None for x in (module_nums, aggregator_names, qm_names)) > 1:
        raise TypeError("select_modules() accepts only one of module_nums, aggregator_names & qm_names")
    if module_nums is not None:
        by_number = {m["module_number"]: m for m in module_details}
        return [by_number[n]["karabo_da"] for n in module_nums]
    if qm_names is not None:
        by_qm = {m["virtual_device_name"]: m for m in module_details}
        return [by_qm[s]["karabo_da"] for s in qm_names]
    if aggregator_names is not None:
        missing = set(aggregator_names) - {m["karabo_da"] for m in module_details}
        if missing:
            raise KeyError("Aggregators not found: " + ", ".join(sorted(missing)))
        return list(aggregator_names)
    raise TypeError("select_modules() requires an argument")


@dataclass
class MultiModuleConstant(Mapping[str, SingleConstant]):
    """Constants of one calibration for several modules of a detector. Keys are aggregators
    (``'AGIPD00'``); look-ups also take module numbers, ``Q1M1``-style names and PDU names."""

    constants: dict[str, SingleConstant]
    module_details: list[dict[str, Any]]
    detector_name: str
    calibration_name: str

    def __repr__(self) -> str:
        return f"<MultiModuleConstant: {self.calibration_name} for {len(self.constants)} modules of {self.detector_name}>"

    def __iter__(self) -> Iterator[str]:
        return iter(self.constants)

    def __len__(self) -> int:
        return len(self.constants)

    def __getitem__(self, key: Any) -> SingleConstant:
        if key in (None, ""):
            raise KeyError(key)
        found = {key} if isinstance(key, str) and key in self.constants else set()
        for m in self.module_details:
            names = (m.get("module_number"), m.get("virtual_device_name"), m.get("physical_name"))
            if key in names and m["karabo_da"] in self.constants:
                found.add(m["karabo_da"])
        if not found:
            raise KeyError(key)
        if len(found) > 1:
            raise KeyError(f"Ambiguous key: {key} matched {found}")
        return self.constants[found.pop()]

    def select_modules(self, module_nums: Any = None, *, aggregator_names: Any = None, qm_names: Any = None
                       ) -> MultiModuleConstant:
        """Only the modules chosen by one of ``module_nums``, ``aggregator_names``, ``qm_names``."""
        chosen = prepare_selection(self.module_details, module_nums, aggregator_names, qm_names)
        kept = {a: c for a, c in self.constants.items() if a in chosen}
        return replace(self, constants=kept, module_details=[m for m in self.module_details if m["karabo_da"] in kept])

    def _labels(self, key: str) -> list[Any]:
        return [m[key] for m in self.module_details if m["karabo_da"] in self.constants]

    @property
    def aggregator_names(self) -> list[str]:
        """Data aggregator names of the modules with this constant."""
        return sorted(self.constants)

    @property
    def module_nums(self) -> list[int]:
        """Module numbers of the modules with this constant."""
        return self._labels("module_number")

    @property
    def qm_names(self) -> list[str]:
        """``Q1M3``-style names of the modules with this constant."""
        return self._labels("virtual_device_name")

    @property
    def pdu_names(self) -> list[str]:
        """PDU names of the modules with this constant."""
        return self._labels("physical_name")

    def ndarray(self, caldb_root: str | os.PathLike[str] | None = None, *, parallel: int = 0) -> Any:
        """All modules' data stacked along a first ``module`` axis (aggregator order);
        ``parallel`` > 0 reads with that many threads."""
        constants = [self.constants[a] for a in self.aggregator_names]
        return _constant_store().stack(lambda c: c.ndarray(caldb_root), constants, parallel)

    def dimension_names(self, caldb_root: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
        """``module`` and the dimensions saved in the first module's file."""
        return ("module", *self.constants[next(iter(self.constants))].dimension_names(caldb_root))

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.dimension_names()

    def xarray(self, module_naming: str = "modnum", caldb_root: str | os.PathLike[str] | None = None, *,
               parallel: int = 0) -> Any:
        """The data as an ``xarray.DataArray``; modules labelled by ``module_naming``
        (``modnum``, ``aggregator`` or ``qm``)."""
        import xarray  # the xfel extra, an optional package

        modules = module_labels(self, module_naming)
        data = self.ndarray(caldb_root, parallel=parallel)
        try:
            dims: Any = self.dimension_names(caldb_root)
        except NoDimensionLabelsError:
            dims = ["module"] + [f"dim_{i}" for i in range(data.ndim - 1)]
        return xarray.DataArray(data, dims=dims, coords={"module": modules}, name=self.calibration_name)


def module_labels(holder: Any, module_naming: str) -> list[Any]:
    """The module labels of ``holder`` (its ``aggregator_names``, ``module_nums`` or ``qm_names``)."""
    names = {"aggregator": "aggregator_names", "modnum": "module_nums", "qm": "qm_names"}
    if module_naming not in names:
        raise ValueError(f"{module_naming=} (must be 'aggregator', 'modnum' or 'qm')")
    return list(getattr(holder, names[module_naming]))
