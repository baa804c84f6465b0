"""CCVs as CALCAT's JSON, from one catalog snapshot: what a look-up reply is mostly made of.

A CCV's JSON is its row's own fields around two parts many CCVs share: its
``calibration_constant`` (calibration, detector type, condition set) and its
``physical_detector_unit`` (a PDU where it sits and where it sat at ``begin_at``). For a
CCV of this catalog both parts are serialised once per snapshot and spliced into each
reply unparsed (``orjson.Fragment``), so a new CCV costs one small dict; an imported CCV
(CALCAT's own fields laid over ours) is built whole. A CCV's bytes are kept per slot too:
they never change for a snapshot.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo
from typing import Any

import orjson

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.errors import CatalogInvalidError, InvalidInputError, NotFoundError
from calcat_git.lookup.ccv_metadata import BatchKept, batch_kept
from calcat_git.model.calcat_ids import ccv_int_id, report_int_id
from calcat_git.model.mapping import Mapping
from calcat_git.model.records import Verbatim
from calcat_git.model.selection import CCVRow
from calcat_git.server.shapes import (
    JSON,
    CCVContext,
    Slot,
    calcat_time,
    calibration_constant_json,
    ccv_json,
    ccv_pdu_json,
    condition_key,
    record_id,
)
from calcat_git.timeutil import from_micros, micros


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


_MISSING = object()


class Memo(OrderedDict[Any, Any]):
    """A small LRU dict (least recently used entries dropped beyond ``size``)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def hit(self, key: Any, default: Any = None) -> Any:
        """The value kept for ``key`` (now the most recently used), or ``default``."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            return default
        self.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> Any:
        """Keep ``value`` for ``key``, dropping the least recently used beyond ``size``."""
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        found = self.hit(key, _MISSING)  # a kept None is a value too
        return self.put(key, make()) if found is _MISSING else found


class Placements:
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


def _place(slot: Slot | None) -> tuple[int, str] | None:
    """A slot as a cheap key (a ``Slot`` hashes its whole module)."""
    return None if slot is None else (slot.detector_id, slot.module.aggregator)


class CCVEncoder:
    """CCV JSON of one snapshot, with the parts CCVs share made once and kept."""

    def __init__(self, catalog: Catalog, backend: IndexedSnapshot, zone: tzinfo, detectors: Callable[[], list[str]]
                 ) -> None:
        self.catalog, self.backend, self.zone = catalog, backend, zone
        self._detectors = detectors
        self._placements: Placements | None = None
        self._site_url: str | None = None
        self._created: dict[str, str | None] = {}  # batch → its injection time as CALCAT writes it
        self._condition_keys: dict[int, tuple[dict[str, Any], str]] = {}
        self._types: dict[str, tuple[str, int]] = {}  # PDU → its detector type and the type's id
        self._batches = Memo(256)  # CALCAT's kept fields of imported CCVs, per batch file
        self._parts = Memo(50_000)  # CCVContext per calibration, PDU, condition set and slots
        self._ccvs = Memo(20_000)  # serialised CCV in a slot (~1.3 kB each): fixed for a snapshot

    def placements(self) -> Placements:
        """Where each PDU sat when, in this snapshot (made on first use, kept)."""
        if self._placements is None:
            self._placements = Placements(self.catalog, self._detectors())
        return self._placements

    def encoded(self, row: CCVRow, slot: Slot) -> bytes:
        """The CCV's JSON in a look-up's reply (``slot``: the module it was chosen for)."""
        key = (row.ccv_id, slot.detector_id, slot.module.aggregator)
        found: bytes | None = self._ccvs.hit(key)  # (no closure for get_or: this runs per CCV of a reply)
        return found if found is not None else self._ccvs.put(key, dumps(self.json(row, slot, row.calcat_id is None)))

    def json(self, row: CCVRow, slot: Slot | None, shared: bool = False) -> JSON:
        """A CCV as CALCAT shows it; with ``shared`` (never for an imported CCV, whose kept
        fields are laid over the whole) the shared parts are pre-serialised fragments."""
        at_begin = self.placements().find(row.pdu, row.detector, row.begin_at)
        conditions = self.condition_key(row.conditions)
        key = (row.calibration, row.pdu, conditions, _place(slot), _place(at_begin), shared)
        ctx = self._parts.hit(key)
        if ctx is None:
            ctx = self._parts.put(key, self._context(row, conditions, slot, at_begin, shared))
        if row.calcat_id is not None:
            ctx = replace(ctx, kept=self.kept(row)[0])
        return ccv_json(row, ctx, self.zone, self._created_at(row.batch), self.view_url(row, "calibration_constant_versions"))

    def _context(self, row: CCVRow, conditions: str, slot: Slot | None, at_begin: Slot | None, shared: bool
                 ) -> CCVContext:
        """What CCVs of one calibration, PDU, slot and condition set share."""
        type_name, type_id = self.type_of(row.pdu)
        calibration = self.catalog.calibration(row.calibration)
        pdu: Any = ccv_pdu_json(self.catalog.pdu(row.pdu), type_id, slot, at_begin)
        constant = None
        if shared:
            pdu = orjson.Fragment(dumps(pdu))
            constant = orjson.Fragment(dumps(calibration_constant_json(calibration, type_name, type_id, conditions)))
        return CCVContext(calibration=calibration, detector_type=type_name, detector_type_id=type_id, pdu=pdu,
                          conditions=conditions, constant=constant)

    def type_of(self, pdu: str) -> tuple[str, int]:
        found = self._types.get(pdu)
        if found is None:
            name = self.catalog.pdu(pdu).detector_type
            found = self._types[pdu] = (name, record_id("detector_type", self.catalog.detector_type(name)))
        return found

    def view_url(self, row: CCVRow, kind: str) -> str:
        """A page for a record CALCAT has no URL of: the static site's report page of its
        detector when ``calcat-git.yaml`` names ``site_url``, else its path on this server."""
        if self._site_url is None:
            try:
                config = self.catalog.config() if self.catalog.commit else {}
            except InvalidInputError:
                config = {}
            self._site_url = str(config.get("site_url", "")).rstrip("/")
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

    def _read_batch(self, path: str) -> BatchKept | None:
        if not self.catalog.commit:
            return None
        try:
            return batch_kept(self.catalog, path)
        except (NotFoundError, CatalogInvalidError):
            return None  # the index read this commit's file; it validated when committed

    def condition_key(self, conditions: dict[str, Any]) -> str:
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
