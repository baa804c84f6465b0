"""Facts in CALCAT replies: records by CALCAT id, mapping observations, known conditions.

Replies repeat records (a PDU appears in every snapshot and inside every CCV); facts
keep one record per id, as most recently recorded (:mod:`~calcat_git.calcat_import.recorded`),
and list every field that changed between recordings. Times are UTC: CALCAT's offsets
(``+01:00``) are kept exact, and naive request times are read in the facility's zone (see
``parse_facility_time``). A condition's parameter values are not in CALCAT's CCV records:
they are known from CALCAT's conditions endpoint, or from the body of a
``get_by_detector_conditions`` request that returned the CCV (:mod:`~calcat_git.calcat_import.conditions`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calcat_git.calcat_import.checks import check_reply
from calcat_git.calcat_import.conditions import ConditionValues, Exact, asked, exact
from calcat_git.calcat_import.fields import FieldReport, endpoint_kind
from calcat_git.calcat_import.recorded import Latest, in_recorded_order
from calcat_git.calcat_import.replies import Reply
from calcat_git.errors import CalcatGitError, CalcatReplyError
from calcat_git.timeutil import FACILITY_ZONE, parse_facility_time

AT_BEGIN = tuple(f"{k}_at_ccv_begin_at" for k in ("detector_id", "karabo_da", "virtual_device_name", "module_number"))
NO_PDU = {"info": "Resource not found!"}   # CALCAT's 404 of get_all_by_detector: no PDU at that snapshot
# CALCAT's own fields kept verbatim (the ``calcat`` block of the imported record), for
# what the catalog's fields cannot say. CCV: its name, times, URL and calibration constant;
# PDU: its CALCAT times; report: everything but the CCV list.
CCV_VERBATIM = ("name", "created_at", "view_url", "raw_data_location", "start_idx", "end_idx",
                "begin_validity_at", "description", "calibration_constant")
PDU_VERBATIM = ("created_at", "updated_at")
REPORT_VERBATIM = ("name", "file_path", "flg_available", "description", "user_id", "view_url")


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Slots of a detector seen at one time; ``full`` when every slot was listed."""

    detector_id: int
    at: datetime
    slots: tuple[tuple[str, str, str], ...]   # (karabo_da, virtual_device_name, pdu)
    full: bool
    origin: str
    recording: str = ""                       # the reply, named for a reader (file#n, recorded …)
    no_pdu: bool = False                      # CALCAT's "no PDU" (404) at this time


@dataclass(frozen=True, slots=True, kw_only=True)
class CCVFact:
    id: int
    calibration_id: int
    detector_type_id: int
    condition_id: int
    pdu: str
    detector_id: int | None
    karabo_da: str
    begin_at: datetime
    end_at: datetime | None
    created_at: datetime
    file: str
    dataset: str
    good_quality: bool
    deployed: bool
    report_id: int | None
    description: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)   # CCV_VERBATIM fields and a few others

    def content(self) -> tuple[Any, ...]:
        """What must never differ between two replies naming this id."""
        return (self.calibration_id, self.pdu, self.begin_at, self.file, self.dataset)


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """A recorded get_by_detector_conditions request and the CCV ids CALCAT answered."""

    detector: str
    calibration_ids: tuple[int, ...]
    karabo_da: str
    event_at: datetime
    snapshot_at: datetime
    strategy: str
    conditions: ConditionValues
    answer: tuple[int, ...]
    runtime: float | None
    origin: str


