"""Constants: selection rules, injection from real HDF5 files, look-ups, bad files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from calcat_git import Catalog, ConstantFileError, InvalidInputError, StoreDamagedError
from calcat_git.edit.change import inject
from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.conditions import CONDITIONS_CLASSES, AGIPDConditions, JUNGFRAUConditions
from calcat_git.lookup.conditions_base import ConditionsBase
from calcat_git.model.selection import CCVRow, choose, condition_mismatch, eligibility
from calcat_git.store.hdf5 import read_constant_file, write_constant

from ..helpers import REPO_ROOT, run_cli

H = 3_600_000_000  # one hour in microseconds


def row(ccv_id: str, begin_h: int, good: bool = True, end_h: int | None = None) -> CCVRow:
    return CCVRow(ccv_id=ccv_id, detector="D", calibration="Offset", pdu="P", begin_at=begin_h * H,
                  end_at=None if end_h is None else end_h * H, file="f.h5", dataset="/P/Offset/0", sha256="0" * 64,
                  good_quality=good, deployed=True, conditions={}, batch="b", report_id=None, report_path="r.pdf",
                  calcat_id=None)


@pytest.mark.parametrize(("begins", "event_h", "strategy", "winner"), [
    ([10, 20, 30], 22, "prior", "b20"),         # newest begin_at <= event
    ([10, 20, 30], 22, "closest", "b20"),       # 2 h before beats 8 h after
    ([10, 20, 30], 27, "closest", "b30"),       # 3 h after beats 7 h before
    ([10, 20, 30], 25, "closest", "b20"),       # a tie goes to the earlier one
    ([10, 20, 30], 5, "prior", None),           # nothing before the event under prior
    ([10, 20, 30], 5, "closest", "b10"),        # ... but closest takes the one after
    ([10, 20, 30], 20, "prior", "b20"),         # begin_at == event counts as before
    ([], 20, "closest", None),
])
def test_strategy_table(begins: list[int], event_h: int, strategy: str, winner: str | None) -> None:
    chosen = choose([row(f"b{b}", b) for b in begins], event_h * H, strategy)
    assert (chosen.ccv_id if chosen else None) == winner


def test_eligibility_rules() -> None:
    assert eligibility(row("a", 1, good=False), 5 * H, include_bad=False) == "bad quality"
    assert eligibility(row("a", 1, good=False), 5 * H, include_bad=True) is None
    assert eligibility(row("a", 1, end_h=5), 5 * H, include_bad=False) == "validity ended before event_at"
    assert eligibility(row("a", 1, end_h=6), 5 * H, include_bad=False) is None


@pytest.mark.parametrize(("stored", "asked", "why"), [
    ({"Memory cells": 352}, {"Memory cells": 352.0}, None),
    ({"Sensor Bias Voltage": 300}, {"Sensor Bias Voltage": 304.9}, None),  # default deviation 5
    ({"Sensor Bias Voltage": 300}, {"Sensor Bias Voltage": 305.1},
     "Sensor Bias Voltage: asked 305.1, constant has 300 (-5/+5)"),
    ({"Sensor Bias Voltage": {"value": 300, "lower_deviation": 1.0}}, {"Sensor Bias Voltage": 298.5},
     "Sensor Bias Voltage: asked 298.5, constant has 300 (-1/+5)"),
    ({"Memory cells": 352}, {"Memory cells": 352.0, "Gain mode": 1.0}, "constant has no 'Gain mode' (asked 1.0)"),
    ({"Memory cells": 352, "Gain mode": 1}, {"Memory cells": 352.0}, "constant also has 'Gain mode'=1, not asked"),
    ({"Memory cell order": "1,2,3,"}, {"Memory cell order": "1,2,3,"}, None),
    ({"Memory cell order": "1,2,3,"}, {"Memory cell order": "3,2,1,"},
     "Memory cell order: asked '3,2,1,', constant has '1,2,3,'"),
])
def test_condition_matching_table(stored: dict, asked: dict, why: str | None) -> None:  # type: ignore[type-arg]
    assert condition_mismatch(stored, asked, {"Sensor Bias Voltage": (5.0, 5.0)}) == why


def test_conditions_classes_follow_extra() -> None:
    agipd = AGIPDConditions(sensor_bias_voltage=300, memory_cells=352, acquisition_rate=1.1, gain_setting=0,
                            gain_mode=0)
    assert agipd.make_dict(agipd.calibration_types["Offset"]) == {
        "Sensor Bias Voltage": 300.0, "Pixels X": 512.0, "Pixels Y": 128.0, "Memory cells": 352.0,
        "Acquisition rate": 1.1, "Gain setting": 0.0}  # Gain mode 0 and Integration time 12 left out
    fixed = AGIPDConditions(sensor_bias_voltage=300, memory_cells=352, acquisition_rate=1.1, gain_setting=0,
                            gain_mode=1, integration_time=20)
    assert fixed.make_dict(fixed.calibration_types["Offset"])["Gain mode"] == 1.0
    jf = JUNGFRAUConditions(sensor_bias_voltage=180, memory_cells=1, integration_time=10, gain_setting=0)
    assert "Exposure timeout" not in jf.make_dict(jf.calibration_types["Offset10Hz"])


def test_every_conditions_class_names_a_detector_type_of_the_catalog() -> None:
    """A class whose type is misspelt never applies: its detector's look-ups would find no class."""
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    for cls in CONDITIONS_CLASSES.values():
        assert catalog.detector_type(cls.detector_type).identifier == cls.detector_type, cls.__name__


