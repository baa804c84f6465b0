"""Facts in CALCAT replies: records by CALCAT id, mapping observations, known conditions.

Replies repeat records (a PDU appears in every snapshot and inside every CCV); facts
keep one record per id. Times are UTC: CALCAT's offsets (``+01:00``) are kept exact,
and naive request times are read in the facility's zone (see ``parse_facility_time``).
A condition's parameter values are not in CALCAT's CCV records: they are known only
from the body of a ``get_by_detector_conditions`` request that returned the CCV.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from calcat_git.calcat_import.checks import check_reply
from calcat_git.calcat_import.replies import Reply
from calcat_git.errors import CalcatGitError, InvalidInputError
from calcat_git.timeutil import FACILITY_ZONE, parse_facility_time

ConditionValues = tuple[tuple[str, float | str], ...]

# CALCAT's own fields kept verbatim (the ``calcat`` block of the imported record), for
# what the catalog's fields cannot say. CCV: its name, times, URL and calibration constant;
# PDU: its CALCAT times; report: everything but the CCV list.
CCV_VERBATIM = ("name", "created_at", "view_url", "raw_data_location", "start_idx", "end_idx",
                "begin_validity_at", "description", "calibration_constant")
PDU_VERBATIM = ("created_at", "updated_at")
REPORT_VERBATIM = ("name", "file_path", "flg_available", "description", "user_id", "view_url")


def newest(a: dict[str, Any], b: dict[str, Any], key: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Of two copies of one record, the one last updated (ties: the larger JSON), so the
    result does not depend on the order replies are read in."""
    def rank(d: dict[str, Any]) -> tuple[str, str]:
        return (str(key(d) or ""), json.dumps(d, sort_keys=True))
    return a if rank(a) >= rank(b) else b


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Slots of a detector seen at one time; ``full`` when every slot was listed."""

    detector_id: int
    at: datetime
    slots: tuple[tuple[str, str, str], ...]   # (karabo_da, virtual_device_name, pdu)
    full: bool
    origin: str


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
    exact: dict[int, tuple[tuple[str, Any, float, float], ...]] = field(default_factory=dict)  # /api/conditions/<id>
    observations: list[Observation] = field(default_factory=list)
    slot_fields: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)  # CALCAT's vdn/module_number
    queries: list[Query] = field(default_factory=list)
    snapshot_runtimes: list[float] = field(default_factory=list)
    unanswered: list[Reply] = field(default_factory=list)        # PDU snapshots CALCAT answered 404
    aliases: dict[int, set[int]] = field(default_factory=dict)   # condition id -> ids of the same condition
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)

    def condition_of(self, ccv: CCVFact) -> tuple[ConditionValues, ...] | None:
        """Every set of parameter values CALCAT matched the CCV's condition with (its own id
        and the ids CALCAT renumbered it from), None if no recorded request revealed any."""
        found = set().union(*(self.conditions.get(cid, set()) for cid in
                              [ccv.condition_id, *self.aliases.get(ccv.condition_id, set())]))
        return tuple(sorted(found, key=repr)) or None

    def detector_id(self, identifier: str) -> int | None:
        return next((i for i, d in self.detectors.items() if d["identifier"] == identifier), None)


def _keep(table: dict[Any, dict[str, Any]], key: Any, record: dict[str, Any], same: tuple[str, ...],
          facts: Facts, what: str) -> None:
    old = table.get(key)
    if old is None:
        table[key] = record
    elif any(old.get(k) != record.get(k) for k in same):
        diff = ", ".join(f"{k}: {old.get(k)!r} vs {record.get(k)!r}" for k in same if old.get(k) != record.get(k))
        facts.conflicts.append(f"{what} {key}: replies disagree ({diff}); kept the first")


def _time(text: Any, zone: str, what: str) -> datetime:
    return parse_facility_time(str(text), zone, what)


def _pdu(facts: Facts, rec: dict[str, Any]) -> None:
    keep = {k: rec.get(k) for k in ("id", "physical_name", "uuid", "detector_type_id", "description",
                                    "flg_available")}
    keep["calcat"] = {k: rec[k] for k in PDU_VERBATIM if k in rec}
    old = facts.pdus.get(rec["physical_name"])
    _keep(facts.pdus, rec["physical_name"], keep, ("id", "uuid", "detector_type_id"), facts, "PDU")
    if old is not None and keep["calcat"]:
        old["calcat"] = newest(old["calcat"], keep["calcat"], lambda d: d.get("updated_at"))


def _detector(facts: Facts, rec: dict[str, Any]) -> None:
    _keep(facts.detectors, int(rec["id"]), rec, ("identifier",), facts, "detector")


def _ccv(facts: Facts, rec: dict[str, Any], zone: str) -> CCVFact:
    const, unit = rec["calibration_constant"], rec["physical_detector_unit"]
    _pdu(facts, unit)
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
        facts.slot_fields.setdefault((int(fact.detector_id), fact.karabo_da), {
            "virtual_device_name": unit.get("virtual_device_name_at_ccv_begin_at"),
            "module_number": unit.get("module_number_at_ccv_begin_at")})
        slot = (fact.karabo_da, unit.get("virtual_device_name_at_ccv_begin_at") or "", fact.pdu)
        facts.observations.append(Observation(detector_id=int(fact.detector_id), at=fact.begin_at,
                                              slots=(slot,), full=False, origin=f"CCV {fact.id}"))
    return fact


def _merge_ccv(facts: Facts, fact: CCVFact) -> None:
    """Keep the first reply's CCV (its newest CALCAT fields); say where replies disagree."""
    old = facts.ccvs.setdefault(fact.id, fact)
    if old is not fact and old.raw != fact.raw:
        facts.ccvs[fact.id] = replace(old, raw=newest(old.raw, fact.raw, _constant_updated))
    if old.content() != fact.content():
        facts.conflicts.append(f"CCV {fact.id}: replies disagree on its content; kept the first")
    elif old.condition_id != fact.condition_id and fact.condition_id not in facts.aliases.get(old.condition_id, ()):
        group = (facts.aliases.get(old.condition_id, {old.condition_id})
                 | facts.aliases.get(fact.condition_id, {fact.condition_id}))
        for cid in group:
            facts.aliases[cid] = group
        facts.notes.append(f"CCV {fact.id} has condition id {old.condition_id} in one reply and "
                           f"{fact.condition_id} in another (CALCAT renumbered it): read as one condition")


