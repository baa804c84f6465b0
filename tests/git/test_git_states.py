"""Git states that must not crash anything: submodules and symbolic links among catalog
files, file names git would quote, blobs too large for a catalog file. Real repos."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from calcat_git import CalibrationData, Catalog
from calcat_git.edit.change import Change
from calcat_git.edit.draft import TreeFiles
from calcat_git.errors import BrokenCatalogError, CatalogProblemWarning
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.parse import DATA_ROOTS, ROOT_FILES
from calcat_git.git.repo import GitRepo

from ..helpers import commit_all, edit, fast_sample, git, run_cli

BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"
SUBMODULE = "symbolic link or submodule: catalog files must be regular files"
TOO_LARGE = "file is larger than the 4194304 byte (4 MiB) limit for a catalog file"
NOT_LOADING = ("the catalog at commit {sha} has 1 file(s) that do not load, not used by this look-up: {path} "
               "(since commit {sha}): {why}")
REFUSED = ("the catalog at commit {sha} does not load: {path} (since commit {sha}): {why}; {asked} depends on it: "
           "fix or revert the file (`calcat-git validate` lists every problem), or read an earlier snapshot "
           "(--snapshot-at)")


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
    index = run_cli("index", "--json", repo=git_mini)
    assert index.returncode == 0, index.stderr
    assert json.loads(index.stdout)["invalid_files"] == 1
    with pytest.warns(CatalogProblemWarning, match="registry/detectors/vendored.yaml"):
        answer = _answer(git_mini)  # a look-up it cannot change answers, and says so
    assert answer == _answer(git_mini, "--worktree")
    mapping = run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--json", repo=git_mini)
    assert mapping.returncode == 0 and json.loads(mapping.stdout)["modules"]["AGIPD01"] == "AGIPD_M3", mapping.stderr
    assert json.loads(mapping.stdout)["problems"] == [{"message": NOT_LOADING.format(
        sha=sha[:12], path="registry/detectors/vendored.yaml", why=SUBMODULE), "severity": "warning"}]
    assert mapping.stderr == "warning: " + NOT_LOADING.format(sha=sha[:12], path="registry/detectors/vendored.yaml",
                                                             why=SUBMODULE) + "\n"
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
    index = run_cli("index", "--json", repo=git_mini)
    assert json.loads(index.stdout)["invalid_files"] == 1
    with pytest.raises(BrokenCatalogError) as refused:  # the report's other constants may be in that file
        _answer(git_mini)
    assert str(refused.value) == REFUSED.format(sha=sha[:12], path=big.relative_to(git_mini).as_posix(),
                                                why=TOO_LARGE, asked="a look-up of MID_DET_AGIPD1M-1")


def test_symbolic_link_in_git_is_never_followed(git_mini: Path) -> None:
    (git_mini / "registry/detectors/link.yaml").symlink_to("/etc/passwd")
    commit_all(git_mini, "a link", "2024-06-02T00:00:00Z")
    problems = [str(p) for p in Catalog.open(git_mini).validate()]
    assert problems == ["registry/detectors/link.yaml:1: symbolic link or submodule: catalog files must be "
                        "regular files [layout]"]
    assert json.loads(run_cli("index", "--json", repo=git_mini).stdout)["invalid_files"] == 1


def test_tree_blobs_names_the_blob_of_each_regular_file_only(git_mini: Path) -> None:
    (git_mini / "registry/detectors/link.yaml").symlink_to("/etc/passwd")
    commit_all(git_mini, "a link", "2024-06-02T00:00:00Z")
    files = git(git_mini, "ls-files", "registry/detectors").split()
    blobs = GitRepo(git_mini).tree_blobs("HEAD", ["registry/detectors"])
    assert "registry/detectors/link.yaml" in files and list(blobs) == [f for f in files if not f.endswith("link.yaml")]
    assert all(blob == git(git_mini, "rev-parse", f"HEAD:{path}") for path, blob in blobs.items())


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
        f"commit {bad[:12]} not served: 1 file(s) do not load: registry/detectors/vendored.yaml (since commit "
        f"{bad[:12]}): {SUBMODULE}; serving {good[:12]}")
    git(git_mini, "rm", "-q", "--cached", "registry/detectors/vendored.yaml")
    git(git_mini, "commit", "-q", "-m", "drop the submodule")
    fixed = git(git_mini, "rev-parse", "HEAD")
    status, headers = _get(app, "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    assert status == 200 and headers[COMMIT_HEADER.lower()] == fixed and PROBLEM_HEADER.lower() not in headers


BROKEN = "constants_index/MID_DET_AGIPD1M-1/2024/20240601T000000Z-broken.yaml"
UNPARSED = "line 2: YAML syntax error: did not find expected ',' or ']'"
AGIPD_CONDITIONS = ("--condition", "Memory cells=352", "--condition", "Sensor Bias Voltage=300")  # the mini's


def _break(root: Path, path: str = BROKEN, date: str = "2024-06-02T00:00:00Z") -> str:
    """Commit a batch file that does not parse; its commit."""
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text("detector: [MID_DET_AGIPD1M-1\n")
    return commit_all(root, "a batch that does not parse", date)


@pytest.mark.slow
def test_a_lookup_depending_on_a_file_that_does_not_load_is_refused(git_mini: Path) -> None:
    bad = _break(git_mini)
    lookup = run_cli("lookup", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", *AGIPD_CONDITIONS, repo=git_mini)
    refused = REFUSED.format(sha=bad[:12], path=BROKEN, why=UNPARSED, asked="a look-up of MID_DET_AGIPD1M-1")
    assert (lookup.returncode, lookup.stdout, lookup.stderr) == (1, "", f"error: {refused}\n")
    explain = run_cli("explain", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", *AGIPD_CONDITIONS, repo=git_mini)
    assert (explain.returncode, explain.stderr) == (1, f"error: {refused}\n")
    mapping = run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", repo=git_mini)
    assert (mapping.returncode, mapping.stderr) == (1, f"error: {refused}\n")
    with pytest.raises(BrokenCatalogError, match="^" + re.escape(refused) + "$"):
        _answer(git_mini)
    with pytest.raises(BrokenCatalogError, match=re.escape(BROKEN)):
        Catalog.open(git_mini).mapping("MID_DET_AGIPD1M-1")
    earlier = run_cli("lookup", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--snapshot-at",
                      "2024-05-03T00:00:00Z", *AGIPD_CONDITIONS, "--json", repo=git_mini)
    assert earlier.stderr == "" and "problems" not in json.loads(earlier.stdout)  # an earlier snapshot loads


def test_a_lookup_a_broken_file_cannot_change_answers_and_says_so(git_mini: Path) -> None:
    bad = _break(git_mini)
    lookup = run_cli("lookup", "SPB_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", *AGIPD_CONDITIONS, "--json",
                     repo=git_mini)
    note = NOT_LOADING.format(sha=bad[:12], path=BROKEN, why=UNPARSED)
    assert lookup.stderr == f"warning: {note}\n"
    assert json.loads(lookup.stdout)["problems"] == [{"message": note, "severity": "warning"}]
    from calcat_git.lookup.conditions import AGIPDConditions

    with pytest.warns(CatalogProblemWarning, match=re.escape(note)):
        data = CalibrationData.from_condition(AGIPDConditions(sensor_bias_voltage=300, memory_cells=352,
                                                              acquisition_rate=1.1, gain_setting=0, gain_mode=0),
                                              "SPB_DET_AGIPD1M-1", ["Offset"], catalog=Catalog.open(git_mini),
                                              event_at="2024-06-01T00:00:00Z")
    assert data.problems == [note]


def test_a_broken_registry_file_refuses_every_lookup(git_mini: Path) -> None:
    bad = _break(git_mini, "registry/calibrations/Broken.yaml")
    lookup = run_cli("lookup", "SPB_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", *AGIPD_CONDITIONS, repo=git_mini)
    assert lookup.returncode == 1 and lookup.stderr.startswith(
        f"error: the catalog at commit {bad[:12]} does not load: registry/calibrations/Broken.yaml"), lookup.stderr


def _app(root: Path) -> Any:
    from calcat_git.server.app import create_app
    from calcat_git.server.following import ServeConfig

    return create_app(ServeConfig(repo=str(root)))


def _served(app: Any) -> tuple[int, str | None, str | None]:
    """Status, commit header and problem header of one request."""
    from calcat_git.server.app import COMMIT_HEADER, PROBLEM_HEADER

    status, headers = _get(app, "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    return status, headers.get(COMMIT_HEADER.lower()), headers.get(PROBLEM_HEADER.lower())


def test_server_started_on_a_broken_head_serves_the_last_good_commit(git_mini: Path) -> None:
    good = git(git_mini, "rev-parse", "HEAD")
    bad = _break(git_mini)
    assert _served(_app(git_mini)) == (200, good, f"commit {bad[:12]} not served: 1 file(s) do not load: {BROKEN} "
                                                  f"(since commit {bad[:12]}): {UNPARSED}; serving {good[:12]}")


def test_server_with_no_good_commit_answers_503_saying_why(mini: Path) -> None:
    git(mini, "init", "-q", "-b", "main")
    (mini / BROKEN).write_text("detector: [MID_DET_AGIPD1M-1\n")
    bad = commit_all(mini, "a catalog with a batch that does not parse", "2024-05-02T00:00:00Z")
    status, headers = _get(_app(mini), "/api/detectors", "identifier=MID_DET_AGIPD1M-1")
    why = (f"commit {bad[:12]} not served: 1 file(s) do not load: {BROKEN} (since commit {bad[:12]}): {UNPARSED}; "
           "nothing is served (503)")
    assert (status, headers["x-calcat-git-problem"]) == (503, why)


def test_server_after_force_pushes_keeps_the_good_commit_and_recomputes_the_problem(git_mini: Path) -> None:
    good = git(git_mini, "rev-parse", "HEAD")
    app = _app(git_mini)
    assert _served(app) == (200, good, None)
    bad = _break(git_mini)
    git(git_mini, "reset", "-q", "--hard", good)
    other = _break(git_mini, date="2024-06-03T00:00:00Z")  # a force-push to another broken commit
    assert other != bad
    assert _served(app) == (200, good, f"commit {other[:12]} not served: 1 file(s) do not load: {BROKEN} "
                                       f"(since commit {other[:12]}): {UNPARSED}; serving {good[:12]}")
    git(git_mini, "reset", "-q", "--hard", good)  # a force-push removing the bad commit clears the problem
    assert _served(app) == (200, good, None)


def test_server_keeps_serving_when_the_branch_is_deleted(git_mini: Path) -> None:
    good = git(git_mini, "rev-parse", "HEAD")
    app = _app(git_mini)
    git(git_mini, "switch", "-q", "-c", "other")
    git(git_mini, "branch", "-q", "-D", "main")
    status, commit, problem = _served(app)
    assert (status, commit) == (200, good)
    assert problem == f"branch main cannot be read (no commit 'main' in {git_mini}); serving {good[:12]}"
    git(git_mini, "branch", "-q", "main", good)
    assert _served(app) == (200, good, None)


def test_server_rebuilds_an_index_damaged_in_place(git_mini: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = git(git_mini, "rev-parse", "HEAD")
    app = _app(git_mini)
    assert _served(app) == (200, good, None)
    index = next((git_mini / ".git/calcat-git").glob("index-main.*.sqlite"))
    size = index.stat().st_size
    with open(index, "r+b") as handle:  # in place: the server's open connection reads these pages
        handle.write(b"\xff" * size)
    app.state.following.view().catalog.backend.index._records.clear()  # nothing answered from memory
    app.state.following.view()._names.clear()
    assert _served(app) == (200, good, None)
    assert [r.getMessage()[:60] for r in caplog.records if r.levelname == "ERROR"] == [
        "the index failed (DatabaseError: file is not a database) and"]


@pytest.mark.parametrize("damage", fast_sample(["garbage", "truncated", "wrong-table", "symlink"], keep=1))
def test_a_damaged_validation_cache_is_said_and_rebuilt(git_mini: Path, tmp_path: Path, damage: str) -> None:
    """A damaged .git/calcat-git/validated.sqlite made validate (and the pre-commit hook) fail
    with a traceback; a symbolic link there was followed."""
    import sqlite3

    def validate() -> subprocess.CompletedProcess[str]:
        return run_cli("validate", str(git_mini))

    assert validate().returncode == 0
    cache = git_mini / ".git/calcat-git/validated.sqlite"
    victim = tmp_path / "victim.sqlite"
    if damage == "garbage":
        cache.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[:1500])
    elif damage == "wrong-table":
        cache.unlink()
        with sqlite3.connect(cache) as conn:
            conn.execute("CREATE TABLE checked(x)")
    else:
        victim.write_bytes(b"someone else's file")
        cache.unlink()
        cache.symlink_to(victim)
    done = validate()
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    why = {"garbage": "file is not a database", "truncated": "database disk image is malformed",
           "wrong-table": "no such column: path",
           "symlink": "a symbolic link"}[damage]
    assert done.stderr.splitlines() == [f"calcat-git: validation cache validated.sqlite is unusable ({why}); rebuilding"]
    again = validate()
    assert again.returncode == 0 and again.stderr == ""
    assert not cache.is_symlink() and (damage != "symlink" or victim.read_bytes() == b"someone else's file")


@pytest.mark.slow
def test_reading_commands_run_no_hooks_filters_or_fsmonitor(git_mini: Path, tmp_path: Path) -> None:
    """Commands that only read run none of the repository's programs (core.fsmonitor, hooks, filter
    drivers), which plain `git status` would run; committing commands run them as git does."""
    ran = tmp_path / "ran"
    ran.mkdir()
    script = tmp_path / "program"
    script.write_text(f'#!/bin/sh\ntouch "{ran}/$(basename "$0")-$1"\ncat\n')
    script.chmod(0o755)
    for name in ("fsmonitor", "post-index-change", "reference-transaction", "clean"):
        (tmp_path / name).symlink_to(script)
    hooks = git_mini / ".git/hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-index-change", "reference-transaction"):
        (hooks / hook).symlink_to(tmp_path / hook)
    git(git_mini, "config", "core.fsmonitor", str(tmp_path / "fsmonitor"))
    git(git_mini, "config", "filter.evil.clean", str(tmp_path / "clean"))
    (git_mini / ".git/info").mkdir(exist_ok=True)
    (git_mini / ".git/info/attributes").write_text("* filter=evil\n")
    edit(git_mini, BATCH, "good_quality: true", "good_quality: false")  # a changed file: the filter would read it
    head = git(git_mini, "rev-parse", "HEAD")
    for args in (["validate", str(git_mini)], ["validate", str(git_mini), "--changed-since", "HEAD"],
                 ["mapping", "MID_DET_AGIPD1M-1", "--repo", str(git_mini)],
                 ["history", "AGIPD_M3", "--repo", str(git_mini)], ["check", "--base", head, "--repo", str(git_mini)],
                 ["diff", head, "--repo", str(git_mini)], ["index", "--repo", str(git_mini)]):
        done = run_cli(*args)
        assert "Traceback" not in done.stderr, done.stderr
        assert sorted(p.name for p in ran.iterdir()) == [], args
    git(git_mini, "status", "--porcelain")  # plain git runs them: the test can fail
    assert sorted(p.name.split("-")[0] for p in ran.iterdir()) >= ["clean", "fsmonitor"]


# --- the one write path: a commit that fails leaves branch, index, files and store as they were -------------------

import os  # noqa: E402

import numpy as np  # noqa: E402

from calcat_git import CatalogInvalidError, RepositoryError  # noqa: E402
from calcat_git.git.commits import NO_IDENTITY  # noqa: E402
from calcat_git.store.hdf5 import write_constant  # noqa: E402

MID = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SWAP = ["swap", "MID_DET_AGIPD1M-1", "Q1M1=AGIPD_M4", "--from", "2024-06-01T00:00:00Z", "--reason", "spare"]


def _dark(path: Path) -> Path:
    path.unlink(missing_ok=True)
    write_constant(path, pdu="AGIPD_M3", uuid=100003, detector_type="AGIPD-Type", calibration="Offset",
                   data=np.zeros((2, 2)), conditions={"Memory cells": 352, "Sensor Bias Voltage": 300},
                   begin_at="2024-06-01T00:00:00Z")
    return path


def _busy(root: Path) -> None:
    """A user's work in progress: a staged file and a changed one, neither part of any change."""
    (root / "notes.txt").write_text("staged\n")
    git(root, "add", "notes.txt")
    (root / "calcat-git.yaml").write_text("store: ../store\n# being edited\n")


