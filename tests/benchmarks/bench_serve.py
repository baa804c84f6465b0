"""Load benchmark of ``calcat-git serve``: N concurrent clients on loopback, bounded time.

    python -m tests.benchmarks.bench_serve --repo /tmp/big1m --clients 16 --seconds 20 [--workers 2] [--json]

The benchmark starts the server on a free loopback port. A query is the full-detector
CCV query EXtra sends (``calibration_constant_versions/get_by_detector_conditions``):
a random 16-module AGIPD detector, the four dark calibrations (one request, as EXtra
groups calibrations by their parameters), a random ``event_at`` = ``pdu_snapshot_at``
and the conditions of the detector's newest Offset CCV before it. Each client is a
thread with its own keep-alive connection (``http.client``) sending queries back to
back. Reported: requests per second, p50/p99/max latency, failures (any status but 200,
a reply that is not a JSON array, or a connection error) and constants per reply.

Two loads: *distinct* (every request a new question: the server's reply cache never
hits) and *repeated* (the clients draw from a few dozen questions, as the correction jobs
of a few runs do; answered from the per-commit reply cache). Baselines measured in the
same run: one client alone (distinct questions, no concurrency), and the naive way
without a server: one ``calcat-git lookup --json`` process per query.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calcat_git import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.server.shapes import record_id
from calcat_git.timeutil import micros

from ..helpers import start_serving, stop_process

DARK = ("Offset", "Noise", "BadPixelsDark", "ThresholdsDark")
TARGET_P99_MS = 20.0
TARGET_CPU_MS = 0.5
TARGET_REQ_PER_S = 1500.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(repo: Path, workers: int = 1, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], int]:
    """``calcat-git serve`` on a loopback port, returned with the port once it answers. One
    process binds a port of its own (``--port 0``) and says which; more workers are given a
    port that was free a moment ago."""
    port = 0 if workers == 1 else free_port()
    return start_serving([sys.executable, "-m", "calcat_git", "serve", "--repo", str(repo), "--port", str(port),
                          "--workers", str(workers), *extra])


Query = tuple[str, bytes, dict[str, Any]]  # path with query string, JSON body, the query for the CLI


class QueryMaker:
    """Random full-detector CCV queries against one catalog (see the module docstring)."""

    def __init__(self, repo: Path) -> None:
        cat = Catalog.open(repo)
        backend = cat.backend
        assert isinstance(backend, IndexedSnapshot)
        index, seq = backend.index, backend.seq
        self.detectors = [d for d in cat.names("detector")
                          if cat.detector(d).detector_type == "AGIPD-Type" and len(cat.detector(d).modules) == 16]
        self.ids = [record_id("calibration", cat.calibration(c)) for c in DARK]
        self.first, self.last = (index.commit_at(s).committed_at.timestamp() for s in (1, seq))
        self.offsets: dict[str, tuple[list[int], list[int]]] = {d: ([], []) for d in self.detectors}
        rows = index.conn.execute("SELECT detector, begin_at, condition_id FROM ccvs WHERE calibration = 'Offset' "
                                  "AND tx_to IS NULL ORDER BY begin_at")
        for det, begin, condition in rows:
            if det in self.offsets:
                self.offsets[det][0].append(begin)
                self.offsets[det][1].append(condition)
        self.conditions = index.condition_sets()

    def make(self, rng: random.Random) -> Query:
        while True:
            det = rng.choice(self.detectors)
            event = datetime.fromtimestamp(rng.uniform(self.first, self.last), UTC)
            times, conditions = self.offsets[det]
            i = bisect.bisect_right(times, micros(event)) - 1
            if i >= 0:
                break
        asked = {k: (v["value"] if isinstance(v, dict) else v) for k, v in self.conditions[conditions[i]].items()}
        stamp = event.isoformat()
        params = {"detector_identifier": det, "calibration_id": str(self.ids), "karabo_da": "", "event_at": stamp,
                  "pdu_snapshot_at": stamp, "begin_at_strategy": "closest"}
        body = {"parameters_conditions_attributes": [{"parameter_name": k, "value": v} for k, v in asked.items()]}
        path = "/api/calibration_constant_versions/get_by_detector_conditions?" + urllib.parse.urlencode(params)
        return path, json.dumps(body).encode(), {"detector": det, "event_at": stamp, "asked": asked}


HEADERS = {"Accept": "application/json; version=2", "content-type": "application/json"}


def client(port: int, next_query: Callable[[random.Random], Query], stop_at: float, seed: int,
           out: dict[str, Any]) -> None:
    """Send queries back to back until ``stop_at``; record latencies and failures."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, failures, found = [], 0, 0
    while time.perf_counter() < stop_at:
        path, body, _ = next_query(rng)
        start = time.perf_counter()
        try:
            conn.request("GET", path, body=body, headers=HEADERS)
            response = conn.getresponse()
            data = response.read()
            latencies.append(time.perf_counter() - start)
            if response.status != 200 or not (data.startswith(b"[") and data.endswith(b"]")):
                failures += 1
            else:  # cheaper than parsing: the clients share this process's one core with each other
                found += data.count(b'"data_set_name":')
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    out.update(latencies=latencies, failures=failures, found=found)