@dataclass
class MiniConditions(ConditionsBase):
    """The mini catalog's AGIPD-Type knows only two parameters."""

    sensor_bias_voltage: float
    memory_cells: int
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "Offset": ["Sensor Bias Voltage", "Memory cells"], "Noise": ["Sensor Bias Voltage", "Memory cells"]}



def _h5(path: Path, pdu: str = "AGIPD_M3", uuid: int = 100003, begin_at: str = "2024-06-01T10:00:00Z",
        memory_cells: int = 352, seed: int = 0) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=(2, 8, 8)).astype(np.float32)
    for calibration in ("Offset", "Noise"):
        write_constant(path, pdu=pdu, uuid=uuid, detector_type="AGIPD-Type", calibration=calibration, data=data,
                       conditions={"Sensor Bias Voltage": 300, "Memory cells": memory_cells}, begin_at=begin_at)
    return data


def test_injection_round_trip(git_mini: Path, tmp_path: Path) -> None:
    data = _h5(tmp_path / "dark.h5")
    out = subprocess.run([sys.executable, "-m", "calcat_git", "inject", str(tmp_path / "dark.h5"), "--report",
                          "xfel/reports/dark_r0042.pdf", "--report-id", "42", "--commit", "--repo", str(git_mini),
                          "--json"], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["detector"] == "MID_DET_AGIPD1M-1" and result["ccvs"] == 2 and len(result["store_files"]) == 1
    assert Catalog.open(git_mini, worktree=True).validate() == []
    found = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=301, memory_cells=352),
                                           "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z")
    assert found.commit == result["commit"]
    assert found["Offset"]["AGIPD01"].begin_at.isoformat() == "2024-06-01T10:00:00+00:00"
    assert np.array_equal(found["Offset"].ndarray(), data[np.newaxis])
    assert np.array_equal(found["Noise"]["Q1M2"].ndarray(), data)
    assert found.missing == {cal: {"AGIPD00": "no PDU mapped to AGIPD00 at 2024-06-02T00:00:00Z"}
                             for cal in ("Offset", "Noise")}
    classic = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                             "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z",
                                             snapshot_at="2024-05-03T00:00:00Z")
    assert classic["Offset"]["AGIPD01"].begin_at.isoformat() == "2024-05-01T10:00:00+00:00"  # the newer one unknown
    # EXtra's pdu_snapshot_at is when the mapping is read (validity time), not the catalog's commit
    unmapped = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                              "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z",
                                              pdu_snapshot_at="2000-01-01T00:00:00Z")
    assert len(unmapped) == 0 and unmapped.aggregator_names == []


