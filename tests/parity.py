"""Parity with CALCAT: recorded answers of the real server replayed through the catalog.

For each recorded ``get_by_detector_conditions`` query, the catalog's look-up must give,
per calibration and module (the PDU in the slot), exactly the CCVs (id, file, dataset)
CALCAT returned; they are compared by PDU because CALCAT labels a CCV with the slot its
PDU had at the CCV's begin_at, not at the query's snapshot; for
each recorded ``get_all_by_detector`` the catalog's mapping must give exactly the PDU
per slot CALCAT listed. A case that cannot match from the recorded data alone says why.
CALCAT's ``pdu_snapshot_at`` is read as the time of the mapping (in every recorded query
it equals ``event_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calcat_git.calcat_import.facts import Facts, Query
from calcat_git.calcat_import.replies import Reply
from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import CalcatGitError, NotFoundError
from calcat_git.lookup.engine import Engine
from calcat_git.model.selection import Asked
from calcat_git.timeutil import FACILITY_ZONE, format_timestamp, now_utc, parse_facility_time


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    kind: str                       # "ccvs" or "pdus"
    origin: str
    detector: str
    at: str
    matched: bool
    detail: str                     # what differed, or why parity is impossible
    expected: Any = None
    got: Any = None


def _expected(facts: Facts, query: Query) -> dict[tuple[str, str], tuple[int, str, str]]:
    out = {}
    for ccv_id in query.answer:
        fact = facts.ccvs[ccv_id]
        calibration = str(facts.calibrations[fact.calibration_id]["name"])
        out[(calibration, fact.pdu)] = (fact.id, fact.file, fact.dataset)
    return out


def asked_of(catalog: Catalog, facts: Facts, query: Query) -> dict[str, Asked]:
    """The look-up a recorded query asks: its conditions for each of its calibrations the
    detector's type has (CALCAT answers the others with nothing, as the catalog does)."""
    known = catalog.detector_type(catalog.detector(query.detector).type_name()).calibrations
    names = [str(facts.calibrations[i]["name"]) for i in query.calibration_ids if i in facts.calibrations]
    return {n: dict(query.conditions) for n in names if n in known}


def ccv_case(engine: Engine, facts: Facts, query: Query) -> Case:
    where = dict(kind="ccvs", origin=query.origin, detector=query.detector, at=format_timestamp(query.event_at))
    unknown = [i for i in query.calibration_ids if i not in facts.calibrations]
    if unknown:
        return Case(**where, matched=False, detail=f"calibration id(s) {unknown} not named in any reply: "
                    "impossible to ask by name")
    expected = _expected(facts, query)
    try:
        outcome = engine.run(query.detector, asked_of(engine.catalog, facts, query), query.event_at, query.strategy)
    except CalcatGitError as exc:
        return Case(**where, matched=False, detail=f"look-up failed: {exc}", expected=expected)
    got = {}
    for calibration, by_module in outcome.found.items():
        for aggregator, row in by_module.items():
            if query.karabo_da in ("", aggregator):
                got[(calibration, row.pdu)] = (row.calcat_id, row.file, row.dataset)
    diff = sorted(set(expected.items()) ^ set(got.items()), key=repr)
    detail = "" if not diff else f"{len(diff)} (calibration, PDU) answers differ, e.g. {diff[:2]}"
    return Case(**where, matched=not diff, detail=detail, expected=expected, got=got)


def pdu_case(catalog: Catalog, facts: Facts, detector_id: int, at: Any, slots: Any, origin: str) -> Case:
    rec = facts.detectors.get(detector_id)
    name = rec["identifier"] if rec else f"detector id {detector_id}"
    where = dict(kind="pdus", origin=origin, detector=name, at=format_timestamp(at))
    expected = {aggregator: pdu for aggregator, _, pdu in slots}
    try:
        state = catalog.mapping(name, at=at)
    except CalcatGitError as exc:
        return Case(**where, matched=False, detail=f"not in the catalog: {exc}", expected=expected)
    got = {a: p for a, p in state.items() if p is not None}
    diff = sorted(set(expected.items()) ^ set(got.items()), key=repr)
    return Case(**where, matched=not diff, detail="" if not diff else f"slots differ: {diff[:4]}",
                expected=expected, got=got)


def parity(catalog: Catalog, facts: Facts) -> list[Case]:
    """Every recorded CCV query and PDU snapshot, replayed through ``catalog``."""
    engine = Engine(catalog)
    cases = [ccv_case(engine, facts, query) for query in facts.queries]
    for obs in facts.recorded:
        if not obs.no_pdu:   # CALCAT's "no PDU" answers are the unanswered cases below
            cases.append(pdu_case(catalog, facts, obs.detector_id, obs.at, obs.slots, obs.origin))
    cases.extend(_unanswered(catalog, facts, reply) for reply in facts.unanswered)
    return cases


def _unanswered(catalog: Catalog, facts: Facts, reply: Reply) -> Case:
    """CALCAT said 404 (detector unknown or without PDUs): the catalog must not answer either."""
    detector_id = int(reply.query.get("detector_id", 0))
    rec = facts.detectors.get(detector_id)
    name = rec["identifier"] if rec else f"detector id {detector_id}"
    where = dict(kind="pdus", origin=reply.origin, detector=name, at=reply.query.get("pdu_snapshot_at", ""))
    at = reply.query.get("pdu_snapshot_at")
    try:
        got = catalog.mapping(name, at=parse_facility_time(at, FACILITY_ZONE, "pdu_snapshot_at") if at else now_utc())
    except NotFoundError:
        return Case(**where, matched=True, detail="CALCAT: 404, catalog: no such detector")
    if not any(got.values()):
        return Case(**where, matched=True, detail="CALCAT: 404, catalog: no PDU mapped to this detector then")
    mapping = catalog.registry.mappings.get(name)
    made_up = mapping is not None and any(c.source == "illustrative" for c in mapping.changes)
    return Case(**where, matched=False, got=got, detail="CALCAT answered 404, the catalog has this detector"
                + (" (its mapping is marked illustrative: made-up content)" if made_up else ""))
