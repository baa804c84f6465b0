"""The CCVs of an import: each CALCAT CCV the catalog lacks goes into a new batch file
(one per detector, report and condition); one it has is compared, never overwritten, and
gains CALCAT's kept fields if it has none. A CCV's calibration and parameters join its
detector type's lists where they are missing."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from calcat_git.calcat_import.batches import batch_of, compare, existing_ccvs, format_key, report_of
from calcat_git.calcat_import.facts import CCVFact
from calcat_git.calcat_import.plan import Plan, RegistryPlanner, fields_of, snake, with_
from calcat_git.calcat_import.span import span
from calcat_git.model.batch import Condition, ConstantBatch
from calcat_git.model.mapping import Mapping
from calcat_git.model.records import DetectorType, Parameter, Verbatim


class Planner(RegistryPlanner):
    """Plans a whole import: the registry records, then the CCVs."""

    def _parameter(self, spelling: str) -> None:
        if any(spelling in p.spellings for p in self.parameters.values()):
            return
        ident = snake(spelling)
        have = self.parameters.get(ident)
        if have is not None:
            self.parameters[ident] = Parameter(**{**fields_of(have), "spellings": (*have.spellings, spelling)})
            self._put(
                "parameter",
                self.reg.files.get(("parameter", ident), f"registry/parameters/{ident}.yaml"),
                self.parameters[ident],
                False,
            )
            return
        self.parameters[ident] = Parameter(
            identifier=ident,
            spellings=(spelling,),
            unit="",
            lower_deviation=0.0,
            upper_deviation=0.0,
            description="from CALCAT condition requests; unit and deviations are not in the replies (0 = exact match)",
        )
        self._put("parameter", f"registry/parameters/{ident}.yaml", self.parameters[ident], True)

    def _type_needs(self, dtype: str, calibration: str, spellings: list[str]) -> None:
        have = self.types[dtype]
        cals = have.calibrations + ((calibration,) if calibration not in have.calibrations else ())
        pars = have.parameters + tuple(s for s in spellings if s not in have.parameters)
        if (cals, pars) != (have.calibrations, have.parameters):
            for spelling in spellings:
                self._parameter(spelling)
            self.types[dtype] = DetectorType(**{**fields_of(have), "calibrations": cals, "parameters": pars})
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
        why = (
            "calibration id {fact.calibration_id} is not in the replies"
            if calibration is None
            else "its PDU is in no detector of the catalog at its begin_at"
            if detector is None
            else "its PDU {fact.pdu} is not in the catalog"
            if fact.pdu not in self.pdus
            else "its PDU's type differs from its detector's"
            if detector and self.pdus[fact.pdu].detector_type != self.detectors[detector].detector_type
            else None
        )
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
            values = (
                tuple(Condition(name=n, value=v, lower_deviation=lo, upper_deviation=up) for n, v, lo, up in exact)
                if exact is not None
                else self._condition(fact.condition_id, observed)
            )
            groups[(detector, fact.report_id, values)].append(fact)
        for (detector, report_id, values), items in sorted(
            groups.items(), key=lambda g: (g[0][0], min(f.created_at for f in g[1]), g[0][1] or 0, format_key(g[0][2]))
        ):
            batch = batch_of(detector, report_of(self.facts, report_id), items, names, values)
            self._put("batch", self._batch_path(batch, report_id), batch, True)
            self.plan.added["ccv"] += len(items)
        for path, facts in sorted(enrich.items()):
            self._keep_ccvs(path, facts)

    def _keep_ccvs(self, path: str, facts: dict[int, CCVFact]) -> None:
        """CCVs the catalog has (same CALCAT id and content) gain CALCAT's kept fields, and
        their report its own: the one edit of a batch file an import makes."""
        batch = self.reg.batches[path]
        constants = tuple(
            with_(c, calcat=Verbatim.of(facts[c.calcat_id].raw)) if c.calcat_id in facts else c for c in batch.constants
        )
        report = batch.report
        if report.calcat is None and report.id is not None:
            report = with_(report, calcat=report_of(self.facts, report.id).calcat)
        self._put("batch", path, with_(batch, constants=constants, report=report), False)

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
        base = f"constants_index/{batch.detector}/{stamp:%Y}/{stamp:%Y%m%dT%H%M%SZ}-calcat-" + (
            f"report-{report_id}" if report_id else "no-report"
        )
        taken = set(self.reg.paths) | set(self.plan.records)
        path, n = f"{base}.yaml", 2
        while path in taken:
            path, n = f"{base}-{n}.yaml", n + 1
        return path

    def add_asked(self) -> None:
        """The calibrations and parameters a recorded look-up asked of a detector belong to its
        type (CALCAT answered them; a look-up asking others of the type is refused)."""
        names = {cid: str(rec["name"]) for cid, rec in self.facts.calibrations.items()}
        for query in self.facts.queries:
            if query.detector not in self.detectors:
                continue
            for calibration in (names[i] for i in query.calibration_ids if i in names):
                self._type_needs(self.detectors[query.detector].type_name(), calibration, [n for n, _ in query.conditions])

    def run(self) -> Plan:
        self.add_calibrations()
        self.add_instruments()
        self.add_types()
        self.add_pdus()
        self.add_detectors()
        self.add_ccvs()
        self.add_asked()
        return self.plan
