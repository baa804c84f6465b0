"""The endpoints calibration_client (the calibration pipeline's CALCAT client) reads beyond
EXtra's: list filters, the calibration-constant layer (``constants``), condition search,
and ``/me``. Each takes exactly the query parameters the client sends; any other is
refused naming it (``endpoints.Query``)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from calcat_git.errors import InvalidInputError
from calcat_git.model.calcat_ids import report_int_id
from calcat_git.server.asked import parse_asked
from calcat_git.server.constants import Constants, not_found
from calcat_git.server.endpoints import Call, endpoint
from calcat_git.server.request import client_time, id_list, json_body
from calcat_git.server.shapes import JSON, Slot, record_id, report_json

ANONYMOUS = {"id": 0, "email": "anonymous@calcat-git.invalid", "provider": "calcat-git",
             "contact_email": "anonymous@calcat-git.invalid", "name": "Anonymous", "first_name": "Anonymous",
             "last_name": "", "nickname": None, "uid": None, "ldap_synced_at": None, "flg_service_account": False,
             "flg_ldap_account_valid": False, "roles": []}


# --- list filters -------------------------------------------------------------------------
def ccv_list(call: Call) -> list[JSON]:
    """CCVs of a report (by id or file path) or by name: exactly one of them."""
    report_id, path, name = call.query.integer("report_id"), call.query.text("report.file_path"), call.query.text("name")
    if sum(x is not None for x in (report_id, path, name)) != 1:
        raise InvalidInputError("give one of report_id, report.file_path or name (listing every CCV is not supported)")
    view = call.view
    if name is None:
        return view.ccv_list(view.report_rows(report_id, path)[2])
    return view.ccv_list(view.backend.named_ccvs(name))  # CALCAT's kept name, else the content id


def reports(call: Call) -> list[JSON]:
    """Reports by name and/or file path (each as by id, without its CCVs)."""
    name, path = call.query.text("name"), call.query.text("file_path")
    if name is None and path is None:
        raise InvalidInputError("give name and/or file_path (listing every report is not supported)")
    view, out = call.view, []
    for first in view.backend.report_firsts():  # a row a report, not every CCV
        report_path = first.report_path
        shown = report_json(report_int_id(first.report_id, report_path), report_path, view.store_prefix, [],
                            view.ccvs.kept(first)[1], view.ccvs.view_url(first, "reports"))
        shown.pop("calibration_constant_versions", None)
        if (name is None or shown["name"] == name) and (path is None or shown["file_path"] == path):
            out.append(shown)
    return sorted(out, key=lambda r: int(r["id"]))


# --- calibration constants and their versions ------------------------------------------------
def cc_by_uk(call: Call) -> JSON:
    """``calibrations/{id}/get_calibration_constant``: the CC of a calibration, type and condition."""
    found = Constants.of(call.view).by_conditions(_path_calibration(call), call.query.required_integer("detector_type_id"),
                                                  [call.query.required_integer("condition_id")])
    if not found:
        raise not_found("no calibration constant of this calibration, detector type and condition")
    return found[0]


def ccs_by_conditions(call: Call) -> list[JSON]:
    """``calibrations/{id}/get_all_calibration_constants``: the CCs with any of ``condition_ids``."""
    ids = id_list(call.query.required("condition_ids"), "condition_ids", empty=True)
    return Constants.of(call.view).by_conditions(_path_calibration(call), call.query.required_integer("detector_type_id"),
                                                 ids)


def _path_calibration(call: Call) -> int:
    given = call.query.integer("calibration_id")
    if given is not None and given != call.path_id:
        raise InvalidInputError(f"calibration_id={given} differs from the calibration of the path ({call.path_id})")
    return call.path_id


def _cc_ids(call: Call) -> list[int]:
    ids = id_list(call.query.required("calibration_constant_ids"), "calibration_constant_ids")
    if call.path_id not in ids:
        raise InvalidInputError(f"the path's calibration constant {call.path_id} is not in calibration_constant_ids")
    return ids


def _pdu(call: Call) -> str:
    return call.view.name_of("pdu", call.query.required_integer("physical_detector_unit_id"))


def version(call: Call) -> JSON:
    """``get_version``: the CC's version valid at event_at for the PDU (begun by then, not ended)."""
    layer = Constants.of(call.view)
    chosen = layer.choose(layer.rows([call.path_id], _pdu(call), call.query.time("snapshot_at")),
                          call.query.time("event_at") or call.now, "prior")
    if chosen is None:
        raise not_found("no version of this calibration constant for this PDU at event_at")
    return layer.ccv_json(chosen)


def chosen_version(strategy: str) -> Any:
    """``get_prior_in_time_version`` / ``get_closest_version``: one CCV of the CCs for the PDU."""

    def answer(call: Call) -> JSON:
        layer = Constants.of(call.view)
        rows = layer.rows(_cc_ids(call), _pdu(call), call.query.time("snapshot_at"))
        chosen = layer.choose(rows, call.query.time("event_at") or call.now, strategy)
        if chosen is None:
            raise not_found(f"no version of these calibration constants for this PDU ({strategy})")
        return layer.ccv_json(chosen)

    return answer