@dataclass
class Facts:
    detector_types: dict[int, dict[str, Any]] = field(default_factory=dict)
    instruments: dict[int, dict[str, Any]] = field(default_factory=dict)
    detectors: dict[int, dict[str, Any]] = field(default_factory=dict)
    calibrations: dict[int, dict[str, Any]] = field(default_factory=dict)
    pdus: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    ccvs: dict[int, CCVFact] = field(default_factory=dict)
    conditions: dict[int, set[ConditionValues]] = field(default_factory=dict)  # every value set asked
    exact: dict[int, Exact] = field(default_factory=dict)  # /api/conditions/<id>
    observations: list[Observation] = field(default_factory=list)
    snapshots: dict[tuple[int, datetime], Observation] = field(default_factory=dict)   # newest recording wins
    recorded: list[Observation] = field(default_factory=list)     # every snapshot reply (parity checks each)
    ccv_slots: dict[int, Observation] = field(default_factory=dict)                    # by CCV id
    slot_fields: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)  # CALCAT's vdn/module_number
    begin_slot_fields: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)  # from CCVs' *_at_ccv_begin_at
    queries: list[Query] = field(default_factory=list)
    snapshot_runtimes: list[float] = field(default_factory=list)
    unanswered: list[Reply] = field(default_factory=list)        # PDU snapshots CALCAT answered 404
    aliases: dict[int, set[int]] = field(default_factory=dict)   # condition id -> ids of the same condition
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: FieldReport = field(default_factory=FieldReport)
    latest: Latest = field(default_factory=Latest)

    @property
    def changed(self) -> list[str]:
        """Every field of a record that changed between recordings (the newest was kept)."""
        return self.latest.changes

    def condition_of(self, ccv: CCVFact) -> tuple[ConditionValues, ...] | None:
        """Every set of parameter values CALCAT matched the CCV's condition with (its own id
        and the ids CALCAT renumbered it from), None if no recorded request revealed any."""
        found = set().union(*(self.conditions.get(cid, set()) for cid in
                              [ccv.condition_id, *self.aliases.get(ccv.condition_id, set())]))
        return tuple(sorted(found, key=repr)) or None

    def detector_id(self, identifier: str) -> int | None:
        return next((i for i, d in self.detectors.items() if d["identifier"] == identifier), None)


def _time(text: Any, zone: str, what: str) -> datetime:
    return parse_facility_time(str(text), zone, what)


def _pdu(facts: Facts, rec: dict[str, Any], reply: Reply) -> None:
    name = rec["physical_name"]
    merged = facts.latest.put("PDU", name, rec, reply.recording, leave_out=("detector", "detector_type", *AT_BEGIN))
    keep = {k: merged.get(k) for k in ("id", "physical_name", "uuid", "detector_type_id", "description",
                                       "flg_available")}
    keep["calcat"] = {k: merged[k] for k in PDU_VERBATIM if k in merged}
    facts.pdus[name] = keep


def _put(facts: Facts, table: dict[int, dict[str, Any]], what: str, rec: dict[str, Any], reply: Reply) -> None:
    """A registry record, merged with its earlier recordings (the newest wins)."""
    name = rec.get("identifier") or rec.get("name")
    label = f"{rec['id']} ({name})" if isinstance(name, str) else rec["id"]
    table[int(rec["id"])] = facts.latest.put(what, label, rec, reply.recording)


def _ccv(facts: Facts, rec: dict[str, Any], zone: str, reply: Reply) -> CCVFact:
    const, unit = rec["calibration_constant"], rec["physical_detector_unit"]
    _pdu(facts, unit, reply)
    at_begin = {k: unit[k] for k in AT_BEGIN if k in unit}   # the CCV's own; the PDU's other fields are the PDU's
    facts.latest.put("CCV", int(rec["id"]), {**rec, "physical_detector_unit": at_begin}, reply.recording)
    end = rec.get("end_validity_at")
    fact = CCVFact(
        id=int(rec["id"]), calibration_id=int(const["calibration_id"]),
        detector_type_id=int(const["detector_type_id"]), condition_id=int(const["condition_id"]),
        pdu=unit["physical_name"], detector_id=unit.get("detector_id_at_ccv_begin_at"),
        karabo_da=unit.get("karabo_da_at_ccv_begin_at") or "",
        begin_at=_time(rec["begin_at"], zone, "begin_at"),
        end_at=None if end is None else _time(end, zone, "end_validity_at"),
        created_at=_time(rec["created_at"], zone, "created_at"),
        file=(rec.get("path_to_file") or "").rstrip("/") + "/" + rec["file_name"],
        dataset=rec["data_set_name"], good_quality=bool(rec["flg_good_quality"]),
        deployed=bool(rec["flg_deployed"]), report_id=rec.get("report_id"),
        description=rec.get("description") or "", raw=_ccv_raw(rec),
    )
    _merge_ccv(facts, fact)
    if fact.detector_id is not None and fact.karabo_da:
        facts.begin_slot_fields[(int(fact.detector_id), fact.karabo_da)] = {
            "virtual_device_name": unit.get("virtual_device_name_at_ccv_begin_at"),
            "module_number": unit.get("module_number_at_ccv_begin_at")}
        slot = (fact.karabo_da, unit.get("virtual_device_name_at_ccv_begin_at") or "", fact.pdu)
        facts.ccv_slots[fact.id] = Observation(detector_id=int(fact.detector_id), at=fact.begin_at, slots=(slot,),
                                               full=False, origin=f"CCV {fact.id}", recording=reply.recording)
    return fact


