"""``serve --write``: calibration-client's injection and flag update, unchanged, against a
writing server on a bare clone; EXtra then finds the constant (auto-approved) or not
until its branch is merged (review); retries give the same ids and one CCV; writes
without a writer change nothing."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from calcat_git.store.hdf5 import read_constant_file, write_constant

from ..benchmarks.bench_serve import start_server
from ..calibration_client import run_client
from ..helpers import fast_sample, git, stop_process

TOKEN = "pia-s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPORT = "xfel/reports/MID/dark_r0042.pdf"


@dataclass
class Writer:
    origin: Path
    store: Path
    base: str
    proc: Any

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}/api/{path}", data=data, method=method,
                                         headers={"content-type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read())

    def refs(self) -> str:
        return git(self.origin, "for-each-ref", "--format=%(refname) %(objectname)")


def start_writer(origin: Path, store: Path, tmp_path: Path, *extra: str) -> Writer:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# the pipeline\nsha256:{hashlib.sha256(TOKEN.encode()).hexdigest()}  Pia Pipeline "
                      "<pia@example.org>\n")
    proc, port = start_server(origin, extra=("--write", "--store", str(store), "--tokens", str(tokens), *extra))
    return Writer(origin, store, f"http://127.0.0.1:{port}", proc)


@pytest.fixture
def writer(git_mini: Path, tmp_path: Path) -> Iterator[Writer]:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(git_mini), str(origin))
    server = start_writer(origin, git_mini.parent / "store", tmp_path)
    yield server
    stop_process(server.proc)


def constant_file(store: Path, name: str = "cal.1717236000.h5", memory_cells: int = 202,
                  begin_at: str = "2024-06-01T10:00:00Z", calibration: str = "Offset", seed: int = 0) -> str:
    """A constant file as the pipeline writes it into the store; returns its folder."""
    folder = store / "xfel/cal/agipd-type/agipd_m3"
    folder.mkdir(parents=True, exist_ok=True)
    if any(c.calibration == calibration for c in (read_constant_file(folder / name) if (folder / name).exists() else [])):
        return str(folder) + "/"  # written already (a retry)
    write_constant(folder / name, pdu="AGIPD_M3", uuid=100003, detector_type="AGIPD-Type", calibration=calibration,
                   data=np.random.default_rng(seed).normal(size=(2, 4, 4)).astype(np.float32),
                   conditions={"Sensor Bias Voltage": 300, "Memory cells": memory_cells}, begin_at=begin_at)
    return str(folder) + "/"


def inject_h(store: Path, auto: bool, memory_cells: int = 202, name: str = "cal.1717236000.h5",
             calibration: str = "Offset", begin_at: str = "2024-06-01T10:00:00Z") -> dict[str, Any]:
    """What the pipeline passes to ``inject_new_calibration_constant_version``."""
    parameters = [{"parameter_name": "Sensor Bias Voltage", "value": 300.0, "lower_deviation_value": 5.0,
                   "upper_deviation_value": 5.0, "flg_available": True, "description": ""},
                  {"parameter_name": "Memory cells", "value": float(memory_cells), "lower_deviation_value": 0.0,
                   "upper_deviation_value": 0.0, "flg_available": True, "description": ""}]
    return {
        "detector_condition": {"name": "dark", "parameters": parameters},
        "calibration_constant": {"calibration_name": calibration, "detector_type_name": "AGIPD-Type",
                                 "flg_auto_approve": auto},
        "calibration_constant_version": {
            "file_name": name, "path_to_file": constant_file(store, name, memory_cells, begin_at, calibration),
            "data_set_name": f"/AGIPD_M3/{calibration}/0", "pdu_physical_name": "AGIPD_M3",
            "flg_good_quality": True, "begin_validity_at": begin_at, "end_validity_at": None, "begin_at": begin_at,
            "start_idx": 0, "end_idx": 0, "raw_data_location": "", "description": "dark run 42"},
        "report": {"name": "dark_r0042", "file_path": f"{store.resolve()}/{REPORT}"},
    }


def inject(server: Writer, h: dict[str, Any], headers: dict[str, str] | None = AUTH) -> dict[str, Any]:
    (out,) = run_client(server.base, [{"call": "inject_new_calibration_constant_version", "args": [h]}], headers)
    assert "result" in out, out
    result: dict[str, Any] = out["result"]
    return result


def extra_finds(server: Writer, memory_cells: int = 202) -> dict[str, int]:
    """EXtra's from_condition through the server: aggregator -> CCV id of Offset for MID."""
    from dataclasses import dataclass as extra_dataclass

    import extra.calibration as extra

    @extra_dataclass
    class MiniConditions(extra.ConditionsBase):
        sensor_bias_voltage: float
        memory_cells: int
        calibration_types: ClassVar[dict[str, list[str]]] = {"Offset": ["Sensor Bias Voltage", "Memory cells"]}

    extra.setup_client(server.base, None, None, None)
    try:
        found = extra.CalibrationData.from_condition(MiniConditions(300, memory_cells), "MID_DET_AGIPD1M-1",
                                                     calibrations=["Offset"], event_at="2024-06-02T00:00:00Z")
    except Exception:  # EXtra raises when nothing at all is found
        return {}
    return {agg: c.ccv_id for agg, c in found["Offset"].constants.items()} if "Offset" in found else {}


