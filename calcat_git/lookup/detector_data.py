"""EXtra's ``DetectorData`` and ``DetectorModule``, read from the catalog: a detector and
the PDUs mapped to its modules at one time (``pdu_snapshot_at``, a validity time: the
catalog's mapping at that time, read from its newest commit)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatch
from string import Formatter
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import NotFoundError
from calcat_git.lookup.extra_api import extra_time, get_catalog, run_start
from calcat_git.model.calcat_fields import detector_fields, module_fields, overlay
from calcat_git.model.calcat_ids import record_id
from calcat_git.model.records import Detector
from calcat_git.timeutil import format_timestamp, now_utc


class SourceExprChecker(ast.NodeVisitor):
    def visit_Call(self, node: ast.Call) -> None:
        raise ValueError("Function calls not allowed in source name patterns")


class SourceNameFormatter(Formatter):
    """String formatter that evaluates simple operations like ``{modno + 2}``."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, Any]:
        node = ast.parse(field_name, "<source pattern>", "eval")
        SourceExprChecker().visit(node)
        return eval(compile(node, "<source pattern>", "eval"), {"__builtins__": {}}, dict(kwargs)), 0


@dataclass
class DetectorModule:
    """A PDU mapped to one module (slot) of a detector, as EXtra shows it."""

    pdu_id: int
    physical_name: str
    aggregator: str
    detector: str
    virtual_device_name: str | None
    module_index: int
    module_number: int | None
    detector_type: str
    legacy_uuid: int | None  # Deprecated, do not use
    source_name: str | None

    def __post_init__(self) -> None:
        if self.module_number is None:
            digits = re.findall(r"\d+", self.aggregator)
            self.module_number = int(digits[-1]) if digits else None
        if self.source_name is not None:
            self.source_name = SourceNameFormatter().format(self.source_name, modno=self.module_number)

    @property
    def ccv_params(self) -> tuple[str, int | None, str]:
        """PDU arguments as needed for write_ccv()."""
        return self.physical_name, self.legacy_uuid, self.detector_type


class DetectorData(Mapping[str, DetectorModule]):
    """A detector and its modules at one time: aggregator (or module index) → module."""

    def __init__(self, detector_row: dict[str, Any], module_rows_or_pdus: Any, pdu_snapshot_at: str | None = None
                 ) -> None:
        self.id = detector_row["id"]
        self.identifier = detector_row["identifier"]
        self.karabo_control_domain = detector_row["karabo_id_control"]
        self.number_of_modules = detector_row["number_of_modules"]
        self._source_name_pattern = detector_row["source_name_pattern"]
        self._first_module_index = detector_row["first_module_index"]
        self.pdus: list[DetectorModule] = []

        def get_da(x: Any) -> str:
            return str(x.aggregator if isinstance(x, DetectorModule) else x["karabo_da"])

        for i, item in enumerate(sorted(module_rows_or_pdus, key=get_da)):
            if not isinstance(item, DetectorModule):
                item = DetectorModule(item["id"], item["physical_name"], item["karabo_da"], self.identifier,
                                      item["virtual_device_name"], i, item["module_number"],
                                      item["detector_type"]["name"], item["uuid"], self._source_name_pattern)
            else:
                item.module_index = i
            self.pdus.append(item)
        self.pdu_snapshot_at = pdu_snapshot_at

    @classmethod
    def from_catalog(cls, catalog: Any, identifier: str, at: datetime | None = None) -> DetectorData:
        """``identifier`` with the PDUs the catalog maps to it at ``at`` (default now)."""
        moment = at or now_utc()
        det = catalog.detector(identifier)
        try:
            slots = catalog.mapping(identifier, at=moment) if det.modules else {}
        except NotFoundError:
            slots = {}
        modules = {m.aggregator: m for m in det.modules}
        rows = [module_row(catalog, det, modules[agg], pdu) for agg, pdu in slots.items() if pdu is not None]
        return cls(detector_row(det), rows, format_timestamp(moment))

    @classmethod
    def from_identifier(cls, identifier: str, pdu_snapshot_at: Any = None, client: Any = None) -> DetectorData:
        """A detector and its modules by identifier, mapped at ``pdu_snapshot_at`` (a time,
        an ISO string, or an ``extra_data`` run for its start; default now)."""
        return cls.from_catalog(get_catalog(client), identifier, extra_time(pdu_snapshot_at, "pdu_snapshot_at"))

    @classmethod
    def from_numeric_id(cls, detector_id: int, pdu_snapshot_at: Any = None, client: Any = None) -> DetectorData:
        """A detector by its numeric id (CALCAT's, or calcat-git's stable id)."""
        catalog = full_catalog(get_catalog(client))
        for name in catalog.names("detector"):
            if record_id("detector", catalog.detector(name)) == detector_id:
                return cls.from_catalog(catalog, name, extra_time(pdu_snapshot_at, "pdu_snapshot_at"))
        raise NotFoundError(f"no detector with id {detector_id}")

    @classmethod
    def from_instrument(cls, instrument: str, identifier: str | None = None, pdu_snapshot_at: Any = None,
                        client: Any = None) -> DetectorData:
        """The one detector of ``instrument`` (whose identifier matches the glob ``identifier``)."""
        catalog = full_catalog(get_catalog(client))
        names = [n for n in _by_instrument(catalog, instrument) if identifier is None or fnmatch(n, identifier)]
        if not names:
            raise ValueError(f"No such detector found for {instrument}")
        if len(names) > 1:
            raise ValueError(f"Multiple such detectors found for {instrument}: " + ", ".join(names))
        return cls.from_catalog(catalog, names[0], extra_time(pdu_snapshot_at, "pdu_snapshot_at"))

    @staticmethod
    def list_by_instrument(instrument: str, client: Any = None) -> list[str]:
        """Every detector of ``instrument``, in CALCAT's order (by id)."""
        return _by_instrument(full_catalog(get_catalog(client)), instrument)

    def __getitem__(self, key: str | int) -> DetectorModule:
        if isinstance(key, int):
            return self.pdus[key]
        for pdu in self.pdus:
            if pdu.aggregator == key:
                return pdu
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (pdu.aggregator for pdu in self.pdus)

    def __len__(self) -> int:
        return len(self.pdus)

    def __repr__(self) -> str:
        return f"<DetectorData: {len(self.pdus)}/{self.number_of_modules} modules of {self.identifier} on " \
               f"{self.pdu_snapshot_at}>"

    def _replace_modules(self, module_rows_or_pdus: Any) -> DetectorData:
        row = {"id": self.id, "identifier": self.identifier, "number_of_modules": self.number_of_modules,
               "karabo_id_control": self.karabo_control_domain, "source_name_pattern": self._source_name_pattern,
               "first_module_index": self._first_module_index}
        return type(self)(row, module_rows_or_pdus, self.pdu_snapshot_at)

    @property
    def source_name_pattern(self) -> str:
        """Source name pattern."""
        assert self._source_name_pattern is not None, "incomplete detector entry in the catalog"
        return str(self._source_name_pattern)

    @property
    def source_names(self) -> list[str | None]:
        """Source names of the modules."""
        assert self._source_name_pattern is not None, "incomplete detector entry in the catalog"
        return [pdu.source_name for pdu in self.pdus]

    @property
    def first_module_index(self) -> int:
        """Module index of the first module."""
        assert self._first_module_index is not None, "incomplete detector entry in the catalog"
        return int(self._first_module_index)

    @property
    def detector_type(self) -> str:
        """Detector type of all PDUs if unique."""
        pdu_types = {pdu.detector_type for pdu in self.pdus}
        if len(pdu_types) > 1:
            raise ValueError("more than one type of PDU: " + ", ".join(sorted(pdu_types)))
        if not pdu_types:
            raise ValueError("no mapped PDUs")
        return pdu_types.pop()


