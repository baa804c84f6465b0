"""Faults: a killed index build or update, odd git states (shallow, detached, no main,
mid-merge), and injections that must never replace a batch. Real processes, real repos."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from calcat_git import Catalog
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
from calcat_git.index.schema import FORMAT, index_path

from ..helpers import commit_all, edit, git, run_cli, wait_for

SPB = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
QUERIES = [("2024-01-01T00:00:00Z", "2023-06-01T00:00:00Z"), ("2021-03-01T00:00:00Z", "2026-01-01T00:00:00Z")]


def answers(repo: Path, detectors: list[str]) -> list[dict[str, str | None]]:
    """Mapping answers of the CLI (which opens, updates or rebuilds the index as needed)."""
    out = []
    for detector in detectors:
        for event, snapshot in QUERIES:
            run = run_cli("mapping", detector, "--at", event, "--snapshot-at", snapshot, "--json", repo=repo)
            assert run.returncode == 0, run.stderr
            out.append(json.loads(run.stdout)["modules"])
    return out


def naive_answers(repo: Path, detectors: list[str]) -> list[dict[str, str | None]]:
    """The same answers read from the git objects, without any index."""
    naive = Catalog.open(repo, index=False)
    return [naive.at(snapshot).mapping(d, at=event) for d in detectors for event, snapshot in QUERIES]


def kill_when(proc: subprocess.Popen[bytes], appears: Path, pattern: str) -> None:
    """SIGKILL ``proc`` as soon as a file matching ``pattern`` exists in ``appears``."""
    wait_for(lambda: proc.poll() is not None or any(appears.glob(pattern)), 600, f"{pattern} in {appears}", every=0.002)
    assert proc.poll() is None, "the process finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def rewrite_batches(repo: Path, when: int) -> str:
    """One commit on main flipping good_quality in every batch file (one fast-import)."""
    git_repo = GitRepo(repo)
    head = git_repo.rev_parse("main")
    found = git_repo.tree_blobs(head, ["constants_index"])
    paths, blobs = list(found), git_repo.read_blobs(list(found.values()))
    stream = [f"commit refs/heads/main\ncommitter T <t@example.org> {when} +0000\ndata 4\nflip\nfrom {head}\n".encode()]
    for path, blob in zip(paths, blobs, strict=True):
        new = blob.replace(b"good_quality: true", b"good_quality: false")
        stream.append(f"M 100644 inline {path}\ndata {len(new)}\n".encode() + new + b"\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    return git_repo.rev_parse("main")


def fresh_copy(synthetic: Path, tmp_path: Path) -> Path:
    """A copy of the synthetic repository without the index other tests may have built in it."""
    repo = tmp_path / "catalog"
    shutil.copytree(synthetic, repo)
    shutil.rmtree(GitRepo(repo).git_dir / "calcat-git", ignore_errors=True)
    return repo


@pytest.mark.slow
def test_kill_during_full_build(synthetic: Path, tmp_path: Path) -> None:
    repo = fresh_copy(synthetic, tmp_path)
    detectors = Catalog.open(synthetic, index=False).names("detector")[:3]
    folder = GitRepo(repo).git_dir / "calcat-git"
    folder.mkdir()
    build = subprocess.Popen([sys.executable, "-m", "calcat_git", "index", "--repo", str(repo)])
    kill_when(build, folder, f"index-main.v{FORMAT}.sqlite.tmp-*")
    assert not index_path(GitRepo(repo), "main").exists() and list(folder.glob("*.tmp-*"))
    assert answers(repo, detectors) == naive_answers(repo, detectors)
    assert not list(folder.glob("*.tmp-*")), "the killed build's temporary file is cleaned up"
    assert Index.open(GitRepo(repo), "main").last_build[0] == "full"


@pytest.mark.slow
def test_kill_during_incremental_update(synthetic: Path, tmp_path: Path) -> None:
    repo = fresh_copy(synthetic, tmp_path)
    detectors = Catalog.open(synthetic, index=False).names("detector")[:3]
    old = Catalog.open(repo)  # full build
    new = rewrite_batches(repo, int(old.committed_at.timestamp()) + 60 if old.committed_at else 0)
    update = subprocess.Popen([sys.executable, "-m", "calcat_git", "index", "--repo", str(repo)])
    folder = GitRepo(repo).git_dir / "calcat-git"
    kill_when(update, folder, f"index-main.v{FORMAT}.sqlite-journal")
    assert (folder / f"index-main.v{FORMAT}.sqlite-journal").exists(), "killed inside the update's transaction"
    assert answers(repo, detectors) == naive_answers(repo, detectors)
    index = Index.open(GitRepo(repo), "main")
    assert index.head == new and index.last_build[0] == "incremental"  # rolled back, then resumed
    seq, _ = index.latest()
    assert index.counts(seq)["ccvs"] == 5000  # nothing lost, nothing doubled
    bad = index.conn.execute("SELECT COUNT(*) FROM ccvs WHERE good_quality = 0 AND tx_to IS NULL").fetchone()[0]
    assert bad == 5000


@pytest.mark.slow
def test_shallow_clone(mini: Path, repo: dict[str, str], tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{mini}", str(clone)], check=True)
    now = run_cli("mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2024-03-01T00:00:00Z", "--json", repo=clone)
    assert json.loads(now.stdout)["modules"]["AGIPD00"] == "AGIPD_M1"  # the newest snapshot works
    early = run_cli("snapshot", "2023-06-01T00:00:00Z", repo=clone)
    assert early.returncode == 1
    assert early.stderr == ("error: no snapshot at 2023-06-01T00:00:00Z in this shallow clone: it holds the history "
                            "since 2024-03-01T00:00:00Z only, the commits before are missing; run `git fetch "
                            "--unshallow` to read earlier snapshots\n")
    pinned = run_cli("snapshot", repo["swap"], repo=clone)
    assert pinned.returncode == 1 and pinned.stderr == (
        f"error: no commit '{repo['swap']}' in {clone}; this clone is shallow: `git fetch --unshallow` fetches older "
        "commits\n")
    history = run_cli("history", "SPB_DET_AGIPD1M-1", repo=clone)
    assert history.returncode == 1 and "this clone is shallow: run `git fetch --unshallow` first" in history.stderr
    git(clone, "fetch", "-q", "--unshallow")
    after = run_cli("snapshot", "2023-06-01T00:00:00Z", "--json", repo=clone)  # the index must not stay shallow
    assert after.returncode == 0 and json.loads(after.stdout)["commit"] == repo["swap"], after.stderr
    assert "shallow boundary" in after.stderr


def test_detached_head_and_missing_main(mini: Path, repo: dict[str, str]) -> None:
    git(mini, "checkout", "-q", "--detach", repo["swap"])
    assert Catalog.open(mini).commit == repo["late"]  # main is the catalog, wherever HEAD is
    assert Catalog.open(mini, branch="HEAD").commit == repo["swap"]
    git(mini, "branch", "-q", "-m", "main", "master")
    detached = run_cli("mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2024-03-01T00:00:00Z", "--json", repo=mini)
    assert json.loads(detached.stdout)["commit"] == repo["swap"]  # no main: HEAD, as documented
    missing = run_cli("mapping", "SPB_DET_AGIPD1M-1", "--branch", "main", repo=mini)
    assert missing.returncode == 1
    assert missing.stderr == f"error: no branch 'main' in {mini} (branches: master): pass an existing branch\n"
    typo = run_cli("index", "--branch", "mastr", repo=mini)
    assert typo.stderr == f"error: no branch 'mastr' in {mini} (did you mean master?): pass an existing branch\n"


def test_repository_in_the_middle_of_a_merge(mini: Path, repo: dict[str, str]) -> None:
    git(mini, "checkout", "-q", "-b", "other", repo["swap"])
    edit(mini, SPB, "AGIPD01: AGIPD_M5\n", "AGIPD01: AGIPD_M5\n  - from: \"2024-02-01T00:00:00Z\"\n"
         "    reason: other fix\n    modules:\n      AGIPD01: null\n")
    commit_all(mini, "other fix", "2024-03-02T00:00:00Z")
    git(mini, "checkout", "-q", "main")
    merge = subprocess.run(["git", "-C", str(mini), "merge", "-q", "other"], capture_output=True, text=True)
    assert merge.returncode != 0 and (mini / ".git" / "MERGE_HEAD").exists()
    committed = run_cli("mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2024-03-01T00:00:00Z", "--json", repo=mini)
    assert json.loads(committed.stdout) == {
        "detector": "SPB_DET_AGIPD1M-1", "at": "2024-03-01T00:00:00Z", "commit": repo["late"],
        "committed_at": "2024-03-01T00:00:00Z", "modules": {"AGIPD00": "AGIPD_M1", "AGIPD01": "AGIPD_M5"},
        "module_names": {"AGIPD00": "Q1M1", "AGIPD01": "Q1M2"}}
    worktree = run_cli("validate", str(mini))
    assert worktree.returncode == 1 and worktree.stdout.splitlines() == [
        f"{SPB}:9: unresolved merge conflict marker '<<<<<<<': resolve the conflict (see `git status`) and remove "
        "the markers [yaml]"]


def test_injections_onto_one_branch_never_replace_a_batch(mini: Path, tmp_path: Path) -> None:
    import numpy as np

    from calcat_git.edit.change import inject
    from calcat_git.errors import RepositoryError
    from calcat_git.store.hdf5 import write_constant

    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    for n in range(3):  # same PDU, begin_at and report: the same batch file name each time
        write_constant(tmp_path / f"{n}.h5", pdu="AGIPD_M3", uuid=100003, detector_type="AGIPD-Type",
                       calibration="Offset", data=np.zeros((2, 2)) + n, begin_at="2024-06-01T00:00:00Z",
                       conditions={"Memory cells": 352, "Sensor Bias Voltage": 300})
        inject(mini, [tmp_path / f"{n}.h5"], report_path="r/dark.pdf", store=tmp_path / "store", branch="inject/r1")
    on_branch = Catalog.open(mini, branch="inject/r1", index=False).registry
    assert sum(len(b.constants) for b in on_branch.batches.values()) == 2 + 3  # the mini batch's two, and 3 runs
    with pytest.raises(RepositoryError, match="already exists on inject/r1: refusing to replace it"):
        GitRepo(mini).commit_file("inject/r1", sorted(on_branch.batches)[-1], b"x", "overwrite")
