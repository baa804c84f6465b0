"""The scale benchmark at a small size: index answers equal naive answers (no timings)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcat_git import Catalog, RepositoryError

from ..helpers import HERE, examples
from .bench import NaiveReader, run

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)


def test_benchmark_runs_and_agrees_with_naive(synthetic: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "catalog"
    shutil.copytree(synthetic, copy)  # the benchmark adds a commit
    result = run(copy, queries=200, seed=1)
    assert result["mismatches"] == 0 and result["queries"] == 200
    assert result["figures"]["incremental_s"]["files_parsed"] == 1
    assert result["figures"]["build_s"]["invalid_files"] == 0


@pytest.fixture(scope="module")
def readers(synthetic: Path) -> tuple[Catalog, NaiveReader]:
    return Catalog.open(synthetic), NaiveReader(synthetic)


moments = st.datetimes(min_value=datetime(2017, 6, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC))


@settings(max_examples=examples(150))
@given(event=moments, snapshot=moments, which=st.integers(0, 1000))
def test_index_equals_naive_for_random_times(readers: tuple[Catalog, NaiveReader], event: datetime, snapshot: datetime,
                                              which: int) -> None:
    catalog, naive = readers
    detectors = catalog.names("detector")
    detector = detectors[which % len(detectors)]
    first = naive.timeline.times[0]
    if snapshot < first:
        with pytest.raises(RepositoryError, match="no snapshot at"):
            catalog.at(snapshot)
        return
    fast = catalog.at(snapshot)
    assert (fast.commit, fast.mapping(detector, at=event)) == naive.mapping(detector, event, snapshot)


def test_constant_layer_benchmark_runs(synthetic: Path) -> None:
    from .bench_constants import measure

    found = measure(synthetic)  # this code only, in this process (a run measures each code in its own)
    assert found["ccvs"] == 5000 and found["ccs"] > 0 and found["versions"] > 0
    assert found["question_kept_mib"] < found["ccvs"] * 1024 / 2**20  # far under the 1 kB a CCV held before


def test_calcat_replay_benchmark_runs() -> None:
    from .bench_calcat import run as run_calcat

    result = run_calcat(HERE / "data" / "calcat-replies", repeat=1)
    assert result["get_by_detector_conditions"]["cases"] == 16
    assert result["get_all_by_detector"]["cases"] == 17  # 18 recorded snapshots, one of them CALCAT's 404
    assert result["get_by_detector_conditions"]["calcat_x_runtime_ms"] > 0


def test_hostile_load_benchmark_runs(synthetic: Path) -> None:
    """A short run of bench_hostile: every hostile request gets its expected reply, normal ones all succeed."""
    from .bench_hostile import run as run_hostile

    result = run_hostile(synthetic, clients=2, hostile=2, seconds=2.0)
    assert result["server_alive"] and result["hostile_unexpected_replies"] == 0, result["hostile_replies"]
    assert result["quiet"]["failures"] == result["under_attack"]["failures"] == 0
    assert result["hostile_requests"] > 0 and result["under_attack"]["requests"] > 0


def test_validate_benchmark_runs_and_its_runs_agree(synthetic: Path, tmp_path: Path) -> None:
    """bench_validate at 5k CCVs: cold, warm and hook runs of the real CLI agree (no timings)."""
    import subprocess

    from .bench_validate import run as run_validate

    tree = tmp_path / "tree"
    subprocess.run(["git", "clone", "-q", str(synthetic), str(tree)], check=True)
    result = run_validate(tree)
    figures = result["figures"]
    assert result["warm_equals_cold"] and figures["cold"]["problems"] == figures["hook_s"]["problems"] == 0
    assert figures["cold"]["counts"]["ccvs"] > 0 and result["baseline_c_parse"]["files"] > 0
    status = subprocess.run(["git", "-C", str(tree), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""  # the edited mapping file is restored