def detector_row(det: Detector) -> dict[str, Any]:
    """The detector's fields as CALCAT shows them (CALCAT's own kept values over ours)."""
    return overlay({"id": record_id("detector", det), **detector_fields(det)}, det.calcat)


def module_row(catalog: Any, det: Detector, module: Any, pdu_name: str) -> dict[str, Any]:
    """The PDU ``pdu_name`` in ``module``, as CALCAT's ``get_all_by_detector`` lists it."""
    shown = overlay(module_fields(module), module.calcat)
    getter = getattr(catalog, "pdu", None)
    pdu = getter(pdu_name) if getter is not None else None
    return {"id": record_id("pdu", pdu) if pdu is not None else None, "physical_name": pdu_name,
            "karabo_da": module.aggregator, "virtual_device_name": shown["virtual_device_name"],
            "module_number": shown["module_number"],
            "detector_type": {"name": pdu.detector_type if pdu is not None else det.detector_type},
            "uuid": pdu.uuid if pdu is not None else None}


def at_run(data: Any, detector: Any, client: Any) -> DetectorData:
    """``detector`` as ``DetectorData``: an identifier is read from the catalog at the start of
    the ``extra_data`` run ``data``."""
    if isinstance(detector, DetectorData):
        return detector
    return DetectorData.from_catalog(get_catalog(client), detector, run_start(data))


def full_catalog(catalog: Any) -> Catalog:
    """``catalog`` if it is a clone (a published site answers look-ups only), else an error saying so."""
    if not isinstance(catalog, Catalog):
        raise NotFoundError("a published site answers look-ups and detectors by identifier only: "
                            "setup_catalog('/path/to/catalog') (a clone) to list detectors, reports and CCV metadata")
    return catalog


def _by_instrument(catalog: Catalog, instrument: str) -> list[str]:
    catalog.instrument(instrument)  # an unknown instrument is an error, as in CALCAT
    dets = [catalog.detector(n) for n in catalog.names("detector")]
    return [d.identifier for d in sorted(dets, key=lambda d: record_id("detector", d)) if instrument in d.instruments]