def _state(root: Path) -> dict[str, object]:
    """Everything a failed write must leave as it was: refs and HEAD, git's index as `git diff
    --cached` and `git status` show it, every file of the working tree, the store."""
    store = root.parent / "store"
    return {"refs": git(root, "for-each-ref"), "head": git(root, "rev-parse", "--abbrev-ref", "HEAD"),
            "cached": git(root, "diff", "--cached"), "status": git(root, "status", "--porcelain"),
            "files": sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*")
                            if p.is_file() and ".git" not in p.relative_to(root).parts),
            "store": sorted(p.relative_to(store).as_posix() for p in store.rglob("*"))}


def _hook(root: Path, name: str, body: str) -> None:
    hook = root / ".git" / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)


@pytest.mark.slow
def test_a_failing_hook_undoes_the_commit(git_mini: Path, tmp_path: Path) -> None:
    _hook(git_mini, "pre-commit", "echo 'pre-commit: the catalog is frozen' >&2\nexit 1\n")
    _busy(git_mini)
    before = _state(git_mini)
    for args in (SWAP, ["inject", str(_dark(tmp_path / "dark.h5")), "--report", "r/dark.pdf"]):
        run = run_cli(*args, "--commit", repo=git_mini)
        assert (run.returncode, run.stdout, run.stderr) == (1, "", "error: git commit of the change: pre-commit: the "
                                                                    "catalog is frozen; the change was undone, nothing "
                                                                    "was written\n")
        assert _state(git_mini) == before
    assert run_cli(*SWAP, "--branch", "spare", repo=git_mini).returncode == 0  # a branch commit runs no hooks: CI checks it


