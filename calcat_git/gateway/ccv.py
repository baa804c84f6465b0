"""``POST calibration_constant_versions``: a constant file in the store becomes a CCV on
the report's branch (``inject/report-<id>``), then is merged or left for review.

The request is checked as ``inject`` checks a constant file: the HDF5 file that
``path_to_file``/``file_name`` name is read from the store root (where the pipeline wrote
it; a path that is missing or leads out of the store is refused), its dataset must be the
request's CCV (PDU, calibration, detector type, condition values, begin_at), and its
sha256 is recorded. The CCVs of one report collect in one batch file on the branch until
it is merged; one that arrives after a merge starts a new batch file (a merged batch is
never rewritten). The id is the CCV's content id (``model.calcat_ids.ccv_int_id``): a
retry finds the CCV it made and answers it again, without a second one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from calcat_git.edit.change import Change, write_lock
from calcat_git.edit.inject import batch_path, check_constant
from calcat_git.errors import InvalidInputError
from calcat_git.gateway.approve import Approval, approve, validated
from calcat_git.gateway.auth import Writer
from calcat_git.gateway.context import Gateway, Refused, envelope, flag, id_field, text
from calcat_git.gateway.steps import Created, constant_of, report_of
from calcat_git.git import commits
from calcat_git.index.parse import batch_rows
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.selection import CCVRow
from calcat_git.server.request import client_time
from calcat_git.server.shapes import JSON
from calcat_git.server.view import CalcatView
from calcat_git.store.hdf5 import FileCCV, read_constant_file
from calcat_git.store.paths import file_sha256, store_file
from calcat_git.timeutil import format_timestamp, now_utc

CCV_FIELDS = frozenset({"name", "file_name", "path_to_file", "data_set_name", "calibration_constant_id",
                        "physical_detector_unit_id", "flg_deployed", "flg_good_quality", "begin_validity_at",
                        "end_validity_at", "begin_at", "start_idx", "end_idx", "raw_data_location", "report_id",
                        "description"})


@dataclass
class Posted:
    """A CCV request, checked against its constant file."""

    cc_id: int
    constant: dict[str, Any]
    report: tuple[int | None, str]  # the batch's report id and path
    report_int: int
    found: FileCCV
    entry: dict[str, Any]  # the batch file's constant, with its merged conditions


def _store_path(gateway: Gateway, path_to_file: str, file_name: str) -> tuple[str, Path]:
    """The file's store-relative path and its place on disk; refused outside the store."""
    if gateway.store is None:
        raise Refused("this server has no constant store: start it with --store DIR")
    if not file_name or "/" in file_name:
        raise InvalidInputError(f"file_name must be a file's name without '/', not {file_name!r}")
    joined = f"{path_to_file.rstrip('/')}/{file_name}" if path_to_file.strip("/") else file_name
    if joined.startswith("/"):
        if not joined.startswith(gateway.store_prefix):
            raise Refused(f"{joined} is not in the constant store {gateway.store}: the pipeline writes constant files "
                          "there before it injects them")
        joined = joined[len(gateway.store_prefix):]
    try:
        full = store_file(gateway.store, joined)
    except InvalidInputError as exc:
        raise Refused(f"path_to_file/file_name: {exc}") from None
    if not full.is_file():
        raise Refused(f"no constant file {joined} in the store {gateway.store}: write it there first")
    return joined, full


def _value(raw: Any) -> Any:
    value = raw["value"] if isinstance(raw, dict) else raw
    return value if isinstance(value, str) else float(value)


def _check_file(found: FileCCV, pdu: str, constant: dict[str, Any], begin_at: Any, where: str) -> None:
    said = {"PDU": (found.pdu, pdu), "calibration": (found.calibration, constant["calibration"]),
            "detector type": (found.detector_type, constant["detector_type"])}
    for what, (in_file, asked) in said.items():
        if in_file != asked:
            raise Refused(f"{where}: the file's {what} is {in_file}, the request's {asked}")
    theirs = {k: _value(v) for k, v in constant["conditions"].items()}
    ours = {k: _value(v) for k, v in found.conditions.items()}
    if theirs != ours:
        differ = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise Refused(f"{where}: the file's operating conditions differ from the calibration constant's condition in "
                      f"{', '.join(differ)} (file: {', '.join(f'{k}={ours.get(k)}' for k in differ)}; condition: "
                      f"{', '.join(f'{k}={theirs.get(k)}' for k in differ)})")
    if begin_at != found.begin_at:
        raise Refused(f"{where}: begin_at {format_timestamp(begin_at)} differs from the file's "
                      f"{format_timestamp(found.begin_at)}")


