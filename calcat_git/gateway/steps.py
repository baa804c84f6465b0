"""The steps before a CCV: a condition, a calibration constant (CC), a report.

Each answers as CALCAT does for calibration-client 11.4.0: an existing record with 200,
a new one with 201, and the same id for the same content however often it is asked
(ids: ``model.calcat_ids``). A condition or CC that the served catalog has (CALCAT's ids
for imported ones) is that one; a new one is remembered in the gateway's records until a
CCV brings it into the catalog.
"""

from __future__ import annotations

import math
from typing import Any

from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.gateway.context import Gateway, Refused, envelope, flag, id_field, text
from calcat_git.model.batch import Condition
from calcat_git.model.calcat_ids import calibration_constant_id, condition_set_id, report_int_id
from calcat_git.model.store_path import store_path_problem
from calcat_git.server.asked import parse_asked
from calcat_git.server.constants import Constants
from calcat_git.server.shapes import JSON, calibration_constant_json, condition_key, record_id, report_json
from calcat_git.server.view import CalcatView

Created = tuple[int, JSON]  # HTTP status (200 found, 201 made) and the record
CONDITION_FIELDS = frozenset({"name", "flg_available", "event_at", "parameters_conditions_attributes", "description"})
CC_FIELDS = frozenset({"name", "calibration_id", "detector_type_id", "condition_id", "flg_auto_approve",
                       "flg_available", "description"})
REPORT_FIELDS = frozenset({"name", "file_path", "flg_available", "description"})