def _merge_ccv(facts: Facts, fact: CCVFact) -> None:
    """The most recently recorded copy of a CCV wins; say where replies disagree on its content."""
    old = facts.ccvs.get(fact.id, fact)
    facts.ccvs[fact.id] = fact
    if old.content() != fact.content():
        facts.conflicts.append(f"CCV {fact.id}: replies disagree on its content (calibration, PDU, begin_at, file "
                               "or dataset); kept the most recently recorded")
    elif old.condition_id != fact.condition_id and fact.condition_id not in facts.aliases.get(old.condition_id, ()):
        group = (facts.aliases.get(old.condition_id, {old.condition_id})
                 | facts.aliases.get(fact.condition_id, {fact.condition_id}))
        for cid in group:
            facts.aliases[cid] = group
        facts.notes.append(f"CCV {fact.id} has condition id {old.condition_id} in one reply and "
                           f"{fact.condition_id} in another (CALCAT renumbered it): read as one condition")


def _ccv_raw(rec: dict[str, Any]) -> dict[str, Any]:
    raw = {k: rec[k] for k in CCV_VERBATIM if k in rec}
    path = rec.get("path_to_file")
    if path is None or not str(path).endswith("/"):
        raw["path_to_file"] = path          # served as recorded (without the usual slash, or null)
    if rec.get("report_id") is None:
        raw["report_id"] = None             # no report: null, never a made-up one
    return raw


def _on_gbdc(facts: Facts, reply: Reply, zone: str) -> None:
    conditions = asked(reply.body)
    answer = []
    for rec in reply.data:
        fact = _ccv(facts, rec, zone, reply)
        answer.append(fact.id)
        facts.conditions.setdefault(fact.condition_id, set()).add(conditions)
    q = reply.query
    ids = json.loads(q.get("calibration_id", "[]").replace("+", " "))
    facts.queries.append(Query(
        detector=q["detector_identifier"], calibration_ids=tuple(int(i) for i in ids),
        karabo_da=q.get("karabo_da", ""), event_at=_time(q["event_at"], zone, "event_at"),
        snapshot_at=_time(q.get("pdu_snapshot_at") or q["event_at"], zone, "pdu_snapshot_at"),
        strategy=q.get("begin_at_strategy", "closest"), conditions=conditions, answer=tuple(answer),
        runtime=reply.runtime, origin=reply.origin))


def _on_snapshot(facts: Facts, reply: Reply, zone: str) -> None:
    slots = []
    for rec in reply.data:
        _pdu(facts, rec, reply)
        if rec.get("detector"):
            _put(facts, facts.detectors, "detector", rec["detector"], reply)
        if rec.get("detector_type"):
            _put(facts, facts.detector_types, "detector type", rec["detector_type"], reply)
        slots.append((rec.get("karabo_da") or "", rec.get("virtual_device_name") or "", rec["physical_name"]))
        if rec.get("karabo_da"):
            facts.slot_fields[(int(reply.query["detector_id"]), rec["karabo_da"])] = {
                k: rec.get(k) for k in ("virtual_device_name", "module_number")}
    _snapshot(facts, reply, zone, tuple(sorted(slots)))
    if reply.runtime is not None:
        facts.snapshot_runtimes.append(reply.runtime)