@pytest.mark.slow
def test_no_git_identity_commits_nothing(git_mini: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "EMAIL"} | {"HOME": str(home)}
    _busy(git_mini)
    before = _state(git_mini)
    for args in ([*SWAP, "--commit"], [*SWAP, "--branch", "spare"],
                 ["inject", str(_dark(tmp_path / "dark.h5")), "--report", "r/dark.pdf", "--commit"]):
        run = run_cli(*args, env=env, repo=git_mini)
        assert (run.returncode, run.stdout, run.stderr) == (1, "", f"error: {NO_IDENTITY}\n")
        assert _state(git_mini) == before


@pytest.mark.slow
def test_gpg_that_fails_commits_nothing(git_mini: Path, tmp_path: Path) -> None:
    git(git_mini, "config", "commit.gpgSign", "true")
    git(git_mini, "config", "gpg.program", "false")
    _busy(git_mini)
    before = _state(git_mini)
    for target, failed in ((["--commit"], "git commit of the change: fatal: failed to write commit object"),
                           (["--branch", "spare"], "git commit-tree (making the commit): error: gpg failed to sign the "
                                                   "data")):
        for args in (SWAP, ["inject", str(_dark(tmp_path / "dark.h5")), "--report", "r/dark.pdf"]):
            run = run_cli(*args, *target, repo=git_mini)
            assert (run.returncode, run.stderr) == (1, f"error: {failed}; "
                                                       + ("the change was undone, " if "inject" in args or
                                                          target == ["--commit"] else "")
                                                       + "nothing was written\n")
            assert _state(git_mini) == before


