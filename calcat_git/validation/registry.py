"""Validation checks: small registered functions, each yielding problems.

``run_checks`` runs them all and reports everything at once. Each problem names the
file, the line and a dotted field path, like ``registry/mappings/X.yaml:12:
changes.3.modules.AGIPD01: …``. A check looks at the registry (``@check``), at one
constants batch file and the registry (``@batch_check``), or both under one name. The
batch part never looks at another batch file, so batch files can be checked one by one,
in any process, and their problems kept per file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass

from calcat_git.errors import closest_names
from calcat_git.files.loading import Registry
from calcat_git.files.parse import REGISTRY_KINDS
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.problems import Problem

CheckFunc = Callable[[Registry], Iterator[Problem]]
BatchCheckFunc = Callable[[Registry, str, ConstantBatch], Iterator[Problem]]

# Problems found while loading; listed by --list and skippable like any check.
LOAD_CHECKS = {
    "layout": "files sit where the layout says; no symbolic links",
    "yaml": "strict YAML: UTF-8, no tabs, no duplicate keys, anchors or tags",
    "schema": "each file matches the JSON schema of its kind (unknown keys are errors)",
    "duplicates": "an identifier is defined by one file only",
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    doc: str
    func: CheckFunc | None = None  # over the registry (records other than batches)
    per_batch: BatchCheckFunc | None = None  # over one batch file (path, record) and the registry


CHECKS: dict[str, Check] = {}


def _register(name: str, doc: str | None, func: CheckFunc | None = None, per_batch: BatchCheckFunc | None = None) -> None:
    known = CHECKS.get(name) or Check(name, (doc or "").strip().splitlines()[0])  # the first part describes it
    CHECKS[name] = Check(name, known.doc, func or known.func, per_batch or known.per_batch)


def check(name: str) -> Callable[[CheckFunc], CheckFunc]:
    """Register the registry part of check ``name``; its docstring's first line describes it."""

    def register(func: CheckFunc) -> CheckFunc:
        _register(name, func.__doc__, func=func)
        return func

    return register


def batch_check(name: str) -> Callable[[BatchCheckFunc], BatchCheckFunc]:
    """Register the part of check ``name`` that looks at one batch file (``reg`` holds the
    registry; the batch itself need not be in it)."""

    def register(func: BatchCheckFunc) -> BatchCheckFunc:
        _register(name, func.__doc__, per_batch=func)
        return func

    return register


def all_check_names() -> dict[str, str]:
    return {**LOAD_CHECKS, **{c.name: c.doc for c in CHECKS.values()}}


_BATCH_NAME = re.compile(r"^(\d{4})\d{4}T\d{6}Z-[a-z0-9][a-z0-9-]*\.yaml$")


@check("file-name")
def check_file_names(reg: Registry) -> Iterator[Problem]:
    """file name equals the identifier; PDUs sit in their type's folder; batch paths"""
    for (kind, key), path in reg.files.items():
        parts = path.split("/")
        if kind == "constants":
            continue  # check_batch_path
        key_field = next(k for _, (kd, _, k) in REGISTRY_KINDS.items() if kd == kind)
        if parts[-1] != f"{key}.yaml":
            yield reg.problem(path, key_field, f"file name must be {key}.yaml to match {key_field}", "file-name")
        if kind == "pdu" and parts[2] != reg.pdus[key].detector_type:
            yield reg.problem(path, "detector_type", f"PDU of type {reg.pdus[key].detector_type} "
                              f"must be under registry/pdus/{reg.pdus[key].detector_type}/", "file-name")


@batch_check("file-name")
def check_batch_path(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """a batch sits in its detector's folder and its year's, named <stamp>-<slug>.yaml"""
    _, detector_dir, year_dir, name = path.split("/")
    if detector_dir != batch.detector:
        yield reg.problem(path, "detector", f"batch of {batch.detector} must be under "
                          f"constants_index/{batch.detector}/", "file-name")
    match = _BATCH_NAME.match(name)
    if not match:
        yield reg.problem(path, "", "batch file name must be <YYYYMMDDTHHMMSSZ>-<slug>.yaml, "
                          "slug in lower-case letters, digits and -", "file-name")
    elif match.group(1) != year_dir:
        yield reg.problem(path, "", f"batch stamped {match.group(1)} must be in folder "
                          f"{match.group(1)}/, not {year_dir}/", "file-name")


@check("case-collision")
def check_case_collisions(reg: Registry) -> Iterator[Problem]:
    """no two paths differ only in case (catalogs are cloned on macOS and Windows)"""
    seen: dict[str, str] = {}
    for path in sorted(reg.paths):
        other = seen.setdefault(path.lower(), path)
        if other != path:
            yield Problem(file=path, line=1, field="", check="case-collision",
                          message=f"differs from {other} only in case")


def _missing(reg: Registry, path: str, field: str, what: str, name: str,
             known: AbstractMapping[str, object]) -> Iterator[Problem]:
    """A 'references' problem if ``name`` is not in ``known`` (nor a file that failed to load)."""
    kind = what.replace(" ", "_").lower()
    if name not in known and (kind, name) not in reg.broken:
        message = f"unknown {what} {name!r}{closest_names(name, list(known))}"
        yield reg.problem(path, field, message, "references")


@check("references")
def check_references(reg: Registry) -> Iterator[Problem]:
    """every name refers to an existing entity of the right kind"""
    spellings = reg.parameter_by_spelling()
    for name, dt in reg.detector_types.items():
        path = reg.where("detector_type", name)
        for i, cal in enumerate(dt.calibrations):
            yield from _missing(reg, path, f"calibrations.{i}", "calibration", cal, reg.calibrations)
        for i, par in enumerate(dt.parameters):
            yield from _missing(reg, path, f"parameters.{i}", "parameter spelling", par, spellings)
    for name, pdu in reg.pdus.items():
        yield from _missing(reg, reg.where("pdu", name), "detector_type", "detector type", pdu.detector_type,
                            reg.detector_types)
    for name, det in reg.detectors.items():
        path = reg.where("detector", name)
        if det.detector_type is not None:  # None: listed by CALCAT without PDUs, no modules yet
            yield from _missing(reg, path, "detector_type", "detector type", det.detector_type, reg.detector_types)
        for i, inst in enumerate(det.instruments):
            yield from _missing(reg, path, f"instruments.{i}", "instrument", inst, reg.instruments)
    for name, mapping in reg.mappings.items():
        path = reg.where("mapping", name)
        yield from _missing(reg, path, "detector", "detector", name, reg.detectors)
        for i, change in enumerate(mapping.changes):
            for aggregator, pdu_name in change.modules:
                if pdu_name is not None:
                    yield from _missing(reg, path, f"changes.{i}.modules.{aggregator}", "PDU", pdu_name, reg.pdus)


@batch_check("references")
def check_batch_references(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """a batch names an existing detector, and its CCVs existing PDUs and calibrations"""
    yield from _missing(reg, path, "detector", "detector", batch.detector, reg.detectors)
    for i, ccv in enumerate(batch.constants):
        yield from _missing(reg, path, f"constants.{i}.pdu", "PDU", ccv.pdu, reg.pdus)
        yield from _missing(reg, path, f"constants.{i}.calibration", "calibration", ccv.calibration,
                            reg.calibrations)