def _constant_updated(raw: dict[str, Any]) -> Any:
    return (raw.get("calibration_constant") or {}).get("updated_at")


def _ccv_raw(rec: dict[str, Any]) -> dict[str, Any]:
    raw = {k: rec[k] for k in CCV_VERBATIM if k in rec}
    path = rec.get("path_to_file")
    if path is None or not str(path).endswith("/"):
        raw["path_to_file"] = path          # served as recorded (without the usual slash, or null)
    if rec.get("report_id") is None:
        raw["report_id"] = None             # no report: null, never a made-up one
    return raw


def _conditions(body: Any) -> ConditionValues:
    items = (body or {}).get("parameters_conditions_attributes")
    if not isinstance(items, list):
        raise InvalidInputError("get_by_detector_conditions without parameters_conditions_attributes")
    return tuple(sorted((str(i["parameter_name"]), i["value"]) for i in items))


def _on_gbdc(facts: Facts, reply: Reply, zone: str) -> None:
    conditions = _conditions(reply.body)
    answer = []
    for rec in reply.data:
        fact = _ccv(facts, rec, zone)
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
        _pdu(facts, rec)
        if rec.get("detector"):
            _detector(facts, rec["detector"])
        if rec.get("detector_type"):
            _keep(facts.detector_types, int(rec["detector_type"]["id"]), rec["detector_type"], ("name",),
                  facts, "detector type")
        slots.append((rec.get("karabo_da") or "", rec.get("virtual_device_name") or "", rec["physical_name"]))
        if rec.get("karabo_da"):
            facts.slot_fields[(int(reply.query["detector_id"]), rec["karabo_da"])] = {
                k: rec.get(k) for k in ("virtual_device_name", "module_number")}
    at = _time(reply.query["pdu_snapshot_at"], zone, "pdu_snapshot_at")
    facts.observations.append(Observation(detector_id=int(reply.query["detector_id"]), at=at,
                                          slots=tuple(sorted(slots)), full=True, origin=reply.origin))
    if reply.runtime is not None:
        facts.snapshot_runtimes.append(reply.runtime)


