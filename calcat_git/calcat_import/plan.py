"""What an import adds to a catalog: CALCAT facts compared with the catalog's records.

Records are matched by name (CCVs by ``calcat_id``). A record the catalog lacks is
added; one it has is left as it is, and a disagreement with CALCAT is reported as a
conflict, never overwritten. The only edits of existing files are additions the
imported CCVs need: a calibration or parameter joins a detector type's list, a spelling
joins a parameter. CCVs go into new batch files, one per detector, report and condition.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

from calcat_git.calcat_import.checks import check_file_name
from calcat_git.calcat_import.facts import Facts
from calcat_git.calcat_import.kept import detector_with_instruments, differing
from calcat_git.calcat_import.observed import extend_mapping, fold_observations
from calcat_git.files.loading import Registry
from calcat_git.model.calcat_fields import (
    calibration_fields,
    detector_type_fields,
    instrument_fields,
    module_fields,
    pdu_fields,
)
from calcat_git.model.records import (
    PDU,
    Calibration,
    Detector,
    DetectorType,
    Instrument,
    Module,
    Parameter,
    Verbatim,
)

AGGREGATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+/-]*$")   # a slot key, never a file name: '/' allowed


@dataclass
class Plan:
    records: dict[str, Any] = field(default_factory=dict)        # repo path -> record (to_dict-able)
    added: Counter[str] = field(default_factory=Counter)
    extended: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "parameter"


def _module_number(aggregator: str, position: int) -> int:
    digits = re.search(r"(\d+)$", aggregator)
    return int(digits.group(1)) if digits else position


class RegistryPlanner:
    """Plans the registry records (calibrations, instruments, types, PDUs, detectors and
    mappings); :class:`~calcat_git.calcat_import.plan_ccvs.Planner` adds the CCVs."""

    def __init__(self, facts: Facts, reg: Registry, experts: tuple[str, ...]) -> None:
        self.facts, self.reg, self.experts = facts, reg, experts
        self.plan = Plan(conflicts=list(facts.conflicts), notes=list(facts.notes))
        self.types: dict[str, DetectorType] = dict(reg.detector_types)
        self.calibrations: dict[str, Calibration] = dict(reg.calibrations)
        self.parameters: dict[str, Parameter] = dict(reg.parameters)
        self.pdus: dict[str, PDU] = dict(reg.pdus)
        self.detectors: dict[str, Detector] = dict(reg.detectors)
        self.instruments: dict[str, Instrument] = dict(reg.instruments)

    # -- helpers ---------------------------------------------------------------------
    def _put(self, kind: str, path: str, record: Any, new: bool) -> None:
        if new and path not in self.plan.records:
            self.plan.added[kind] += 1
        elif not new and path not in self.plan.extended and path in self.reg.sources:
            self.plan.extended.append(path)
        self.plan.records[path] = record

    def _same(self, kind: str, name: str, have: Any, calcat_id: int) -> None:
        if have.calcat_id is not None and have.calcat_id != calcat_id:
            self.plan.conflicts.append(f"{kind} {name}: calcat_id {have.calcat_id} in the catalog, "
                                       f"{calcat_id} in CALCAT; left as it is")

    def type_name(self, type_id: int) -> str | None:
        rec = self.facts.detector_types.get(type_id)
        return None if rec is None else str(rec["name"])

    # -- registry records --------------------------------------------------------------
    def _add_named(self, kind: str, folder: str, key: str, facts: dict[int, dict[str, Any]],
                   table: dict[str, Any], make: Any, fields: Any) -> None:
        """Add each record of ``facts`` (by CALCAT id) the catalog lacks by name ``key``; one it
        has (same CALCAT id) gains CALCAT's kept fields if it has none yet."""
        for calcat_id, rec in sorted(facts.items()):
            name = check_file_name(kind.replace("_", " "), calcat_id, rec[key])
            if name in table:
                self._same(kind, name, table[name], calcat_id)
                self._keep_verbatim(kind, table, name, calcat_id, differing(rec, fields(table[name])))
                continue
            made = make(name, calcat_id, rec)
            table[name] = with_(made, calcat=differing(rec, fields(made)))
            self._put(kind, f"registry/{folder}/{name}.yaml", table[name], True)

    def _keep_verbatim(self, kind: str, table: dict[str, Any], name: str, calcat_id: int, kept: Any) -> None:
        have = table[name]
        if have.calcat is None and have.calcat_id == calcat_id and kept is not None:
            table[name] = with_(have, calcat=kept)
            self._put(kind, self.reg.where(kind, name), table[name], False)

    def add_calibrations(self) -> None:
        self._add_named("calibration", "calibrations", "name", self.facts.calibrations, self.calibrations,
                        lambda name, cid, rec: Calibration(identifier=name, calcat_id=cid,
                                                           description=rec.get("description") or None),
                        calibration_fields)

    def add_instruments(self) -> None:
        self._add_named("instrument", "instruments", "identifier", self.facts.instruments, self.instruments,
                        lambda name, cid, rec: Instrument(identifier=name, name=rec.get("name") or name, calcat_id=cid,
                                                          description=rec.get("description") or None),
                        instrument_fields)

    def _aggregators_of_type(self, type_id: int) -> list[str]:
        dets = {o.detector_id for o in self.facts.observations
                for _, _, pdu in o.slots if self.facts.pdus.get(pdu, {}).get("detector_type_id") == type_id}
        return sorted({a for o in self.facts.observations if o.detector_id in dets for a, _, _ in o.slots if a})

    def _new_type(self, name: str, tid: int, rec: dict[str, Any]) -> DetectorType:
        aggregators = self._aggregators_of_type(tid)
        prefix = re.sub(r"\d+$", "", re.sub(r"[^A-Z0-9].*$", "", aggregators[0])) if aggregators else ""
        prefix = prefix or re.sub(r"[^A-Z0-9]", "", name.split("-")[0].upper()) or "M"
        return DetectorType(identifier=name, aggregator_prefix=prefix, calibrations=(), parameters=(),
                            calcat_id=tid, description=rec.get("description") or None)

    def add_types(self) -> None:
        self._add_named("detector_type", "detector_types", "name", self.facts.detector_types, self.types,
                        self._new_type, detector_type_fields)

    def add_pdus(self) -> None:
        for name, rec in sorted(self.facts.pdus.items()):
            check_file_name("PDU", rec["id"], name)
            dtype = self.type_name(int(rec["detector_type_id"]))
            have = self.pdus.get(name)
            if have is not None:
                self._same("PDU", name, have, int(rec["id"]))
                if have.uuid != rec["uuid"] or (dtype and have.detector_type != dtype):
                    self.plan.conflicts.append(f"PDU {name}: uuid/type {have.uuid}/{have.detector_type} in the "
                                               f"catalog, {rec['uuid']}/{dtype} in CALCAT; left as it is")
                self._keep_verbatim("pdu", self.pdus, name, int(rec["id"]), differing(_pdu_rec(rec), pdu_fields(have)))
                continue
            if dtype is None or dtype not in self.types:
                self.plan.left_out.append(f"PDU {name}: detector type id {rec['detector_type_id']} not in the replies")
                continue
            pdu = PDU(
                physical_name=name,
                detector_type=dtype,
                uuid=int(rec["uuid"]),
                calcat_id=int(rec["id"]),
                description=rec.get("description") or None,
                status="active" if rec.get("flg_available", True) else "retired",
            )
            self.pdus[name] = with_(pdu, calcat=differing(_pdu_rec(rec), pdu_fields(pdu)))
            self._put("pdu", f"registry/pdus/{dtype}/{name}.yaml", self.pdus[name], True)

    # -- detectors and mappings ---------------------------------------------------------
    def _instrument_names(self, rec: dict[str, Any]) -> list[str]:
        by_id = {i.calcat_id: n for n, i in self.instruments.items() if i.calcat_id is not None}
        ids = [link["instrument_id"] for link in rec.get("detectors_instruments") or []]
        names = [by_id[i] for i in ids if i in by_id]
        for missing in (i for i in ids if i not in by_id):
            self.plan.notes.append(f"detector {rec['identifier']}: instrument id {missing} not in the replies; left out")
        if not names:
            guess = rec["identifier"].split("_")[0]
            if guess not in self.instruments:
                self.instruments[guess] = Instrument(identifier=guess, name=guess, calcat_id=ids[0] if ids else None,
                                                     description="identifier from the detectors' Karabo IDs; "
                                                     "name not in the replies")
                self._put("instrument", f"registry/instruments/{guess}.yaml", self.instruments[guess], True)
            names = [guess]
        return names

    def _new_detector(self, did: int, rec: dict[str, Any]) -> Detector | None:
        slots: dict[str, str] = {}
        types: Counter[str] = Counter()
        for obs in self.facts.observations:
            if obs.detector_id == did:
                for aggregator, vdn, pdu in obs.slots:
                    if aggregator:
                        slots[aggregator] = vdn or slots.get(aggregator, "")
                        if pdu in self.pdus:
                            types[self.pdus[pdu].detector_type] += 1
        if not slots or not types:
            self.plan.notes.append(f"detector {rec['identifier']}: no PDU of it in the replies: imported without "
                                   "detector type and modules (add them when its PDUs are known)")
        bad = sorted(a for a in slots if not AGGREGATOR.match(a) or len(a) > 100)
        if bad:
            self.plan.left_out.append(f"detector {rec['identifier']}: aggregator(s) {', '.join(bad)} not allowed here "
                                      "(letters, digits and _ . + - / only)")
            return None
        modules = tuple(self._module(did, a, v, i) for i, (a, v) in enumerate(sorted(slots.items()))) if types else ()
        det = Detector(
            identifier=rec["identifier"],
            detector_type=types.most_common(1)[0][0] if types else None,
            instruments=tuple(self._instrument_names(rec)),
            karabo_id_control=rec.get("karabo_id_control") or "",
            source_name_pattern=rec.get("source_name_pattern") or "",
            experts=self.experts,
            modules=modules,
            calcat_id=did,
            description=rec.get("description") or None,
        )
        return with_(det, calcat=self._detector_kept(det, did, rec))

    def _detector_kept(self, det: Detector, did: int, rec: dict[str, Any]) -> Verbatim | None:
        known = {n: i.calcat_id for n, i in self.instruments.items()}
        return differing(rec, detector_with_instruments(det, did, known))

    def _module(self, did: int, aggregator: str, vdn: str, position: int) -> Module:
        module = Module(aggregator=aggregator, virtual_device_name=vdn, module_number=_module_number(aggregator, position))
        return with_(module, calcat=differing(self.facts.slot_fields.get((did, aggregator), {}), module_fields(module)))

    def _keep_detector(self, did: int, rec: dict[str, Any]) -> None:
        """A detector the catalog has gains CALCAT's kept fields (and its modules theirs)."""
        have = self.detectors[rec["identifier"]]
        if have.calcat_id != did or have.calcat is not None or any(m.calcat for m in have.modules):
            return
        modules = tuple(
            with_(m, calcat=differing(self.facts.slot_fields.get((did, m.aggregator), {}), module_fields(m)))
            for m in have.modules
        )
        kept = with_(have, modules=modules, calcat=self._detector_kept(have, did, rec))
        if kept != have:
            self.detectors[have.identifier] = kept
            self._put("detector", self.reg.where("detector", have.identifier), kept, False)

    def add_detectors(self) -> None:
        new_names: dict[int, str] = {}
        for did, rec in sorted(self.facts.detectors.items()):
            name, have = check_file_name("detector", did, rec["identifier"]), self.detectors.get(rec["identifier"])
            if have is not None:
                self._same("detector", name, have, did)
                self._keep_detector(did, rec)
                mapping = self.reg.mappings.get(name)
                if mapping is not None:
                    extended, conflicts = extend_mapping(mapping, self.facts.observations, did)
                    self.plan.conflicts.extend(conflicts)
                    if extended is not mapping:
                        self._put("mapping", self.reg.where("mapping", name), extended, False)
                continue
            detector = self._new_detector(did, rec)
            if detector is not None:
                self.detectors[name] = detector
                new_names[did] = name
                self._put("detector", f"registry/detectors/{name}.yaml", detector, True)
        for name, mapping in fold_observations(self.facts.observations, new_names).items():
            self._put("mapping", f"registry/mappings/{name}.yaml", mapping, True)


def fields_of(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


R = TypeVar("R")


def with_(record: R, **changes: Any) -> R:
    return type(record)(**{**fields_of(record), **changes})


def _pdu_rec(rec: dict[str, Any]) -> dict[str, Any]:
    """A PDU's CALCAT fields as the catalog compares them (its times come from CCV replies)."""
    return {**(rec.get("calcat") or {}), "flg_available": rec.get("flg_available", True),
            "description": rec.get("description")}