def all_versions(call: Call) -> list[JSON]:
    """``get_all_versions``: every CCV of the CCs for the PDU injected by snapshot_at, newest
    begin_at first (``event_at`` does not narrow the list)."""
    call.query.time("event_at")  # checked, as every time a client sends
    layer, pdu = Constants.of(call.view), _pdu(call)
    rows = sorted(layer.rows(_cc_ids(call), pdu, call.query.time("snapshot_at")), key=lambda r: (-r.begin_at, r.ccv_id))
    slot = call.view.slots_now().get(pdu)  # every row is this PDU's: where it sits now, worked out once
    return [call.view.ccvs.json(row, slot) for row in rows]


def closest_by_detector(call: Call) -> list[JSON]:
    """``get_closest_version_by_detector``: per module of the detector (or the one
    ``karabo_da``), the closest CCV of the CCs for the PDU mapped there at event_at."""
    view, layer = call.view, Constants.of(call.view)
    detector = view.name_of("detector", call.query.required_integer("detector_id"))
    det, karabo_da = view.catalog.detector(detector), call.query.text("karabo_da")
    if karabo_da is not None and karabo_da not in det.aggregators:
        raise InvalidInputError(f"{detector} has no module {karabo_da!r} (modules: {', '.join(det.aggregators)})")
    ids, event_at, snapshot_at = _cc_ids(call), call.query.time("event_at") or call.now, call.query.time("snapshot_at")
    modules, out = {m.aggregator: m for m in det.modules}, []
    for aggregator, pdu in sorted(view.catalog.mapping(detector, at=event_at).items()):
        if pdu is None or karabo_da not in (None, aggregator):
            continue
        chosen = layer.choose(layer.rows(ids, pdu, snapshot_at), event_at, "closest")
        if chosen is not None:
            out.append(layer.ccv_json(chosen, Slot(record_id("detector", det), modules[aggregator])))
    if not out:
        raise not_found(f"no version of these calibration constants for a module of {detector}")
    return out


# --- conditions -------------------------------------------------------------------------------
def _asked(call: Call) -> tuple[Any, Any]:
    body = json_body(call.body, "condition", '{"condition": {"parameters_conditions_attributes": [...]}}')
    parsed = parse_asked(body, call.view.asked_parameters())
    return parsed.asked, client_time(parsed.event_at, call.view.zone, "event_at")


def possible_conditions(call: Call) -> list[JSON]:
    asked, event_at = _asked(call)
    return Constants.of(call.view).possible(asked, event_at or call.now)


def expected_condition(call: Call) -> JSON:
    return Constants.of(call.view).expected(_asked(call)[0])


VERSION_QUERY = ("calibration_constant_ids", "physical_detector_unit_id", "event_at", "snapshot_at")
CLIENT_ROUTES = [
    Route("/api/me", endpoint(lambda c: ANONYMOUS)),
    Route("/api/detectors",
          endpoint(lambda c: c.view.detectors(c.query.text("identifier"), name=c.query.text("name")),
                   ("identifier", "name"), True)),
    Route("/api/physical_detector_units",
          endpoint(lambda c: c.view.pdus(c.query.text("physical_name"), c.query.integer("detector_id"),
                                         c.query.text("karabo_da")), ("physical_name", "detector_id", "karabo_da"), True)),
    Route("/api/calibration_constant_versions", endpoint(ccv_list, ("report_id", "report.file_path", "name"), True)),
    Route("/api/reports", endpoint(reports, ("name", "file_path"), True)),
    Route("/api/calibration_constants", endpoint(lambda c: Constants.of(c.view).all(c.query.text("name")), ("name",), True)),
    Route("/api/calibration_constants/{id:id64}",
          endpoint(lambda c: Constants.of(c.view).json(Constants.of(c.view).get(c.path_id)))),
    Route("/api/calibration_constants/{id:id64}/get_version",
          endpoint(version, ("physical_detector_unit_id", "event_at", "snapshot_at"))),
    Route("/api/calibration_constants/{id:id64}/get_prior_in_time_version", endpoint(chosen_version("prior"), VERSION_QUERY)),
    Route("/api/calibration_constants/{id:id64}/get_closest_version", endpoint(chosen_version("closest"), VERSION_QUERY)),
    Route("/api/calibration_constants/{id:id64}/get_all_versions", endpoint(all_versions, VERSION_QUERY)),
    Route("/api/calibration_constants/{id:id64}/get_closest_version_by_detector",
          endpoint(closest_by_detector, ("calibration_constant_ids", "detector_id", "karabo_da", "event_at", "snapshot_at"))),
    Route("/api/calibrations/{id:id64}/get_calibration_constant",
          endpoint(cc_by_uk, ("calibration_id", "detector_type_id", "condition_id"))),
    Route("/api/calibrations/{id:id64}/get_all_calibration_constants",
          endpoint(ccs_by_conditions, ("calibration_id", "detector_type_id", "condition_ids"))),
    Route("/api/conditions/get_possible_conditions", endpoint(possible_conditions)),
    Route("/api/conditions/get_expected_condition", endpoint(expected_condition)),
    Route("/api/conditions/{id:id64}", endpoint(lambda c: Constants.of(c.view).condition(c.path_id))),
]
