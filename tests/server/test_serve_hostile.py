"""``serve`` under hostile requests: every one gets 400, 404 or 413 with CALCAT's JSON error,
never a 500, and the reply cache is keyed by the parsed question. The application is driven
in-process through ASGI (the same middleware and routes uvicorn runs), on the mini catalog.
Slow clients (half-open sockets, held bodies) and the problem header are tried on a real
server process with real sockets and Python's own HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from calcat_git.server.app import create_app
from calcat_git.server.following import ServeConfig
from calcat_git.server.request import MAX_BODY_BYTES
from calcat_git.server.shapes import stable_id

from ..helpers import start_serving, stop_process

CONDITIONS = "calibration_constant_versions/get_by_detector_conditions"
QUERY = {"detector_identifier": "MID_DET_AGIPD1M-1", "calibration_id": f"[{stable_id('calibration', 'Offset')}]",
         "event_at": "2024-06-01T00:00:00Z", "pdu_snapshot_at": "2024-06-01T00:00:00Z"}
BODY = json.dumps({"parameters_conditions_attributes": [{"parameter_name": "Memory cells", "value": 352},
                                                        {"parameter_name": "Sensor Bias Voltage", "value": 300}]})


def call(app: Starlette, path: str, query: dict[str, str] | str = "", body: bytes = b"",
         chunked: bool = False) -> tuple[int, Any]:
    """One GET through the ASGI application; the status and the JSON reply."""
    qs = query if isinstance(query, str) else urllib.parse.urlencode(query)
    headers = [] if chunked else [(b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": f"/api/{path}", "raw_path": f"/api/{path}".encode(), "query_string": qs.encode(),
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "root_path": ""}
    parts = [body[i:i + 65536] for i in range(0, len(body), 65536)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": n < len(parts) - 1} for n, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    reply = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(reply)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    import shutil

    from ..helpers import MINI, commit_all, git

    root = tmp_path_factory.mktemp("hostile") / "catalog"
    shutil.copytree(MINI, root)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "mini catalog", "2024-05-02T00:00:00Z")
    return create_app(ServeConfig(repo=str(root)))


def nested(depth: int) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b'{"parameters_conditions_attributes": ' + inner + b"}"


HOSTILE: list[tuple[str, str, dict[str, str] | str, bytes, int, str]] = [
    ("body over 1 MiB", CONDITIONS, QUERY, b" " * (MAX_BODY_BYTES + 1), 413, "larger than 1048576 bytes"),
    ("JSON 5000 deep", CONDITIONS, QUERY, nested(5000), 400, "not JSON within limits: depth limit exceeded"),
    ("JSON 20 deep", CONDITIONS, QUERY, nested(20), 400, "the body is nested more than 8 deep"),
    ("10**400 as a value", CONDITIONS, QUERY,
     b'{"parameters_conditions_attributes": [{"parameter_name": "Memory cells", "value": 1' + b"0" * 400 + b"}]}",
     400, "not JSON within limits: number is infinity"),
    ("100 000 conditions", CONDITIONS, QUERY, json.dumps({"parameters_conditions_attributes": [
        {"parameter_name": f"p{n}", "value": n} for n in range(100_000)]}).encode()[:MAX_BODY_BYTES - 2] + b"]}",
     400, "not JSON within limits"),
    ("1000 conditions", CONDITIONS, QUERY, json.dumps({"parameters_conditions_attributes": [
        {"parameter_name": f"p{n}", "value": n} for n in range(1000)]}).encode(), 400, "list or object of 1000 items"),
    ("33 conditions", CONDITIONS, QUERY, json.dumps({"parameters_conditions_attributes": [
        {"parameter_name": f"p{n}", "value": n} for n in range(33)]}).encode(), 400, "33 conditions given (at most 32)"),
    ("a 129-character name", CONDITIONS, QUERY, json.dumps({"parameters_conditions_attributes": [
        {"parameter_name": "x" * 129, "value": 1}]}).encode(), 400, "is 129 characters long (at most 128)"),
    ("9 kB of condition text", CONDITIONS, QUERY, json.dumps({"parameters_conditions_attributes": [
        {"parameter_name": "Memory cell order", "value": "1," * 4500}]}).encode(), 400,
     "the conditions hold 9017 characters of names and text values (at most 8192)"),
    ("calibration_id 10**400", CONDITIONS, {**QUERY, "calibration_id": "1" + "0" * 400}, BODY.encode(), 400,
     "calibration_id must be an id or a list of ids such as [1, 2], not '1000000000000000000000000000000000000000… "
     "(401 characters)'"),
    ("calibration_id 5000 digits", CONDITIONS, {**QUERY, "calibration_id": "9" * 5000}, BODY.encode(), 400,
     "calibration_id must be an id or a list of ids such as [1, 2], not '9999999999999999999999999999999999999999… "
     "(5000 characters)'"),
    ("calibration_id beyond 64 bits", CONDITIONS, {**QUERY, "calibration_id": "[9223372036854775808]"},
     BODY.encode(), 400, "calibration_id holds the integer 9223372036854775808, beyond 64 bits"),
    ("calibration_id in Arabic digits", CONDITIONS, {**QUERY, "calibration_id": "[١]"}, BODY.encode(), 400,
     "calibration_id must be an id or a list of ids"),
    ("5000-digit path id", "calibration_constant_versions/" + "9" * 5000, "", b"", 404, "Resource not found!"),
    ("19-digit path id", "reports/9223372036854775807", "", b"", 404, "Resource not found!"),
    ("18-digit path id", "calibration_constant_versions/999999999999999999", "", b"", 404,
     "no calibration constant version with id 999999999999999999"),
    ("report id below -2**63", "calibration_constant_versions", {"report_id": str(-(2**63) - 1)}, b"", 400,
     "report_id must be an integer of ASCII digits within 64 bits, not '-9223372036854775809'"),
    ("report id of 5000 digits", "calibration_constant_versions", {"report_id": "7" * 5000}, b"", 400,
     "report_id must be an integer of ASCII digits within 64 bits, not '7777777777777777777777777777777777777777… "
     "(5000 characters)'"),
    ("report id in Arabic-Indic digits", "calibration_constant_versions", {"report_id": "٣٧٥٧"}, b"", 400,
     "report_id must be an integer of ASCII digits within 64 bits, not '٣٧٥٧'"),
    ("report id with underscores", "calibration_constant_versions", {"report_id": "3_757"}, b"", 400,
     "report_id must be an integer of ASCII digits"),
    ("detector id in full-width digits", "physical_detector_units/get_all_by_detector", {"detector_id": "２"}, b"",
     400, "detector_id must be an integer of ASCII digits"),
    ("40 query parameters", "detectors", "&".join(f"p{n}=1" for n in range(40)), b"", 400,
     "40 query parameters given (at most 16)"),
    ("20 kB query string", "detectors", "identifier=" + "x" * 20_000, b"", 400, "the query string is 20011 bytes long"),
]


@pytest.mark.parametrize(("path", "query", "body", "status", "says"), [case[1:] for case in HOSTILE],
                         ids=[case[0] for case in HOSTILE])
def test_hostile_request_gets_a_json_error(app: Starlette, path: str, query: dict[str, str] | str, body: bytes,
                                           status: int, says: str) -> None:
    got, reply = call(app, path, query, body)
    assert (got, reply["status"]) == (status, status)
    assert says in reply["info"], reply["info"]


def test_an_oversized_chunked_body_is_refused_unread(app: Starlette) -> None:
    assert call(app, CONDITIONS, QUERY, b" " * (2 * MAX_BODY_BYTES), chunked=True)[0] == 413


def test_the_reply_cache_is_keyed_by_the_question(app: Starlette) -> None:
    replies = app.state.following.view().replies
    replies.clear()
    answers = []
    for padding in (0, 1000, 100_000):
        spaced = BODY.replace(", ", "," + " " * padding).encode()
        answers.append(call(app, CONDITIONS, QUERY, spaced))
    reordered = json.dumps({"parameters_conditions_attributes": list(reversed(json.loads(BODY)[
        "parameters_conditions_attributes"]))}).encode()
    answers.append(call(app, CONDITIONS, {**QUERY, "karabo_da": ""}, reordered))
    assert [status for status, _ in answers] == [200] * 4 and all(a == answers[0] for a in answers)
    assert len(replies) == 1  # one question, asked four ways


def test_normal_requests_still_work(app: Starlette) -> None:
    status, reply = call(app, CONDITIONS, QUERY, BODY.encode())
    assert status == 200 and len(reply) >= 1
    assert call(app, "calibration_constant_versions", {"report_id": "3757"})[0] == 200


def test_the_limits_are_stated_in_the_guide() -> None:
    from ..helpers import REPO_ROOT

    guide = REPO_ROOT / "calcat_git" / "site" / "guide"
    server, constants = (guide / "server.md").read_text("utf-8"), (guide / "constants.md").read_text("utf-8")
    assert "1 MiB" in server and "413" in server and "8 GiB" in constants


# --- real sockets: a server process, asked by raw sockets and Python's own HTTP client ---------------------------
def _start(repo: Path, *args: str, nofile: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """``calcat-git serve`` on a free loopback port (with an open-file limit of ``nofile``), once it answers."""
    import resource

    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return start_serving([sys.executable, "-m", "calcat_git", "serve", "--repo", str(repo), "--port", "0", *args],
                         preexec_fn=limit)


def _rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def _good(port: int) -> tuple[int, dict[str, str]]:
    """A well-behaved client (Python's http.client): status and headers of one GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/api/detectors?identifier=MID_DET_AGIPD1M-1")
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


@pytest.mark.slow
def test_half_open_connections_do_not_deny_service(git_mini: Path) -> None:
    """1100 sockets sending half a request, under a 1024-file limit: a well-behaved client
    is still answered at once, and the half-open ones are dropped after the header timeout."""
    proc, port = _start(git_mini, "--header-timeout", "2", nofile=1024)
    held = []
    try:
        for _ in range(1100):
            sock = socket.socket()
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
            held.append(sock)
        time.sleep(0.5)
        for sock in held:
            with contextlib.suppress(OSError):
                sock.send(b"GET /api/detectors HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.5)
        started = time.monotonic()
        assert _good(port)[0] == 200
        assert time.monotonic() - started < 2
        time.sleep(3)
        closed = 0
        for sock in held:
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except BlockingIOError:
                pass
        assert closed == len(held)  # every half-open socket was dropped (pushed out or timed out)
    finally:
        for sock in held:
            sock.close()
        stop_process(proc)


@pytest.mark.slow
def test_held_request_bodies_keep_memory_bounded(git_mini: Path) -> None:
    """400 clients each sending a 1 MiB body but its last byte, and holding it: the server's
    memory grows by the pending-body budget at most (the 1 MiB bodies of all of them took
    RSS from 38 to 443 MiB before), and a well-behaved client is answered."""
    proc, port = _start(git_mini)
    head = (f"GET /api/{CONDITIONS} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n").encode()
    pending: list[tuple[socket.socket, bytes]] = []
    try:
        before = _rss_mib(proc.pid)
        for _ in range(400):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            pending.append((sock, head + b" " * (MAX_BODY_BYTES - 1)))
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(data for _, data in pending):
            for n, (sock, data) in enumerate(pending):
                with contextlib.suppress(BlockingIOError, OSError):
                    pending[n] = (sock, data[sock.send(data[:1 << 18]):])
        time.sleep(1)
        after = _rss_mib(proc.pid)
        assert _good(port)[0] == 200
        assert after - before < 100, (before, after)
    finally:
        for sock, _ in pending:
            sock.close()
        stop_process(proc)


@pytest.mark.slow
def test_a_body_not_sent_in_time_is_dropped(git_mini: Path) -> None:
    proc, port = _start(git_mini, "--body-timeout", "1")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(f"GET /api/{CONDITIONS} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345".encode())
            started = time.monotonic()
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(100) == b""
            assert time.monotonic() - started < 3
        assert _good(port)[0] == 200
    finally:
        stop_process(proc)


def _broken_name(root: Path, name: str) -> str:
    """Commit a batch that does not parse under ``name`` (any bytes git takes); the commit."""
    from ..helpers import git

    blob = subprocess.run(["git", "-C", str(root), "hash-object", "-w", "--stdin"], input=b"detector: [x\n",
                          capture_output=True, check=True).stdout.decode().strip()
    git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},constants_index/MID_DET_AGIPD1M-1/2024/{name}")
    git(root, "commit", "-q", "-m", "a batch with an odd name")
    return git(root, "rev-parse", "HEAD")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shown"), [
    ("a\r\nX-Forged: 1.yaml", '"constants_index/MID_DET_AGIPD1M-1/2024/a\\r\\nX-Forged: 1.yaml"'),
    ("dünkel.yaml", "constants_index/MID_DET_AGIPD1M-1/2024/d\\xfcnkel.yaml"),
    ("x" * 75_000 + ".yaml", "constants_index/MID_DET_AGIPD1M-1/2024/xxxx"),
], ids=["CR LF", "non-ASCII", "75 KB"])
def test_the_problem_header_is_printable_ascii_of_bounded_length(git_mini: Path, name: str, shown: str) -> None:
    from ..helpers import git

    good = git(git_mini, "rev-parse", "HEAD")
    proc, port = _start(git_mini)
    try:
        status, headers = _good(port)
        assert status == 200 and "x-calcat-git-problem" not in headers
        bad = _broken_name(git_mini, name)
        status, headers = _good(port)  # http.client: no LineTooLong, no forged header
        problem = headers["x-calcat-git-problem"]
        assert (status, headers["x-calcat-git-commit"], "x-forged" in headers) == (200, good, False)
        assert problem.startswith(f"commit {bad[:12]} not served: 1 file(s) do not load: {shown}"), problem
        assert len(problem) <= 512 and all(" " <= c <= "~" for c in problem)
        git(git_mini, "reset", "-q", "--soft", good)  # a force-push back: the problem goes
        assert "x-calcat-git-problem" not in _good(port)[1]
    finally:
        log = stop_process(proc)
    assert "\r" not in log and "X-Forged: 1.yaml\n" not in log and len(log) < 10_000, log[-2000:]
