"""One writer, many readers, Debian's nginx in front (the guide's gateway page): nginx
sends writes to ``serve --write`` on the origin and balances reads over two read-only
``serve`` processes on mirrors that ``git fetch`` on a schedule; an injection through
nginx with calibration-client is served by both readers within the stated delay."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ..benchmarks.bench_serve import free_port, start_server
from ..calibration_client import run_client
from ..helpers import git, stop_process, wait_for
from ..server.test_scale_out import FETCH_EVERY, STATED_DELAY, _keep_fresh
from .test_gateway import AUTH, inject_h, start_writer

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

CONFIG = """
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream readers {{ server 127.0.0.1:{reader1}; server 127.0.0.1:{reader2}; }}
    upstream writer {{ server 127.0.0.1:{writer}; }}
    map $request_method $calcat_git {{ GET readers; HEAD readers; default writer; }}
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            proxy_pass http://$calcat_git;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


def _commit(port: int, path: str = "detectors") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/{path}", timeout=10) as response:
            return response.status, str(response.headers["X-Calcat-Git-Commit"])
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.headers.get("X-Calcat-Git-Commit"))


def _start_nginx(root: Path, **ports: int) -> subprocess.Popen[bytes]:
    assert NGINX is not None
    root.mkdir()
    conf = root / "nginx.conf"
    conf.write_text(CONFIG.format(root=root, **ports))
    proc = subprocess.Popen([NGINX, "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def answers() -> bool:
        assert proc.poll() is None, f"nginx exited: {stop_process(proc)}"
        try:
            _commit(ports["port"])
        except OSError:
            return False
        return True

    try:
        wait_for(answers, 120, f"nginx on port {ports['port']}")
    except AssertionError:
        stop_process(proc)
        raise AssertionError(f"nginx did not answer: {(root / 'error.log').read_text()}") from None
    return proc


@pytest.mark.slow
def test_writes_through_nginx_reach_both_readers(git_mini: Path, tmp_path: Path) -> None:
    if NGINX is None:
        pytest.skip("Debian's nginx is not installed and this user cannot install it: 'apt-get install nginx-light' "
                    "(make test installs it as root)")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(git_mini), str(origin))
    replicas = [tmp_path / f"replica{i}.git" for i in (1, 2)]
    for replica in replicas:
        git(tmp_path, "clone", "--quiet", "--mirror", str(origin), str(replica))
    store = git_mini.parent / "store"
    writer = start_writer(origin, store, tmp_path)
    servers, readers = zip(*(start_server(r) for r in replicas), strict=True)
    stop = threading.Event()
    fetchers = [threading.Thread(target=_keep_fresh, args=(r, stop), daemon=True) for r in replicas]
    port = free_port()
    nginx = _start_nginx(tmp_path / "nginx", port=port, writer=int(writer.base.rsplit(":", 1)[1]),
                         reader1=readers[0], reader2=readers[1])
    try:
        for fetcher in fetchers:
            fetcher.start()
        before = git(origin, "rev-parse", "main").strip()
        assert {_commit(p)[1] for p in readers} == {before}

        (out,) = run_client(f"http://127.0.0.1:{port}", [{"call": "inject_new_calibration_constant_version",
                                                           "args": [inject_h(store, auto=True)]}], AUTH)
        assert "result" in out and out["result"]["success"], out
        ccv_id = out["result"]["data"]["id"]
        injected, merged = time.monotonic(), git(origin, "rev-parse", "main").strip()
        assert merged != before

        seen: dict[int, float] = {}
        while len(seen) < len(readers) and time.monotonic() - injected < STATED_DELAY:
            for reader in readers:
                if reader not in seen and _commit(reader, f"calibration_constant_versions/{ccv_id}") == (200, merged):
                    seen[reader] = time.monotonic() - injected
            time.sleep(0.1)
        assert set(seen) == set(readers), f"after {STATED_DELAY} s only {len(seen)} of 2 readers serve {merged}"
        assert max(seen.values()) <= FETCH_EVERY + 10
        print(f"readers serve the injection {', '.join(f'{d:.1f}' for d in sorted(seen.values()))} s after it "
              f"(fetch every {FETCH_EVERY} s, stated delay {STATED_DELAY} s)")
        status, commit = _commit(port, f"calibration_constant_versions/{ccv_id}")  # through nginx, from a reader
        assert (status, commit) == (200, merged)
        status, _ = _commit(port, "me")
        assert status == 200
    finally:
        stop.set()
        stop_process(nginx)
        for server in servers:
            stop_process(server)
        stop_process(writer.proc)
