"""CALCAT's calibration-constant layer, derived from one catalog snapshot's CCVs.

A calibration constant (CC) is CALCAT's (calibration, detector type, condition) triple.
The catalog has no CC records: every CCV belongs to the CC its JSON names
(``calibration_constant``: CALCAT's ids for imported CCVs, stable ids otherwise; the rules
are ``model.calcat_ids``), so a CC's versions are the CCVs naming it, and a condition is
the condition set of its CCVs.

Nothing here holds a snapshot's CCVs. The index groups them by what makes their CC (PDU,
calibration, condition set, and the CC and condition ids an imported CCV keeps:
``Index.constant_groups``), a row per group in SQL. The versions of CCs for a PDU read
that PDU's groups, then only the CCVs of the CCs asked; a CC by CALCAT's id reads its own
groups. Listing CCs, a CC by a stable id and the conditions need every CC: a directory of
one entry per CC and per condition, made on first use per snapshot from the groups,
streamed from one aggregate query (time in SQLite grows with the CCVs, memory only with
the CCs and conditions). A CC's fields are its first CCV's (earliest begin_at); a
condition was first used at the earliest ``injected_at`` of its CCVs.

The versions of CCs for a PDU follow CALCAT's calls: ``snapshot_at`` keeps the CCVs
injected by then (the catalog's ``injected_at``, CALCAT's ``created_at``); only
good-quality, deployed CCVs whose validity has not ended by ``event_at`` are chosen
(``get_all_versions`` lists every one); ``prior``/``closest`` are the selection rules of
``model.selection``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.index.schema import Group
from calcat_git.model.calcat_ids import calibration_constant_id, condition_set_id
from calcat_git.model.selection import Asked, CCVRow, choose, condition_mismatch, eligibility
from calcat_git.server.ccvs import Memo
from calcat_git.server.shapes import JSON, Slot, calcat_time, calibration_constant_json, kept_constant, record_id
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import from_micros, micros

PDU_GROUPS = 256  # PDUs whose groups (by CC) a layer keeps: a few kB each

_UNREAD = object()


@dataclass
class Constant:
    """One CC: its fields, from its first CCV, and that CCV's index group."""

    int_id: int
    calibration: str
    detector_type: str
    conditions_key: str
    condition_id: int
    conditions: dict[str, Any]
    first: Group  # the group of its first CCV
    kept_block: Any = _UNREAD  # CALCAT's kept calibration_constant block of its first CCV, once read

    @property
    def first_us(self) -> int:
        """begin_at of its first CCV."""
        return self.first.first_begin_us


@dataclass
class Condition:
    """One condition: its values and when it was first used (micros, for CALCAT's order)."""

    int_id: int
    conditions: dict[str, Any]
    first_us: int
    first_begin: int  # begin_at of its first CCV (whose condition set it shows)


@dataclass
class Directory:
    """Every CC and condition of a snapshot, from its index groups."""

    constants: dict[int, Constant] = field(default_factory=dict)
    conditions: dict[int, Condition] = field(default_factory=dict)


def _stored(raw: Any) -> Any:
    return raw["value"] if isinstance(raw, dict) else raw


def not_found(what: str) -> NotFoundError:
    return NotFoundError(f"Resource not found! {what}")