def test_a_signal_during_the_commit_undoes_it(git_mini: Path) -> None:
    # the hook lets the commit finish, then signals calcat-git (the hook's parent is git, git's is calcat-git)
    _hook(git_mini, "post-commit", "kill -TERM $(ps -o ppid= -p $PPID)\n")
    _busy(git_mini)
    before = _state(git_mini)
    run = run_cli(*SWAP, "--commit", repo=git_mini)
    assert (run.returncode, run.stdout, run.stderr) == (
        1, "", "error: interrupted by SIGTERM: the change was undone, nothing was written\n")
    assert _state(git_mini) == before


@pytest.mark.slow
def test_failing_checks_write_nothing_anywhere(git_mini: Path) -> None:
    _busy(git_mini)
    before = _state(git_mini)
    for target in ([], ["--commit"], ["--branch", "jf"]):
        run = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M1=Jungfrau_M001", "--from", "2024-06-01T00:00:00Z", "--reason",
                      "wrong type", *target, repo=git_mini)
        assert (run.returncode, run.stdout) == (1, "")
        assert run.stderr.startswith(f"error: the change would not validate, nothing was written: {MID}:"), run.stderr
        assert "Jungfrau_M001" in run.stderr and "jungfrau-Type" in run.stderr
        assert _state(git_mini) == before


