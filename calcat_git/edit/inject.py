"""Injection: constant files (HDF5) → one new constants batch file + files in the store.

Everything is checked against the registry the batch joins (the PDU exists and sits in
a slot at ``begin_at``, calibration and parameters belong to its detector type) before
the batch is put into the change; the change validates the catalog with it and writes
the store files and the batch together, or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from calcat_git.edit.draft import Draft
from calcat_git.edit.write import in_store
from calcat_git.errors import ConstantFileError, InvalidInputError
from calcat_git.files.loading import Registry
from calcat_git.store.hdf5 import FileCCV, read_constant_file
from calcat_git.store.paths import content_path, file_sha256
from calcat_git.timeutil import format_timestamp, now_utc


@dataclass
class InjectResult:
    batch_path: str
    detector: str
    ccvs: int
    store_files: list[str] = field(default_factory=list)  # newly written
    commit: str | None = None


def _detector_of(reg: Registry, ccv: FileCCV, where: str) -> str:
    """The detector whose slot holds the CCV's PDU at ``begin_at``; checks the PDU too."""
    pdu = reg.pdus.get(ccv.pdu)
    if pdu is None:
        raise ConstantFileError(f"{where}: unknown PDU {ccv.pdu!r}: ask an admin to add it to registry/pdus/ first",
                                ccv.file)
    if pdu.uuid != ccv.uuid or pdu.detector_type != ccv.detector_type:
        raise ConstantFileError(f"{where}: file says uuid {ccv.uuid} / {ccv.detector_type}, registry says "
                                f"{pdu.uuid} / {pdu.detector_type} for {ccv.pdu}", ccv.file)
    for name, mapping in reg.mappings.items():
        if ccv.pdu in mapping.state_at(ccv.begin_at).values():
            return name
    raise ConstantFileError(f"{where}: PDU {ccv.pdu} is in no detector slot at begin_at "
                            f"{format_timestamp(ccv.begin_at)}: fix the mapping first", ccv.file)


def _check_type(reg: Registry, detector: str, ccv: FileCCV, where: str) -> None:
    dtype = reg.detector_types[reg.detectors[detector].type_name()]
    if ccv.calibration not in dtype.calibrations:
        raise ConstantFileError(f"{where}: calibration {ccv.calibration!r} is not one of {dtype.identifier}'s "
                                f"({', '.join(dtype.calibrations)})", ccv.file)
    for name in ccv.conditions:
        if name not in dtype.parameters:
            raise ConstantFileError(f"{where}: parameter {name!r} is not one of {dtype.identifier}'s "
                                    f"({', '.join(dtype.parameters)})", ccv.file)


def check_constant(reg: Registry, ccv: FileCCV, where: str) -> str:
    """The detector a constant joins, after the checks ``inject`` makes of it (its PDU,
    that PDU's slot at begin_at, its calibration and parameters of the detector type)."""
    detector = _detector_of(reg, ccv, where)
    _check_type(reg, detector, ccv, where)
    return detector


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "constants"


def build_batch(reg: Registry, items: list[tuple[FileCCV, str]], report_path: str, report_id: int | None,
                injected_at: datetime) -> tuple[str, dict[str, Any]]:
    """The batch (as a dict) for CCVs with their files' sha256, and its detector."""
    detectors = {}
    for ccv, _ in items:
        where = f"{ccv.file}: {ccv.dataset}" if ccv.file else ccv.dataset
        detectors[_detector_of(reg, ccv, where)] = where
    if len(detectors) != 1:
        raise InvalidInputError("constants of several detectors in one injection (" + ", ".join(sorted(detectors))
                                + "): inject each detector's files separately")
    detector = next(iter(detectors))
    for ccv, _ in items:
        _check_type(reg, detector, ccv, f"{ccv.file}: {ccv.dataset}" if ccv.file else ccv.dataset)
    shared = dict(items[0][0].conditions)
    for ccv, _ in items[1:]:
        shared = {k: v for k, v in shared.items() if k in ccv.conditions and ccv.conditions[k] == v}
    constants = []
    for ccv, sha in items:
        entry: dict[str, Any] = {"calibration": ccv.calibration, "pdu": ccv.pdu,
                                 "begin_at": format_timestamp(ccv.begin_at), "file": content_path(sha),
                                 "dataset": ccv.dataset, "sha256": sha, "good_quality": True, "deployed": True}
        own = {k: v for k, v in ccv.conditions.items() if k not in shared}
        if own:
            entry["conditions"] = own
        constants.append(entry)
    report: dict[str, Any] = {"path": report_path} if report_id is None else {"id": report_id, "path": report_path}
    return detector, {"detector": detector, "report": report, "injected_at": format_timestamp(injected_at),
                      "conditions": shared, "constants": constants}


def batch_path(taken: Callable[[str], bool], detector: str, first: datetime, slug: str) -> str:
    """constants_index/<detector>/<YYYY>/<stamp>-<slug>.yaml, numbered until it is free."""
    base = f"constants_index/{detector}/{first:%Y}/{first:%Y%m%dT%H%M%SZ}-{slug}"
    path, n = f"{base}.yaml", 2
    while taken(path):
        path, n = f"{base}-{n}.yaml", n + 1
    return path


def inject(draft: Draft, store: Path, files: list[str | Path], report_path: str, report_id: int | None = None,
           slug: str | None = None) -> InjectResult:
    """Put one new batch for the constant ``files`` into the change, and their store copies."""
    if not files:
        raise InvalidInputError("inject needs at least one constant file")
    hashed = [(Path(path), file_sha256(Path(path))) for path in files]  # each file is read for its hash once
    items = [(ccv, sha) for path, sha in hashed for ccv in read_constant_file(path)]
    first = min(ccv.begin_at for ccv, _ in items)
    detector, batch = build_batch(draft.registry(), items, report_path, report_id, now_utc().replace(microsecond=0))
    path = batch_path(draft.exists, detector, first, _slug(slug or Path(report_path).stem))
    for source, sha in hashed:
        if not in_store(store, sha):
            draft.add_store_file(sha, source)
    draft.put(path, yaml.safe_dump(batch, sort_keys=False, allow_unicode=True, width=120).encode())
    return InjectResult(batch_path=path, detector=detector, ccvs=len(items))
