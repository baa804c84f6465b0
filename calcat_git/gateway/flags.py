"""``PUT calibration_constant_versions/<id>``: a CCV's flags change, with a reason.

A CCV is never edited: of the fields calibration-client sends back (every plain field
of the CCV as read, with the ones to update), only ``flg_good_quality`` and
``flg_deployed`` may differ from the CCV; anything else is refused. The change is
``Change.flag`` (as ``calcat-git flag``: the reason is kept beside the flags in the batch
file) with its reason (the ``X-Calcat-Git-Reason`` header, else who asked), committed
onto the report's branch while the CCV waits there for review, else onto
``flag/ccv-<id>`` from the served branch, then merged or left for review as an
injection is (``approve``).
"""

from __future__ import annotations

from typing import Any

import yaml

from calcat_git.edit.change import write_lock
from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.gateway.approve import Approval, approve, validated
from calcat_git.gateway.auth import Writer
from calcat_git.gateway.ccv import ccv_reply, rows_of
from calcat_git.gateway.context import Gateway, Refused, flag
from calcat_git.gateway.steps import constant_of
from calcat_git.git import commits
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.selection import CCVRow
from calcat_git.server.request import load_json
from calcat_git.server.shapes import JSON
from calcat_git.server.view import CalcatView

FLAGS = {"flg_good_quality": "good_quality", "flg_deployed": "deployed"}
FLAG_EDITS = {("good_quality", False): "bad-quality", ("good_quality", True): "good-quality",
              ("deployed", False): "not-deployed", ("deployed", True): "deployed"}  # calcat-git flag's names
SENT_ALSO = {"calibration_constant_id", "physical_detector_unit_id", "report_id"}


def pending_row(gateway: Gateway, int_id: int) -> tuple[str, str, CCVRow] | None:
    """(branch, batch path, row) of a CCV the gateway made that is not served yet."""
    known = gateway.records.get("ccv", int_id)
    head = gateway.repo.head_ref(str(known["branch"])) if known else None
    if known is None or head is None or gateway.repo.is_ancestor(head, gateway.repo.rev_parse(gateway.branch)):
        return None  # none, or merged
    raw = gateway.repo.show_file(head, str(known["batch"]))
    rows = rows_of(yaml.safe_load(raw), str(known["batch"])) if raw else []
    found = [r for r in rows if ccv_int_id(r.ccv_id) == int_id]
    return (str(known["branch"]), str(known["batch"]), found[0]) if found else None


def ccv_by_id(gateway: Gateway, view: CalcatView, int_id: int) -> JSON:
    """``GET calibration_constant_versions/<id>``: served, else waiting on its branch."""
    rows = view.backend.ccvs_by_int_id(int_id)
    if rows:
        return view.ccv(int_id)
    pending = pending_row(gateway, int_id)
    if pending is None:
        raise NotFoundError(f"Resource not found! no calibration constant version with id {int_id}")
    return ccv_reply(view, pending[2])


def _wanted(current: JSON, body: bytes) -> dict[str, bool]:
    data = load_json(body, "the body") if body.strip() else None
    if not isinstance(data, dict) or set(data) != {"calibration_constant_version"} or \
            not isinstance(data["calibration_constant_version"], dict):
        raise InvalidInputError('the JSON body must be {"calibration_constant_version": {...}}')
    sent: dict[str, Any] = data["calibration_constant_version"]
    plain = {k for k, v in current.items() if not isinstance(v, dict)}
    unknown = sorted(set(sent) - plain - SENT_ALSO)
    if unknown:
        raise InvalidInputError(f"unknown field(s) of calibration_constant_version: {', '.join(unknown)}")
    changed = sorted(k for k in set(sent) & plain - set(FLAGS) if str(sent[k]) != str(current[k]))
    if changed:
        raise Refused(f"a CCV is never edited, only its flags change (flg_good_quality, flg_deployed): "
                      f"{', '.join(changed)} differ; inject a new CCV instead")
    return {name: flag(sent, key, bool(current[key])) for key, name in FLAGS.items() if key in sent}


def put_flags(gateway: Gateway, view: CalcatView, int_id: int, body: bytes, writer: Writer, reason: str
              ) -> tuple[JSON, Approval | None]:
    current = ccv_by_id(gateway, view, int_id)
    wanted = _wanted(current, body)
    shown = dict(current)
    shown.update({key: wanted[name] for key, name in FLAGS.items() if name in wanted})
    if shown == current:
        return current, None
    said = reason or f"flags set through CALCAT's API by {writer.email}"
    repo = gateway.repo
    with write_lock(repo):
        pending = pending_row(gateway, int_id)
        served = repo.rev_parse(gateway.branch)
        if pending is not None:
            branch, path, row = pending
        else:
            rows = view.backend.ccvs_by_int_id(int_id)
            branch, path, row = f"flag/ccv-{int_id}", rows[0].batch, rows[0]
            old = repo.head_ref(branch)
            if old != served:
                commits.move_branch(repo, branch, served, old)
        change = gateway.change(branch, writer)
        for key, name in FLAGS.items():
            if shown[key] != current[key]:  # the one write path's flag edit, with its reason
                change.flag([str(int_id)], FLAG_EDITS[(name, wanted[name])], reason=said)
        raw = change.read(path)
        if raw is None:
            raise NotFoundError(f"Resource not found! the batch {path} of CCV {int_id} is gone")
        batch = yaml.safe_load(raw)
        flags = ", ".join(f"{name} {str(value).lower()}" for name, value in wanted.items())
        sha = change.commit(f"flag {row.calibration} of {row.pdu} ({row.ccv_id[:12]}): {flags}\n\nreason: {said}\n"
                            f"through CALCAT's API, for {writer.email}")
        assert sha is not None
        if pending is not None:
            autos = [bool((gateway.records.get("ccv", ccv_int_id(r.ccv_id)) or {}).get("auto"))
                     for r in rows_of(batch, path)]
            auto = all(autos)
        else:
            auto = bool(constant_of(gateway, view, int(current["calibration_constant"]["id"])).get("flg_auto_approve"))
        return shown, approve(gateway, branch, sha, auto, writer, validated(change), change)
