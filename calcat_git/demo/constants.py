"""Constants for the embedded catalog: small, real, deterministic HDF5 files.

The same plan writes the store files (``make demo``, the tests) and, once, the batch
files under ``constants_index/`` (``--write-index``), through the injection's own
``build_batch``. Because HDF5 is written without timestamps, regenerating the store
gives byte-identical files, so the checksums in ``constants_index/`` keep matching.

    python -m calcat_git.demo.constants --store .store [--write-index]
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from calcat_git.edit.inject import batch_path, build_batch
from calcat_git.files.loading import Registry, load_worktree
from calcat_git.lookup.conditions import CONDITIONS_CLASSES
from calcat_git.store.hdf5 import read_constant_file, write_constant
from calcat_git.store.paths import content_path, file_sha256
from calcat_git.timeutil import format_timestamp, parse_timestamp

RUNS_PER_DETECTOR = 8
LAST_RUN = parse_timestamp("2026-09-01T00:00:00Z")
FIELDS: dict[str, dict[str, Any]] = {  # required fields of each type's conditions class
    "AGIPD-Type": {"sensor_bias_voltage": 300, "memory_cells": 352, "acquisition_rate": 1.1, "gain_setting": 0,
                   "gain_mode": 0},
    "LPD-Type": {},
    "DSSC-Type": {"sensor_bias_voltage": 100, "memory_cells": 400, "pulse_id_checksum": 8.2e9},
    "jungfrau-Type": {"sensor_bias_voltage": 180, "memory_cells": 1, "integration_time": 10, "gain_setting": 0},
    "ePix100-Type": {"sensor_bias_voltage": 200, "integration_time": 10, "sensor_temperature": 265},
    "ePix10K-Type": {"sensor_bias_voltage": 200, "integration_time": 10, "gain_setting": 0, "sensor_temperature": 265},
    "Gotthard2-Type": {"sensor_bias_voltage": 200, "exposure_time": 0.5, "exposure_period": 222, "acquisition_rate": 1.1},
    "pnCCD-Type": {"sensor_bias_voltage": 300, "integration_time": 70, "gain_setting": 16, "sensor_temperature": 233},
}
CHANGED = {"memory_cells": 202, "integration_time": 20}  # the condition change halfway through history


@dataclass(frozen=True, slots=True)
class Run:
    detector: str
    begin_at: datetime
    number: int  # of the detector's runs


def dark_calibrations(reg: Registry, detector: str) -> list[str]:
    cls = CONDITIONS_CLASSES[reg.detectors[detector].type_name()]
    return [c for c in cls.calibration_types if c.startswith(("Offset", "Noise", "BadPixelsDark"))]


def conditions_for(reg: Registry, run: Run, calibration: str) -> dict[str, float | str]:
    dtype = reg.detectors[run.detector].type_name()
    cls = CONDITIONS_CLASSES[dtype]
    values = dict(FIELDS[dtype])
    if run.number >= RUNS_PER_DETECTOR // 2:
        values.update({k: v for k, v in CHANGED.items() if k in values})
    condition = cls(**values)
    return condition.make_dict(cls.calibration_types[calibration])


def plan(reg: Registry) -> list[Run]:
    runs = []
    for name in sorted(reg.mappings):
        start = reg.mappings[name].changes[0].valid_from + timedelta(days=30)
        step = (LAST_RUN - start) / RUNS_PER_DETECTOR
        runs += [Run(name, (start + i * step).replace(minute=0, second=0, microsecond=0), i)
                 for i in range(RUNS_PER_DETECTOR)]
    return runs


def _data(*key: str) -> Any:
    import numpy as np

    seed = int.from_bytes(hashlib.sha256("/".join(key).encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(1000, 20, size=(2, 4, 4)).astype(np.float32)


def write_run(reg: Registry, run: Run, store: Path) -> list[tuple[Any, str]]:
    """Write one file per PDU of the run into ``store``; return (CCV, sha256) items."""
    items = []
    for aggregator, pdu in reg.mappings[run.detector].state_at(run.begin_at).items():
        if pdu is None or aggregator not in reg.detectors[run.detector].aggregators:
            continue
        scratch = store / ".demo-scratch.h5"
        scratch.unlink(missing_ok=True)
        record = reg.pdus[pdu]
        for calibration in dark_calibrations(reg, run.detector):
            write_constant(scratch, pdu=pdu, uuid=record.uuid, detector_type=record.detector_type,
                           calibration=calibration, data=_data(pdu, calibration, format_timestamp(run.begin_at)),
                           conditions=dict(conditions_for(reg, run, calibration)), begin_at=run.begin_at)
        sha = file_sha256(scratch)
        target = store / content_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch.replace(target)
        items += [(ccv, sha) for ccv in read_constant_file(target)]
    return items


def stored_already(reg: Registry, store: Path) -> int:
    """The number of demo CCVs (illustrative batches) if the store holds every file they
    name, else 0."""
    ccvs = [c for b in reg.batches.values() if b.source == "illustrative" for c in b.constants if c.sha256]
    return len(ccvs) if ccvs and all((store / content_path(c.sha256)).is_file() for c in ccvs) else 0


def generate(root: Path, store: Path, write_index: bool = False) -> int:
    """Write the store files (and with ``write_index`` the batch files); returns CCVs.

    A store that already holds every file the demo batches name is left as it is (a
    rerun of ``make demo`` writes nothing; ``verify-store`` checks their checksums)."""
    reg = load_worktree(root)
    if not write_index and (count := stored_already(reg, store)):
        return count
    store.mkdir(parents=True, exist_ok=True)
    total = 0
    for n, run in enumerate(plan(reg)):
        items = write_run(reg, run, store)
        if not items:
            continue
        total += len(items)
        if write_index:
            report = f"xfel/reports/{run.detector}/dark_{run.begin_at:%Y%m%d}.pdf"
            _, batch = build_batch(reg, items, report, 9000 + n, run.begin_at + timedelta(hours=2))
            batch["source"] = "illustrative"
            if run.detector == "MID_DET_AGIPD1M-1" and run.number == 5:  # one bad constant, flagged after review
                batch["constants"][0]["good_quality"] = False
            path = root / batch_path(lambda p: (root / p).exists(), run.detector, run.begin_at, "dark")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(batch, sort_keys=False, width=120), "utf-8")
    return total


def show(root: Path) -> None:
    """A look-up as offline correction does it, from EXtra-style code."""
    from calcat_git.lookup.caldata import CalibrationData
    from calcat_git.lookup.conditions import AGIPDConditions

    condition = AGIPDConditions(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0,
                                gain_mode=0)
    found = CalibrationData.from_condition(condition, "MID_DET_AGIPD1M-1", calibrations=["Offset", "Noise"],
                                           catalog=root, event_at="2024-03-01T00:00:00Z")
    offset = found["Offset"]
    print(f"CalibrationData.from_condition(AGIPDConditions(memory_cells=202, ...), 'MID_DET_AGIPD1M-1', "
          f"event_at='2024-03-01T00:00:00Z') read from {(found.commit or 'working tree')[:12]}:")
    print(f"  Offset: {len(offset)} modules, newest begin_at {max(c.begin_at for c in offset.values()):%Y-%m-%d}, "
          f"ndarray() shape {offset.ndarray().shape}; Offset['Q1M2'] is {offset['Q1M2'].pdu_name}")
    print(f"  missing: {sum(len(v) for v in found.missing.values())} (calibration, module) pairs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="catalog root")
    parser.add_argument("--store", type=Path, required=True, help="store folder to (re)write")
    parser.add_argument("--write-index", action="store_true", help="also write constants_index/ batch files")
    parser.add_argument("--show", action="store_true", help="then show an EXtra-style look-up")
    args = parser.parse_args(argv)
    if not args.write_index and (count := stored_already(load_worktree(args.root), args.store)):
        print(f"{count} demo constants already in {args.store} (nothing rewritten)")
    else:
        count = generate(args.root, args.store, args.write_index)
        print(f"{count} demo constants written to {args.store}")
    if args.show:
        show(args.root)


if __name__ == "__main__":
    main()