def test_missing_reasons(git_mini: Path, tmp_path: Path) -> None:
    _h5(tmp_path / "dark.h5")
    inject(git_mini, [tmp_path / "dark.h5"], report_path="r/dark.pdf", commit=True)
    other = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=202),
                                           "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z")
    assert other.missing["Offset"]["AGIPD01"] == (
        "AGIPD_M3: no constant for these conditions; the nearest condition (used until 2024-06-01T10:00:00Z) "
        "differs: Memory cells: asked 202, constant has 352 (-0/+0)")
    early = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                           "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-04-01T00:00:00Z",
                                           begin_at_strategy="prior")
    assert early.missing["Offset"]["AGIPD01"] == "AGIPD_M3: only constants after event_at under 'prior'"
    spb = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                         "SPB_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z")
    assert spb.missing["Noise"]["AGIPD01"] == "AGIPD_M5: no constant of this calibration for this PDU"
    assert len(spb) == 0


@pytest.mark.parametrize(("damage", "message"), [
    ("no-data", "missing the 'data' dataset"),
    ("string-data", "is not numeric"),
    ("truncated", "not a readable HDF5 file"),
    ("unknown-pdu", "unknown PDU 'AGIPD_M9'"),
    ("not-mapped", "PDU AGIPD_M3 is in no detector slot at begin_at 2019-01-01T00:00:00Z"),
    ("no-begin", "missing attribute 'begin_at'"),
    ("naive-begin", "naive begin_at '2024-06-01T10:00:00'"),
])
def test_bad_hdf5_is_refused_and_leaves_nothing(git_mini: Path, tmp_path: Path, damage: str, message: str) -> None:
    import h5py

    path = tmp_path / "bad.h5"
    if damage == "unknown-pdu":
        _h5(path, pdu="AGIPD_M9")
    elif damage == "not-mapped":
        _h5(path, begin_at="2019-01-01T00:00:00Z")
    else:
        _h5(path)
    with h5py.File(path, "a") as handle:
        group = handle["AGIPD_M3/Offset/0"] if "AGIPD_M3" in handle else None
        if damage == "no-data":
            del group["data"]
        elif damage == "string-data":
            del group["data"]
            group["data"] = "text"
        elif damage == "no-begin":
            del group.attrs["begin_at"]
        elif damage == "naive-begin":
            group.attrs["begin_at"] = "2024-06-01T10:00:00"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:700])
    batches = sorted((git_mini / "constants_index").rglob("*.yaml"))
    with pytest.raises(ConstantFileError, match=message.replace("(", r"\(")) as refused:
        inject(git_mini, [path], report_path="r/bad.pdf")
    assert refused.value.path == path
    assert sorted((git_mini / "constants_index").rglob("*.yaml")) == batches
    assert list((git_mini.parent / "store").rglob("*")) == []


def test_a_store_file_with_other_content_is_a_damaged_store(git_mini: Path, tmp_path: Path) -> None:
    from calcat_git.store.paths import content_path, file_sha256

    _h5(tmp_path / "dark.h5")
    target = git_mini.parent / "store" / content_path(file_sha256(tmp_path / "dark.h5"))
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the file its name says")
    with pytest.raises(StoreDamagedError, match="exists with other content: the store is damaged") as damaged:
        inject(git_mini, [tmp_path / "dark.h5"], report_path="r/dark.pdf")
    assert damaged.value.path == target
    (tmp_path / "elsewhere").mkdir()
    target.unlink()
    target.symlink_to(tmp_path / "elsewhere" / target.name)
    with pytest.raises(StoreDamagedError, match="leaves the store through a symbolic link") as linked:
        inject(git_mini, [tmp_path / "dark.h5"], report_path="r/dark.pdf")
    assert linked.value.path == target