@pytest.mark.slow
def test_a_branch_commit_holds_only_committed_files(git_mini: Path) -> None:
    assert run_cli("add-pdu", "AGIPD_M9", "--type", "AGIPD-Type", "--uuid", "100009", repo=git_mini).returncode == 0
    before = _state(git_mini)
    run = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M1=AGIPD_M9", "--from", "2024-06-01T00:00:00Z", "--reason", "new", "--branch",
                  "m9", repo=git_mini)
    head = git(git_mini, "rev-parse", "HEAD")
    assert (run.returncode, run.stdout, run.stderr) == (1, "", (
        "error: unknown PDU 'AGIPD_M9' (did you mean AGIPD_M5, AGIPD_M4, AGIPD_M3?): an admin adds it first "
        f"(`calcat-git add-pdu`); the commit holds {head[:12]}'s files and this change only, not the uncommitted "
        "registry/pdus/AGIPD-Type/AGIPD_M9.yaml: commit those first\n"))
    assert _state(git_mini) == before
    assert run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M1=AGIPD_M9", "--from", "2024-06-01T00:00:00Z", "--reason", "new",
                   repo=git_mini).returncode == 0  # the working tree holds it: written there


@pytest.mark.parametrize(("args", "message"), fast_sample([
    (["--branch", "main"], "branch 'main' is checked out here: a commit onto it is a --commit (the files and git's "
                           "index move with it); nothing was written"),
    (["--branch", "$(id)"], "--branch '$(id)': a branch name here has no shell characters ($`;|&<>()'\"!#{}): use "
                            "letters, digits and . _ - /"),
    (["--branch", "x;id"], "--branch 'x;id': a branch name here has no shell characters ($`;|&<>()'\"!#{}): use "
                           "letters, digits and . _ - /"),
    (["--branch", "refs/heads/zz"], "--branch 'refs/heads/zz': give the branch's short name (without refs/...)"),
    (["--branch", "origin/main"], "--branch 'origin/main' would shadow the remote-tracking branches of 'origin': give "
                                  "a name that does not start with 'origin/'"),
    (["--branch", "x", "--commit"], "give --commit or --branch, not both"),
], keep=1))
def test_refused_targets(git_mini: Path, tmp_path: Path, args: list[str], message: str) -> None:
    git(git_mini, "remote", "add", "origin", str(tmp_path / "elsewhere.git"))
    before = _state(git_mini)
    for command in (SWAP, ["inject", str(_dark(tmp_path / "dark.h5")), "--report", "r/dark.pdf"],
                    ["add-pdu", "AGIPD_M9", "--type", "AGIPD-Type", "--uuid", "100009"]):
        run = run_cli(*command, *args, repo=git_mini)
        assert (run.returncode, run.stdout, run.stderr) == (1, "", f"error: {message}\n"), command
        assert _state(git_mini) == before


