"""Which of CALCAT's fields a record must keep verbatim (its ``calcat`` block).

The CALCAT-compatible server derives each reply field from the catalog's own fields
(``server/shapes.py``); a record keeps, in ``calcat``, exactly the fields of CALCAT's
record that this derivation would answer differently (a ``null`` number of modules, an
unknown unit id, a made-up description that CALCAT does not have, …). The functions here
mirror that derivation for the fields of one record (the importer may not import the
server). A record the catalog already has gains the block once, computed against its own
fields, so a recorded fact wins over illustrative content in what is served.
"""

from __future__ import annotations

from typing import Any

from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Module, Verbatim


def differing(rec: dict[str, Any], served: dict[str, Any]) -> Verbatim | None:
    """CALCAT's fields of ``rec`` that ``served`` (what the server derives) would answer otherwise."""
    return Verbatim.of({k: v for k, v in rec.items() if k != "id" and k in served and served[k] != v})


def calibration_fields(cal: Calibration) -> dict[str, Any]:
    return {"name": cal.identifier, "unit_id": None, "max_value": None, "min_value": None, "allowed_deviation": None,
            "description": cal.description or ""}


def instrument_fields(inst: Instrument) -> dict[str, Any]:
    return {"name": inst.name, "identifier": inst.identifier, "url": None, "flg_available": True,
            "description": inst.description}


def detector_type_fields(dtype: DetectorType) -> dict[str, Any]:
    return {"name": dtype.identifier, "flg_available": True, "description": dtype.description}


def pdu_fields(pdu: PDU) -> dict[str, Any]:
    return {"physical_name": pdu.physical_name, "uuid": pdu.uuid, "flg_available": pdu.status == "active",
            "description": pdu.description, "created_at": None, "updated_at": None}


def module_fields(module: Module) -> dict[str, Any]:
    return {"virtual_device_name": module.virtual_device_name, "module_number": module.module_number}


def detector_fields(det: Detector, did: int, instrument_ids: dict[str, int | None]) -> dict[str, Any]:
    return {"name": det.identifier, "identifier": det.identifier, "karabo_name": det.identifier,
            "karabo_id_control": det.karabo_id_control, "source_name_pattern": det.source_name_pattern,
            "number_of_modules": len(det.modules),
            "first_module_index": min((m.module_number for m in det.modules), default=None),
            "flg_available": True, "description": det.description,
            "detectors_instruments": [{"instrument_id": instrument_ids.get(i), "detector_id": did}
                                      for i in det.instruments]}
