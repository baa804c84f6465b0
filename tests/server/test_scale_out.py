"""Many servers: ``calcat-git serve`` on two mirrors of one origin, each kept fresh by
``git fetch`` on a schedule (the guide's "Many servers", calcat_git/site/guide/server.md), both serve a pushed commit."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ..benchmarks.bench_serve import start_server
from ..helpers import commit_all, edit, git, stop_process

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)

FETCH_EVERY = 1.0  # seconds between `git fetch` of a replica (the guide suggests 10-60 s)
STATED_DELAY = FETCH_EVERY + 10.0  # a fetch, then the server's next request sees the moved ref


def _commit_served(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/detectors", timeout=10) as response:
        assert response.status == 200
        return str(response.headers["X-Calcat-Git-Commit"])


def _keep_fresh(replica: Path, stop: threading.Event) -> None:
    """What cron or a systemd timer runs on each server host."""
    while not stop.wait(FETCH_EVERY):
        subprocess.run(["git", "-C", str(replica), "fetch", "--prune", "--quiet"], check=False)


def test_two_replicas_serve_a_pushed_commit_within_the_stated_delay(repo: dict[str, str], mini: Path,
                                                                     tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(mini), str(origin))
    replicas = [tmp_path / f"replica{i}.git" for i in (1, 2)]
    for replica in replicas:
        git(tmp_path, "clone", "--quiet", "--mirror", str(origin), str(replica))
    servers, ports = zip(*(start_server(replica) for replica in replicas), strict=True)
    stop = threading.Event()
    fetchers = [threading.Thread(target=_keep_fresh, args=(r, stop), daemon=True) for r in replicas]
    try:
        for fetcher in fetchers:
            fetcher.start()
        assert [_commit_served(p) for p in ports] == [repo["late"]] * 2

        work = tmp_path / "work"  # a maintainer's clone: edit, commit, push (as a merged PR does)
        git(tmp_path, "clone", "--quiet", str(origin), str(work))
        edit(work, "registry/mappings/SPB_DET_AGIPD1M-1.yaml", "      AGIPD00: AGIPD_M1\n",
             '      AGIPD00: AGIPD_M1\n  - from: "2024-06-01T00:00:00Z"\n    reason: swap\n    modules:\n'
             '      AGIPD01: null\n')
        sha = commit_all(work, "empty SPB AGIPD01", "2024-06-02T00:00:00Z")
        git(work, "push", "--quiet", "origin", "main")
        pushed = time.monotonic()

        seen: dict[int, float] = {}
        while len(seen) < len(ports) and time.monotonic() - pushed < STATED_DELAY:
            for port in ports:
                if port not in seen and _commit_served(port) == sha:
                    seen[port] = time.monotonic() - pushed
            time.sleep(0.1)
        assert set(seen) == set(ports), f"after {STATED_DELAY} s only {len(seen)} of 2 servers serve {sha}"
    finally:
        stop.set()
        for server in servers:
            stop_process(server)
