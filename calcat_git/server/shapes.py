"""Catalog records as the JSON objects of CALCAT's REST API (``Accept: application/json;
version=2``), field for field as the recorded replies show them, with integer ids.

Ids follow ``model.calcat_ids``: CALCAT's own for imported records, else stable ids
derived from kind and identifier (never from row order).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from calcat_git.model.calcat_fields import (
    calcat_time,
    calibration_fields,
    detector_fields,
    detector_type_fields,
    instrument_fields,
    module_fields,
    overlay,
)
from calcat_git.model.calcat_ids import (
    STABLE_BASE,
    calibration_constant_id,
    ccv_int_id,
    condition_id,
    parameter_condition_id,
    parameter_id,
    record_id,
    report_int_id,
    stable_id,
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
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import from_micros

JSON = dict[str, Any]
__all__ = ["STABLE_BASE", "calcat_time", "overlay", "record_id", "stable_id"]  # kept here for their users


def condition_key(conditions: dict[str, Any]) -> str:
    return json.dumps(conditions, sort_keys=True)


def float_uuid(uuid: int) -> float:
    """CALCAT's ``float_uuid``: the uuid's 64 bits read as an IEEE double."""
    return float(struct.unpack("<d", struct.pack("<Q", uuid & (2**64 - 1)))[0])


def detector_json(det: Detector, det_id: int, instrument_ids: list[int] | None = None) -> JSON:
    """A detector; ``instrument_ids`` adds ``detectors_instruments`` (list and by-id replies)."""
    out: JSON = {"id": det_id, **detector_fields(det)}
    if instrument_ids is not None:
        out["detectors_instruments"] = [{"instrument_id": i, "detector_id": det_id} for i in instrument_ids]
    return overlay(out, det.calcat)


def instrument_json(record: Instrument) -> JSON:
    return overlay({"id": record_id("instrument", record), **instrument_fields(record)}, record.calcat)


def detector_type_json(record: DetectorType) -> JSON:
    return overlay({"id": record_id("detector_type", record), **detector_type_fields(record)}, record.calcat)


def calibration_json(record: Calibration) -> JSON:
    return overlay({"id": record_id("calibration", record), **calibration_fields(record)}, record.calcat)


def parameter_json(record: Parameter, spelling: str) -> JSON:
    return {"id": parameter_id(record, spelling), "name": spelling, "unit": record.unit,
            "lower_deviation_value": record.lower_deviation, "upper_deviation_value": record.upper_deviation,
            "flg_available": True, "flg_logarithmic": False, "description": record.description}


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a PDU sits: the detector's id and the module (slot)."""

    detector_id: int
    module: Module


def _slot_fields(slot: Slot | None, suffix: str = "") -> JSON:
    module = overlay(module_fields(slot.module), slot.module.calcat) if slot else {}
    return {f"karabo_da{suffix}": slot.module.aggregator if slot else None,
            f"detector_id{suffix}": slot.detector_id if slot else None,
            f"virtual_device_name{suffix}": module.get("virtual_device_name"),
            f"module_number{suffix}": module.get("module_number")}


def pdu_json(pdu: PDU, type_id: int, slot: Slot | None) -> JSON:
    """A PDU as ``physical_detector_units`` lists it; ``slot``: where it sits now."""
    slot_fields = _slot_fields(slot)
    return {"id": record_id("pdu", pdu), "physical_name": pdu.physical_name, "karabo_da": slot_fields["karabo_da"],
            "virtual_device_name": slot_fields["virtual_device_name"], "uuid": pdu.uuid,
            "float_uuid": float_uuid(pdu.uuid), "detector_type_id": type_id, "detector_id": slot_fields["detector_id"],
            "module_number": slot_fields["module_number"], "flg_available": pdu.status == "active",
            "description": pdu.description} | overlay({"flg_available": pdu.status == "active",
                                                       "description": pdu.description}, pdu.calcat)


def ccv_pdu_json(pdu: PDU, type_id: int, slot: Slot | None, slot_at_begin: Slot | None) -> JSON:
    """The ``physical_detector_unit`` of a CCV: where it sits, and where it sat at begin_at."""
    return overlay({"id": record_id("pdu", pdu), "physical_name": pdu.physical_name, "detector_type_id": type_id,
                    "flg_available": pdu.status == "active", "description": pdu.description, "created_at": None,
                    "updated_at": None, **_slot_fields(slot), "uuid": pdu.uuid, "float_uuid": float_uuid(pdu.uuid),
                    **_slot_fields(slot_at_begin, "_at_ccv_begin_at")}, pdu.calcat)


