"""The answers of the CALCAT REST API subset, read from one catalog snapshot.

:class:`CalcatView` turns ids and names into records and records into CALCAT-shaped
JSON (``shapes``; CCVs: ``ccvs``); look-ups go through the index and :class:`lookup.Engine` (the
selection rules are never re-implemented here). ``server`` handles HTTP around it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.errors import InvalidInputError, NotFoundError, RepositoryError
from calcat_git.lookup.engine import Engine
from calcat_git.lookup.rules import LookupRules
from calcat_git.model.calcat_ids import parameter_id, report_int_id
from calcat_git.model.records import Parameter
from calcat_git.model.selection import Asked, CCVRow, check_strategy
from calcat_git.server.asked import Parameters
from calcat_git.server.ccvs import CCVEncoder, Encoded, Memo
from calcat_git.server.shapes import (
    JSON,
    Slot,
    calibration_json,
    condition_json,
    detector_json,
    detector_type_json,
    instrument_json,
    parameter_json,
    pdu_json,
    record_id,
    report_json,
)
from calcat_git.timeutil import now_utc


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"Resource not found! {what}")


class CalcatView:
    """CALCAT answers from one snapshot of the catalog (read through its index)."""

    def __init__(self, catalog: Catalog, zone: tzinfo, store_prefix: str = "") -> None:
        backend = catalog.backend
        if not isinstance(backend, IndexedSnapshot):
            raise RepositoryError("the CALCAT-compatible server reads through the index: open the catalog with index=True")
        self.catalog = catalog
        self.backend = backend
        self.zone = zone
        self.store_prefix = store_prefix
        self.engine = Engine(catalog)
        self._ids: dict[str, dict[int, str]] = {}
        self._names: dict[str, list[str]] = {}
        self._asked_parameters: Parameters | None = None
        self.cache: dict[str, Any] = {}  # what other parts of the server derive from this snapshot, by name
        self.ccvs = CCVEncoder(catalog, backend, zone, lambda: self.names("detector"))
        self.replies = Memo(256)  # whole replies of fully specified look-ups (see server), ~80 kB each

    def names(self, kind: str) -> list[str]:
        """Identifiers of every record of ``kind`` in this snapshot (kept: a snapshot never changes)."""
        if kind not in self._names:
            self._names[kind] = self.catalog.names(kind)
        return self._names[kind]

    # --- ids ---------------------------------------------------------------------------
    def ids(self, kind: str) -> dict[int, str]:
        """Integer id → identifier of every record of ``kind`` (parameters: → spelling)."""
        table = self._ids.get(kind)
        if table is None:
            table = {}
            for name in self.names(kind):
                if kind == "parameter":
                    record = self._parameter(name)
                    table.update({parameter_id(record, s): s for s in record.spellings})
                else:
                    table[record_id(kind, self._getter(kind)(name))] = name
            self._ids[kind] = table
        return table

    def _getter(self, kind: str) -> Callable[[str], Any]:
        return {"detector": self.catalog.detector, "instrument": self.catalog.instrument, "pdu": self.catalog.pdu,
                "calibration": self.catalog.calibration, "detector_type": self.catalog.detector_type}[kind]

    def _parameter(self, name: str) -> Parameter:
        return self.backend.record("parameter", name, Parameter)

    def name_of(self, kind: str, int_id: int) -> str:
        name = self.ids(kind).get(int_id)
        if name is None:
            raise not_found(f"no {kind.replace('_', ' ')} with id {int_id}")
        return name

    def _type_id(self, name: str) -> int:
        return record_id("detector_type", self.catalog.detector_type(name))

    # --- simple records ----------------------------------------------------------------
    def detector(self, name: str) -> JSON:
        det = self.catalog.detector(name)
        instruments = [record_id("instrument", self.catalog.instrument(i)) for i in det.instruments]
        return detector_json(det, record_id("detector", det), instruments)

    def detectors(self, identifier: str | None = None, instrument_id: int | None = None,
                  name: str | None = None) -> list[JSON]:
        names = self.names("detector")
        if identifier is not None:
            names = [n for n in names if n == identifier]
        if instrument_id is not None:
            instrument = self.name_of("instrument", instrument_id)
            names = [n for n in names if instrument in self.catalog.detector(n).instruments]
        out = [self.detector(n) for n in names]
        out = [d for d in out if name is None or d["name"] == name]
        return sorted(out, key=lambda d: int(d["id"]))  # CALCAT: by id

    def records(self, kind: str, name: str | None = None) -> list[JSON]:
        """Instruments, detector types or calibrations (all, or the one named ``name``)."""
        names = [n for n in self.names(kind) if name is None or n == name]
        shapes: dict[str, Callable[[Any], JSON]] = {"instrument": instrument_json, "detector_type": detector_type_json,
                                                    "calibration": calibration_json}
        shape = shapes[kind]
        return sorted((shape(self._getter(kind)(n)) for n in names), key=lambda r: int(r["id"]))  # CALCAT: by id

    def parameters(self, name: str | None = None) -> list[JSON]:
        out = []
        for ident in self.names("parameter"):
            record = self._parameter(ident)
            out += [parameter_json(record, s) for s in record.spellings if name is None or s == name]
        return sorted(out, key=lambda p: p["id"])

    def parameter(self, int_id: int) -> JSON:
        spelling = self.name_of("parameter", int_id)
        return self.parameters(spelling)[0]

    # --- PDUs and mappings ---------------------------------------------------------------
    def slots_now(self) -> dict[str, Slot]:
        """Where every mapped PDU sits now, in this snapshot."""
        out: dict[str, Slot] = {}
        now = now_utc()
        for name in self.names("detector"):
            det = self.catalog.detector(name)
            modules = {m.aggregator: m for m in det.modules}
            det_id = record_id("detector", det)
            for aggregator, pdu in self.catalog.mapping(name, at=now).items():
                if pdu is not None:
                    out[pdu] = Slot(det_id, modules[aggregator])
        return out

    def pdus(self, physical_name: str | None = None, detector_id: int | None = None,
             karabo_da: str | None = None) -> list[JSON]:
        """PDUs by name, or by where they sit now (detector, and module)."""
        names = [n for n in self.names("pdu") if physical_name is None or n == physical_name]
        if detector_id is not None:
            self.name_of("detector", detector_id)  # an unknown detector is a 404, not an empty list
        slots = self.slots_now()
        out = []
        for name in names:
            pdu = self.catalog.pdu(name)
            out.append(pdu_json(pdu, self._type_id(pdu.detector_type), slots.get(name)))
        return [p for p in out if (detector_id is None or p["detector_id"] == detector_id)
                and (karabo_da is None or p["karabo_da"] == karabo_da)]

    def pdu(self, int_id: int) -> JSON:
        return self.pdus(self.name_of("pdu", int_id))[0]

    def pdus_by_detector(self, detector: str, mapping: dict[str, str | None]) -> list[JSON]:
        """The PDUs of ``mapping`` (slot → PDU of ``detector``), as get_all_by_detector lists
        them; CALCAT answers 404 when no PDU is mapped."""
        det = self.catalog.detector(detector)
        det_id = record_id("detector", det)
        short = detector_json(det, det_id)
        out = []
        for module in det.modules:
            name = mapping.get(module.aggregator)
            if name is None:
                continue
            pdu = self.catalog.pdu(name)
            dtype = self.catalog.detector_type(pdu.detector_type)
            out.append({**pdu_json(pdu, record_id("detector_type", dtype), Slot(det_id, module)),
                        "detector": short, "detector_type": detector_type_json(dtype)})
        if not out:
            raise not_found(f"no PDU is mapped to {detector} at that time")
        return out

    # --- constants ----------------------------------------------------------------------
    def ccvs_by_conditions(self, detector: str, calibration_ids: list[int], asked: Asked, event_at: datetime,
                           mapping: dict[str, str | None], strategy: str, karabo_da: str | None) -> Encoded:
        """get_by_detector_conditions: the CCV chosen per calibration and module. ``asked``: the
        conditions as sent (numbers or text), normalised by the type's look-up rules
        (``LookupRules.explicit``: unknown parameters, text where a number belongs and
        calibrations not of the type are refused; legacy values left out, as EXtra does)."""
        check_strategy(strategy)
        det = self.catalog.detector(detector)
        if karabo_da is not None and karabo_da not in det.aggregators:
            raise InvalidInputError(f"{detector} has no module {karabo_da!r} (modules: {', '.join(det.aggregators)})")
        own = self.catalog.detector_type(det.type_name()).calibrations
        names = [self.name_of("calibration", i) for i in calibration_ids]
        foreign = [n for n in names if n not in own]
        if foreign:
            raise InvalidInputError(f"calibration(s) {', '.join(foreign)} are not of {det.type_name()} "
                                    f"(its calibrations: {', '.join(own)})")
        wanted = LookupRules.of(self.catalog.detector_type(det.type_name())).explicit({n: asked for n in names})
        pdus = {a: p for a, p in mapping.items() if karabo_da is None or a == karabo_da}
        outcome = self.engine.run(detector, wanted, event_at, strategy, pdus=pdus)
        det_id = record_id("detector", det)
        modules = {m.aggregator: m for m in det.modules}
        return Encoded([self.ccvs.encoded(row, Slot(det_id, modules[aggregator]))
                        for calibration in wanted.by_calibration
                        for aggregator, row in sorted(outcome.found[calibration].items())])

    def parameter_ids(self) -> dict[str, int]:
        """Spelling → integer id of every parameter."""
        return {spelling: int_id for int_id, spelling in self.ids("parameter").items()}

    def asked_parameters(self) -> Parameters:
        """What the parser of asked conditions needs: ids, spellings, which are text or numeric."""
        if self._asked_parameters is None:
            text: set[str] = set()
            numeric: set[str] = set()
            for stored in self.backend.index.condition_sets().values():
                for name, raw in stored.items():
                    value = raw["value"] if isinstance(raw, dict) else raw
                    (text if isinstance(value, str) else numeric).add(name)
            by_id = self.ids("parameter")
            self._asked_parameters = Parameters(dict(by_id), frozenset(text), frozenset(numeric),
                                                frozenset(by_id.values()))
        return self._asked_parameters

    def condition_json(self, int_id: int, conditions: dict[str, Any], created_at: str | None = None) -> JSON:
        return condition_json(int_id, conditions, self.parameter_ids(), self.catalog.parameter_deviations(), created_at)

    def ccv(self, int_id: int) -> JSON:
        rows = self.backend.ccvs_by_int_id(int_id)
        if not rows:
            raise not_found(f"no calibration constant version with id {int_id}")
        return self.ccvs.json(rows[0], self.slots_now().get(rows[0].pdu))

    def report_rows(self, report_id: int | None, path: str | None) -> tuple[int, str, list[CCVRow]]:
        """The CCVs of a report given by integer id or store path (absolute under --store too)."""
        if path is not None:
            rows = self.backend.report_ccvs(path.removeprefix(self.store_prefix) if self.store_prefix else path)
        elif report_id is not None and report_id < 2**52:
            rows = self.backend.report_ccvs(report_id)
        else:
            paths = {report_int_id(None, p): p for p in self.backend.report_paths()}
            rows = self.backend.report_ccvs(paths[report_id]) if report_id in paths else []
        if not rows:
            return report_id or 0, path or "", []
        return report_int_id(rows[0].report_id, rows[0].report_path), rows[0].report_path, rows

    def ccv_list(self, rows: list[CCVRow]) -> list[JSON]:
        """CCVs in CALCAT's order: by id."""
        now = self.slots_now()
        out = [self.ccvs.json(row, now.get(row.pdu)) for row in rows]
        return sorted(out, key=lambda ccv: int(ccv["id"]))

    def report(self, int_id: int) -> JSON:
        rid, path, rows = self.report_rows(int_id, None)
        if not rows:
            raise not_found(f"no report with id {int_id}")
        return report_json(rid, path, self.store_prefix, self.ccv_list(rows), self.ccvs.kept(rows[0])[1],
                           self.ccvs.view_url(rows[0], "reports"))
