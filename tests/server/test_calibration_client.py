"""calibration_client 11.4.0, the calibration pipeline's own CALCAT client, against
``calcat-git serve`` over the embedded catalog: every read method of the client, called as
the pipeline calls it, in the client's own environment (``tests/calibration_client.py``).

What each must return is worked out from the catalog without the server: the records'
ids by the id rules (``model.calcat_ids``: CALCAT's for imported records, stable ones
otherwise), the chosen constant by the Python API's own look-up (``CalibrationData``),
conditions and calibration constants from the CCVs' conditions and the batch files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from calcat_git import Catalog
from calcat_git.index.reader import Index
from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.conditions import AGIPDConditions
from calcat_git.lookup.results import ccv_int_id
from calcat_git.model.calcat_ids import calibration_constant_id, condition_id, parameter_id, stable_id
from calcat_git.model.records import Parameter
from calcat_git.model.selection import CCVRow, condition_key, condition_mismatch
from calcat_git.server.constants import Constants
from calcat_git.server.view import CalcatView
from calcat_git.store.paths import store_root
from calcat_git.timeutil import facility_zone, now_utc

from ..calibration_client import run_client
from ..helpers import stop_process
from .test_serve import Server, catalog_repo

DET, MODULE, EVENT = "MID_DET_AGIPD1M-1", "AGIPD00", "2024-03-01T00:00:00+00:00"
CONDITION = AGIPDConditions(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0, gain_mode=0)
ASKED = CONDITION.make_dict(AGIPDConditions.calibration_types["Offset"])


def rid(record: Any, kind: str) -> int:
    return record.calcat_id if record.calcat_id is not None else stable_id(kind, record.identifier)


@dataclass
class Facts:
    """What the client must get, derived from the catalog (never from the server)."""

    repo: Path
    cal: int
    dtype: int
    det: int
    pdu: str  # the PDU in MODULE at EVENT
    pdu_id: int
    pdu_now: str  # the PDU in MODULE now
    mapped_at_event: set[str]
    mapped_now: set[str]
    param: int  # 'Memory cells'
    param_ids: dict[str, int]  # every parameter spelling's id
    closest: int  # the CCV the Python API chooses for MODULE at EVENT (closest)
    prior: int  # and with 'prior'
    closest_by_module: dict[str, int]
    ccv_name: str
    versions: set[int]  # every Offset CCV of the PDU whose condition covers ASKED
    cc_ids: set[int]  # the calibration constants (AGIPD, Offset) whose conditions cover ASKED
    cc_id: int  # the one of the chosen CCV
    cc_name: str
    cond_ids: set[int]  # conditions that cover ASKED (AGIPD's parameters)
    cond_id: int  # the chosen CCV's
    exact: dict[str, Any]  # the chosen CCV's stored values: the expected condition's
    report: int
    report_name: str
    report_path: str  # as CALCAT gives it: in the store (the catalog's calcat-git.yaml names it)
    report_ccvs: set[int]


def _kept_constant(repo: Path, row: CCVRow) -> dict[str, Any] | None:
    """CALCAT's calibration_constant of an imported CCV, read from its batch file."""
    if row.calcat_id is None:
        return None
    batch = yaml.safe_load((repo / row.batch).read_text())
    kept = next(c.get("calcat", {}) for c in batch["constants"] if c.get("calcat_id") == row.calcat_id)
    found = kept.get("calibration_constant")
    return found if isinstance(found, dict) else None


def _stored(raw: Any) -> Any:
    return raw["value"] if isinstance(raw, dict) else raw