class Constants:
    """The CCs and conditions of one snapshot (``of(view)`` keeps one per view)."""

    def __init__(self, view: CalcatView) -> None:
        self.view = view
        self._created: dict[str, int] = {}
        self._directory: Directory | None = None
        self._by_pdu = Memo(PDU_GROUPS)  # PDU → {CC id: its groups of the PDU}

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

    # --- groups and the directory --------------------------------------------------------------
    def _identify(self, group: Group) -> tuple[int, int, str, str]:
        """A group's CC id, condition id, detector type and condition key."""
        type_name = self.view.ccvs.type_of(group.pdu)[0]
        key = self.view.ccvs.condition_key(self.view.backend.index.condition_sets()[group.condition_set])
        cc_id = group.kept_constant if group.kept_constant is not None else calibration_constant_id(
            type_name, group.calibration, key)
        cond = group.kept_condition if group.kept_condition is not None else condition_set_id(key)
        return cc_id, cond, type_name, key

    def _gather(self, groups: Iterable[Group], into: Directory) -> Directory:
        """Add the CCs and conditions of ``groups`` (each's fields from its first CCV)."""
        sets = self.view.backend.index.condition_sets()
        for group in groups:
            cc_id, cond, type_name, key = self._identify(group)
            first_us, conditions = group.first_begin_us, sets[group.condition_set]
            known = into.constants.get(cc_id)
            if known is None or first_us < known.first_us:
                into.constants[cc_id] = Constant(cc_id, group.calibration, type_name, key, cond, conditions, group)
            found = into.conditions.get(cond)
            if found is None:
                into.conditions[cond] = Condition(cond, conditions, group.first_injected_us, first_us)
            else:
                found.first_us = min(found.first_us, group.first_injected_us)
                if first_us < found.first_begin:
                    found.conditions, found.first_begin = conditions, first_us
        return into

    def directory(self) -> Directory:
        """Every CC and condition of the snapshot (one aggregate query, on first use)."""
        if self._directory is None:
            self._directory = self._gather(self.view.backend.constant_groups(), Directory())
        return self._directory

    @property
    def by_id(self) -> dict[int, Constant]:
        return self.directory().constants

    @property
    def conditions(self) -> dict[int, Condition]:
        return self.directory().conditions

    def find(self, int_id: int) -> Constant | None:
        """The CC ``int_id``: CALCAT's (kept by imported CCVs) from its own groups, a stable
        id from the directory."""
        if self._directory is None:
            own = self._gather(self.view.backend.constant_groups(constant_id=int_id), Directory())
            if int_id in own.constants:
                return own.constants[int_id]
        return self.directory().constants.get(int_id)

    def _pdu_groups(self, pdu: str) -> dict[int, list[Group]]:
        found: dict[int, list[Group]] | None = self._by_pdu.hit(pdu)
        if found is None:
            found = {}
            for group in self.view.backend.constant_groups(pdu=pdu):
                found.setdefault(self._identify(group)[0], []).append(group)
            self._by_pdu.put(pdu, found)
        return found

    # --- calibration constants ---------------------------------------------------------------
    def kept(self, cc: Constant) -> dict[str, Any] | None:
        """CALCAT's kept ``calibration_constant`` block of the CC's first CCV (None unless imported)."""
        if cc.kept_block is _UNREAD:
            rows = self.view.backend.group_ccvs(cc.first, first=True) if cc.first.imported else []
            cc.kept_block = kept_constant(self.view.ccvs.kept(rows[0])[0]) if rows else None
        found: dict[str, Any] | None = cc.kept_block
        return found

    def json(self, cc: Constant) -> JSON:
        catalog = self.view.catalog
        dtype = catalog.detector_type(cc.detector_type)
        return calibration_constant_json(catalog.calibration(cc.calibration), cc.detector_type,
                                         record_id("detector_type", dtype), cc.conditions_key, self.kept(cc))

    def get(self, int_id: int) -> Constant:
        found = self.find(int_id)
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
        limit, groups, found = micros(snapshot_at) if snapshot_at is not None else None, self._pdu_groups(pdu), []
        for cc_id in dict.fromkeys(cc_ids):
            if cc_id not in groups:
                self.get(cc_id)  # a CC without CCVs for this PDU, or none at all
            found += [row for group in groups.get(cc_id, ()) for row in self.view.backend.group_ccvs(group)]
        return [row for row in found if limit is None or self.created_us(row) <= limit]

    def choose(self, rows: list[CCVRow], event_at: datetime, strategy: str) -> CCVRow | None:
        event_us = micros(event_at)
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

    def possible(self, asked: Asked, event_at: datetime) -> list[JSON]:
        """The conditions whose deviations cover the asked values, the one first used closest
        to ``event_at`` first."""
        defaults, event_us = self.view.catalog.parameter_deviations(), micros(event_at)
        found = [c for c in self.conditions.values() if condition_mismatch(c.conditions, asked, defaults) is None]
        if not found:
            raise not_found("no condition covers these parameters and values")
        found.sort(key=lambda c: (abs(c.first_us - event_us), c.int_id))
        return [self.condition_json(c) for c in found]


def _equal(stored: Any, asked: float | str) -> bool:
    if isinstance(stored, str) or isinstance(asked, str):
        return str(stored) == str(asked)
    return float(stored) == asked