def parse_ccv(gateway: Gateway, view: CalcatView, body: bytes) -> Posted:
    record = envelope(body, "calibration_constant_version", CCV_FIELDS)
    cc_id = id_field(record, "calibration_constant_id") or 0
    constant = constant_of(gateway, view, cc_id)
    pdu = view.name_of("pdu", id_field(record, "physical_detector_unit_id") or 0)
    report_int = id_field(record, "report_id", required=False)
    if report_int is None:
        raise Refused("a CCV needs a report (report_id): the catalog keeps every CCV with the report that made it")
    report = report_of(gateway, view, report_int)
    relative, full = _store_path(gateway, text(record, "path_to_file"), text(record, "file_name", required=True))
    dataset = text(record, "data_set_name", required=True)
    try:
        matches = [c for c in read_constant_file(full) if c.dataset == dataset]
    except InvalidInputError as exc:
        raise Refused(f"the constant file {relative}: {exc}") from None
    if not matches:
        raise Refused(f"{relative} has no constant {dataset!r}")
    begin_at = client_time(text(record, "begin_at", required=True), view.zone, "begin_at")
    _check_file(matches[0], pdu, constant, begin_at, f"{relative}: {dataset}")
    entry: dict[str, Any] = {"calibration": constant["calibration"], "pdu": pdu,
                             "begin_at": format_timestamp(matches[0].begin_at), "file": relative, "dataset": dataset,
                             "sha256": file_sha256(full), "good_quality": flag(record, "flg_good_quality", True),
                             "deployed": flag(record, "flg_deployed", True), "conditions": dict(constant["conditions"])}
    if text(record, "description"):
        entry["description"] = record["description"]
    return Posted(cc_id, constant, report, report_int, matches[0], entry)


def regroup(detector: str, report: tuple[int | None, str], injected_at: str, entries: list[dict[str, Any]]
            ) -> dict[str, Any]:
    """A batch of ``entries`` (each with its merged conditions): the conditions all share at
    batch level, the rest on each constant."""
    shared = dict(entries[0]["conditions"])
    for entry in entries[1:]:
        shared = {k: v for k, v in shared.items() if entry["conditions"].get(k) == v}
    constants = []
    for entry in entries:
        own = {k: v for k, v in entry["conditions"].items() if k not in shared}
        constants.append({k: v for k, v in entry.items() if k != "conditions"} | ({"conditions": own} if own else {}))
    report_id, path = report
    return {"detector": detector, "report": {"path": path} if report_id is None else {"id": report_id, "path": path},
            "injected_at": injected_at, "conditions": shared, "constants": constants}


def merged_entries(batch: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "conditions"} | {"conditions": {**batch["conditions"], **c.get("conditions", {})}}
            for c in batch["constants"]]


def rows_of(batch: dict[str, Any], path: str) -> list[CCVRow]:
    return batch_rows(ConstantBatch.from_dict(batch), path)


def dump(batch: dict[str, Any]) -> bytes:
    return yaml.safe_dump(batch, sort_keys=False, allow_unicode=True, width=120).encode()


def pending_batch(gateway: Gateway, head: str, served: str, detector: str, report_path: str
                  ) -> tuple[str, dict[str, Any]] | None:
    """The batch file of this report and detector that the branch adds to the served branch."""
    base = gateway.repo.merge_base(served, head)
    for status, path in gateway.repo.changed_between(base, head):
        if status == "A" and path.startswith(f"constants_index/{detector}/"):
            raw = gateway.repo.show_file(head, path)
            batch = yaml.safe_load(raw) if raw else None
            if isinstance(batch, dict) and batch.get("report", {}).get("path") == report_path:
                return path, batch
    return None