def facts_of(repo: Path) -> Facts:
    cat = Catalog.open(repo)
    defaults = cat.parameter_deviations()
    found = CalibrationData.from_condition(CONDITION, DET, calibrations=["Offset"], catalog=cat, event_at=EVENT)
    prior = CalibrationData.from_condition(CONDITION, DET, calibrations=["Offset"], catalog=cat, event_at=EVENT,
                                           begin_at_strategy="prior")
    chosen = found["Offset"][MODULE]
    agipd = {p for p in cat.names("pdu") if cat.pdu(p).detector_type == "AGIPD-Type"}
    matching = [r for r in cat.backend.all_ccvs() if r.calibration == "Offset" and r.pdu in agipd
                and condition_mismatch(r.conditions, ASKED, defaults) is None]
    row = next(r for r in matching if ccv_int_id(r.ccv_id, r.calcat_id) == chosen.int_id)

    def cc(r: CCVRow) -> int:
        return calibration_constant_id("AGIPD-Type", "Offset", condition_key(r.conditions), _kept_constant(repo, r))

    def cond(r: CCVRow) -> int:
        return condition_id(condition_key(r.conditions), _kept_constant(repo, r))

    report_rows = [r for r in cat.backend.all_ccvs() if r.report_path == row.report_path]
    at_event, now = cat.mapping(DET, at=EVENT), cat.mapping(DET, at=now_utc())
    parameters = [cat.backend.record("parameter", n, Parameter) for n in cat.names("parameter")]
    memory_cells = next(p for p in parameters if "Memory cells" in p.spellings)
    assert row.calcat_id is None  # a CCV of this catalog (its report has an id of its own)
    return Facts(
        repo=repo, cal=rid(cat.calibration("Offset"), "calibration"), dtype=rid(cat.detector_type("AGIPD-Type"), "detector_type"),
        det=rid(cat.detector(DET), "detector"), pdu=chosen.pdu_name, pdu_id=rid(cat.pdu(chosen.pdu_name), "pdu"),
        pdu_now=str(now[MODULE]), mapped_at_event={p for p in at_event.values() if p},
        mapped_now={p for p in now.values() if p},
        param=parameter_id(memory_cells, "Memory cells"),
        param_ids={s: parameter_id(p, s) for p in parameters for s in p.spellings},
        closest=chosen.int_id, prior=prior["Offset"][MODULE].int_id,
        closest_by_module={a: c.int_id for a, c in found["Offset"].constants.items()}, ccv_name=row.ccv_id,
        versions={ccv_int_id(r.ccv_id, r.calcat_id) for r in matching if r.pdu == chosen.pdu_name},
        cc_ids={cc(r) for r in matching}, cc_id=cc(row),
        cc_name=f"AGIPD-Type_Offset_{condition_id(condition_key(row.conditions)):x}",
        cond_ids={cond(r) for r in matching}, cond_id=cond(row),
        exact={k: _stored(v) for k, v in row.conditions.items()},
        report=row.report_id if row.report_id is not None else stable_id("report", row.report_path),
        report_name=row.report_path.rpartition("/")[2], report_path=f"{store_root(None, repo)}/{row.report_path}",
        report_ccvs={ccv_int_id(r.ccv_id, r.calcat_id) for r in report_rows},
    )


def client_parameters(values: dict[str, Any]) -> list[dict[str, Any]]:
    """A detector condition as the pipeline gives it to the client."""
    return [{"parameter_name": k, "value": v, "lower_deviation_value": 0, "upper_deviation_value": 0,
             "flg_available": 1, "description": ""} for k, v in values.items()]


