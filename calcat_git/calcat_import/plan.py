"""What an import adds to a catalog: CALCAT facts compared with the catalog's records.

Records are matched by name (CCVs by ``calcat_id``). A record the catalog lacks is
added; one it has is left as it is, and a disagreement with CALCAT is reported as a
conflict, never overwritten. The only edits of existing files are additions the
imported CCVs need: a calibration or parameter joins a detector type's list, a spelling
joins a parameter. CCVs go into new batch files, one per detector, report and condition.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, TypeVar

from calcat_git.calcat_import.batches import batch_of, compare, existing_ccvs, format_key, report_of
from calcat_git.calcat_import.checks import check_file_name
from calcat_git.calcat_import.facts import CCVFact, Facts
from calcat_git.calcat_import.kept import (
    calibration_fields,
    detector_fields,
    detector_type_fields,
    differing,
    instrument_fields,
    module_fields,
    pdu_fields,
)
from calcat_git.calcat_import.observed import extend_mapping, fold_observations
from calcat_git.calcat_import.span import span
from calcat_git.files.loading import Registry
from calcat_git.model.batch import Condition, ConstantBatch
from calcat_git.model.mapping import Mapping
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


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "parameter"


def _module_number(aggregator: str, position: int) -> int:
    digits = re.search(r"(\d+)$", aggregator)
    return int(digits.group(1)) if digits else position


class Planner:
    def __init__(self, facts: Facts, reg: Registry, experts: tuple[str, ...]) -> None:
        self.facts, self.reg, self.experts = facts, reg, experts
        ignored = [f"{n} repl{'y' if n == 1 else 'ies'} of /api/{what} not used" for what, n in sorted(facts.ignored.items())]
        self.plan = Plan(conflicts=list(facts.conflicts), notes=[*facts.notes, *ignored])
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
            table[name] = _with(made, calcat=differing(rec, fields(made)))
            self._put(kind, f"registry/{folder}/{name}.yaml", table[name], True)

    def _keep_verbatim(self, kind: str, table: dict[str, Any], name: str, calcat_id: int, kept: Any) -> None:
        have = table[name]
        if have.calcat is None and have.calcat_id == calcat_id and kept is not None:
            table[name] = _with(have, calcat=kept)
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
            pdu = PDU(physical_name=name, detector_type=dtype, uuid=int(rec["uuid"]), calcat_id=int(rec["id"]),
                      description=rec.get("description") or None,
                      status="active" if rec.get("flg_available", True) else "retired")
            self.pdus[name] = _with(pdu, calcat=differing(_pdu_rec(rec), pdu_fields(pdu)))
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
        det = Detector(identifier=rec["identifier"], detector_type=types.most_common(1)[0][0] if types else None,
                       instruments=tuple(self._instrument_names(rec)),
                       karabo_id_control=rec.get("karabo_id_control") or "",
                       source_name_pattern=rec.get("source_name_pattern") or "", experts=self.experts,
                       modules=modules, calcat_id=did, description=rec.get("description") or None)
        return _with(det, calcat=self._detector_kept(det, did, rec))

    def _detector_kept(self, det: Detector, did: int, rec: dict[str, Any]) -> Verbatim | None:
        known = {n: i.calcat_id for n, i in self.instruments.items()}
        return differing(rec, detector_fields(det, did, known))

    def _module(self, did: int, aggregator: str, vdn: str, position: int) -> Module:
        module = Module(aggregator=aggregator, virtual_device_name=vdn, module_number=_module_number(aggregator, position))
        return _with(module, calcat=differing(self.facts.slot_fields.get((did, aggregator), {}), module_fields(module)))

    def _keep_detector(self, did: int, rec: dict[str, Any]) -> None:
        """A detector the catalog has gains CALCAT's kept fields (and its modules theirs)."""
        have = self.detectors[rec["identifier"]]
        if have.calcat_id != did or have.calcat is not None or any(m.calcat for m in have.modules):
            return
        modules = tuple(_with(m, calcat=differing(self.facts.slot_fields.get((did, m.aggregator), {}),
                                                 module_fields(m))) for m in have.modules)
        kept = _with(have, modules=modules, calcat=self._detector_kept(have, did, rec))
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

    # -- CCVs ------------------------------------------------------------------------
    def _parameter(self, spelling: str) -> None:
        if any(spelling in p.spellings for p in self.parameters.values()):
            return
        ident = _snake(spelling)
        have = self.parameters.get(ident)
        if have is not None:
            self.parameters[ident] = Parameter(**{**_fields(have), "spellings": (*have.spellings, spelling)})
            self._put("parameter", self.reg.files.get(("parameter", ident), f"registry/parameters/{ident}.yaml"),
                      self.parameters[ident], False)
            return
        self.parameters[ident] = Parameter(identifier=ident, spellings=(spelling,), unit="", lower_deviation=0.0,
                                           upper_deviation=0.0, description="from CALCAT condition requests; unit "
                                           "and deviations are not in the replies (0 = exact match)")
        self._put("parameter", f"registry/parameters/{ident}.yaml", self.parameters[ident], True)

    def _type_needs(self, dtype: str, calibration: str, spellings: list[str]) -> None:
        have = self.types[dtype]
        cals = have.calibrations + ((calibration,) if calibration not in have.calibrations else ())
        pars = have.parameters + tuple(s for s in spellings if s not in have.parameters)
        if (cals, pars) != (have.calibrations, have.parameters):
            for spelling in spellings:
                self._parameter(spelling)
            self.types[dtype] = DetectorType(**{**_fields(have), "calibrations": cals, "parameters": pars})
            path = self.reg.files.get(("detector_type", dtype), f"registry/detector_types/{dtype}.yaml")
            self._put("detector_type", path, self.types[dtype], False)

    def _ccv_detector(self, fact: CCVFact) -> str | None:
        rec = self.facts.detectors.get(fact.detector_id) if fact.detector_id is not None else None
        if rec is not None and rec["identifier"] in self.detectors:
            return str(rec["identifier"])
        mappings = {**self.reg.mappings, **{m.detector: m for m in self.plan.records.values() if isinstance(m, Mapping)}}
        return next((name for name, m in mappings.items() if fact.pdu in m.state_at(fact.begin_at).values()), None)

    def _usable(self, fact: CCVFact, calibration: str | None) -> str | None:
        """The CCV's detector, or None (and a reason left out) if it cannot be imported."""
        detector = self._ccv_detector(fact)
        why = ("calibration id {fact.calibration_id} is not in the replies" if calibration is None else
               "its PDU is in no detector of the catalog at its begin_at" if detector is None else
               "its PDU {fact.pdu} is not in the catalog" if fact.pdu not in self.pdus else
               "its PDU's type differs from its detector's" if detector and
               self.pdus[fact.pdu].detector_type != self.detectors[detector].detector_type else None)
        if why is not None:
            self.plan.left_out.append(f"CCV {fact.id}: " + why.format(fact=fact))
            return None
        return detector

    def add_ccvs(self) -> None:
        existing = existing_ccvs(self.reg)
        enrich: dict[str, dict[int, CCVFact]] = {}
        names = {cid: str(rec["name"]) for cid, rec in self.facts.calibrations.items()}
        groups: dict[tuple[str, int | None, tuple[Condition, ...] | None], list[CCVFact]] = defaultdict(list)
        for fact in sorted(self.facts.ccvs.values(), key=lambda f: f.id):
            calibration = names.get(fact.calibration_id)
            if fact.id in existing and calibration is not None:
                path, _, have = existing[fact.id]
                why = compare(fact, calibration, have)
                if why:
                    self.plan.conflicts.append(f"CCV {fact.id} ({path}): {why}; left as it is")
                elif have.calcat is None and fact.raw:
                    enrich.setdefault(path, {})[fact.id] = fact
                continue
            detector = self._usable(fact, calibration)
            if detector is None or calibration is None:
                continue
            observed = self.facts.condition_of(fact)
            spellings = sorted({n for values in observed or () for n, _ in values})
            self._type_needs(self.detectors[detector].type_name(), calibration, spellings)
            exact = self.facts.exact.get(fact.condition_id)
            if exact is not None:
                self._type_needs(self.detectors[detector].type_name(), calibration, [n for n, *_ in exact])
            values = (tuple(Condition(name=n, value=v, lower_deviation=lo, upper_deviation=up) for n, v, lo, up in exact)
                      if exact is not None else self._condition(fact.condition_id, observed))
            groups[(detector, fact.report_id, values)].append(fact)
        for (detector, report_id, values), items in sorted(groups.items(), key=lambda g: (
                g[0][0], min(f.created_at for f in g[1]), g[0][1] or 0, format_key(g[0][2]))):
            batch = batch_of(detector, report_of(self.facts, report_id), items, names, values)
            self._put("batch", self._batch_path(batch, report_id), batch, True)
            self.plan.added["ccv"] += len(items)
        for path, facts in sorted(enrich.items()):
            self._keep_ccvs(path, facts)

    def _keep_ccvs(self, path: str, facts: dict[int, CCVFact]) -> None:
        """CCVs the catalog has (same CALCAT id and content) gain CALCAT's kept fields, and
        their report its own: the one edit of a batch file an import makes."""
        batch = self.reg.batches[path]
        constants = tuple(_with(c, calcat=Verbatim.of(facts[c.calcat_id].raw)) if c.calcat_id in facts else c
                          for c in batch.constants)
        report = batch.report
        if report.calcat is None and report.id is not None:
            report = _with(report, calcat=report_of(self.facts, report.id).calcat)
        self._put("batch", path, _with(batch, constants=constants, report=report), False)

    def _condition(self, condition_id: int, observed: tuple[Any, ...] | None) -> tuple[Condition, ...] | None:
        """The imported condition (one summary line per condition spanning several value sets)."""
        if observed is None:
            return None
        defaults = {s: (p.lower_deviation, p.upper_deviation) for p in self.parameters.values() for s in p.spellings}
        conditions, note = span(condition_id, observed, defaults)
        if note and note not in self.plan.notes:
            self.plan.notes.append(note)
        return conditions

    def _batch_path(self, batch: ConstantBatch, report_id: int | None) -> str:
        stamp = batch.injected_at
        base = (f"constants_index/{batch.detector}/{stamp:%Y}/{stamp:%Y%m%dT%H%M%SZ}-calcat-"
                + (f"report-{report_id}" if report_id else "no-report"))
        taken = set(self.reg.paths) | set(self.plan.records)
        path, n = f"{base}.yaml", 2
        while path in taken:
            path, n = f"{base}-{n}.yaml", n + 1
        return path

    def run(self) -> Plan:
        self.add_calibrations()
        self.add_instruments()
        self.add_types()
        self.add_pdus()
        self.add_detectors()
        self.add_ccvs()
        return self.plan


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


R = TypeVar("R")


def _with(record: R, **changes: Any) -> R:
    return type(record)(**{**_fields(record), **changes})


def _pdu_rec(rec: dict[str, Any]) -> dict[str, Any]:
    """A PDU's CALCAT fields as the catalog compares them (its times come from CCV replies)."""
    return {**(rec.get("calcat") or {}), "flg_available": rec.get("flg_available", True),
            "description": rec.get("description")}
