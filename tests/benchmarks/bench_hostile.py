"""``calcat-git serve`` with hostile requests beside normal ones: does it stay up and fast?

    python -m tests.benchmarks.bench_hostile --repo /tmp/big1m --clients 8 --hostile 4 --seconds 20 [--json]

One server on a free loopback port. *Quiet*: ``--clients`` normal clients (the full-detector
CCV query of ``bench_serve``, distinct questions) alone; this is the baseline, measured in
the same run. *Under attack*: the same normal clients while ``--hostile`` clients send,
back to back, the requests of ``HOSTILE``: bodies over the 1 MiB limit (with and without
Content-Length), a 1 MiB body of padding around a valid question (the old cache-key
attack), JSON nested 5 000 deep, ``10**400``, 256 conditions with 2 kB names, the widest
question within the limits (32 conditions, 8 kB of text), 5 000-digit
ids, Unicode digits, 40 query parameters. Reported: the normal clients' p50/p99 in both
phases and their ratio (target: p99 under attack ≤ 2× quiet), normal failures, and the
hostile replies by status (a 500 or a dropped server counts as a failure).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

from ..helpers import stop_process
from .bench_serve import HEADERS, QueryMaker, load, start_server

MIB = 1 << 20
CONDITIONS = "/api/calibration_constant_versions/get_by_detector_conditions"


Hostile = tuple[str, str, bytes, dict[str, str], set[str]]  # name, path, body, headers, expected replies


def hostile_requests(normal: tuple[str, bytes, Any]) -> list[Hostile]:
    """Each hostile request with the replies it may get (a status, or the connection closed
    after an oversized body was refused unread)."""
    path, body, _ = normal
    query = path.split("?", 1)[1]
    refused = {"413", "connection closed"}
    names = {"parameters_conditions_attributes": [{"parameter_name": f"{n:04d}" + "x" * 2000, "value": n}
                                                  for n in range(256)]}
    widest = {"parameters_conditions_attributes": [{"parameter_name": f"{n:02d}" + "x" * 126, "value": "1," * 64}
                                                   for n in range(32)]}  # 8 kB: within every limit, names unknown
    return [
        ("2 MiB body", path, b" " * (2 * MIB), {}, refused),
        ("2 MiB chunked body", path, b" " * (2 * MIB), {"Transfer-Encoding": "chunked"}, refused),
        ("valid question padded to 1 MiB", path, body + b" " * (MIB - len(body) - 1), {}, {"200"}),
        ("JSON 5000 deep", path, b'{"parameters_conditions_attributes": ' + b"[" * 5000 + b"]" * 5000 + b"}", {},
         {"400"}),
        ("10**400", path, body.replace(b'"value": ', b'"value": 1' + b"0" * 400 + b', "x": ', 1), {}, {"400"}),
        ("256 conditions with 2 kB names", path, json.dumps(names).encode(), {}, {"400"}),
        ("32 conditions of 8 kB in all", path, json.dumps(widest).encode(), {}, {"400"}),  # no such parameters
        ("5000-digit id", "/api/calibration_constant_versions/" + "9" * 5000, b"", {}, {"404"}),
        ("Unicode digits", "/api/calibration_constant_versions?report_id=%D9%A3%D9%A7%D9%A5%D9%A7", b"", {}, {"400"}),
        ("40 parameters", f"{CONDITIONS}?{query}&" + "&".join(f"p{n}=1" for n in range(40)), body, {}, {"400"}),
        ("calibration_id 10**400", CONDITIONS + "?" + urllib.parse.urlencode(
            {**dict(urllib.parse.parse_qsl(query)), "calibration_id": "1" + "0" * 400}), body, {}, {"400"}),
    ]


def _send(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> int:
    if headers.get("Transfer-Encoding") == "chunked":
        conn.request("GET", path, body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                     headers={**HEADERS, **headers}, encode_chunked=True)
    else:
        conn.request("GET", path, body=body, headers={**HEADERS, **headers})
    response = conn.getresponse()
    response.read()
    return response.status


def attacker(port: int, requests: list[Hostile], stop_at: float, seed: int, out: Counter[tuple[str, str]]) -> None:
    """Send hostile requests back to back until ``stop_at``; count replies by (name, status)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < stop_at:
        name, path, body, headers, _ = rng.choice(requests)
        for attempt in (1, 2):  # a keep-alive connection the server closed after the previous reply: once more, anew
            try:
                out[(name, str(_send(conn, path, body, headers)))] += 1
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt == 2:
                    out[(name, "connection closed")] += 1  # the server may close after refusing an unread body
    conn.close()


def run(repo: Path, clients: int = 8, hostile: int = 4, seconds: float = 20.0, seed: int = 0) -> dict[str, Any]:
    maker = QueryMaker(repo)
    requests = hostile_requests(maker.make(random.Random(seed)))
    server, port = start_server(repo)
    replies: Counter[tuple[str, str]] = Counter()
    try:
        load(port, maker.make, clients, min(5.0, seconds), seed + 1)  # warm-up
        quiet = load(port, maker.make, clients, seconds, seed + 2)
        stop_at = time.perf_counter() + seconds + 1
        threads = [threading.Thread(target=attacker, args=(port, requests, stop_at, seed * 100 + i, replies))
                   for i in range(hostile)]
        for thread in threads:
            thread.start()
        attacked = load(port, maker.make, clients, seconds, seed + 3)
        for thread in threads:
            thread.join()
        alive = server.poll() is None
    finally:
        stop_process(server)
    expected = {name: allowed for name, *_, allowed in requests}
    bad = sum(n for (name, status), n in replies.items() if status not in expected[name])
    ratio = round(attacked["p99_ms"] / quiet["p99_ms"], 2) if quiet["p99_ms"] and attacked["p99_ms"] else None
    return {"repo": str(repo), "quiet": quiet, "under_attack": attacked, "p99_ratio": ratio, "target_ratio": 2.0,
            "hostile_requests": sum(replies.values()), "hostile_unexpected_replies": bad,
            "hostile_replies": {f"{name}: {status}": n for (name, status), n in sorted(replies.items())},
            "server_alive": alive}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="catalog repository (e.g. from generate.py)")
    parser.add_argument("--clients", type=int, default=8, help="normal clients")
    parser.add_argument("--hostile", type=int, default=4, help="hostile clients")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    result = run(args.repo, args.clients, args.hostile, args.seconds, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in ("quiet", "under_attack"):
            print(f"{name:13} " + ", ".join(f"{k} {v}" for k, v in result[name].items()))
        print(f"normal p99 under attack / quiet: {result['p99_ratio']} (target ≤ {result['target_ratio']}); "
              f"{result['hostile_requests']} hostile requests, {result['hostile_unexpected_replies']} with an "
              f"unexpected reply; server alive: {result['server_alive']}")
        for key, n in result["hostile_replies"].items():
            print(f"  {key}: {n}")
    ok = result["server_alive"] and not result["hostile_unexpected_replies"] and not result["under_attack"]["failures"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
