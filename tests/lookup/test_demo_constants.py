"""The embedded catalog's constants: a regenerated store matches constants_index/,
and EXtra-style look-ups work on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calcat_git import Catalog
from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.conditions import AGIPDConditions
from calcat_git.store.verify import verify

from ..helpers import REPO_ROOT, run_cli

AGIPD = AGIPDConditions(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0, gain_mode=0)


@pytest.mark.slow
def test_regenerated_store_matches_the_checksums_in_git(demo_store: Path) -> None:
    report = verify(Catalog.open(REPO_ROOT, worktree=True), demo_store)
    assert report["checked"] > 500 and report["missing"] == [] and report["mismatch"] == []


@pytest.mark.slow
def test_damaged_store_is_reported(demo_store: Path, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    files = sorted(p for p in store.rglob("*.h5"))
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes() + b"x")
    out = run_cli("verify-store", "--worktree", "--store", str(store), "--repo", str(REPO_ROOT), "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and len(report["missing"]) == 1 and len(report["mismatch"]) == 1


@pytest.mark.slow
def test_extra_style_lookup_on_real_files(demo_store: Path) -> None:
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    found = CalibrationData.from_condition(AGIPD, "MID_DET_AGIPD1M-1", calibrations=["Offset", "Noise"],
                                           catalog=catalog, event_at="2024-03-01T00:00:00Z")
    assert found.missing == {} and set(found) == {"Offset", "Noise"}
    offset = found["Offset"]
    assert offset.ndarray(demo_store).shape == (16, 2, 4, 4)
    assert offset[1] is offset["AGIPD01"] is offset["Q1M2"] is offset[offset["AGIPD01"].pdu_name]
    assert offset.module_nums == list(range(16))


def test_bad_quality_constant_is_skipped_unless_asked() -> None:
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    batch = next(b for b in catalog.registry.batches.values() if any(not c.good_quality for c in b.constants))
    bad = next(c for c in batch.constants if not c.good_quality)
    args = dict(calibrations=[bad.calibration], catalog=catalog, event_at=bad.begin_at, begin_at_strategy="prior")
    normal = CalibrationData.from_condition(AGIPD, batch.detector, **args)  # type: ignore[arg-type]
    lenient = CalibrationData.from_condition(AGIPD, batch.detector, include_bad_quality=True, **args)  # type: ignore[arg-type]
    module = next(a for a, c in lenient[bad.calibration].items() if c.pdu_name == bad.pdu)
    assert lenient[bad.calibration][module].ccv_hash == bad.identity(batch)
    assert normal[bad.calibration][module].begin_at < bad.begin_at  # the previous good one


@pytest.mark.slow
def test_swapped_in_module_has_constants_only_after_the_swap() -> None:
    common = ["HED_DET_AGIPD500K2G", "--calibration", "Offset", "--strategy", "prior", "--worktree",
              "--repo", str(REPO_ROOT), "--event-at", "2025-03-01T00:00:00Z"] + [f"--condition={c}" for c in (
                  "Sensor Bias Voltage=300", "Memory cells=202", "Acquisition rate=1.1", "Gain setting=0",
                  "Gain mode=0")]
    out = run_cli("lookup", *common, "--json")
    result = json.loads(out.stdout)
    assert out.returncode == 1
    assert result["missing"]["Offset"]["AGIPD00"] == ("AGIPD_SIV1_AGIPDV12_T119IN: only constants after "
                                                      "event_at under 'prior'")
    assert result["constants"]["Offset"]["AGIPD02"]["pdu"] == "AGIPD_SIV1_AGIPDV11_T001IN"
    assert set(result) == {"detector", "event_at", "commit", "committed_at", "strategy", "constants", "missing"}
    explain = run_cli("explain", *common)
    assert explain.returncode == 1  # something is missing, as for lookup
    assert "lost: begins after event_at ('prior')" in explain.stdout and "WINNER" in explain.stdout


def test_from_report_groups_a_reports_constants() -> None:
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    batch = next(b for _, b in sorted(catalog.registry.batches.items()) if b.detector == "SPB_DET_AGIPD1M-1")
    assert batch.report.id is not None
    by_id = CalibrationData.from_report(batch.report.id, catalog=catalog)
    by_path = CalibrationData.from_report(batch.report.path, catalog=catalog)
    assert by_id.to_dict()["constants"] == by_path.to_dict()["constants"]
    assert sum(len(group) for group in by_id.values()) == len(batch.constants)
    assert set(by_id) == {c.calibration for c in batch.constants}
    from calcat_git import NotFoundError

    with pytest.raises(NotFoundError, match="no constants of report 1"):
        CalibrationData.from_report(1, catalog=catalog)


def test_from_data_takes_the_first_train_time(tmp_path: Path) -> None:
    """A real (example) RAW run written by extra_data's own test helpers."""
    from extra_data import RunDirectory
    from extra_data.tests.make_examples import make_agipd1m_run

    make_agipd1m_run(str(tmp_path))
    run = RunDirectory(str(tmp_path))
    first = run.train_timestamps(pydatetime=True)[0]
    found = CalibrationData.from_data(run, "MID_DET_AGIPD1M-1", calibrations=["Offset"], condition=AGIPD,
                                      catalog=Catalog.open(REPO_ROOT, worktree=True))
    assert found.event_at == first and first.tzinfo is not None
    assert len(found["Offset"]) == 16
