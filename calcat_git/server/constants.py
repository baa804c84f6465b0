"""CALCAT's calibration-constant layer, derived from one catalog snapshot's CCVs.

A calibration constant (CC) is CALCAT's (calibration, detector type, condition) triple.
The catalog has no CC records: every CCV belongs to the CC its JSON names
(``calibration_constant``: CALCAT's ids for imported CCVs, stable ids otherwise; the rules
are ``model.calcat_ids``), so a CC's versions are the CCVs naming it, and a condition is
the condition set of its CCVs. Built once per snapshot on first use.

The versions of CCs for a PDU follow CALCAT's calls: ``snapshot_at`` keeps the CCVs
injected by then (the catalog's ``injected_at``, CALCAT's ``created_at``); only
good-quality, deployed CCVs whose validity has not ended by ``event_at`` are chosen
(``get_all_versions`` lists every one); ``prior``/``closest`` are the selection rules of
``model.selection``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.model.calcat_ids import calibration_constant_id, condition_id
from calcat_git.model.selection import Asked, CCVRow, choose, condition_mismatch, eligibility
from calcat_git.server.shapes import JSON, Slot, calcat_time, calibration_constant_json, kept_constant, record_id
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import from_micros, micros, now_utc


@dataclass
class Constant:
    """One CC and its CCVs in this snapshot."""

    int_id: int
    calibration: str
    detector_type: str
    conditions_key: str
    condition_id: int
    kept: dict[str, Any] | None
    rows: list[CCVRow] = field(default_factory=list)


@dataclass
class Condition:
    """One condition: its values and when it was first used (micros, for CALCAT's order)."""

    int_id: int
    conditions: dict[str, Any]
    first_us: int


def _stored(raw: Any) -> Any:
    return raw["value"] if isinstance(raw, dict) else raw


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"Resource not found! {what}")


class Constants:
    """The CCs and conditions of one snapshot (``of(view)`` keeps one per view)."""

    def __init__(self, view: CalcatView) -> None:
        self.view = view
        self.by_id: dict[int, Constant] = {}
        self.conditions: dict[int, Condition] = {}
        self._created: dict[str, int] = {}
        for row in view.backend.all_ccvs():
            type_name = view.ccvs.type_of(row.pdu)[0]
            key = view.ccvs.condition_key(row.conditions)
            kept = kept_constant(view.ccvs.kept(row)[0])
            cc_id = calibration_constant_id(type_name, row.calibration, key, kept)
            cond = condition_id(key, kept)
            self.by_id.setdefault(cc_id, Constant(cc_id, row.calibration, type_name, key, cond, kept)).rows.append(row)
            created = self.created_us(row)
            known = self.conditions.setdefault(cond, Condition(cond, row.conditions, created))
            known.first_us = min(known.first_us, created)

    @staticmethod
    def of(view: CalcatView) -> Constants:
        found = view.cache.get("constants")
        if not isinstance(found, Constants):
            found = view.cache["constants"] = Constants(view)
        return found

    def created_us(self, row: CCVRow) -> int:
        """When the CCV entered the catalog (its batch's injected_at), else its begin_at."""
        if row.batch not in self._created:
            stamp = self.view.backend.injected_at(row.batch)
            self._created[row.batch] = stamp if stamp is not None else row.begin_at
        return self._created[row.batch]

    # --- calibration constants ---------------------------------------------------------------
    def json(self, cc: Constant) -> JSON:
        catalog = self.view.catalog
        dtype = catalog.detector_type(cc.detector_type)
        return calibration_constant_json(catalog.calibration(cc.calibration), cc.detector_type,
                                         record_id("detector_type", dtype), cc.conditions_key, cc.kept)

    def get(self, int_id: int) -> Constant:
        found = self.by_id.get(int_id)
        if found is None:
            raise not_found(f"no calibration constant with id {int_id}")
        return found

    def all(self, name: str | None = None) -> list[JSON]:
        out = [self.json(cc) for cc in self.by_id.values()]
        return sorted((c for c in out if name is None or c["name"] == name), key=lambda c: int(c["id"]))

    def by_conditions(self, calibration_id: int, detector_type_id: int, condition_ids: list[int]) -> list[JSON]:
        """The CCs of a calibration and detector type with any of ``condition_ids``."""
        calibration, type_name = self._calibration_of_type(calibration_id, detector_type_id)
        wanted = set(condition_ids)
        return sorted((self.json(cc) for cc in self.by_id.values() if cc.calibration == calibration
                       and cc.detector_type == type_name and cc.condition_id in wanted), key=lambda c: int(c["id"]))

    def _calibration_of_type(self, calibration_id: int, detector_type_id: int) -> tuple[str, str]:
        calibration = self.view.name_of("calibration", calibration_id)
        type_name = self.view.name_of("detector_type", detector_type_id)
        if calibration not in self.view.catalog.detector_type(type_name).calibrations:
            raise InvalidInputError(f"calibration {calibration} (id {calibration_id}) is not of {type_name}")
        return calibration, type_name

    # --- versions ----------------------------------------------------------------------------
    def rows(self, cc_ids: list[int], pdu: str, snapshot_at: datetime | None) -> list[CCVRow]:
        """The CCVs of the CCs ``cc_ids`` for ``pdu`` injected by ``snapshot_at``."""
        limit = micros(snapshot_at) if snapshot_at is not None else None
        return [row for cc_id in dict.fromkeys(cc_ids) for row in self.get(cc_id).rows
                if row.pdu == pdu and (limit is None or self.created_us(row) <= limit)]

    def choose(self, rows: list[CCVRow], event_at: datetime | None, strategy: str) -> CCVRow | None:
        event_us = micros(event_at or now_utc())
        usable = [r for r in rows if eligibility(r, event_us, include_bad=False) is None]
        return choose(usable, event_us, strategy)

    def ccv_json(self, row: CCVRow, slot: Slot | None = None) -> JSON:
        return self.view.ccvs.json(row, slot if slot is not None else self.view.slots_now().get(row.pdu))

    # --- conditions ----------------------------------------------------------------------------
    def condition(self, int_id: int) -> JSON:
        found = self.conditions.get(int_id)
        if found is None:
            raise not_found(f"no condition with id {int_id}")
        return self.condition_json(found)

    def condition_json(self, found: Condition) -> JSON:
        return self.view.condition_json(found.int_id, found.conditions, calcat_time(from_micros(found.first_us),
                                                                                    self.view.zone))

    def expected(self, asked: Asked) -> JSON:
        """The condition with exactly these parameters and values (CALCAT's own first)."""
        for int_id in sorted(self.conditions):
            stored = self.conditions[int_id].conditions
            if set(stored) == set(asked) and all(_equal(_stored(stored[n]), v) for n, v in asked.items()):
                return self.condition_json(self.conditions[int_id])
        raise not_found("no condition has exactly these parameters and values")

    def possible(self, asked: Asked, event_at: datetime | None) -> list[JSON]:
        """The conditions whose deviations cover the asked values, the one first used closest
        to ``event_at`` first."""
        defaults, event_us = self.view.catalog.parameter_deviations(), micros(event_at or now_utc())
        found = [c for c in self.conditions.values() if condition_mismatch(c.conditions, asked, defaults) is None]
        if not found:
            raise not_found("no condition covers these parameters and values")
        found.sort(key=lambda c: (abs(c.first_us - event_us), c.int_id))
        return [self.condition_json(c) for c in found]


def _equal(stored: Any, asked: float | str) -> bool:
    if isinstance(stored, str) or isinstance(asked, str):
        return str(stored) == str(asked)
    return float(stored) == asked