def test_commit_on_a_detached_head_is_refused(git_mini: Path) -> None:
    git(git_mini, "checkout", "-q", "--detach")
    before = _state(git_mini)
    run = run_cli(*SWAP, "--commit", repo=git_mini)
    assert (run.returncode, run.stdout, run.stderr) == (1, "", (
        "error: HEAD is detached (no branch is checked out), so --commit has no branch to commit on: `git switch "
        "BRANCH` first, or give --branch NAME\n"))
    assert _state(git_mini) == before


@pytest.mark.slow
def test_one_slot_named_twice_is_refused(git_mini: Path) -> None:
    run = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M2=AGIPD_M4", "AGIPD01=-", "--from", "2024-06-01T00:00:00Z", "--reason", "r",
                  repo=git_mini)
    assert (run.returncode, run.stderr) == (1, "error: Q1M2 and AGIPD01 both name slot AGIPD01: give each slot once\n")
    twice = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M2=AGIPD_M4", "Q1M2=-", "--from", "2024-06-01T00:00:00Z", "--reason", "r",
                    repo=git_mini)
    assert (twice.returncode, twice.stderr) == (1, "error: slot Q1M2 is given twice: give each slot once\n")
    assert git(git_mini, "status", "--porcelain") == "?? calcat-git.yaml"