def test_read_constant_file_reports_conditions(tmp_path: Path) -> None:
    write_constant(tmp_path / "c.h5", pdu="P", uuid=1, detector_type="T", calibration="Offset", data=[1, 2],
                   conditions={"Memory cells": 352, "Sensor Bias Voltage": (300.0, 1.0, 2.0), "Memory cell order": "1,"},
                   begin_at="2024-01-01T00:00:00+01:00")
    (ccv,) = read_constant_file(tmp_path / "c.h5")
    assert ccv.dataset == "/P/Offset/0" and ccv.begin_at.isoformat() == "2023-12-31T23:00:00+00:00"
    assert ccv.conditions == {"Memory cells": 352, "Memory cell order": "1,",
                              "Sensor Bias Voltage": {"value": 300.0, "lower_deviation": 1.0, "upper_deviation": 2.0}}


def test_a_store_file_reading_data_outside_it_is_found(git_mini: Path, tmp_path: Path) -> None:
    """A file injected before external storage was refused (its checksum matches, yet its constant
    reads /etc/passwd): `verify-store` reports it, `.ndarray()` refuses to read it."""
    import h5py

    from calcat_git.store.paths import content_path, file_sha256

    _h5(tmp_path / "dark.h5")
    result = inject(git_mini, [tmp_path / "dark.h5"], report_path="r/dark.pdf", commit=True)
    good = file_sha256(tmp_path / "dark.h5")
    with h5py.File(tmp_path / "dark.h5", "a") as handle:
        del handle["AGIPD_M3/Offset/0/data"]
        handle["AGIPD_M3/Offset/0"].create_dataset("data", shape=(32,), dtype="u1", external=[("/etc/passwd", 0, 32)])
    bad = file_sha256(tmp_path / "dark.h5")
    target = git_mini.parent / "store" / content_path(bad)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "dark.h5", target)
    batch = git_mini / result.batch_path
    batch.write_text(batch.read_text().replace(good, bad).replace(good[:2] + "/", bad[:2] + "/"))
    subprocess.run(["git", "-C", str(git_mini), "commit", "-qam", "an old injection"], check=True)
    run = run_cli("verify-store", "--repo", str(git_mini))
    assert run.returncode == 1, run.stdout
    assert (f"data outside the file: {content_path(bad)}: /AGIPD_M3/Offset/0/data: dataset stored in external "
            "files (/etc/passwd): a constant file must hold all of its data") in run.stdout.splitlines()
    found = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                           "MID_DET_AGIPD1M-1", catalog=git_mini, event_at="2024-06-02T00:00:00Z")
    with pytest.raises(InvalidInputError, match="dataset stored in external files"):
        found["Offset"].ndarray()


@pytest.mark.parametrize("name", ["inject/r0042", "a", "feature/x-1", "--output=x", "-x", "a/../b", "a..b", "x.lock",
                                  "a/.hidden", "a//b", "/a", "a/", "a.", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[",
                                  "a\\b", "a@{1}", "@", "a\x01", "a\x7f", "ünïcode", "HEAD", "a@b", "a.lock/b"])
def test_branch_names_are_checked_as_git_does(tmp_path: Path, name: str) -> None:
    from calcat_git.edit.target import check_branch_name

    git_says = subprocess.run(["git", "check-ref-format", "--branch", name], cwd=tmp_path, capture_output=True,
                              check=False).returncode == 0 and not name.startswith("-") and name not in ("HEAD", "@")
    # (--branch reads '@' as the current branch; `git branch` refuses HEAD and names starting with '-')
    try:
        check_branch_name(name)
        ours = True
    except InvalidInputError:
        ours = False
    assert ours == git_says