def test_auto_approved_injection_is_served_at_once(writer: Writer) -> None:
    assert extra_finds(writer) == {}
    before = writer.refs()
    result = inject(writer, inject_h(writer.store, auto=True))
    assert result["success"], result
    ccv_id = result["data"]["id"]
    assert extra_finds(writer) == {"AGIPD01": ccv_id}
    author = git(writer.origin, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
    assert author.split("|")[0] == "Pia Pipeline <pia@example.org>" and author.split("|")[1] == author.split("|")[0]
    batch = git(writer.origin, "show", "--name-only", "--format=", "main").strip()
    assert batch.startswith("constants_index/MID_DET_AGIPD1M-1/2024/20240601T100000Z-dark-r0042")
    assert before != writer.refs()

    # every step again (the pipeline retrying): the same ids, one CCV, no new commit
    refs = writer.refs()
    again = inject(writer, inject_h(writer.store, auto=True))
    assert again["success"] and again["data"]["id"] == ccv_id
    assert writer.refs() == refs
    status, _, ccvs = writer.request("GET", f"calibration_constant_versions?report_id={again['data']['report_id']}")
    assert status == 200 and [c["id"] for c in ccvs] == [ccv_id]


@pytest.mark.slow
def test_reviewed_injection_waits_for_its_branch(writer: Writer) -> None:
    result = inject(writer, inject_h(writer.store, auto=False))
    assert result["success"], result
    ccv_id = result["data"]["id"]
    assert extra_finds(writer) == {}  # left for review: main is unchanged
    branches = git(writer.origin, "branch", "--format=%(refname:short)").split()
    report_branch = next(b for b in branches if b.startswith("inject/report-"))
    # a second CCV of the report joins the same batch file on the branch
    second = inject(writer, inject_h(writer.store, auto=False, calibration="Noise"))
    assert second["success"] and second["data"]["id"] != ccv_id
    added = git(writer.origin, "diff", "--name-only", "main", report_branch).split()
    assert len(added) == 1
    # the flag update reads the CCV (waiting on its branch) and sets its flag there
    (flagged,) = run_client(writer.base, [{"call": "update_calibration_constant_version",
                                           "args": [{"ccv_id": ccv_id, "flg_good_quality": False}]}], AUTH)
    assert flagged["result"]["success"], flagged
    assert "good_quality: false" in git(writer.origin, "show", f"{report_branch}:{added[0]}")
    git(writer.origin, "update-ref", "refs/heads/main", report_branch)  # the reviewer merges
    assert extra_finds(writer) == {}  # Offset flagged bad
    status, _, ccv = writer.request("GET", f"calibration_constant_versions/{second['data']['id']}")
    assert status == 200 and ccv["flg_good_quality"] is True


@pytest.mark.slow
def test_flag_update_of_a_served_ccv_is_a_flag_commit(writer: Writer) -> None:
    ccv_id = inject(writer, inject_h(writer.store, auto=True))["data"]["id"]
    (flagged,) = run_client(writer.base, [{"call": "update_calibration_constant_version",
                                           "args": [{"ccv_id": ccv_id, "flg_good_quality": False}]}], AUTH)
    assert flagged["result"]["success"], flagged
    message = git(writer.origin, "log", "-1", "--format=%B", "main")
    assert message.startswith("flag Offset of AGIPD_M3") and "reason:" in message
    assert extra_finds(writer) == {}


@pytest.mark.slow
def test_a_write_without_a_writer_changes_nothing(writer: Writer) -> None:
    h = inject_h(writer.store, auto=True)
    refs, records = writer.refs(), sorted(writer.origin.rglob("*.json"))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        result = inject(writer, h, headers)
        assert (result["success"], result["status_code"]) == (False, 401), result
    status, reply_headers, body = writer.request("POST", "reports", {"report": {"name": "r", "file_path": "x.pdf"}},
                                                 {"X-User-Email": "eve@example.org"})
    assert status == 401 and "writer" in body["info"] and "Bearer" in reply_headers["www-authenticate"]
    assert writer.refs() == refs and sorted(writer.origin.rglob("*.json")) == records
    assert writer.request("GET", "detectors")[0] == 200  # reads stay open


@pytest.mark.slow
def test_bad_writes_get_4xx_and_change_nothing(writer: Writer) -> None:
    h = inject_h(writer.store, auto=True)
    assert inject(writer, h)["success"]
    refs = writer.refs()
    cases: list[tuple[str, Any, int, str]] = [
        ("calibration_constant_versions", {"calibration_constant_version": {"nonsense": 1}}, 400, "unknown field"),
        ("calibration_constant_versions", [1, 2], 400, "JSON body"),
        ("conditions/set_expected_condition", {"condition": {"parameters_conditions_attributes": [
            {"parameter_name": "Nope", "value": "1"}]}}, 400, "Nope"),
        ("reports", {"report": {"name": "r", "file_path": "/etc/passwd"}}, 422, "not under the store root"),
        ("reports", {"report": {"name": "r", "file_path": "../x.pdf"}}, 422, ".."),
    ]
    for path, body, status, said in cases:
        got, _, reply = writer.request("POST", path, body, AUTH)
        assert (got, said in reply["info"]) == (status, True), (path, reply)
    assert writer.refs() == refs


@pytest.mark.parametrize(("change", "said"), fast_sample([
    ("missing", "no constant file"), ("outside", "not in the constant store"),
    ("conditions", "operating conditions differ"), ("begin_at", "differs from the file's"),
], keep=1))
def test_a_ccv_that_disagrees_with_its_file_is_refused(writer: Writer, change: str, said: str) -> None:
    h = inject_h(writer.store, auto=True)
    ccv = h["calibration_constant_version"]
    if change == "missing":
        ccv["file_name"] = "absent.h5"
    elif change == "outside":
        ccv["path_to_file"] = "/tmp/"
    elif change == "conditions":
        (writer.store / "xfel/cal/agipd-type/agipd_m3/cal.1717236000.h5").unlink()
        constant_file(writer.store, memory_cells=352)  # the file says 352, the condition 202
    else:
        ccv["begin_at"] = "2024-06-01T11:00:00Z"
    refs = writer.refs()
    result = inject(writer, h)
    assert not result["success"] and said in str(result["app_info"]), result
    assert writer.refs() == refs


@pytest.mark.slow
def test_eight_concurrent_writers_lose_and_duplicate_nothing() -> None:
    """8 pipeline jobs posting CCVs at once (the benchmark, small): every CCV on main once."""
    from ..benchmarks.bench_gateway import run

    result = run(clients=8, ccvs=3, read_seconds=0.5)
    assert result["writes"]["failures"] == 0 and result["reads"]["failures"] == 0
    assert result["distinct_ids"] == result["ccvs_on_main"] == result["distinct_on_main"] == 24
    assert result["reports_whole_on_their_branch"] == 8  # each report's branch moved to where its CCVs merged


@pytest.mark.slow
def test_a_trusted_proxy_names_the_writer(git_mini: Path, tmp_path: Path) -> None:
    """Behind an authenticating proxy (--trust-proxy-user-header) calibration-client's own
    X-User-Email names the writer; without the option the same request is refused."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(git_mini), str(origin))
    store = git_mini.parent / "store"
    plain = start_writer(origin, store, tmp_path)
    try:
        status, _, _ = plain.request("POST", "reports/set", {"report": {"name": "r", "file_path": REPORT}},
                                     {"X-User-Email": "pia@example.org"})
        assert status == 401
    finally:
        stop_process(plain.proc)
    trusting = start_writer(origin, store, tmp_path, "--trust-proxy-user-header")
    try:
        result = inject(trusting, inject_h(store, auto=True), headers={})  # the driver sends X-User-Email
        assert result["success"], result
        assert git(origin, "log", "-1", "--format=%an <%ae>", "main").strip() == \
            "pipeline <pipeline@example.org>"
    finally:
        stop_process(trusting.proc)
