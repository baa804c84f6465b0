"""import-calcat --url against a hostile CALCAT: real local HTTP servers that redirect the
token elsewhere, send endless replies and malformed headers. Each is refused or contained
with one line, never a traceback, and nothing is written."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from calcat_git.calcat_import.live import MAX_REPLY_BYTES, http_fetch
from calcat_git.errors import CalcatReplyError

from ..helpers import fast_sample, git, run_cli

TOKEN = "s3cret-token-for-the-test"
NOT_FOUND = b'{"info": "Resource not found!"}'
Answer = tuple[int, dict[str, str], Iterable[bytes]]


@dataclass
class Server:
    """A local HTTP server answering every request with ``answer(path)``; it notes what
    each request carried and how many body bytes reached the client."""

    answer: Callable[[str], Answer]
    seen: list[tuple[str, str | None]] = field(default_factory=list)   # (path, Authorization)
    sent: int = 0
    base: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append((self.path, self.headers.get("Authorization")))
                status, headers, body = server.answer(self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    for chunk in body:
                        self.wfile.write(chunk)
                        server.sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str], Answer]], Server]]:
    running: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[str], Answer]) -> Server:
        server = Server(answer)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), server.handler())
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        running.append(httpd)
        server.base = f"http://127.0.0.1:{httpd.server_address[1]}"
        return server

    yield start
    for httpd in running:
        httpd.shutdown()
        httpd.server_close()


def _empty(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "empty catalog")
    return root


def _import(root: Path, url: str) -> subprocess.CompletedProcess[str]:
    head = git(root, "rev-parse", "HEAD")
    run = run_cli("import-calcat", "--url", url, "--token-env", "CALCAT_TEST_TOKEN", "--detector", "SPB_DET_AGIPD1M-1", "--repo",
                  str(root), timeout=120, env={**__import__("os").environ, "CALCAT_TEST_TOKEN": TOKEN})
    assert "Traceback" not in run.stderr, run.stderr
    assert git(root, "rev-parse", "HEAD") == head and git(root, "status", "--porcelain") == ""
    return run


def _errors(run: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the progress lines (``calcat-git: reading …``)."""
    return [line for line in run.stderr.splitlines() if not line.startswith("calcat-git: reading")]


def test_the_token_never_follows_a_redirect_to_another_origin(tmp_path: Path, serve: Callable[..., Server]) -> None:
    elsewhere = serve(lambda path: (404, {"Content-Type": "application/json"}, [NOT_FOUND]))

    def home(path: str) -> Answer:
        if path.startswith("/moved/"):   # the same origin: the token may come along
            return 302, {"Location": f"{elsewhere.base}{path.removeprefix('/moved')}"}, []
        return 302, {"Location": f"/moved{path}"}, []

    calcat = serve(home)
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1 and "CALCAT has no detector 'SPB_DET_AGIPD1M-1'" in run.stderr
    assert calcat.seen and all(auth == f"Bearer {TOKEN}" for _, auth in calcat.seen), calcat.seen
    assert any(path.startswith("/moved/") for path, _ in calcat.seen)
    assert elsewhere.seen and all(auth is None for _, auth in elsewhere.seen), elsewhere.seen


@pytest.mark.parametrize("announced", fast_sample([True, False], keep=1), ids=["content-length", "streamed"])
def test_a_reply_over_the_size_limit_is_refused_unread(tmp_path: Path, serve: Callable[..., Server],
                                                       announced: bool) -> None:
    total = 300 * 1024 * 1024

    def endless(path: str) -> Answer:
        headers = {"Content-Type": "application/json", **({"Content-Length": str(total)} if announced else {})}
        return 200, headers, (b" " * (1024 * 1024) for _ in range(300))

    calcat = serve(endless)
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1
    assert _errors(run) == [
        f"error: {calcat.base}/api/detector_types?page=1&page_size=500: the reply "
        + (f"announces {total} bytes, more than the 4 MiB a CALCAT reply may have here (the limit for recorded "
           "replies too); refused unread" if announced else
           "is larger than the 4 MiB a CALCAT reply may have here (the limit for recorded replies too); "
           "refused after that much")]
    assert MAX_REPLY_BYTES == 4 * 1024 * 1024
    assert calcat.sent < 64 * 1024 * 1024   # the client stopped reading; the server could not push 300 MB


@pytest.mark.parametrize("pages", fast_sample(["abc", "-1", "1e3", "99999999999"], keep=1))
def test_a_malformed_total_pages_header_is_one_line(tmp_path: Path, serve: Callable[..., Server], pages: str) -> None:
    calcat = serve(lambda path: (200, {"Content-Type": "application/json", "X-Total-Pages": pages}, [b"[]"]))
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1
    assert _errors(run) == [
        f"error: /api/detector_types page 1: X-Total-Pages {pages!r} is not a number of pages (CALCAT sends a "
        "whole number); nothing was imported"]


@pytest.mark.slow
def test_too_many_pages_are_refused_not_cut_short(tmp_path: Path, serve: Callable[..., Server]) -> None:
    calcat = serve(lambda path: (200, {"Content-Type": "application/json", "X-Total-Pages": "20000"}, [b"[]"]))
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1 and "X-Total-Pages 20000 is more than the 10000 pages read here" in run.stderr
    assert len(calcat.seen) == 1


@pytest.mark.slow
def test_a_reply_that_is_not_utf8_is_one_line(tmp_path: Path, serve: Callable[..., Server]) -> None:
    calcat = serve(lambda path: (200, {"Content-Type": "application/json"}, [b'["\xff\xfe"]']))
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1 and "the reply is not UTF-8 text" in run.stderr


def test_a_refused_reply_names_its_url(serve: Callable[..., Server]) -> None:
    calcat = serve(lambda path: (200, {"Content-Type": "application/json"}, [b'["\xff\xfe"]']))
    with pytest.raises(CalcatReplyError, match="the reply is not UTF-8 text") as refused:
        http_fetch(calcat.base)("detector_types", {"page": "1"}, None)
    assert refused.value.origin == f"{calcat.base}/api/detector_types?page=1"


@pytest.mark.slow
def test_a_redirect_loop_is_one_line(tmp_path: Path, serve: Callable[..., Server]) -> None:
    calcat = serve(lambda path: (302, {"Location": path}, []))
    run = _import(_empty(tmp_path / "catalog"), calcat.base)
    assert run.returncode == 1
    assert _errors(run) == [f"error: {calcat.base}/api/detector_types?page=1&page_size=500: CALCAT redirects in a "
                            "loop or more than 10 times (last answer 302); not followed further; nothing was imported"]
