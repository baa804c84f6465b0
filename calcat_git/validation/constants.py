"""Checks of constants batch files: calibrations, parameters and store paths."""

from __future__ import annotations

from collections.abc import Iterator

from calcat_git.files.loading import Registry
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.problems import Problem
from calcat_git.model.store_path import store_path_problem
from calcat_git.validation.registry import batch_check


@batch_check("ccv-calibration")
def check_ccv_calibrations(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """a CCV's calibration belongs to its detector's type"""
    det = reg.detectors.get(batch.detector)
    dtype = reg.detector_types.get(det.detector_type or "") if det else None
    if dtype is None:
        return  # reported by 'references'
    for i, ccv in enumerate(batch.constants):
        if ccv.calibration in reg.calibrations and ccv.calibration not in dtype.calibrations:
            yield reg.problem(path, f"constants.{i}.calibration", f"calibration {ccv.calibration} "
                              f"is not one of {dtype.identifier}'s", "ccv-calibration")


@batch_check("ccv-parameters")
def check_ccv_parameters(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """condition names are parameters of the detector's type, spelled as it spells them"""
    det = reg.detectors.get(batch.detector)
    dtype = reg.detector_types.get(det.detector_type or "") if det else None
    if dtype is None:
        return
    named = [(f"conditions.{c.name}", c.name) for c in batch.conditions]
    for i, ccv in enumerate(batch.constants):
        named += [(f"constants.{i}.conditions.{c.name}", c.name) for c in ccv.conditions]
    unknown = [(field, name) for field, name in named if name not in dtype.parameters]
    spellings = reg.parameter_by_spelling() if unknown else {}  # once per file, and only for a file with problems
    for field, name in unknown:
        parameter = spellings.get(name)
        hint = next((s for s in parameter.spellings if s in dtype.parameters), None) if parameter else None
        how = f": {dtype.identifier} spells it {hint!r}" if hint else ""
        yield reg.problem(path, field, f"{name!r} is not a parameter of {dtype.identifier}{how}", "ccv-parameters")


@batch_check("store-paths")
def check_store_paths(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """store and report paths are relative and stay inside the store; datasets are absolute"""
    why = store_path_problem(batch.report.path)
    if why:
        yield reg.problem(path, "report.path", why, "store-paths")
    for i, ccv in enumerate(batch.constants):
        why = store_path_problem(ccv.file)
        if why:
            yield reg.problem(path, f"constants.{i}.file", why, "store-paths")
        if not ccv.dataset.startswith("/") or ".." in ccv.dataset.split("/"):
            yield reg.problem(path, f"constants.{i}.dataset", f"dataset {ccv.dataset!r} must be an "
                              "absolute HDF5 path such as /PDU/Offset/0", "store-paths")


@batch_check("ccv-checksum")
def check_ccv_checksums(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """a CCV names its file's sha256, unless it was imported from CALCAT (calcat_id)"""
    for i, ccv in enumerate(batch.constants):
        if not ccv.sha256 and ccv.calcat_id is None:
            yield reg.problem(path, f"constants.{i}", "sha256 is missing: only CCVs imported from CALCAT "
                              "(with calcat_id) may leave it out; inject the file to get it", "ccv-checksum")
