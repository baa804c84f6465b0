"""Load benchmark of ``calcat-git serve --write``: sustained CCV POSTs of 8 concurrent
pipeline jobs, beside a read baseline measured in the same run.

    python -m tests.benchmarks.bench_gateway [--clients 8] [--ccvs 25] [--json]

The benchmark makes the small test catalog a bare repository (the writer's origin), a
constant store, one constant file per CCV (AGIPD, begin_at a minute apart) and a token
file, and starts ``serve --write`` on a free loopback port. Each client is a thread with
its own keep-alive connection, one pipeline job with a report of its own: it makes its
condition, calibration constant (auto-approved) and report once, then POSTs its CCVs
back to back, each checked (file read and hashed), committed on the report's branch,
checked against ``main`` and merged, as calibration-client's
``inject_new_calibration_constant_version`` makes them. Reported: CCVs per second over
the whole write phase, p50/p99/max latency, failures; then that every CCV is on ``main``
once. The read baseline: the same clients asking the look-up EXtra sends
(``get_by_detector_conditions``) for as long, before the writes. The load average is
printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from calcat_git.store.hdf5 import write_constant

from ..helpers import stop_process
from .bench_serve import start_server

HERE = Path(__file__).resolve().parent

MINI = HERE.parent / "data" / "mini"
TOKEN = "bench-token"
TARGET_CCVS_PER_S, TARGET_P99_S = 20.0, 1.0
FIRST = datetime(2024, 6, 1, 10, tzinfo=UTC)


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def setup(root: Path, clients: int, ccvs: int) -> tuple[Path, Path, Path]:
    """(bare origin, store, token file) of a fresh writer's repository."""
    work = root / "catalog"
    shutil.copytree(MINI, work)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "mini catalog")
    origin = root / "origin.git"
    _git(root, "clone", "--quiet", "--bare", str(work), str(origin))
    store = root / "store"
    data = np.zeros((2, 4, 4), np.float32)
    (store / "xfel/cal/bench").mkdir(parents=True)
    for n in range(clients * ccvs):
        write_constant(store / f"xfel/cal/bench/c{n:05d}.h5", pdu="AGIPD_M3", uuid=100003, detector_type="AGIPD-Type",
                       calibration="Offset", data=data + n, conditions={"Sensor Bias Voltage": 300, "Memory cells": 202},
                       begin_at=FIRST + timedelta(minutes=n))
    tokens = root / "tokens"
    tokens.write_text(f"sha256:{hashlib.sha256(TOKEN.encode()).hexdigest()} Bench Pipeline <bench@example.org>\n")
    return origin, store, tokens


class Client:
    """One keep-alive connection (a pipeline job)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
        self.conn.request(method, f"/api/{path}", body=None if body is None else json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())


def _setup_job(client: Client, store: Path, job: int) -> tuple[int, int, int]:
    """The condition, CC and report of a job: (cc id, pdu id, report id)."""
    items = [{"parameter_name": "Sensor Bias Voltage", "value": "300.0", "lower_deviation_value": "5.0",
              "upper_deviation_value": "5.0"}, {"parameter_name": "Memory cells", "value": "202.0"}]
    _, cond = client.call("POST", "conditions/set_expected_condition",
                          {"condition": {"name": "bench", "parameters_conditions_attributes": items}})
    _, cal = client.call("GET", "calibrations?name=Offset")
    _, dtype = client.call("GET", "detector_types?name=AGIPD-Type")
    _, cc = client.call("POST", "calibration_constants/", {"calibration_constant": {
        "name": "", "calibration_id": str(cal[0]["id"]), "detector_type_id": str(dtype[0]["id"]),
        "condition_id": str(cond["id"]), "flg_auto_approve": "true", "flg_available": "true", "description": ""}})
    _, pdu = client.call("GET", "physical_detector_units?physical_name=AGIPD_M3")
    _, report = client.call("POST", "reports/set", {"report": {
        "name": f"job{job}", "file_path": f"{store.resolve()}/xfel/reports/bench/job{job}.pdf", "flg_available": True,
        "description": ""}})
    return int(cc["id"]), int(pdu[0]["id"]), int(report["id"])


def _ccv_body(store: Path, n: int, cc: int, pdu: int, report: int) -> dict[str, Any]:
    begin = (FIRST + timedelta(minutes=n)).isoformat()
    return {"calibration_constant_version": {
        "name": f"bench_{n}", "file_name": f"c{n:05d}.h5", "path_to_file": f"{store.resolve()}/xfel/cal/bench/",
        "data_set_name": "/AGIPD_M3/Offset/0", "calibration_constant_id": str(cc), "physical_detector_unit_id": str(pdu),
        "flg_deployed": "true", "flg_good_quality": "true", "begin_validity_at": begin, "end_validity_at": None,
        "begin_at": begin, "start_idx": 0, "end_idx": 0, "raw_data_location": "", "report_id": str(report),
        "description": ""}}


def _stats(latencies: list[float], wall: float, failures: int) -> dict[str, float]:
    ordered = sorted(latencies) or [0.0]
    return {"count": len(latencies), "per_s": len(latencies) / wall if wall else 0.0, "failures": failures,
            "p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * ordered[min(len(ordered) - 1,
                                                                                      int(0.99 * len(ordered)))],
            "max_ms": 1000 * ordered[-1], "seconds": wall}


def _reads(port: int, clients: int, seconds: float) -> dict[str, float]:
    query = urllib.parse.urlencode({"detector_identifier": "MID_DET_AGIPD1M-1", "calibration_id": "[1]",
                                    "event_at": "2024-06-02T00:00:00Z", "pdu_snapshot_at": "2024-06-02T00:00:00Z"})
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    body = json.dumps({"parameters_conditions_attributes": [{"parameter_name": "Sensor Bias Voltage", "value": 300},
                                                            {"parameter_name": "Memory cells", "value": 352}]})
    path = f"/api/calibration_constant_versions/get_by_detector_conditions?{query}"
    calibration = Client(port).call("GET", "calibrations?name=Offset")[1][0]["id"]
    path = path.replace("calibration_id=%5B1%5D", f"calibration_id={calibration}")
    deadline = time.monotonic() + seconds

    def work(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            conn.request("GET", path, body=body, headers={"content-type": "application/json"})
            response = conn.getresponse()
            response.read()
            latencies[i].append(time.perf_counter() - start)
            failures[i] += response.status != 200

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _stats([x for part in latencies for x in part], time.monotonic() - start, sum(failures))


def _writes(port: int, store: Path, clients: int, ccvs: int) -> tuple[dict[str, float], list[int]]:
    jobs = [Client(port) for _ in range(clients)]
    ids = [_setup_job(client, store, i) for i, client in enumerate(jobs)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    made: list[list[int]] = [[] for _ in range(clients)]
    failures = [0] * clients

    def work(i: int) -> None:
        cc, pdu, report = ids[i]
        for k in range(ccvs):
            start = time.perf_counter()
            status, reply = jobs[i].call("POST", "calibration_constant_versions/",
                                         _ccv_body(store, i * ccvs + k, cc, pdu, report))
            latencies[i].append(time.perf_counter() - start)
            if status == 201:
                made[i].append(int(reply["id"]))
            else:
                failures[i] += 1
                print(f"client {i}: {status} {reply}", file=sys.stderr)

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _stats([x for part in latencies for x in part], time.monotonic() - start, sum(failures)), \
        [x for part in made for x in part]


def on_main(origin: Path, branch: str = "main") -> list[str]:
    """The (file, dataset) of every CCV in a batch file on main (one line each)."""
    return [f"{c['file']} {c['dataset']}" for _, c in _ccvs(origin, branch)]


def _ccvs(origin: Path, branch: str, name: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(report path, CCV) of every CCV in a batch file on ``branch`` (whose name holds ``name``)."""
    import yaml

    out = []
    for path in _git(origin, "ls-tree", "-r", "--name-only", branch, "constants_index").split():
        if name not in path.rsplit("/", 1)[-1]:
            continue
        batch = yaml.safe_load(_git(origin, "show", f"{branch}:{path}"))
        out.extend((batch["report"]["path"], c) for c in batch["constants"])
    return out