def _records(data: Any) -> list[dict[str, Any]]:
    return [r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict)]


def _on_report(facts: Facts, reply: Reply, zone: str) -> None:
    rec = reply.data
    keep = {"id": rec["id"], "file_path": rec.get("file_path"),
            "calcat": {k: rec[k] for k in REPORT_VERBATIM if k in rec}}
    _keep(facts.reports, int(rec["id"]), keep, ("file_path",), facts, "report")
    for ccv in rec.get("calibration_constant_versions") or []:
        _ccv(facts, ccv, zone)


Handler = Callable[[Facts, Reply, str], None]


def _table(name: str, key: str, same: tuple[str, ...]) -> Handler:
    def handle(facts: Facts, reply: Reply, zone: str) -> None:
        for rec in _records(reply.data):
            _keep(getattr(facts, name), int(rec[key]), rec, same, facts, name.rstrip("s").replace("_", " "))
    return handle


def _on_condition(facts: Facts, reply: Reply, zone: str) -> None:
    """A condition as CALCAT's conditions endpoint gives it: values and deviations exactly."""
    rec = reply.data
    items = []
    for item in rec["parameters_conditions"]:
        name = item.get("parameter_name") or (item.get("parameter") or {}).get("name")
        value = item["value"]
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidInputError(f"parameters_conditions: {item!r} needs parameter_name and a number or text value")
        items.append((name, value, float(item["lower_deviation_value"]), float(item["upper_deviation_value"])))
    facts.exact[int(rec["id"])] = tuple(sorted(items))


def _on_ccvs(facts: Facts, reply: Reply, zone: str) -> None:
    for rec in _records(reply.data):
        _ccv(facts, rec, zone)


def _handler(path: str) -> Handler | None:
    head, _, tail = path.partition("/")
    if head == "calibration_constant_versions":
        return _on_gbdc if tail == "get_by_detector_conditions" else _on_ccvs
    if path == "physical_detector_units/get_all_by_detector":
        return _on_snapshot
    if head == "reports" and tail.isdigit():
        return _on_report
    if head == "conditions" and tail.isdigit():
        return _on_condition
    tables: dict[str, Handler] = {
        "detector_types": _table("detector_types", "id", ("name",)),
        "instruments": _table("instruments", "id", ("identifier",)),
        "detectors": _table("detectors", "id", ("identifier",)),
        "calibrations": _table("calibrations", "id", ("name",)),
    }
    return tables.get(head)


def collect(replies: Iterable[Reply], zone: str = FACILITY_ZONE) -> Facts:
    """All facts of the replies; a malformed reply is an error naming its origin."""
    facts = Facts()
    for reply in replies:
        handler = _handler(reply.path)
        if handler is _on_snapshot and reply.status == 404:
            facts.unanswered.append(reply)
        if handler is None or reply.status >= 400 or reply.data is None:
            key = reply.path.split("/")[0] if handler is None else f"{reply.path} (status {reply.status})"
            facts.ignored[key] = facts.ignored.get(key, 0) + 1
            continue
        try:
            check_reply(reply.path, reply.data)
            handler(facts, reply, zone)
        except CalcatGitError as exc:
            raise InvalidInputError(f"{reply.origin}: /api/{reply.path}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"{reply.origin}: /api/{reply.path}: unexpected reply shape "
                                    f"({type(exc).__name__}: {exc})") from None
    facts.observations.sort(key=lambda o: (o.at, not o.full))
    return facts
