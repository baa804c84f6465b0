"""The answers of the CALCAT REST API subset, read from one catalog snapshot.

:class:`CalcatView` turns ids and names into records and records into CALCAT-shaped
JSON (``calcatjson``); look-ups go through the index and :class:`lookup.Engine` (the
selection rules are never re-implemented here). ``server`` handles HTTP around it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

import orjson

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.errors import InvalidInputError, NotFoundError, RepositoryError
from calcat_git.files.config import CONFIG_FILE, parse_config
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.lookup.engine import Engine
from calcat_git.lookup.results import ccv_int_id
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.mapping import Mapping
from calcat_git.model.records import Parameter, Verbatim
from calcat_git.model.selection import Asked, CCVRow, check_strategy
from calcat_git.server.shapes import (
    JSON,
    CCVContext,
    Slot,
    calcat_time,
    calibration_json,
    ccv_json,
    ccv_pdu_json,
    condition_json,
    condition_key,
    detector_json,
    detector_type_json,
    instrument_json,
    parameter_id,
    parameter_json,
    pdu_json,
    record_id,
    report_int_id,
    report_json,
    served_condition_id,
)
from calcat_git.timeutil import from_micros, micros, now_utc, parse_facility_time


def client_time(text: str | None, zone: tzinfo, what: str) -> datetime | None:
    """A time as a CALCAT client sends it; ``None`` or ``''`` means now (None).

    The one place where the server accepts a naive time: EXtra passes strings through
    as it got them, and recorded requests carry times such as ``2020-01-07 13:26:48.00``,
    which CALCAT reads in the facility's zone (``zone``; see ``parse_facility_time``).
    """
    if text is None or not text.strip():
        return None
    return parse_facility_time(text, zone, what)


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"Resource not found! {what}")


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a fifth of a reply's CPU time was the stdlib encoder)."""
    return orjson.dumps(data)