def condition_items(f: Facts, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Asked parameters as the client sends them: by id, every value as text."""
    return [{"parameter_id": str(f.param_ids[k]), "value": str(v), "lower_deviation_value": "0",
             "upper_deviation_value": "0", "flg_available": "true", "description": ""} for k, v in values.items()]


def condition_body(f: Facts, values: dict[str, Any]) -> dict[str, Any]:
    """The client's condition body (``Condition.__get_resource``)."""
    return {"condition": {"name": "asked", "flg_available": "true", "event_at": None, "description": "",
                          "parameters_conditions_attributes": condition_items(f, values)}}


# --- what a reply must be -----------------------------------------------------------------
def data(result: dict[str, Any]) -> Any:
    """The data of a client call that must succeed (a Response's JSON, or a result's data)."""
    assert "result" in result, result
    res = result["result"]
    if isinstance(res, dict) and "status" in res and "json" in res:
        assert res["status"] == 200, res
        return res["json"]
    if isinstance(res, dict) and "success" in res:
        assert res["success"] is True, res
        return res["data"]
    return res


def ids(items: list[dict[str, Any]]) -> set[int]:
    return {int(i["id"]) for i in items}


Check = Callable[[Facts, Any], bool]
Spec = Callable[[Facts], dict[str, Any]]


def retrieve(f: Facts, **more: Any) -> dict[str, Any]:
    return {"calibration_name": "Offset", "detector_condition": {"parameters": client_parameters(ASKED)},
            "measured_at": EVENT, **more}


def by_pdu(f: Facts) -> dict[str, Any]:
    return {"pdu_physical_name": f.pdu}


def by_slot(f: Facts) -> dict[str, Any]:
    return {"detector_identifier": DET, "pdu_karabo_da": MODULE}


def _c(call: str, *args: Any, init: list[Any] | None = None) -> dict[str, Any]:
    return {"call": call, "args": list(args), **({"init": init} if init is not None else {})}


def conditions_body(f: Facts) -> dict[str, Any]:
    return {"parameters_conditions_attributes": [{"parameter_name": k, "value": str(v)} for k, v in ASKED.items()]}


CC_IDS: Callable[[Facts], list[int]] = lambda f: [f.cc_id, *sorted(f.cc_ids - {f.cc_id})]  # noqa: E731
ASKED_ITEMS: Callable[[Facts], list[dict[str, Any]]] = lambda f: [  # noqa: E731
    {"parameter_name": k, "value": str(v)} for k, v in ASKED.items()]

# (method, how it is called, what it must return): every read method of calibration_client
# 11.4.0 (apis/*.py, modules/*.py, calibration_client.py), plus the three other modes of
# two of them (get_physical_detector_unit by slot; retrieve_* by strategy).
CASES: list[tuple[str, Spec, Check]] = [
    # apis/*.py: one request each
    ("get_calibration_by_id_api", lambda f: _c("get_calibration_by_id_api", f.cal),
     lambda f, d: d["id"] == f.cal and d["name"] == "Offset"),
    ("get_all_calibrations_by_name_api", lambda f: _c("get_all_calibrations_by_name_api", "Offset"),
     lambda f, d: ids(d) == {f.cal}),
    ("get_all_calibration_constants_by_conds_api",
     lambda f: _c("get_all_calibration_constants_by_conds_api", f.cal, f.dtype, sorted(f.cond_ids)),
     lambda f, d: ids(d) == f.cc_ids),
    ("get_calibration_constant_by_uk_api", lambda f: _c("get_calibration_constant_by_uk_api", f.cal, f.dtype, f.cond_id),
     lambda f, d: d["id"] == f.cc_id and d["condition_id"] == f.cond_id),
    ("get_calibration_constant_by_id_api", lambda f: _c("get_calibration_constant_by_id_api", f.cc_id),
     lambda f, d: (d["id"], d["calibration_id"], d["detector_type_id"], d["condition_id"]) == (f.cc_id, f.cal, f.dtype,
                                                                                                f.cond_id)),
    ("get_all_calibration_constants_by_name_api", lambda f: _c("get_all_calibration_constants_by_name_api", f.cc_name),
     lambda f, d: ids(d) == {f.cc_id}),
    ("get_calibration_constant_version_by_uk_api",
     lambda f: _c("get_calibration_constant_version_by_uk_api", f.cc_id, f.pdu_id, EVENT, ""),
     lambda f, d: d["id"] == f.prior and d["calibration_constant"]["id"] == f.cc_id),
    ("get_prior_in_time_calibration_constant_version_api",
     lambda f: _c("get_prior_in_time_calibration_constant_version_api", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: d["id"] == f.prior),
    ("get_closest_calibration_constant_version_api",
     lambda f: _c("get_closest_calibration_constant_version_api", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: d["id"] == f.closest),
    ("get_closest_calibration_constant_version_by_detector_api",
     lambda f: _c("get_closest_calibration_constant_version_by_detector_api", CC_IDS(f), f.det, MODULE, EVENT, ""),
     lambda f, d: [c["id"] for c in d] == [f.closest] and d[0]["physical_detector_unit"]["karabo_da"] == MODULE),
    ("get_all_calibration_constant_versions_api",
     lambda f: _c("get_all_calibration_constant_versions_api", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: ids(d) == f.versions and f.closest in ids(d)),
    ("get_calibration_constant_version_by_id_api", lambda f: _c("get_calibration_constant_version_by_id_api", f.closest),
     lambda f, d: d["id"] == f.closest and d["physical_detector_unit"]["physical_name"] == f.pdu),
    ("get_calibration_constant_versions_api",
     lambda f: _c("get_calibration_constant_versions_api", {"report_id": f.report, "page_size": 500}),
     lambda f, d: ids(d) == f.report_ccvs),
    ("get_all_calibration_constant_versions_by_name_api",
     lambda f: _c("get_all_calibration_constant_versions_by_name_api", f.ccv_name), lambda f, d: ids(d) == {f.closest}),
    ("get_calibration_constant_versions_by_detector_conditions_api",
     lambda f: _c("get_calibration_constant_versions_by_detector_conditions_api", DET, f"[{f.cal}]",
                  conditions_body(f), "", EVENT, EVENT, "closest"),
     lambda f, d: {c["physical_detector_unit"]["karabo_da"]: c["id"] for c in d} == f.closest_by_module),
    ("get_possible_conditions", lambda f: _c("get_possible_conditions", condition_body(f, ASKED)),
     lambda f, d: ids(d) == f.cond_ids),
    ("get_expected_condition", lambda f: _c("get_expected_condition", condition_body(f, f.exact)),
     lambda f, d: d["id"] == f.cond_id),
    ("get_detector_by_id_api", lambda f: _c("get_detector_by_id_api", f.det), lambda f, d: d["identifier"] == DET),
    ("get_all_detectors_by_name_api", lambda f: _c("get_all_detectors_by_name_api", DET), lambda f, d: ids(d) == {f.det}),
    ("get_all_detectors_by_identifier_api", lambda f: _c("get_all_detectors_by_identifier_api", DET),
     lambda f, d: ids(d) == {f.det}),
    ("get_detector_type_by_id_api", lambda f: _c("get_detector_type_by_id_api", f.dtype),
     lambda f, d: d["name"] == "AGIPD-Type"),
    ("get_all_detector_types_by_name_api", lambda f: _c("get_all_detector_types_by_name_api", "AGIPD-Type"),
     lambda f, d: ids(d) == {f.dtype}),
    ("get_parameter_by_id_api", lambda f: _c("get_parameter_by_id_api", f.param), lambda f, d: d["name"] == "Memory cells"),
    ("get_all_parameters_by_name_api", lambda f: _c("get_all_parameters_by_name_api", "Memory cells"),
     lambda f, d: ids(d) == {f.param}),
    ("get_physical_detector_unit_by_id_api", lambda f: _c("get_physical_detector_unit_by_id_api", f.pdu_id),
     lambda f, d: d["physical_name"] == f.pdu),
    ("get_all_physical_detector_units_by_physical_name_api",
     lambda f: _c("get_all_physical_detector_units_by_physical_name_api", f.pdu), lambda f, d: ids(d) == {f.pdu_id}),
    ("get_all_physical_detector_units_by_detector_id_api",
     lambda f: _c("get_all_physical_detector_units_by_detector_id_api", f.det),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_now),
    ("get_all_physical_detector_units_by_det_and_krbda_api",
     lambda f: _c("get_all_physical_detector_units_by_det_and_krbda_api", f.det, MODULE),
     lambda f, d: [p["physical_name"] for p in d] == [f.pdu_now]),
    ("get_all_by_detector_api", lambda f: _c("get_all_by_detector_api", f.det, EVENT),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_at_event),
    ("get_report_by_id_api", lambda f: _c("get_report_by_id_api", f.report),
     lambda f, d: d["id"] == f.report and ids(d["calibration_constant_versions"]) == f.report_ccvs),
    ("get_reports_api", lambda f: _c("get_reports_api", {"name": f.report_name}), lambda f, d: ids(d) == {f.report}),
    ("get_all_reports_by_name_api", lambda f: _c("get_all_reports_by_name_api", f.report_name),
     lambda f, d: ids(d) == {f.report}),
    ("get_all_reports_by_name_and_file_path_api",
     lambda f: _c("get_all_reports_by_name_and_file_path_api", f.report_name, f.report_path),
     lambda f, d: ids(d) == {f.report}),
    ("get_reports_by_file_path_api", lambda f: _c("get_reports_by_file_path_api", f.report_path),
     lambda f, d: ids(d) == {f.report}),
    ("get_current_user", lambda f: _c("get_current_user"), lambda f, d: d["id"] == 0 and "email" in d),
    # calibration_client.py: the wrappers (several requests each)
    ("get_physical_detector_unit", lambda f: _c("get_physical_detector_unit", by_pdu(f)),
     lambda f, d: d["id"] == f.pdu_id),
    ("get_physical_detector_unit (by detector and karabo_da)", lambda f: _c("get_physical_detector_unit", by_slot(f)),
     lambda f, d: d["physical_name"] == f.pdu_now),
    ("search_condition_from_dict",
     lambda f: _c("search_condition_from_dict", EVENT, {"parameters": client_parameters(ASKED)}),
     lambda f, d: d["id"] in f.cond_ids),
    ("search_possible_conditions_from_dict",
     lambda f: _c("search_possible_conditions_from_dict", EVENT, {"parameters": client_parameters(ASKED)}),
     lambda f, d: ids(d) == f.cond_ids),
    ("get_condition_from_dict", lambda f: _c("get_condition_from_dict", {"parameters": client_parameters(ASKED)}),
     lambda f, d: {p["value"] for p in d["parameters_conditions_attributes"]} == {str(v) for v in ASKED.values()}
     and str(f.param) in {p["parameter_id"] for p in d["parameters_conditions_attributes"]}),
    ("get_all_phy_det_units_from_detector",
     lambda f: _c("get_all_phy_det_units_from_detector", {"detector_identifier": DET, "pdu_snapshot_at": EVENT}),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_at_event),
    ("get_all_phy_det_units_from_detector_int", lambda f: _c("get_all_phy_det_units_from_detector_int", DET, EVENT),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_at_event),
    ("retrieve_calibration_constant_version", lambda f: _c("retrieve_calibration_constant_version", retrieve(f, **by_pdu(f))),
     lambda f, d: d["id"] == f.closest),
    ("retrieve_calibration_constant_version (pdu_prior_in_time)",
     lambda f: _c("retrieve_calibration_constant_version", retrieve(f, strategy="pdu_prior_in_time", **by_pdu(f))),
     lambda f, d: d["id"] == f.prior),
    ("retrieve_calibration_constant_version (detector_closest_by_time)",
     lambda f: _c("retrieve_calibration_constant_version", retrieve(f, strategy="detector_closest_by_time", **by_slot(f))),
     lambda f, d: d["id"] == f.closest),
    ("retrieve_calibration_constant_version_by_pdu",
     lambda f: _c("retrieve_calibration_constant_version_by_pdu", "pdu_closest_by_time", retrieve(f, **by_pdu(f))),
     lambda f, d: d["id"] == f.closest),
    ("retrieve_calibration_constant_version_by_detector",
     lambda f: _c("retrieve_calibration_constant_version_by_detector", "detector_closest_by_time", retrieve(f, **by_slot(f))),
     lambda f, d: d["id"] == f.closest),
    ("retrieve_all_calibration_constant_versions",
     lambda f: _c("retrieve_all_calibration_constant_versions", retrieve(f, **by_pdu(f))),
     lambda f, d: ids(d) == f.versions),
    # modules/*.py: the client's record classes
    ("Calibration.get_by_id", lambda f: _c("Calibration.get_by_id", f.cal), lambda f, d: d["name"] == "Offset"),
    ("Calibration.get_all_by_name", lambda f: _c("Calibration.get_all_by_name", "Offset"), lambda f, d: ids(d) == {f.cal}),
    ("Calibration.get_by_name", lambda f: _c("Calibration.get_by_name", "Offset"), lambda f, d: d["id"] == f.cal),
    ("CalibrationConstant.get_by_id", lambda f: _c("CalibrationConstant.get_by_id", f.cc_id),
     lambda f, d: d["id"] == f.cc_id),
    ("CalibrationConstant.get_all_by_name", lambda f: _c("CalibrationConstant.get_all_by_name", f.cc_name),
     lambda f, d: ids(d) == {f.cc_id}),
    ("CalibrationConstant.get_by_name", lambda f: _c("CalibrationConstant.get_by_name", f.cc_name),
     lambda f, d: d["id"] == f.cc_id),
    ("CalibrationConstant.get_all_by_conditions",
     lambda f: _c("CalibrationConstant.get_all_by_conditions", f.cal, f.dtype, sorted(f.cond_ids)),
     lambda f, d: ids(d) == f.cc_ids),
    ("CalibrationConstant.get_by_uk", lambda f: _c("CalibrationConstant.get_by_uk", f.cal, f.dtype, f.cond_id),
     lambda f, d: d["id"] == f.cc_id),
    ("CalibrationConstantVersion.get_by_id", lambda f: _c("CalibrationConstantVersion.get_by_id", f.closest),
     lambda f, d: d["id"] == f.closest),
    ("CalibrationConstantVersion.get_all_by_name", lambda f: _c("CalibrationConstantVersion.get_all_by_name", f.ccv_name),
     lambda f, d: ids(d) == {f.closest}),
    ("CalibrationConstantVersion.get_by_name", lambda f: _c("CalibrationConstantVersion.get_by_name", f.ccv_name),
     lambda f, d: d["id"] == f.closest),
    ("CalibrationConstantVersion.get_by_uk",
     lambda f: _c("CalibrationConstantVersion.get_by_uk", f.cc_id, f.pdu_id, EVENT, ""), lambda f, d: d["id"] == f.prior),
    ("CalibrationConstantVersion.get_prior_in_time",
     lambda f: _c("CalibrationConstantVersion.get_prior_in_time", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: d["id"] == f.prior),
    ("CalibrationConstantVersion.get_closest_by_time",
     lambda f: _c("CalibrationConstantVersion.get_closest_by_time", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: d["id"] == f.closest),
    ("CalibrationConstantVersion.get_closest_by_time_by_detector",
     lambda f: _c("CalibrationConstantVersion.get_closest_by_time_by_detector", CC_IDS(f), f.det, "", EVENT, ""),
     lambda f, d: {c["physical_detector_unit"]["karabo_da"]: c["id"] for c in d} == f.closest_by_module),
    ("CalibrationConstantVersion.get_closest_by_time_by_detector_conditions",
     lambda f: _c("CalibrationConstantVersion.get_closest_by_time_by_detector_conditions", DET, f.cal,
                  {"parameters_conditions_attributes": ASKED_ITEMS(f)}, MODULE, EVENT, EVENT, "prior"),
     lambda f, d: ids(d) == {f.prior}),
    ("CalibrationConstantVersion.get_by_report_id", lambda f: _c("CalibrationConstantVersion.get_by_report_id", f.report),
     lambda f, d: ids(d) == f.report_ccvs),
    ("CalibrationConstantVersion.get_by_report_path",
     lambda f: _c("CalibrationConstantVersion.get_by_report_path", f.report_path), lambda f, d: ids(d) == f.report_ccvs),
    ("CalibrationConstantVersion.get_all_versions",
     lambda f: _c("CalibrationConstantVersion.get_all_versions", CC_IDS(f), f.pdu_id, EVENT, ""),
     lambda f, d: ids(d) == f.versions),
    ("Condition.get_possible",
     lambda f: _c("Condition.get_possible", init=["asked", "true", None, condition_items(f, ASKED), ""]),
     lambda f, d: ids(d) == f.cond_ids),
    ("Condition.get_expected",
     lambda f: _c("Condition.get_expected", init=["asked", "true", None, condition_items(f, f.exact), ""]),
     lambda f, d: d["id"] == f.cond_id and {p["parameter_name"] for p in d["parameters_conditions"]} == set(f.exact)),
    ("Detector.get_by_id", lambda f: _c("Detector.get_by_id", f.det), lambda f, d: d["identifier"] == DET),
    ("Detector.get_all_by_name", lambda f: _c("Detector.get_all_by_name", DET), lambda f, d: ids(d) == {f.det}),
    ("Detector.get_all_by_identifier", lambda f: _c("Detector.get_all_by_identifier", DET), lambda f, d: ids(d) == {f.det}),
    ("Detector.get_by_name", lambda f: _c("Detector.get_by_name", DET), lambda f, d: d["id"] == f.det),
    ("Detector.get_by_identifier", lambda f: _c("Detector.get_by_identifier", DET), lambda f, d: d["id"] == f.det),
    ("DetectorType.get_by_id", lambda f: _c("DetectorType.get_by_id", f.dtype), lambda f, d: d["name"] == "AGIPD-Type"),
    ("DetectorType.get_all_by_name", lambda f: _c("DetectorType.get_all_by_name", "AGIPD-Type"),
     lambda f, d: ids(d) == {f.dtype}),
    ("DetectorType.get_by_name", lambda f: _c("DetectorType.get_by_name", "AGIPD-Type"), lambda f, d: d["id"] == f.dtype),
    ("Parameter.get_by_id", lambda f: _c("Parameter.get_by_id", f.param), lambda f, d: d["name"] == "Memory cells"),
    ("Parameter.get_all_by_name", lambda f: _c("Parameter.get_all_by_name", "Memory cells"),
     lambda f, d: ids(d) == {f.param}),
    ("Parameter.get_by_name", lambda f: _c("Parameter.get_by_name", "Memory cells"), lambda f, d: d["id"] == f.param),
    ("PhysicalDetectorUnit.get_by_id", lambda f: _c("PhysicalDetectorUnit.get_by_id", f.pdu_id),
     lambda f, d: d["physical_name"] == f.pdu),
    ("PhysicalDetectorUnit.get_all_by_name", lambda f: _c("PhysicalDetectorUnit.get_all_by_name", f.pdu),
     lambda f, d: ids(d) == {f.pdu_id}),
    ("PhysicalDetectorUnit.get_all_by_detector_id", lambda f: _c("PhysicalDetectorUnit.get_all_by_detector_id", f.det),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_now),
    ("PhysicalDetectorUnit.get_all_by_detector_and_karabo_da",
     lambda f: _c("PhysicalDetectorUnit.get_all_by_detector_and_karabo_da", f.det, MODULE),
     lambda f, d: [p["physical_name"] for p in d] == [f.pdu_now]),
    ("PhysicalDetectorUnit.get_all_by_detector", lambda f: _c("PhysicalDetectorUnit.get_all_by_detector", f.det, EVENT),
     lambda f, d: {p["physical_name"] for p in d} == f.mapped_at_event),
    ("PhysicalDetectorUnit.get_by_name", lambda f: _c("PhysicalDetectorUnit.get_by_name", f.pdu),
     lambda f, d: d["id"] == f.pdu_id),
    ("Report.get_by_id", lambda f: _c("Report.get_by_id", f.report), lambda f, d: d["id"] == f.report),
    ("Report.get_all_by_name", lambda f: _c("Report.get_all_by_name", f.report_name), lambda f, d: ids(d) == {f.report}),
    ("Report.get_all_by_name_and_file_path",
     lambda f: _c("Report.get_all_by_name_and_file_path", f.report_name, f.report_path), lambda f, d: ids(d) == {f.report}),
    ("Report.get_by_name_and_file_path",
     lambda f: _c("Report.get_by_name_and_file_path", f.report_name, f.report_path), lambda f, d: d["id"] == f.report),
    ("Report.get_by_file_path", lambda f: _c("Report.get_by_file_path", f.report_path), lambda f, d: d["id"] == f.report),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Facts]]:
    repo = catalog_repo(tmp_path_factory.mktemp("client") / "catalog")
    server = Server(repo)
    yield server, facts_of(repo)
    stop_process(server.proc)


@pytest.mark.slow
def test_every_read_method_of_calibration_client(served: tuple[Server, Facts]) -> None:
    """All of calibration_client's read methods in one run of the client, each checked."""
    server, facts = served
    results = run_client(server.base, [spec(facts) for _, spec, _ in CASES])
    failed = []
    for (method, _, check), result in zip(CASES, results, strict=True):
        try:
            good = check(facts, data(result))
        except (AssertionError, KeyError, TypeError, IndexError) as exc:
            good, result = False, {**result, "problem": repr(exc)}
        if not good:
            failed.append(f"{method}: {str(result)[:400]}")
    print(f"calibration_client read methods answered as CALCAT would: {len(CASES) - len(failed)}/{len(CASES)}")
    assert len({name for name, _, _ in CASES}) == len(CASES) == 91
    assert not failed, "\n".join(failed)


@pytest.mark.slow
def test_calcat_ids_of_an_imported_constant_and_its_condition(served: tuple[Server, Facts]) -> None:
    """An imported CCV's calibration constant and condition keep CALCAT's ids and fields."""
    server, facts = served
    batch = yaml.safe_load((facts.repo / "constants_index/SPB_DET_AGIPD1M-1/2023/20230729T175636Z-calcat-report-3757.yaml")
                           .read_text())
    kept = batch["constants"][0]["calcat"]["calibration_constant"]
    constant, by_uk, versions = (data(r) for r in run_client(server.base, [
        _c("get_calibration_constant_by_id_api", kept["id"]),
        _c("get_calibration_constant_by_uk_api", kept["calibration_id"], kept["detector_type_id"], kept["condition_id"]),
        _c("get_all_calibration_constant_versions_api", [kept["id"]],
           rid(Catalog.open(facts.repo).pdu(batch["constants"][0]["pdu"]), "pdu"), "", "")]))
    assert constant == by_uk and {k: constant[k] for k in kept} == kept
    assert batch["constants"][0]["calcat_id"] in ids(versions)


def test_the_constant_layer_never_reads_every_ccv(served: tuple[Server, Facts], monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """serve's CC layer answers from the index's groups of CCVs (per PDU, per CC, or one row
    per CC and PDU for a listing): a view's memory and first use do not grow with every CCV."""
    _, facts = served

    def every_ccv(*_: Any) -> None:
        raise AssertionError("the CC layer read every CCV of the snapshot")

    monkeypatch.setattr(Index, "snapshot_ccvs", every_ccv)
    layer = Constants.of(CalcatView(Catalog.open(facts.repo), facility_zone("Europe/Berlin")))
    versions = layer.rows(sorted(facts.cc_ids), facts.pdu, None)
    assert {ccv_int_id(r.ccv_id, r.calcat_id) for r in versions} == facts.versions
    assert layer.json(layer.get(facts.cc_id))["id"] == facts.cc_id
    assert facts.cc_ids <= {int(c["id"]) for c in layer.all()} and facts.cond_ids <= set(layer.conditions)


def test_errors_reach_the_client_in_calcats_shape(served: tuple[Server, Facts]) -> None:
    """What the client reads of an error is ``info``: not found, a question that cannot
    match, and writes (refused, pointing to inject and pull requests)."""
    server, facts = served
    missing, foreign, text, write, unknown = run_client(server.base, [
        _c("CalibrationConstant.get_by_id", 12345),
        _c("CalibrationConstantVersion.get_closest_by_time_by_detector_conditions", DET, 999999,
           {"parameters_conditions_attributes": ASKED_ITEMS(facts)}),
        _c("get_calibration_constant_versions_by_detector_conditions_api", DET, f"[{facts.cal}]",
           {"parameters_conditions_attributes": [{"parameter_name": "Memory cells", "value": "many"}]}),
        _c("create_calibration_api", {"calibration": {"name": "New"}}),
        _c("get_all_physical_detector_units_by_physical_name_api", "x"),
    ])
    assert missing["result"]["success"] is False and "Resource not found!" in missing["result"]["app_info"]
    assert "no calibration with id 999999" in foreign["result"]["app_info"]
    assert text["result"]["status"] == 400 and text["result"]["json"]["status"] == 400
    assert text["result"]["json"]["info"].startswith("AGIPD-Type conditions: Memory cells: 'many' is not a number")
    assert write["result"]["status"] == 405
    assert "calcat-git inject" in write["result"]["json"]["info"] and "pull request" in write["result"]["json"]["info"]
    assert unknown["result"] == {"status": 200, "json": []}


def test_a_question_that_cannot_match_is_a_400_naming_why(served: tuple[Server, Facts]) -> None:
    server, facts = served
    path = "calibration_constant_versions/get_by_detector_conditions"
    query = {"detector_identifier": DET, "calibration_id": f"[{facts.cal}]", "event_at": EVENT, "pdu_snapshot_at": EVENT}
    numbers = {"parameters_conditions_attributes": [{"parameter_name": k, "value": v} for k, v in ASKED.items()]}
    as_text = {"parameters_conditions_attributes": [{"parameter_name": k, "value": str(v)} for k, v in ASKED.items()]}
    by_id = {"parameters_conditions_attributes": [{"parameter_id": facts.param_ids[k], "value": v} for k, v in ASKED.items()]}
    found = server.ok(path, query, numbers)
    assert len(found) == 16 and server.ok(path, query, as_text) == found == server.ok(path, query, by_id)
    assert server.ok(path, {**query, "begin_strategy_at": "prior"}, numbers) == server.ok(
        path, {**query, "begin_at_strategy": "prior"}, numbers)
    jungfrau_only = rid(Catalog.open(facts.repo).calibration("Offset10Hz"), "calibration")
    for params, body, says in [
        ({**query, "begin_strategy_at": "prior", "begin_at_strategy": "closest"}, numbers, "disagree"),
        ({**query, "calibration_id": f"[{jungfrau_only}]"}, numbers, "are not of AGIPD-Type"),
        ({**query, "unknown": "1"}, numbers, "unknown query parameter 'unknown'"),
        ({**query, "karabo_da": "AGIPD99"}, numbers, "has no module 'AGIPD99'"),
        (query, {"parameters_conditions_attributes": [*as_text["parameters_conditions_attributes"],
                                                      {"parameter_name": "Memory Cells", "value": 1}]},
         "AGIPD-Type has no parameter 'Memory Cells'"),
    ]:
        status, _, reply = server.get(path, params, body)
        assert (status, says in reply["info"]) == (400, True), reply
    status, _, reply = server.get("calibration_constants/1/get_all_versions", {"physical_detector_unit_id": 1, "x": 2})
    assert status == 400 and "unknown query parameter 'x'" in reply["info"]


def test_a_text_parameter_is_in_txt_value_with_value_zero() -> None:
    """CALCAT's parameters_conditions: numbers in ``value``, text in ``txt_value`` (value 0.0)."""
    from calcat_git.server.shapes import condition_json

    shown = condition_json(7, {"Memory cell order": "1,2,3,", "Memory cells": 512}, {"Memory cells": 3}, {})
    text, number = shown["parameters_conditions"]
    assert (text["parameter_name"], text["value"], text["txt_value"]) == ("Memory cell order", 0.0, "1,2,3,")
    assert (number["parameter_id"], number["value"], number["txt_value"], number["condition_id"]) == (3, 512.0, None, 7)
