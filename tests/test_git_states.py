"""Git states that must not crash anything: submodules and symbolic links among catalog
files, file names git would quote, blobs too large for a catalog file. Real repos."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calcat_git import CalibrationData, Catalog
from calcat_git.git.repo import GitRepo

from .helpers import commit_all, git

BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calcat_git", *args, "--repo", str(root)], capture_output=True,
                          text=True, check=False)


def _answer(root: Path, *extra: str) -> dict[str, object]:
    """The constants of report 3757 (the mini catalog's one batch), by calibration and module."""
    catalog = Catalog.open(root, worktree="--worktree" in extra)
    data = CalibrationData.from_report(3757, catalog)
    return {cal: {agg: c.ccv_id for agg, c in group.items()} for cal, group in data.items()}


def test_submodule_among_catalog_files_is_a_problem_not_a_crash(git_mini: Path) -> None:
    head = git(git_mini, "rev-parse", "HEAD")
    git(git_mini, "update-index", "--add", "--cacheinfo", f"160000,{head},registry/detectors/vendored.yaml")
    git(git_mini, "commit", "-q", "-m", "a submodule where a detector file belongs")
    sha = git(git_mini, "rev-parse", "HEAD")
    index = cli(git_mini, "index", "--json")
    assert index.returncode == 0, index.stderr
    assert json.loads(index.stdout)["invalid_files"] == 1
    assert _answer(git_mini) == _answer(git_mini, "--worktree")  # every reading command still answers
    mapping = cli(git_mini, "mapping", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--json")
    assert mapping.returncode == 0 and json.loads(mapping.stdout)["modules"]["AGIPD01"] == "AGIPD_M3", mapping.stderr
    problems = [str(p) for p in Catalog.open(git_mini).validate()]
    assert problems == ["registry/detectors/vendored.yaml:1: symbolic link or submodule: catalog files must be "
                        "regular files [layout]"]
    assert Catalog.open(git_mini).commit == sha


@pytest.mark.parametrize("name", ['da rk "q".yaml', "tab\there.yaml", "new\nline.yaml", "back\\slash.yaml",
                                  "dünkel-暗.yaml"])
def test_odd_file_names_read_the_same_through_the_index(git_mini: Path, name: str) -> None:
    target = f"constants_index/MID_DET_AGIPD1M-1/2024/{name}"
    git(git_mini, "mv", BATCH, target)
    commit_all(git_mini, f"rename the batch to {name!r}", "2024-05-03T00:00:00Z")
    answer = _answer(git_mini)
    assert answer == _answer(git_mini, "--worktree") and answer["Offset"], answer
    paths = {p for p in Catalog.open(git_mini).registry.paths if p.startswith("constants_index/")}
    assert paths == {target}


def test_blob_too_large_is_refused_from_its_size(git_mini: Path) -> None:
    big = git_mini / "constants_index/MID_DET_AGIPD1M-1/2024/20240601T000000Z-huge.yaml"
    big.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    commit_all(git_mini, "a 5 MiB batch", "2024-06-02T00:00:00Z")
    sha = git(git_mini, "rev-parse", "HEAD")
    repo = GitRepo(git_mini)
    files = dict(repo.tree_files(sha, ["constants_index"], max_bytes=4 * 1024 * 1024))
    assert len(files[big.relative_to(git_mini).as_posix()] or b"") == 4 * 1024 * 1024 + 1  # never all of it
    problems = [str(p) for p in Catalog.open(git_mini).validate()]
    assert problems == [f"{big.relative_to(git_mini).as_posix()}:1: file is larger than the 4194304 byte (4 MiB) "
                        "limit for a catalog file [yaml]"]
    index = cli(git_mini, "index", "--json")
    assert json.loads(index.stdout)["invalid_files"] == 1
    assert _answer(git_mini)["Offset"]


def test_symbolic_link_in_git_is_never_followed(git_mini: Path) -> None:
    (git_mini / "registry/detectors/link.yaml").symlink_to("/etc/passwd")
    commit_all(git_mini, "a link", "2024-06-02T00:00:00Z")
    problems = [str(p) for p in Catalog.open(git_mini).validate()]
    assert problems == ["registry/detectors/link.yaml:1: symbolic link or submodule: catalog files must be "
                        "regular files [layout]"]
    assert json.loads(cli(git_mini, "index", "--json").stdout)["invalid_files"] == 1


def _get(app: Any, path: str, query: str = "") -> tuple[int, dict[str, str]]:
    """One GET through the ASGI application: status and headers."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "root_path": ""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], {k.decode(): v.decode() for k, v in sent[0]["headers"]}


def test_server_keeps_the_last_good_commit_and_says_why(git_mini: Path) -> None:
    from calcat_git.server.app import COMMIT_HEADER, PROBLEM_HEADER, create_app
    from calcat_git.server.following import ServeConfig

    good = git(git_mini, "rev-parse", "HEAD")
    app = create_app(ServeConfig(repo=str(git_mini)))
    status, headers = _get(app, "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    assert status == 200 and headers[COMMIT_HEADER.lower()] == good and PROBLEM_HEADER.lower() not in headers
    git(git_mini, "update-index", "--add", "--cacheinfo", f"160000,{good},registry/detectors/vendored.yaml")
    git(git_mini, "commit", "-q", "-m", "a submodule where a detector file belongs")
    bad = git(git_mini, "rev-parse", "HEAD")
    status, headers = _get(app, "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    assert status == 200 and headers[COMMIT_HEADER.lower()] == good
    assert headers[PROBLEM_HEADER.lower()] == (
        f"commit {bad[:12]} not served: registry/detectors/vendored.yaml at commit {bad[:12]}: symbolic link or "
        "submodule: catalog files must be regular files")
    git(git_mini, "rm", "-q", "--cached", "registry/detectors/vendored.yaml")
    git(git_mini, "commit", "-q", "-m", "drop the submodule")
    fixed = git(git_mini, "rev-parse", "HEAD")
    status, headers = _get(app, "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    assert status == 200 and headers[COMMIT_HEADER.lower()] == fixed and PROBLEM_HEADER.lower() not in headers
