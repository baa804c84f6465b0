"""The catalog as one object: records, look-ups by name, mapping at a time."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from .errors import NotFoundError, closest_names
from .loading import Registry, load_worktree
from .model import PDU, Calibration, Detector, DetectorType, Instrument, Parameter
from .problems import Problem
from .timeutil import ensure_utc, now_utc

T = TypeVar("T")


def _get(table: dict[str, T], kind: str, name: str) -> T:
    try:
        return table[name]
    except KeyError:
        raise NotFoundError(
            f"unknown {kind} {name!r}{closest_names(name, list(table))}; "
            "`calcat-git validate` lists problems that may hide it"
        ) from None


class Catalog:
    """One state of a catalog repository.

    ``Catalog.open(path, worktree=True)`` reads the files in the working tree, as they
    are on disk (uncommitted edits included), for validation and previews.
    """

    def __init__(self, registry: Registry, root: Path) -> None:
        self.registry = registry
        self.root = root

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".", *, worktree: bool = True) -> Catalog:
        root = Path(path)
        if not (root / "registry").is_dir():
            raise NotFoundError(
                f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
                "(the folder holding registry/ and constants_index/)"
            )
        return cls(load_worktree(root), root)

    def validate(self, skip: tuple[str, ...] = ()) -> list[Problem]:
        from .validation import run_checks

        return run_checks(self.registry, skip)

    def detector(self, name: str) -> Detector:
        return _get(self.registry.detectors, "detector", name)

    def detector_type(self, name: str) -> DetectorType:
        return _get(self.registry.detector_types, "detector type", name)

    def pdu(self, name: str) -> PDU:
        return _get(self.registry.pdus, "PDU", name)

    def calibration(self, name: str) -> Calibration:
        return _get(self.registry.calibrations, "calibration", name)

    def instrument(self, name: str) -> Instrument:
        return _get(self.registry.instruments, "instrument", name)

    def parameter(self, spelling: str) -> Parameter:
        return _get(self.registry.parameter_by_spelling(), "parameter", spelling)

    def mapping(self, detector: str, at: datetime | str | None = None) -> dict[str, str | None]:
        """Slot (aggregator) → PDU of ``detector`` valid at ``at`` (default: now).

        Every module of the detector appears; an empty slot maps to ``None``.
        """
        det = self.detector(detector)
        moment = now_utc() if at is None else ensure_utc(at, "'at' time")
        mapping = self.registry.mappings.get(detector)
        state = mapping.state_at(moment) if mapping else {}
        return {agg: state.get(agg) for agg in det.aggregators}