@pytest.mark.slow
def test_a_linked_worktree_writes_under_the_one_lock(git_mini: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(git_mini, "worktree", "add", "-q", "-b", "side", str(linked))
    run = run_cli(*SWAP, "--commit", repo=linked)
    assert run.returncode == 0, run.stderr
    assert (git_mini / ".git" / "calcat-git" / "write.lock").is_file() and not (linked / "calcat-git").exists()
    assert git(git_mini, "log", "-1", "--format=%s", "side") == "MID_DET_AGIPD1M-1: spare"
    refused = run_cli(*SWAP, "--branch", "side", repo=git_mini)  # checked out in the other working tree
    assert (refused.returncode, refused.stderr) == (1, f"error: branch 'side' is checked out in {linked}: a commit "
                                                       "onto it belongs in that working tree (--commit there); "
                                                       "nothing was written\n")


@pytest.mark.slow
def test_old_problems_are_reported_not_blamed(git_mini: Path) -> None:
    (git_mini / "registry/instruments/FXE.yaml").write_text("identifier: FXE\nname: [\n")  # does not parse
    git(git_mini, "add", "registry/instruments/FXE.yaml")
    git(git_mini, "commit", "-q", "-m", "a broken file")
    run = run_cli(*SWAP, "--commit", repo=git_mini)
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("calcat-git: note: the catalog already had 1 problem(s) this change did not cause, "
                                 "e.g. registry/instruments/FXE.yaml:")
    refused = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M1=Jungfrau_M001", "--from", "2024-07-01T00:00:00Z", "--reason",
                      "wrong type", "--commit", repo=git_mini)
    assert refused.returncode == 1 and "FXE" not in refused.stderr  # only the change's own error is its fault


