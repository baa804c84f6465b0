"""The synthetic catalog generator of the scale benchmark builds a valid, deterministic repository."""

from __future__ import annotations

import itertools
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from calcat_git import Catalog
from tests.benchmarks.generate import generate


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_generate_small_catalog(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    summary = generate(repo, ccvs=5000, commits=500, seed=0)

    assert summary["commits"] == 500
    assert summary["ccvs"] == 5000
    assert summary["detectors"] == 40
    assert summary["pdus"] > 40 * 8
    assert summary["backdated"] > 0 and summary["moves"] > 0 and summary["swaps"] > 0
    assert int(git(repo, "rev-list", "--count", "main")) == 500
    times = [int(t) for t in git(repo, "log", "--first-parent", "--format=%ct", "main").split()][::-1]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    authored = [int(t) for t in git(repo, "log", "--first-parent", "--format=%at", "main").split()][::-1]
    assert authored == times

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    catalog = Catalog.open(clone)
    assert catalog.validate() == []

    reg = catalog.registry
    assert sum(len(b.constants) for b in reg.batches.values()) == 5000
    used: dict[str, set[str]] = defaultdict(set)
    for batch in reg.batches.values():
        detector_type = reg.detectors[batch.detector].detector_type
        for ccv in batch.constants:
            used[detector_type].add(ccv.calibration)
            # the CCV's PDU sits in a slot of its detector at begin_at (per the final mapping)
            assert ccv.pdu in catalog.mapping(batch.detector, at=ccv.begin_at).values()
    assert {name: set(dt.calibrations) for name, dt in reg.detector_types.items()} == used


def test_generate_is_deterministic(tmp_path: Path) -> None:
    heads = []
    for name in ("a", "b"):
        generate(tmp_path / name, ccvs=600, commits=60, seed=7)
        heads.append(git(tmp_path / name, "rev-parse", "main"))
    assert heads[0] == heads[1]
    generate(tmp_path / "c", ccvs=600, commits=60, seed=8)
    assert git(tmp_path / "c", "rev-parse", "main") != heads[0]