def _snapshot(facts: Facts, reply: Reply, zone: str, slots: tuple[tuple[str, str, str], ...]) -> None:
    """What CALCAT listed for a detector at a time; a newer recording of the same question wins."""
    at = _time(reply.query["pdu_snapshot_at"], zone, "pdu_snapshot_at")
    detector_id = int(reply.query["detector_id"])
    seen = Observation(detector_id=detector_id, at=at, slots=slots, full=True, origin=reply.origin,
                       recording=reply.source, no_pdu=not slots and reply.status == 404)
    facts.snapshots[(detector_id, at)] = seen
    facts.recorded.append(seen)


def _on_no_pdu(facts: Facts, reply: Reply, zone: str) -> None:
    """CALCAT's 404 "no PDU": the detector had no PDU at that snapshot (slots seen before end)."""
    facts.unanswered.append(reply)
    _snapshot(facts, reply, zone, ())


def _records(data: Any) -> list[dict[str, Any]]:
    return [r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict)]


def _on_report(facts: Facts, reply: Reply, zone: str) -> None:
    rec = reply.data
    merged = facts.latest.put("report", int(rec["id"]), rec, reply.recording,
                              leave_out=("calibration_constant_versions",))
    facts.reports[int(rec["id"])] = {"id": rec["id"], "file_path": merged.get("file_path"),
                                     "calcat": {k: merged[k] for k in REPORT_VERBATIM if k in merged}}
    for ccv in rec.get("calibration_constant_versions") or []:
        _ccv(facts, ccv, zone, reply)


Handler = Callable[[Facts, Reply, str], None]


def _table(name: str) -> Handler:
    def handle(facts: Facts, reply: Reply, zone: str) -> None:
        for rec in _records(reply.data):
            _put(facts, getattr(facts, name), name.rstrip("s").replace("_", " "), rec, reply)
    return handle


def _on_condition(facts: Facts, reply: Reply, zone: str) -> None:
    """A condition as CALCAT's conditions endpoint gives it: values (text from txt_value) and deviations."""
    rec = reply.data
    facts.latest.put("condition", int(rec["id"]), rec, reply.recording)
    facts.exact[int(rec["id"])] = exact(rec)


def _on_ccvs(facts: Facts, reply: Reply, zone: str) -> None:
    for rec in _records(reply.data):
        _ccv(facts, rec, zone, reply)


HANDLERS: dict[str, Handler] = {
    "detector_type": _table("detector_types"), "instrument": _table("instruments"), "detector": _table("detectors"),
    "calibration": _table("calibrations"), "snapshot_pdu": _on_snapshot, "report": _on_report,
    "condition": _on_condition, "ccv": _on_ccvs,
}


def _handler(reply: Reply) -> Handler | None:
    """How a reply is read; None for one that is not (the field report says why)."""
    kind = endpoint_kind(reply.path)
    if kind == "snapshot_pdu" and reply.status == 404 and reply.data == NO_PDU:
        return _on_no_pdu
    if kind is None or reply.status >= 400 or reply.data is None:
        return None
    if reply.path.endswith("/get_by_detector_conditions"):
        return _on_gbdc
    return HANDLERS[kind]


def collect(replies: Iterable[Reply], zone: str = FACILITY_ZONE) -> Facts:
    """All facts of the replies, read oldest recording first; a malformed reply is an error naming its origin."""
    facts = Facts()
    for reply in in_recorded_order(replies, zone):
        handler = _handler(reply)
        facts.fields.reply(reply.path, reply.status, [] if handler is _on_no_pdu else reply.data, reply.recording,
                           understood=handler is not None)
        if handler is None:
            continue
        try:
            check_reply(reply.path, reply.data)
            handler(facts, reply, zone)
        except CalcatGitError as exc:
            raise CalcatReplyError(f"{reply.origin}: /api/{reply.path}: {exc}", reply.origin, f"/api/{reply.path}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CalcatReplyError(f"{reply.origin}: /api/{reply.path}: unexpected reply shape "
                                   f"({type(exc).__name__}: {exc})", reply.origin, f"/api/{reply.path}") from None
    facts.slot_fields = {**facts.begin_slot_fields, **facts.slot_fields}   # a PDU snapshot's fields win
    facts.observations = sorted([*facts.snapshots.values(), *facts.ccv_slots.values()],
                                key=lambda o: (o.at, not o.full))
    return facts