def load(port: int, next_query: Callable[[random.Random], Query], clients: int, seconds: float,
         seed: int = 0) -> dict[str, Any]:
    stop_at = time.perf_counter() + seconds
    results: list[dict[str, Any]] = [{} for _ in range(clients)]
    threads = [threading.Thread(target=client, args=(port, next_query, stop_at, seed * 1000 + i, results[i]))
               for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies = sorted(x for r in results for x in r["latencies"])
    requests = len(latencies)

    def ms(q: float) -> float | None:
        return round(1000 * latencies[min(requests - 1, int(requests * q))], 2) if latencies else None

    return {"clients": clients, "seconds": round(elapsed, 2), "requests": requests,
            "failures": sum(r["failures"] for r in results), "req_per_s": round(requests / elapsed, 1),
            "p50_ms": ms(0.5), "p99_ms": ms(0.99), "max_ms": ms(1.0),
            "constants_per_reply": round(sum(r["found"] for r in results) / max(1, requests), 1)}


def server_cpu_ms(repo: Path, maker: QueryMaker, questions: int = 300, rounds: int = 3, seed: int = 0) -> float:
    """Server CPU per new question, in-process: each request goes through the ASGI app
    (routing, view, JSON) without sockets; the least CPU time of ``rounds`` rounds of
    ``questions`` distinct questions, after as many to warm up."""
    import asyncio

    from calcat_git.server.app import create_app
    from calcat_git.server.following import ServeConfig

    app = create_app(ServeConfig(repo=str(repo)))
    rng = random.Random(seed)
    batches = [[maker.make(rng) for _ in range(questions)] for _ in range(rounds + 1)]

    async def ask(path: str, body: bytes) -> None:
        route, _, query = path.partition("?")
        scope = {"type": "http", "method": "GET", "path": route, "raw_path": route.encode(),
                 "query_string": query.encode(), "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()],
                 "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
                 "root_path": "", "app": app}
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])
        status = []

        async def receive() -> dict[str, Any]:
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"in-process request failed: {status} {path}")

    async def timed(batch: list[Query]) -> float:
        start = time.process_time()
        for path, body, _ in batch:
            await ask(path, body)
        return (time.process_time() - start) / len(batch)

    async def all_rounds() -> float:
        await timed(batches[0])
        return min([await timed(batch) for batch in batches[1:]])

    return 1000 * asyncio.run(all_rounds())


def cli_baseline(repo: Path, queries: list[Query]) -> float:
    """Median seconds of one ``calcat-git lookup --json`` process per query."""
    samples = []
    for _, _, q in queries:
        args = [sys.executable, "-m", "calcat_git", "lookup", q["detector"], "--repo", str(repo), "--json",
                "--event-at", q["event_at"], *(a for c in DARK for a in ("--calibration", c)),
                *(a for k, v in q["asked"].items() for a in ("--condition", f"{k}={v}"))]
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(repo: Path, clients: int = 16, seconds: float = 20.0, workers: int = 1, repeated: int = 64,
        cli_queries: int = 5, seed: int = 0) -> dict[str, Any]:
    """Three loads on one server: ``clients`` with distinct questions, ``clients`` drawing from
    ``repeated`` questions, and one client alone (distinct); then the CLI baseline."""
    maker = QueryMaker(repo)
    pool_rng = random.Random(seed)
    pool = [maker.make(pool_rng) for _ in range(repeated)]

    def from_pool(rng: random.Random) -> Query:
        return rng.choice(pool)

    server, port = start_server(repo, workers)
    try:
        load(port, maker.make, clients, min(8.0, seconds), seed + 1)  # warm-up: caches and the in-memory seek table
        distinct = load(port, maker.make, clients, seconds, seed + 2)
        repeat = load(port, from_pool, clients, seconds, seed + 3)
        single = load(port, maker.make, 1, max(1.0, seconds / 4), seed + 4)
    finally:
        stop_process(server)
    cli_s = cli_baseline(repo, pool[:cli_queries]) if cli_queries else None
    cpu_ms = server_cpu_ms(repo, maker, questions=max(20, int(15 * seconds)), seed=seed + 5)
    return {
        "server_cpu_per_new_question_ms": round(cpu_ms, 3), "target_server_cpu_ms": TARGET_CPU_MS,
        "repo": str(repo), "workers": workers, "distinct": distinct, "repeated": {**repeat, "questions": repeated},
        "single_client": single, "cli_lookup_median_s": round(cli_s, 3) if cli_s else None,
        "ratio_cli_over_single_p50": round(1000 * cli_s / single["p50_ms"], 1) if cli_s and single["p50_ms"] else None,
        "target_p99_ms": TARGET_P99_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="catalog repository (e.g. from generate.py)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeated", type=int, default=64, help="questions the clients draw from in the repeated load")
    parser.add_argument("--cli-queries", type=int, default=5, help="queries timed through the CLI (baseline)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    result = run(args.repo, args.clients, args.seconds, args.workers, args.repeated, args.cli_queries, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in ("distinct", "repeated", "single_client"):
            print(f"{name:14} " + ", ".join(f"{k} {v}" for k, v in result[name].items()))
        print(f"CLI look-up (one process per query): {result['cli_lookup_median_s']} s median, "
              f"{result['ratio_cli_over_single_p50']}x the single client's p50; p99 target {TARGET_P99_MS} ms, "
              f"{TARGET_REQ_PER_S:g} req/s with 1 worker")
        print(f"server CPU per new question (in-process, no sockets): {result['server_cpu_per_new_question_ms']} ms "
              f"(target {TARGET_CPU_MS} ms) beside the CLI's {result['cli_lookup_median_s']} s per question")
    return 0


if __name__ == "__main__":
    sys.exit(main())
