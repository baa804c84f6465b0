"""The fields of CALCAT's record that a catalog record derives (ids and kept CALCAT values
aside), in CALCAT's order. One derivation serves both sides of the round trip: the
CALCAT-compatible server answers these fields, and the importer keeps in a record's
``calcat`` block exactly the fields whose CALCAT value differs from them."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Module, Verbatim


def calcat_time(value: datetime | None, zone: tzinfo) -> str | None:
    """``2022-09-02T07:42:33.000+02:00``: milliseconds, offset of the facility zone."""
    return None if value is None else value.astimezone(zone).isoformat(timespec="milliseconds")


def overlay(out: dict[str, Any], kept: Verbatim | dict[str, Any] | None) -> dict[str, Any]:
    """``out`` with CALCAT's own values (the record's ``calcat`` block) for the fields it
    names; only fields of the reply's shape, nested objects merged field by field."""
    if kept is None:
        return out
    for key, value in (kept.data() if isinstance(kept, Verbatim) else kept).items():
        if key not in out:
            continue
        if isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = overlay(dict(out[key]), value)
        else:
            out[key] = value
    return out


def calibration_fields(cal: Calibration) -> dict[str, Any]:
    return {
        "name": cal.identifier,
        "unit_id": None,
        "max_value": None,
        "min_value": None,
        "allowed_deviation": None,
        "description": cal.description or "",
    }


def instrument_fields(inst: Instrument) -> dict[str, Any]:
    return {"name": inst.name, "identifier": inst.identifier, "url": None, "flg_available": True, "description": inst.description}


def detector_type_fields(dtype: DetectorType) -> dict[str, Any]:
    return {"name": dtype.identifier, "flg_available": True, "description": dtype.description}


def pdu_fields(pdu: PDU) -> dict[str, Any]:
    return {
        "physical_name": pdu.physical_name,
        "uuid": pdu.uuid,
        "flg_available": pdu.status == "active",
        "description": pdu.description,
        "created_at": None,
        "updated_at": None,
    }


def module_fields(module: Module) -> dict[str, Any]:
    return {"virtual_device_name": module.virtual_device_name, "module_number": module.module_number}


def detector_fields(det: Detector) -> dict[str, Any]:
    return {
        "name": det.identifier,
        "identifier": det.identifier,
        "karabo_name": det.identifier,
        "karabo_id_control": det.karabo_id_control,
        "source_name_pattern": det.source_name_pattern,
        "number_of_modules": len(det.modules),
        "first_module_index": min((m.module_number for m in det.modules), default=None),
        "flg_available": True,
        "description": det.description,
    }