def test_python_change_is_one_commit_or_nothing(git_mini: Path, tmp_path: Path) -> None:
    catalog = Catalog.open(git_mini)
    head = git(git_mini, "rev-parse", "main")
    with pytest.raises(RuntimeError), catalog.change("both", branch="mid-m4") as change:
        change.swap("MID_DET_AGIPD1M-1", {"Q1M1": "AGIPD_M4"}, since="2024-06-01T00:00:00Z", reason="spare")
        raise RuntimeError("the pipeline failed")
    assert "mid-m4" not in git(git_mini, "branch")
    with catalog.change("MID Q1M1 and a dark", branch="mid-m4") as change:
        change.swap("MID_DET_AGIPD1M-1", {"Q1M1": "AGIPD_M4"}, since="2024-06-01T00:00:00Z", reason="spare")
        result = change.inject([_dark(tmp_path / "dark.h5")], report="xfel/reports/MID/dark_r0042.pdf", report_id=42)
    assert change.written is not None and change.written.commit == git(git_mini, "rev-parse", "mid-m4")
    assert git(git_mini, "rev-parse", "mid-m4^") == head and git(git_mini, "rev-parse", "main") == head
    assert git(git_mini, "diff", "--name-only", "main", "mid-m4").splitlines() == [result.batch_path, MID]
    assert len(change.written.store_files) == 1 and (git_mini.parent / "store" / change.written.store_files[0]).is_file()
    with pytest.raises(CatalogInvalidError, match="would not validate"), catalog.change("bad") as change:
        change.swap("MID_DET_AGIPD1M-1", {"Q1M1": "Jungfrau_M001"}, since="2024-06-01T00:00:00Z", reason="x")
    with pytest.raises(RepositoryError, match="checked out here"):
        catalog.change("x", branch="main")
    assert git(git_mini, "rev-parse", "main") == head and git(git_mini, "status", "--porcelain") == "?? calcat-git.yaml"


def test_a_change_of_constants_files_only_is_validated_without_reading_the_others(git_mini: Path) -> None:
    broken = BATCH.replace("20240501T100000Z-dark", "20240502T100000Z-broken")
    (git_mini / broken).write_text("detector: [\n")  # does not parse
    commit_all(git_mini, "a broken batch", "2024-05-03T00:00:00Z")
    good = (git_mini / BATCH).read_text()
    catalog = Catalog.open(git_mini)
    with catalog.change("another dark", branch="dark") as change:
        change.put(BATCH.replace("20240501T100000Z", "20240503T100000Z"), good)
    assert change.written is not None and change.written.commit is not None
    assert change.written.old_problems == ()  # the broken batch was listed, not read
    with pytest.raises(CatalogInvalidError, match="Offsett"), catalog.change("a bad dark", branch="bad") as change:
        change.put(BATCH.replace("20240501T100000Z", "20240504T100000Z"), good.replace("Offset", "Offsett"))
    with catalog.change("a dark and a pdu", branch="both") as change:
        change.put(BATCH.replace("20240501T100000Z", "20240505T100000Z"), good)
        change.add_pdu("AGIPD_M9", detector_type="AGIPD-Type", uuid=99)
    assert change.written is not None and [p.file for p in change.written.old_problems] == [broken]


def test_a_writer_builds_on_the_files_of_the_commit_it_made_as_git_reads_them(git_mini: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    trees, good = TreeFiles(), (git_mini / BATCH).read_text()
    with Change(git_mini, "a dark and a pdu", branch="dark", trees=trees) as change:
        change.put(BATCH.replace("20240501T100000Z", "20240503T100000Z"), good)
        change.add_pdu("AGIPD_M9", detector_type="AGIPD-Type", uuid=99)
    sha = change.written.commit if change.written else None
    assert sha is not None and trees.get(sha) == dict(GitRepo(git_mini).tree_files(sha, [*DATA_ROOTS, *ROOT_FILES],
                                                                                     MAX_BYTES))

    def unread(*args: object) -> None:
        raise AssertionError("the files of a commit the writer made are read again")

    monkeypatch.setattr(GitRepo, "tree_files", unread)
    with Change(git_mini, "another dark", branch="dark", trees=trees) as change:
        change.put(BATCH.replace("20240501T100000Z", "20240504T100000Z"), good)
    assert change.written is not None and git(git_mini, "rev-parse", "dark^") == sha