def report_slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-")[:40] or "constants"


def ccv_reply(view: CalcatView, row: CCVRow) -> JSON:
    return view.ccvs.json(row, view.slots_now().get(row.pdu))


def post_ccv(gateway: Gateway, view: CalcatView, body: bytes, writer: Writer) -> tuple[Created, Approval | None]:
    """The CCV of the request on its report's branch, merged if its CC auto-approves and
    ``check`` is clean: (201, its JSON) and what became of the branch."""
    posted = parse_ccv(gateway, view, body)
    with write_lock(gateway.repo):
        return commit_one(gateway, view, posted, writer)


def report_branch(posted: Posted) -> str:
    return f"inject/report-{posted.report_int}"


def commit_one(gateway: Gateway, view: CalcatView, posted: Posted, writer: Writer) -> tuple[Created, Approval | None]:
    """``post_ccv`` for the holder of the write lock."""
    repo, branch = gateway.repo, report_branch(posted)
    served = repo.rev_parse(gateway.branch)
    head = repo.head_ref(branch)
    pending = head is not None and not repo.is_ancestor(head, served)
    if not pending and head != served:
        commits.move_branch(repo, branch, served, head)  # a merged (or new) report branch starts again
    try:
        return _commit_ccv(gateway, view, posted, writer, branch, served, pending)
    except BaseException:
        if not pending and repo.head_ref(branch) == served and head != served:
            if head is None:
                commits.delete_branch(repo, branch, served)
            else:
                commits.move_branch(repo, branch, head, served)
        raise


def identify(change: Change, posted: Posted) -> tuple[str, CCVRow]:
    """The detector the CCV joins (checked as ``inject`` checks it) and its row (its id)."""
    where = f"{posted.entry['file']}: {posted.entry['dataset']}"
    detector = check_constant(change.registry(), posted.found, where)
    now = format_timestamp(now_utc().replace(microsecond=0))
    return detector, rows_of(regroup(detector, posted.report, now, [posted.entry]), "new.yaml")[0]


def _commit_ccv(gateway: Gateway, view: CalcatView, posted: Posted, writer: Writer, branch: str, served: str,
                pending: bool) -> tuple[Created, Approval | None]:
    repo = gateway.repo
    change = gateway.change(branch, writer)
    detector, mine = identify(change, posted)
    now = format_timestamp(now_utc().replace(microsecond=0))
    int_id = ccv_int_id(mine.ccv_id)
    if view.backend.ccvs_by_int_id(int_id):  # a retry after the merge: the served CCV
        return (201, view.ccv(int_id)), None
    found = pending_batch(gateway, repo.rev_parse(branch), served, detector, posted.report[1]) if pending else None
    entries = merged_entries(found[1]) if found else []
    path = found[0] if found else batch_path(change.draft.exists, detector, posted.found.begin_at,
                                             report_slug(posted.report[1]))
    batch = found[1] if found else None
    rows = rows_of(batch, path) if batch else []
    if any(r.ccv_id == mine.ccv_id for r in rows):  # a retry before the merge: the CCV on the branch
        row = next(r for r in rows if r.ccv_id == mine.ccv_id)
        return (201, ccv_reply(view, row)), None
    batch = regroup(detector, posted.report, batch["injected_at"] if batch else now, [*entries, posted.entry])
    change.put(path, dump(batch))
    sha = change.commit(f"inject {posted.entry['calibration']} of {posted.entry['pdu']} ({posted.report[1]})\n\n"
                        f"through CALCAT's API (calibration constant {posted.cc_id}), for {writer.email}")
    auto = bool(posted.constant.get("flg_auto_approve"))
    gateway.records.put("ccv", int_id, {"branch": branch, "batch": path, "auto": auto, "cc_id": posted.cc_id})
    row = next(r for r in rows_of(batch, path) if r.ccv_id == mine.ccv_id)
    assert sha is not None
    autos = [bool((gateway.records.get("ccv", ccv_int_id(r.ccv_id)) or {}).get("auto")) for r in rows_of(batch, path)]
    approval = approve(gateway, branch, sha, all(autos), writer, validated(change), change)
    return (201, ccv_reply(view, row)), approval
