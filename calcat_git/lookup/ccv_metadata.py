"""A CCV's metadata as CALCAT shows it (``SingleConstant.metadata_dict()``): the
``calibration_constant_versions/<id>`` fields EXtra's users read (``begin_validity_at``,
``report_id``, ``view_url``, ``physical_detector_unit``, ``calibration_constant``, …),
made from the catalog, with CALCAT's own values for a CCV imported from CALCAT."""

from __future__ import annotations

import json
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import NotFoundError
from calcat_git.model.calcat_fields import calcat_time, overlay
from calcat_git.model.calcat_ids import ccv_int_id, record_id, stable_id
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import FACILITY_ZONE, facility_zone, from_micros


def row_by_int_id(catalog: Catalog, int_id: int) -> CCVRow:
    """The CCV of this snapshot with integer id ``int_id`` (see :func:`ccv_int_id`)."""
    backend: Any = catalog.backend
    if hasattr(backend, "ccvs_by_int_id"):
        rows = backend.ccvs_by_int_id(int_id)
    else:
        rows = [r for r in backend.all_ccvs() if ccv_int_id(r.ccv_id, r.calcat_id) == int_id]
    if not rows:
        raise NotFoundError(f"no CCV with id {int_id} in the catalog at {(catalog.commit or 'working tree')[:12]}: "
                            "import it from CALCAT (`calcat-git import-calcat`) or read a newer catalog")
    return rows[0]  # type: ignore[no-any-return]


def kept_fields(catalog: Catalog, row: CCVRow) -> tuple[dict[str, Any], dict[str, Any]]:
    """CALCAT's own fields of an imported CCV and of its report (empty for others)."""
    if row.calcat_id is None or not row.batch:
        return {}, {}
    batch = catalog.batch(row.batch)
    if batch is None:
        return {}, {}
    ccv = next((c for c in batch.constants if c.calcat_id == row.calcat_id), None)
    kept = ccv.calcat.data() if ccv is not None and ccv.calcat is not None else {}
    return kept, batch.report.calcat.data() if batch.report.calcat is not None else {}


def ccv_metadata(catalog: Catalog, row: CCVRow, slot_at_begin: tuple[str, Any] | None = None) -> dict[str, Any]:
    """The CCV's fields as CALCAT's ``calibration_constant_versions/<id>`` answers them;
    ``slot_at_begin``: (aggregator, module) its PDU sat in at ``begin_at``."""
    zone = facility_zone(FACILITY_ZONE)
    directory, _, file_name = row.file.rpartition("/")
    begin = calcat_time(from_micros(row.begin_at), zone)
    pdu = catalog.pdu(row.pdu)
    calibration = catalog.calibration(row.calibration)
    conditions = json.dumps(row.conditions, sort_keys=True)
    aggregator, module = slot_at_begin if slot_at_begin else (None, None)
    kept, report_kept = kept_fields(catalog, row)
    report_id = row.report_id if row.report_id is not None or not row.report_path else stable_id("report", row.report_path)
    out = {
        "id": ccv_int_id(row.ccv_id, row.calcat_id), "name": row.ccv_id, "file_name": file_name,
        "path_to_file": f"{directory}/" if directory else "", "data_set_name": row.dataset,
        "flg_deployed": row.deployed, "flg_good_quality": row.good_quality, "begin_validity_at": begin,
        "end_validity_at": calcat_time(from_micros(row.end_at), zone) if row.end_at is not None else None,
        "begin_at": begin, "created_at": None, "raw_data_location": "", "start_idx": 0, "end_idx": 0,
        "report_id": report_id, "description": "", "view_url": None,
        "calibration_constant": {"calibration_id": record_id("calibration", calibration),
                                 "condition_id": stable_id("condition", conditions),
                                 "detector_type_id": record_id("detector_type", catalog.detector_type(pdu.detector_type))},
        "physical_detector_unit": {"id": record_id("pdu", pdu), "physical_name": pdu.physical_name, "uuid": pdu.uuid,
                                   "detector_type_id": record_id("detector_type", catalog.detector_type(pdu.detector_type)),
                                   "karabo_da_at_ccv_begin_at": aggregator,
                                   "virtual_device_name_at_ccv_begin_at": getattr(module, "virtual_device_name", None),
                                   "module_number_at_ccv_begin_at": getattr(module, "module_number", None)},
        "report_path": row.report_path, "report_view_url": report_kept.get("view_url"),
        "calcat_git": {"ccv_id": row.ccv_id, "commit": catalog.commit, "batch": row.batch, "sha256": row.sha256,
                       "conditions": row.conditions},
    }
    merged = overlay(out, kept)
    return merged | {k: v for k, v in kept.items() if k not in merged}