def calibration_constant_json(calibration: Calibration, detector_type: str, detector_type_id: int,
                              conditions: str, kept_constant: dict[str, Any] | None = None) -> JSON:
    """A calibration constant (``conditions``: ``condition_key`` of its conditions;
    ``kept_constant``: CALCAT's ``calibration_constant`` of an imported CCV, laid over)."""
    cond = condition_id(conditions)
    return overlay({
        "id": calibration_constant_id(detector_type, calibration.identifier, conditions),
        "name": f"{detector_type}_{calibration.identifier}_{cond:x}",
        "detector_type_id": detector_type_id, "calibration_id": record_id("calibration", calibration),
        "condition_id": cond, "flg_auto_approve": True, "flg_available": True,
        "description": calibration.description or "", "created_at": None, "updated_at": None,
    }, kept_constant)


@dataclass(frozen=True, slots=True)
class CCVContext:
    """What a CCV's JSON needs beyond its row, its batch and its page (shared by many rows)."""

    calibration: Calibration
    detector_type: str
    detector_type_id: int
    pdu: Any  # its JSON, or that pre-serialised (an orjson.Fragment)
    conditions: str  # condition_key(row.conditions)
    kept: Verbatim | None = None  # the CCV's calcat block (imported CCVs)
    constant: Any = None  # the calibration_constant pre-serialised (never with kept), else made here


def ccv_json(row: CCVRow, ctx: CCVContext, zone: tzinfo, created_at: str | None, view_url: str) -> JSON:
    """A CCV; ``created_at``: its batch's injection time (calcat_time), ``view_url``: its
    page (CALCAT's own for imported CCVs, in ``ctx.kept``)."""
    directory, _, file_name = row.file.rpartition("/")
    begin = calcat_time(from_micros(row.begin_at), zone)
    end = calcat_time(from_micros(row.end_at), zone) if row.end_at is not None else None
    constant = ctx.constant if ctx.constant is not None else calibration_constant_json(
        ctx.calibration, ctx.detector_type, ctx.detector_type_id, ctx.conditions, kept_constant(ctx.kept))
    return overlay({
        "id": ccv_int_id(row.ccv_id, row.calcat_id), "name": row.ccv_id, "file_name": file_name,
        "path_to_file": f"{directory}/" if directory else "", "data_set_name": row.dataset,
        "flg_deployed": row.deployed, "flg_good_quality": row.good_quality, "begin_validity_at": begin,
        "end_validity_at": end, "begin_at": begin, "start_idx": 0, "end_idx": 0, "raw_data_location": "",
        "report_id": report_int_id(row.report_id, row.report_path), "description": "",
        "created_at": created_at, "view_url": view_url,
        "calibration_constant": constant, "physical_detector_unit": ctx.pdu,
    }, ctx.kept)


def parameter_condition_json(cond_id: int, name: str, parameter: int, raw: Any,
                             default: tuple[float, float]) -> JSON:
    """One parameter of a condition as CALCAT lists it: a number in ``value``; a text (LPD's
    ``Memory cell order``) in ``txt_value``, with ``value`` 0.0."""
    value, (lower, upper) = raw, default
    if isinstance(raw, dict):
        value, lower, upper = raw["value"], raw.get("lower_deviation", lower), raw.get("upper_deviation", upper)
    text = isinstance(value, str)
    return {"id": parameter_condition_id(cond_id, name), "parameter_id": parameter, "parameter_name": name,
            "condition_id": cond_id, "value": 0.0 if text else float(value), "txt_value": value if text else None,
            "lower_deviation_value": float(lower), "upper_deviation_value": float(upper), "flg_available": True,
            "description": "", "created_at": None}


def condition_json(cond_id: int, conditions: dict[str, Any], parameter_ids: dict[str, int],
                   defaults: dict[str, tuple[float, float]], created_at: str | None = None) -> JSON:
    """A condition with its parameters, values and deviations (``/api/conditions/<id>``)."""
    items = [parameter_condition_json(cond_id, name, parameter_ids.get(name, stable_id("parameter", name)), raw,
                                      defaults.get(name, (0.0, 0.0)))
             for name, raw in sorted(conditions.items())]
    return {"id": cond_id, "name": f"condition {cond_id}", "flg_available": True, "event_at": None,
            "description": "", "created_at": created_at, "parameters_conditions": items}


def kept_constant(kept: Verbatim | None) -> dict[str, Any] | None:
    """CALCAT's ``calibration_constant`` block of an imported CCV's kept fields."""
    found = kept.data().get("calibration_constant") if kept else None
    return found if isinstance(found, dict) else None


def served_condition_id(conditions: str, kept: Verbatim | None) -> int:
    """CALCAT's condition id of an imported CCV, else the stable id of its condition set."""
    return condition_id(conditions, kept_constant(kept))


def report_json(report_id: int, report_path: str, store_prefix: str, ccvs: list[JSON],
                kept: Verbatim | None = None, view_url: str = "") -> JSON:
    """A report; ``file_path`` is the store root (``--store``) joined with its store path
    (CALCAT's own for imported reports)."""
    return overlay({"id": report_id, "name": report_path.rpartition("/")[2], "file_path": store_prefix + report_path,
                    "flg_available": True, "description": "", "user_id": None, "view_url": view_url,
                    "calibration_constant_versions": ccvs}, kept)