class Encoded:
    """A JSON array whose items are already serialised (replies are joined, not re-encoded)."""

    def __init__(self, items: list[bytes]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def bytes(self) -> bytes:
        return b"[" + b",".join(self.items) + b"]"


class Memo(OrderedDict[Any, Any]):
    """A small LRU dict (least recently used entries dropped beyond ``size``)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


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
        self._created: dict[str, str | None] = {}  # batch → its injection time as CALCAT writes it
        self._condition_keys: dict[int, tuple[dict[str, Any], str]] = {}
        self._site_url: str | None = None
        self._conditions: dict[int, dict[str, Any]] | None = None  # served condition id -> condition
        self._batches = Memo(256)  # CALCAT's kept fields of imported CCVs, per batch file
        self._placements: _Placements | None = None
        self._parts = Memo(50_000)  # shared parts of CCV JSON (a PDU in its slots, a calibration constant)
        self._ccvs = Memo(20_000)  # serialised CCV in a slot (~1.3 kB each): fixed for a snapshot
        self.replies = Memo(256)  # whole replies of fully specified look-ups (see server), ~80 kB each

    def names(self, kind: str) -> list[str]:
        """Identifiers of every record of ``kind`` in this snapshot (kept: a snapshot never changes)."""
        if kind not in self._names:
            self._names[kind] = self.catalog.names(kind)
        return self._names[kind]

    def placements(self) -> _Placements:
        """Where each PDU sat when, in this snapshot (made on first use, kept)."""
        if self._placements is None:
            self._placements = _Placements(self.catalog, self.names("detector"))
        return self._placements

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

    def detectors(self, identifier: str | None = None, instrument_id: int | None = None) -> list[JSON]:
        names = self.names("detector")
        if identifier is not None:
            names = [n for n in names if n == identifier]
        if instrument_id is not None:
            instrument = self.name_of("instrument", instrument_id)
            names = [n for n in names if instrument in self.catalog.detector(n).instruments]
        return sorted((self.detector(n) for n in names), key=lambda d: int(d["id"]))  # CALCAT: by id

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

    def pdus(self, physical_name: str | None = None) -> list[JSON]:
        names = [n for n in self.names("pdu") if physical_name is None or n == physical_name]
        slots = self.slots_now()
        out = []
        for name in names:
            pdu = self.catalog.pdu(name)
            out.append(pdu_json(pdu, self._type_id(pdu.detector_type), slots.get(name)))
        return out

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
    def ccvs_by_conditions(self, detector: str, calibration_ids: list[int], asked: Asked, event_at: datetime | None,
                           mapping: dict[str, str | None], strategy: str, karabo_da: str | None) -> Encoded:
        """get_by_detector_conditions: the CCV chosen per calibration and module."""
        check_strategy(strategy)
        det = self.catalog.detector(detector)
        if karabo_da is not None and karabo_da not in det.aggregators:
            raise not_found(f"{detector} has no module {karabo_da!r}")
        own = set(self.catalog.detector_type(det.type_name()).calibrations)
        names = [self.name_of("calibration", i) for i in calibration_ids]
        wanted = {n: dict(asked) for n in names if n in own}
        pdus = {a: p for a, p in mapping.items() if karabo_da is None or a == karabo_da}
        outcome = self.engine.run(detector, wanted, event_at or now_utc(), strategy, pdus=pdus)
        det_id = record_id("detector", det)
        modules = {m.aggregator: m for m in det.modules}
        slots = self.placements()
        out = []
        for calibration in wanted:
            for aggregator, row in sorted(outcome.found.get(calibration, {}).items()):
                slot = Slot(det_id, modules[aggregator])

                def encode(row: CCVRow = row, slot: Slot = slot) -> bytes:
                    return dumps(self._ccv(row, slot, slots))

                out.append(self._ccvs.get_or((row.ccv_id, det_id, aggregator), encode))
        return Encoded(out)

    def _ccv(self, row: CCVRow, slot: Slot | None, slots: _Placements) -> JSON:
        """A CCV as CALCAT shows it; the parts many rows share are made once per snapshot."""
        at_begin = slots.find(row.pdu, row.detector, row.begin_at)
        pdu = self.catalog.pdu(row.pdu)
        type_id = self._type_id(pdu.detector_type)
        pdu_json = self._parts.get_or(("pdu", row.pdu, slot, at_begin), lambda: ccv_pdu_json(pdu, type_id, slot, at_begin))
        ctx = CCVContext(calibration=self.catalog.calibration(row.calibration), detector_type=pdu.detector_type,
                         detector_type_id=type_id, pdu=pdu_json,
                         created_at=self._created_at(row.batch), conditions=self._condition_key(row.conditions),
                         kept=self.kept(row)[0], view_url=self.view_url(row, "calibration_constant_versions"))
        return ccv_json(row, ctx, self.zone)

    def view_url(self, row: CCVRow, kind: str) -> str:
        """A page for a record CALCAT has no URL of: the static site's report page of its
        detector when ``calcat-git.yaml`` names ``site_url``, else its path on this server."""
        if self._site_url is None:
            repo_commit = self.catalog._git() if self.catalog.commit else None
            raw = repo_commit[0].show_file(repo_commit[1].sha, CONFIG_FILE) if repo_commit else None
            try:
                self._site_url = str(parse_config(raw).get("site_url", "")).rstrip("/") if raw else ""
            except InvalidInputError:
                self._site_url = ""
        if self._site_url:
            return f"{self._site_url}/catalog/reports/{row.detector}/"
        int_id = ccv_int_id(row.ccv_id, row.calcat_id) if kind == "calibration_constant_versions" else \
            report_int_id(row.report_id, row.report_path)
        return f"/api/{kind}/{int_id}"

    def kept(self, row: CCVRow) -> tuple[Verbatim | None, Verbatim | None]:
        """CALCAT's kept fields of an imported CCV and of its report (read from its batch file)."""
        if row.calcat_id is None:
            return None, None
        found = self._batches.get_or(row.batch, lambda: self._read_batch(row.batch))
        return (found[0].get(row.calcat_id), found[1]) if found else (None, None)

    def _read_batch(self, path: str) -> tuple[dict[int, Verbatim], Verbatim | None] | None:
        repo_commit = self.catalog._git() if self.catalog.commit else None
        raw = repo_commit[0].show_file(repo_commit[1].sha, path) if repo_commit else None
        if raw is None:
            return None
        try:
            batch = ConstantBatch.from_dict(load_yaml(raw).data)
        except (YamlError, KeyError, TypeError, ValueError):
            return None  # the index read this commit's file; it validated when committed
        return {c.calcat_id: c.calcat for c in batch.constants if c.calcat_id and c.calcat}, batch.report.calcat

    def _condition_key(self, conditions: dict[str, Any]) -> str:
        """``condition_key``, once per condition set (rows of one set share its dict)."""
        kept = self._condition_keys.get(id(conditions))
        if kept is None or kept[0] is not conditions:
            kept = self._condition_keys[id(conditions)] = (conditions, condition_key(conditions))
        return kept[1]

    def _created_at(self, batch: str) -> str | None:
        if batch not in self._created:
            stamp = self.backend.injected_at(batch)
            self._created[batch] = None if stamp is None else calcat_time(from_micros(stamp), self.zone)
        return self._created[batch]

    def condition(self, int_id: int) -> JSON:
        """A condition by the id its CCVs are served with (CALCAT's for imported ones)."""
        if self._conditions is None:
            table: dict[int, dict[str, Any]] = {}
            for row in self.backend.all_ccvs():
                key = self._condition_key(row.conditions)
                table.setdefault(served_condition_id(key, self.kept(row)[0]), row.conditions)
            self._conditions = table
        found = self._conditions.get(int_id)
        if found is None:
            raise not_found(f"no condition with id {int_id}")
        ids = {s: parameter_id(self._parameter(n), s) for n in self.names("parameter")
               for s in self._parameter(n).spellings}
        return condition_json(int_id, found, ids, self.catalog.parameter_deviations())

    def ccv(self, int_id: int) -> JSON:
        rows = self.backend.ccvs_by_int_id(int_id)
        if not rows:
            raise not_found(f"no calibration constant version with id {int_id}")
        return self._ccv(rows[0], self.slots_now().get(rows[0].pdu), self.placements())

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
        slots = self.placements()
        out = [self._ccv(row, now.get(row.pdu), slots) for row in rows]
        return sorted(out, key=lambda ccv: int(ccv["id"]))

    def report(self, int_id: int) -> JSON:
        rid, path, rows = self.report_rows(int_id, None)
        if not rows:
            raise not_found(f"no report with id {int_id}")
        return report_json(rid, path, self.store_prefix, self.ccv_list(rows), self.kept(rows[0])[1],
                           self.view_url(rows[0], "reports"))


class _Placements:
    """Where a PDU sat at a time: first in the detector it was injected for, then in any
    other (in name order). Built once per snapshot from the mapping periods of every
    detector, so a look-up is a scan of one PDU's few periods."""

    def __init__(self, catalog: Catalog, detectors: list[str]) -> None:
        self.by_pdu: dict[str, list[tuple[int, int | None, Slot]]] = {}
        for name in detectors:  # in name order: the order of preference after the hint
            det = catalog.detector(name)
            try:
                mapping = catalog.backend.record("mapping", name, Mapping)
            except NotFoundError:
                continue
            modules, det_id = {m.aggregator: m for m in det.modules}, record_id("detector", det)
            for period in mapping.periods():
                if period.pdu is not None and period.aggregator in modules:
                    until = period.interval.until
                    self.by_pdu.setdefault(period.pdu, []).append(
                        (micros(period.interval.since), None if until is None else micros(until),
                         Slot(det_id, modules[period.aggregator])))
        self.ids = {name: record_id("detector", catalog.detector(name)) for name in detectors}

    def find(self, pdu: str, hint: str, at_us: int) -> Slot | None:
        hint_id, first = self.ids.get(hint), None
        for since, until, slot in self.by_pdu.get(pdu, ()):
            if since <= at_us and (until is None or at_us < until):
                if slot.detector_id == hint_id:
                    return slot
                first = first or slot
        return first


def parse_conditions(body: Any) -> Asked:
    """``{"parameters_conditions_attributes": [{"parameter_name": …, "value": …}, …]}`` → asked."""
    items = body.get("parameters_conditions_attributes") if isinstance(body, dict) else None
    if not isinstance(items, list) or set(body) != {"parameters_conditions_attributes"}:
        raise InvalidInputError('the JSON body must be {"parameters_conditions_attributes": [{"parameter_name": '
                                'NAME, "value": VALUE}, …]}')
    asked: Asked = {}
    for item in items:
        if not isinstance(item, dict) or set(item) != {"parameter_name", "value"}:
            raise InvalidInputError(f"each condition must have exactly parameter_name and value, got {item!r}")
        name, value = item["parameter_name"], item["value"]
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidInputError(f"condition {item!r}: parameter_name must be a string, value a number or string")
        if name in asked:
            raise InvalidInputError(f"parameter {name!r} is given twice")
        asked[name] = value if isinstance(value, str) else float(value)
    return asked
