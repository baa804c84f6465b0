"""Helpers the tests share (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings

T = TypeVar("T")
HERE = Path(__file__).parent
REPO_ROOT = HERE.parent
MINI = HERE / "data" / "mini"


def examples(ci: int) -> int:
    """How many examples a property test with ``ci`` examples under the ``ci`` hypothesis profile
    draws under the loaded one (a fifth under ``dev``, at least 5; see conftest.py)."""
    return max(5, ci * settings.default.max_examples // 100)


def fast_sample(values: Iterable[Any], keep: int) -> list[Any]:
    """``values`` as the parameters of ``pytest.mark.parametrize``, all but ``keep`` of them
    (spread evenly, the first among them) marked slow: `make test-fast` asks a sample, `make
    test` every one. A tuple holds the values of several argument names."""
    values = list(values)
    step = max(1, len(values) // max(keep, 1))
    fast = set(range(0, len(values), step)[:keep])
    return [pytest.param(*(value if isinstance(value, tuple) else (value,)),
                         marks=() if n in fast else pytest.mark.slow) for n, value in enumerate(values)]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in file ``rel`` by ``new``."""
    path = root / rel
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), "utf-8")


def run_cli(*args: str, repo: Path | None = None, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m calcat_git ARGS [--repo REPO]`` as a real process in ``cwd``: its exit code and
    output, whatever they are; a traceback on stderr fails the test (errors are one line)."""
    command = [sys.executable, "-m", "calcat_git", *args, *(["--repo", str(repo)] if repo is not None else [])]
    done = subprocess.run(command, cwd=cwd, env=env, input=input, timeout=timeout, capture_output=True, text=True,
                          check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def problems(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    from calcat_git import Catalog

    return [str(p) for p in Catalog.open(root, worktree=True).validate(skip)]


def git(root: Path, *args: str, date: str | None = None, author: str = "Ada Expert") -> str:
    """Run git in ``root`` with fixed identities and, if given, author/committer date."""
    import os
    import subprocess

    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "a@example.org"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    result = subprocess.run(["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit_all(root: Path, message: str, date: str, author: str = "Ada Expert") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=date, author=author)
    return git(root, "rev-parse", "HEAD")


MID = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SPB = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
LATE_MID = '''  - from: "2024-01-01T00:00:00Z"
    reason: Q1M1 sent to SPB
    modules:
      AGIPD00: null
'''
LATE_SPB = '''  - from: "2024-02-01T00:00:00Z"
    reason: Q1M1 arrives from MID
    modules:
      AGIPD00: AGIPD_M1
'''


def commit_with_late_move(root: Path, message: str, date: str, first: str = "2023-06-01T00:00:00Z") -> str:
    """Commit the mini catalog twice: without the Q1M1 move to SPB at ``first``, then with it
    (recorded late, so backdated) as ``message`` at ``date``; the second commit's sha."""
    texts = {rel: (root / rel).read_text() for rel in (MID, SPB)}
    for rel, late in ((MID, LATE_MID), (SPB, LATE_SPB)):
        assert late in texts[rel], f"{rel} lost its late change"
        (root / rel).write_text(texts[rel].replace(late, ""))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "catalog", first)
    for rel, text in texts.items():
        (root / rel).write_text(text)
    return commit_all(root, message, date)


SWAP = '''  - from: "2023-05-10T08:00:00+02:00"
    reason: Q1M2 replaced after a damaged ASIC
    modules:
      AGIPD01: AGIPD_M3
'''


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_HINT = ("the browser tests need Debian's chromium at /usr/bin/chromium (Playwright never downloads one): "
                 "`make test` installs it when run as root; otherwise `sudo apt-get install chromium` once, or "
                 "CALCAT_GIT_SKIP_BROWSER=1 to skip these tests")


def build_site(repo: Path, out: Path, *options: str) -> Path:
    """``calcat-git site build`` of the catalog at ``repo`` into ``out`` (must succeed)."""
    done = run_cli("site", "build", "--repo", str(repo), "--out", str(out), *options)
    assert done.returncode == 0, done.stderr
    return out


def require_chromium() -> None:
    """Skip (CALCAT_GIT_SKIP_BROWSER=1) or fail with what to do when the browser is missing."""
    if os.environ.get("CALCAT_GIT_SKIP_BROWSER") == "1":
        pytest.skip(f"CALCAT_GIT_SKIP_BROWSER=1: {CHROMIUM_HINT}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is missing: {CHROMIUM_HINT}")


ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
        "--no-first-run", "--disable-sync"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free localhost port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def watch(page: Any, base: str, console: bool = True) -> tuple[list[str], list[str]]:
    """Collect ``page``'s errors (console errors too, with ``console``) and abort every request
    that leaves ``base``, collecting its URL: (errors, outside)."""
    errors: list[str] = []
    outside: list[str] = []
    if console:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return errors, outside


def wait_for(ready: Callable[[], T], timeout: float, what: str, every: float = 0.05) -> T:
    """Ask ``ready`` every ``every`` seconds until it returns something true, and return that;
    fail saying ``what`` was awaited once ``timeout`` seconds have passed (be generous: the
    machine may be busy; a test waits only as long as it must)."""
    end = time.monotonic() + timeout
    while not (value := ready()):
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)
    return value


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    """Stop ``proc``: SIGTERM, up to ``timeout`` seconds to finish, only then SIGKILL; what it
    wrote (when its output is a pipe) that was not read before."""
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace") if out else ""


SERVING = re.compile(rb"^calcat-git serve: http://\S+?:(\d+)/api/", re.MULTILINE)


def start_serving(command: list[str], timeout: float = 300, **popen: Any) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command``, a ``calcat-git serve ... --port 0``, and return it with the port it bound
    (its start line says it) once that port accepts connections. No port is chosen for it, so
    none can be taken by another process in between."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)
    said: list[bytes] = []

    def port_said() -> int | None:
        assert proc.stdout is not None
        if select.select([proc.stdout], [], [], 0.05)[0]:
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise AssertionError(f"the server exited ({proc.wait()}): {b''.join(said).decode(errors='replace')}")
            said.append(chunk)
        match = SERVING.search(b"".join(said))
        return int(match[1]) if match else None

    try:
        port = wait_for(port_said, timeout, f"the start line of {command}", every=0)
        wait_for(lambda: proc.poll() is not None or accepts(port), timeout, f"{command} accepting on port {port}")
        assert proc.poll() is None, f"the server exited ({proc.returncode}): {stop_process(proc)}"
    except BaseException:
        stop_process(proc)
        raise
    return proc, port


def accepts(port: int) -> bool:
    """Whether a connection to ``port`` on the loopback address is accepted."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
