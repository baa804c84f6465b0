"""Batch files of imported CCVs: one per detector, report and condition; and the
comparison of a CCV the catalog already has with what CALCAT says of it."""

from __future__ import annotations

from calcat_git.calcat_import.facts import CCVFact, Facts
from calcat_git.files.loading import Registry
from calcat_git.model.batch import CCV, Condition, ConstantBatch, Report
from calcat_git.model.records import Verbatim

NO_REPORT = "none (CALCAT has no report for these CCVs)"
CALCAT_STORE = "/gpfs/exfel/d/cal/caldb_store/"   # CALCAT's store root: report paths are relative to it here


def existing_ccvs(reg: Registry) -> dict[int, tuple[str, ConstantBatch, CCV]]:
    return {c.calcat_id: (path, b, c) for path, b in reg.batches.items() for c in b.constants
            if c.calcat_id is not None}


def compare(fact: CCVFact, calibration: str, have: CCV) -> str | None:
    mine = (calibration, fact.pdu, fact.begin_at, fact.end_at, fact.file, fact.dataset)
    theirs = (have.calibration, have.pdu, have.begin_at, have.end_at, have.file, have.dataset)
    if mine != theirs:
        return "content differs"
    if (fact.good_quality, fact.deployed) != (have.good_quality, have.deployed):
        return (f"flags differ (CALCAT good_quality={fact.good_quality} deployed={fact.deployed}); "
                "change them in the catalog by hand if CALCAT is right")
    return None


def batch_of(detector: str, report: Report, facts_: list[CCVFact], calibrations: dict[int, str],
             values: tuple[Condition, ...] | None) -> ConstantBatch:
    constants = tuple(CCV(
        calibration=calibrations[f.calibration_id], pdu=f.pdu, begin_at=f.begin_at, end_at=f.end_at,
        file=f.file, dataset=f.dataset, good_quality=f.good_quality, deployed=f.deployed, calcat_id=f.id,
        description=f.description or None, calcat=Verbatim.of(f.raw)) for f in sorted(facts_, key=lambda f: f.id))
    unknown = values is None
    return ConstantBatch(
        detector=detector, report=report, injected_at=min(f.created_at for f in facts_).replace(microsecond=0),
        conditions=values or (), constants=constants,
        description=("imported from CALCAT; the parameter values of this condition were never in a recorded "
                     "request, so these CCVs are found by id and report, not by conditions") if unknown else
                    "imported from CALCAT")


def report_of(facts: Facts, report_id: int | None) -> Report:
    if report_id is None:
        return Report(path=NO_REPORT)
    known = facts.reports.get(report_id) or {}
    path, calcat = known.get("file_path") or "", Verbatim.of(known.get("calcat"))
    if path.startswith(CALCAT_STORE):
        return Report(id=report_id, path=path[len(CALCAT_STORE):], calcat=calcat)
    return Report(id=report_id, path=f"calcat:reports/{report_id}", calcat=calcat)


def format_key(values: tuple[Condition, ...] | None) -> str:
    return "unknown" if values is None else ", ".join(f"{c.name}={c.value}" for c in values)


