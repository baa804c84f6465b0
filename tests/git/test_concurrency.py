"""Concurrency: readers during an index update, and injections waiting on one lock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from calcat_git import Catalog
from calcat_git.git.repo import GitRepo
from calcat_git.locks import exclusive
from calcat_git.store.hdf5 import write_constant

from ..helpers import commit_all, git


@pytest.mark.slow
def test_parallel_readers_during_an_index_update(synthetic: Path, tmp_path: Path) -> None:
    repo = tmp_path / "catalog"
    shutil.copytree(synthetic, repo)
    catalog = Catalog.open(repo)  # index built
    detectors = catalog.names("detector")[:20]
    queries = [(d, "2024-01-01T00:00:00Z", "2023-06-01T00:00:00Z") for d in detectors]
    expected = [catalog.at(s).mapping(d, at=e) for d, e, s in queries]
    git_repo = GitRepo(repo)
    head = git_repo.rev_parse("main")
    when = int(catalog.committed_at.timestamp()) if catalog.committed_at else 0
    batches = list(git_repo.tree_blobs(head, ["constants_index"]).items())[:150]
    for n, (path, blob) in enumerate(batches):  # 150 new commits for the updater to index
        text = git_repo.read_blobs([blob])[0]
        folder = path.rsplit("/", 1)[0]
        git_repo.commit_file("main", f"{folder}/{folder[-4:]}1231T235959Z-copy-{n}.yaml",
                             text.replace(b"good_quality: true", b"good_quality: false"), f"copy {n}", when=when + n + 1)
    updater = subprocess.Popen([sys.executable, "-m", "calcat_git", "index", "--repo", str(repo), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    readers = [subprocess.Popen([sys.executable, "-m", "calcat_git", "mapping", d, "--at", e, "--snapshot-at", s,
                                 "--repo", str(repo), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for d, e, s in queries]
    answers = [json.loads(p.communicate(timeout=120)[0])["modules"] for p in readers]
    assert updater.wait(timeout=120) == 0
    assert answers == expected
    assert Catalog.open(repo).commit == git_repo.rev_parse("main")  # and the index reached the new head


WAITING = "another change is being written to this catalog; waiting for it"


def _until_waiting(run: subprocess.Popen[str]) -> str:
    """What ``run`` wrote to stderr up to its message that it waits (or up to its end)."""
    assert run.stderr is not None
    text = ""
    while WAITING not in text and (line := run.stderr.readline()):
        text += line
    return text


def test_injections_wait_for_each_other(mini: Path, tmp_path: Path) -> None:
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    (mini.parent / "store").mkdir()
    (mini / "calcat-git.yaml").write_text("store: ../store\n")
    files = []
    for n, (pdu, uuid, begin) in enumerate([("AGIPD_M3", 100003, "2024-06-01T00:00:00Z"),
                                            ("AGIPD_M4", 100004, "2023-06-01T00:00:00Z")]):
        write_constant(tmp_path / f"{n}.h5", pdu=pdu, uuid=uuid, detector_type="AGIPD-Type", calibration="Offset",
                       data=np.zeros((2, 2)) + n, conditions={"Memory cells": 352, "Sensor Bias Voltage": 300},
                       begin_at=begin)
        files.append(tmp_path / f"{n}.h5")
    lock = mini / ".git" / "calcat-git" / "write.lock"
    with exclusive(lock, "test holds the lock"):
        runs = [subprocess.Popen([sys.executable, "-m", "calcat_git", "inject", str(f), "--report", f"r/{n}.pdf",
                                  "--repo", str(mini)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for n, f in enumerate(files)]
        with ThreadPoolExecutor(len(runs)) as pool:  # both say they wait for the lock, however slow the machine
            said = list(pool.map(_until_waiting, runs, timeout=120))
        assert all(r.poll() is None for r in runs)  # … and still wait while it is held
    outputs = [r.communicate(timeout=60) for r in runs]
    assert all(r.returncode == 0 for r in runs), (said, outputs)
    assert all(WAITING in text for text in said), said
    batches = Catalog.open(mini, worktree=True).registry.batches
    assert sum(len(b.constants) for b in batches.values()) == 2 + 2  # the mini batch's two, and one of each run