def _number(raw: Any, what: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{what} must be a finite number ≥ 0, not {raw!r}")
    return value


def condition_items(view: CalcatView, body: bytes) -> dict[str, Any]:
    """The posted condition as a batch file's conditions: ``name: value``, or ``{value,
    lower_deviation, upper_deviation}`` where the deviations differ from the parameter's."""
    record = envelope(body, "condition", CONDITION_FIELDS)
    asked = parse_asked({"condition": record}, view.asked_parameters()).asked
    if not asked:
        raise InvalidInputError("a condition needs at least one parameter")
    defaults = view.catalog.parameter_deviations()
    items: dict[str, Any] = {}
    for (name, value), raw in zip(asked.items(), record["parameters_conditions_attributes"], strict=True):
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        lower = _number(raw.get("lower_deviation_value", defaults.get(name, (0.0, 0.0))[0]), f"{name}: lower_deviation_value")
        upper = _number(raw.get("upper_deviation_value", defaults.get(name, (0.0, 0.0))[1]), f"{name}: upper_deviation_value")
        own = (lower, upper) != defaults.get(name) and not isinstance(value, str)
        items[name] = Condition(name=name, value=value, lower_deviation=lower, upper_deviation=upper).to_item() if own else value
    return dict(sorted(items.items()))


def set_expected_condition(gateway: Gateway, view: CalcatView, body: bytes) -> Created:
    """``POST conditions/set_expected_condition``: the condition with exactly these values."""
    items = condition_items(view, body)
    asked = {name: (raw["value"] if isinstance(raw, dict) else raw) for name, raw in items.items()}
    try:
        return 200, Constants.of(view).expected({k: float(v) if not isinstance(v, str) else v for k, v in asked.items()})
    except NotFoundError:
        pass
    int_id = condition_set_id(condition_key(items))
    known = gateway.records.get("condition", int_id)
    if known is None:
        gateway.records.put("condition", int_id, {"conditions": items})
    return 200 if known else 201, view.condition_json(int_id, items)


def condition_of(gateway: Gateway, view: CalcatView, int_id: int) -> dict[str, Any]:
    """A condition's values: the served catalog's, else the gateway's records."""
    found = Constants.of(view).conditions.get(int_id)
    if found is not None:
        return found.conditions
    known = gateway.records.get("condition", int_id)
    if known is None:
        raise NotFoundError(f"Resource not found! no condition with id {int_id}: POST conditions/set_expected_condition "
                            "first")
    conditions: dict[str, Any] = known["conditions"]
    return conditions


def set_calibration_constant(gateway: Gateway, view: CalcatView, body: bytes) -> Created:
    """``POST calibration_constants``: the CC of a calibration, detector type and condition."""
    record = envelope(body, "calibration_constant", CC_FIELDS)
    calibration = view.name_of("calibration", id_field(record, "calibration_id") or 0)
    type_name = view.name_of("detector_type", id_field(record, "detector_type_id") or 0)
    if calibration not in view.catalog.detector_type(type_name).calibrations:
        raise Refused(f"calibration {calibration} is not one of {type_name}'s: add it to "
                      f"registry/detector_types/{type_name}.yaml first")
    cond = id_field(record, "condition_id") or 0
    conditions = condition_of(gateway, view, cond)
    type_parameters = view.catalog.detector_type(type_name).parameters
    strange = sorted(set(conditions) - set(type_parameters))
    if strange:
        raise Refused(f"condition {cond} has parameter(s) {', '.join(strange)}, not of {type_name}")
    key = condition_key(conditions)
    auto = flag(record, "flg_auto_approve", False)
    int_id = calibration_constant_id(type_name, calibration, key)
    known = gateway.records.get("constant", int_id)
    if known is None:
        known = {"calibration": calibration, "detector_type": type_name, "condition_id": cond,
                 "conditions": conditions, "flg_auto_approve": auto, "name": text(record, "name"),
                 "description": text(record, "description")}
        gateway.records.put("constant", int_id, known)
    return 201, constant_json(view, int_id, known)


def constant_json(view: CalcatView, int_id: int, known: dict[str, Any]) -> JSON:
    dtype = view.catalog.detector_type(known["detector_type"])
    shown = calibration_constant_json(view.catalog.calibration(known["calibration"]), dtype.identifier,
                                      record_id("detector_type", dtype), condition_key(known["conditions"]))
    shown.update({"id": int_id, "condition_id": known["condition_id"], "flg_auto_approve": known["flg_auto_approve"]})
    if known.get("name"):
        shown["name"] = known["name"]
    return shown


def constant_of(gateway: Gateway, view: CalcatView, int_id: int) -> dict[str, Any]:
    """A CC as the gateway needs it (calibration, detector type, conditions, auto-approve):
    its records, else the served catalog's (where it answers ``flg_auto_approve``)."""
    known = gateway.records.get("constant", int_id)
    if known is not None:
        return known
    layer = Constants.of(view)
    found = layer.find(int_id)
    if found is None:
        raise NotFoundError(f"Resource not found! no calibration constant with id {int_id}: POST calibration_constants "
                            "first")
    shown = layer.json(found)
    return {"calibration": found.calibration, "detector_type": found.detector_type, "condition_id": found.condition_id,
            "conditions": found.conditions, "flg_auto_approve": bool(shown.get("flg_auto_approve")),
            "name": shown.get("name", ""), "description": ""}


def report_path(gateway: Gateway, file_path: str) -> str:
    """A report's store path: ``file_path`` relative to the store root (absolute under it, too)."""
    path = file_path
    if path.startswith("/"):
        if not gateway.store_prefix or not path.startswith(gateway.store_prefix):
            raise Refused(f"report file_path {file_path!r} is not under the store root "
                          f"{gateway.store_prefix or '(none configured: give --store)'}")
        path = path[len(gateway.store_prefix):]
    why = store_path_problem(path)
    if why:
        raise Refused(f"report file_path {file_path!r}: {why}")
    return path


def set_report(gateway: Gateway, view: CalcatView, body: bytes) -> Created:
    """``POST reports``: a report by its file (``GET reports?name=&file_path=`` answers it once
    a CCV of it is served)."""
    record = envelope(body, "report", REPORT_FIELDS)
    path = report_path(gateway, text(record, "file_path", required=True))
    text(record, "name", required=True)
    int_id = report_int_id(None, path)
    known = gateway.records.get("report", int_id)
    if known is None:
        gateway.records.put("report", int_id, {"path": path, "name": record["name"]})
    shown = report_json(int_id, path, gateway.store_prefix, [])
    shown["name"] = record["name"]
    shown.pop("calibration_constant_versions", None)
    return 201, shown


def report_of(gateway: Gateway, view: CalcatView, int_id: int) -> tuple[int | None, str]:
    """A report's (batch ``report.id``, store path): the gateway's records, else the served catalog's."""
    known = gateway.records.get("report", int_id)
    if known is not None:
        return None, str(known["path"])
    _, path, rows = view.report_rows(int_id, None)
    if not rows:
        raise NotFoundError(f"Resource not found! no report with id {int_id}: POST reports first")
    return rows[0].report_id, path