def whole_reports(origin: Path, ccvs: int) -> int:
    """How many reports have a branch (``inject/report-<id>``) holding every one of their ``ccvs`` CCVs."""
    whole = set()
    for branch in _git(origin, "for-each-ref", "--format=%(refname:short)", "refs/heads/inject/report-*").split():
        counts: dict[str, int] = {}
        for report, _ in _ccvs(origin, branch, "-job"):  # the batch files of the benchmark's reports
            counts[report] = counts.get(report, 0) + 1
        whole |= {r for r, n in counts.items() if r.startswith("xfel/reports/bench/") and n == ccvs}
    return len(whole)


def run(clients: int = 8, ccvs: int = 25, read_seconds: float = 5.0, workers: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        origin, store, tokens = setup(Path(tmp), clients, ccvs)
        proc, port = start_server(origin, workers, ("--write", "--store", str(store), "--tokens", str(tokens)))
        try:
            reads = _reads(port, clients, read_seconds)
            writes, ids = _writes(port, store, clients, ccvs)
            stored = on_main(origin)
            whole = whole_reports(origin, ccvs)
        finally:
            stop_process(proc)
    new = [s for s in stored if s.startswith("xfel/cal/bench/")]
    return {"clients": clients, "ccvs": clients * ccvs, "reads": reads, "writes": writes,
            "distinct_ids": len(set(ids)), "ccvs_on_main": len(new), "distinct_on_main": len(set(new)),
            "reports_whole_on_their_branch": whole,
            "load_average": os.getloadavg(), "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ccvs", type=int, default=25, help="CCVs per client")
    parser.add_argument("--read-seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before = os.getloadavg()
    result = run(args.clients, args.ccvs, args.read_seconds, args.workers)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    r, w = result["reads"], result["writes"]
    print(f"{args.clients} clients, {result['cpus']} CPUs, load average {before[0]:.2f} before, "
          f"{result['load_average'][0]:.2f} after")
    print(f"reads  (get_by_detector_conditions): {r['per_s']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  "
          f"p99 {r['p99_ms']:7.1f} ms  failures {r['failures']}")
    print(f"writes (POST calibration_constant_versions): {w['per_s']:6.1f} CCVs/s p50 {w['p50_ms']:7.1f} ms  "
          f"p99 {w['p99_ms']:7.1f} ms  failures {w['failures']}  (target ≥ {TARGET_CCVS_PER_S:.0f}/s, "
          f"p99 < {TARGET_P99_S * 1000:.0f} ms)")
    print(f"{result['ccvs']} CCVs posted, {result['distinct_ids']} distinct ids, {result['ccvs_on_main']} on main "
          f"({result['distinct_on_main']} distinct)")


if __name__ == "__main__":
    main()
