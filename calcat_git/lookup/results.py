"""Look-up results with the names and habits of ``extra.calibration``:
``CalibrationData`` → ``MultiModuleConstant`` → ``SingleConstant``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.lookup.conditions_base import ConditionsBase
from calcat_git.lookup.engine import Engine, Outcome
from calcat_git.model.calcat_ids import ccv_int_id as ccv_int_id  # (re-exported: the rule lives there)
from calcat_git.model.records import Detector
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import format_timestamp, from_micros


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleConstant:
    """One calibration constant version (CCV) chosen for one module."""

    calibration: str
    aggregator: str
    module_number: int
    virtual_device_name: str
    pdu_name: str
    ccv_id: str
    int_id: int
    path: Path  # relative to the store root
    dataset: str
    begin_at: datetime
    sha256: str
    commit: str | None
    report_path: str
    catalog_root: Path | None = None

    def file_path(self, store: str | Path | None = None) -> Path:
        from calcat_git.store.paths import store_file, store_root  # imported on use, as h5py: look-ups need neither

        return store_file(store_root(store, self.catalog_root), self.path.as_posix())

    def ndarray(self, store: str | Path | None = None) -> Any:
        """Load the constant's data (``<dataset>/data``) as a numpy array (a file whose data
        lives elsewhere, or that declares too much of it, is refused before anything is read)."""
        from calcat_git.store.hdf5 import read_data  # imported on use, as above

        return read_data(self.file_path(store), self.dataset)

    def to_dict(self) -> dict[str, Any]:
        return {"ccv_id": self.ccv_id, "int_id": self.int_id, "pdu": self.pdu_name, "file": self.path.as_posix(),
                "dataset": self.dataset, "begin_at": format_timestamp(self.begin_at)}


@dataclass(frozen=True)
class MultiModuleConstant(Mapping[str, SingleConstant]):
    """Constants of one calibration for several modules of a detector; keys are
    aggregators (``AGIPD00``), and look-ups also take module numbers, ``Q1M1``-style
    names and PDU names."""

    constants: dict[str, SingleConstant]
    detector_name: str
    calibration_name: str

    def __getitem__(self, key: str | int) -> SingleConstant:
        if isinstance(key, str) and key in self.constants:
            return self.constants[key]
        hits = [c for c in self.constants.values()
                if key in (c.module_number, c.virtual_device_name or None, c.pdu_name)]
        if len(hits) != 1:
            raise KeyError(key if not hits else f"ambiguous key {key!r}")
        return hits[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.constants)

    def __len__(self) -> int:
        return len(self.constants)

    def __repr__(self) -> str:
        return f"<MultiModuleConstant {self.calibration_name} of {self.detector_name}: {len(self)} module(s)>"

    @property
    def aggregator_names(self) -> list[str]:
        return sorted(self.constants)

    @property
    def module_nums(self) -> list[int]:
        return [self.constants[a].module_number for a in self.aggregator_names]

    @property
    def qm_names(self) -> list[str]:
        return [self.constants[a].virtual_device_name for a in self.aggregator_names]

    @property
    def pdu_names(self) -> list[str]:
        return [self.constants[a].pdu_name for a in self.aggregator_names]

    def ndarray(self, store: str | Path | None = None) -> Any:
        """All modules' data stacked along a first ``module`` axis (aggregator order)."""
        import numpy as np

        return np.stack([self.constants[a].ndarray(store) for a in self.aggregator_names])


@dataclass
class CalibrationData(Mapping[str, MultiModuleConstant]):
    """Constants found for a detector, keyed by calibration; ``missing`` says, per
    calibration and module, why nothing was found."""

    constant_groups: dict[str, MultiModuleConstant]
    detector: Detector
    event_at: datetime
    commit: str | None
    committed_at: datetime | None
    strategy: str
    missing: dict[str, dict[str, str]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> MultiModuleConstant:
        return self.constant_groups[key]

    def __repr__(self) -> str:  # short: a report's result holds thousands of constants
        found = sum(len(g) for g in self.constant_groups.values())
        missing = sum(len(m) for m in self.missing.values())
        return (f"<CalibrationData {self.detector.identifier}: {len(self)} calibration(s), {found} constant(s), "
                f"{missing} missing, commit {(self.commit or 'working tree')[:12]}>")

    def __iter__(self) -> Iterator[str]:
        return iter(self.constant_groups)

    def __len__(self) -> int:
        return len(self.constant_groups)

    @classmethod
    def from_condition(cls, condition: ConditionsBase, detector_name: str, calibrations: list[str] | None = None,
                       catalog: Catalog | str | Path | None = None, event_at: datetime | str | None = None,
                       snapshot_at: datetime | str | None = None, begin_at_strategy: str = "closest",
                       pdu_snapshot_at: datetime | str | None = None, include_bad_quality: bool = False,
                       ) -> CalibrationData:
        """Look up constants for ``condition`` of ``detector_name`` for RAW data taken at
        ``event_at`` (default now), in the catalog as of ``snapshot_at`` (default: the
        newest; ``pdu_snapshot_at`` is EXtra's spelling of it)."""
        if snapshot_at is not None and pdu_snapshot_at is not None:
            raise InvalidInputError("give snapshot_at or pdu_snapshot_at (EXtra's spelling), not both")
        cat = catalog if isinstance(catalog, Catalog) else Catalog.open(catalog or ".")
        snapshot = snapshot_at if snapshot_at is not None else pdu_snapshot_at
        if snapshot is not None:
            cat = cat.at(snapshot)
        names = calibrations if calibrations is not None else list(condition.calibration_types)
        unknown = [n for n in names if n not in condition.calibration_types]
        if unknown:
            raise InvalidInputError(f"{type(condition).__name__} knows no calibration {unknown[0]!r}; it knows "
                                    f"{', '.join(condition.calibration_types)}")
        asked = {n: condition.make_dict(condition.calibration_types[n]) for n in names}
        engine = Engine(cat)
        return cls.from_outcome(engine.run(detector_name, asked, event_at, begin_at_strategy, include_bad_quality))

    @classmethod
    def from_data(cls, run: Any, detector_name: str, condition: ConditionsBase, calibrations: list[str] | None = None,
                  catalog: Catalog | str | Path | None = None, snapshot_at: datetime | str | None = None,
                  begin_at_strategy: str = "closest", include_bad_quality: bool = False) -> CalibrationData:
        """Like :meth:`from_condition`, with ``event_at`` the first train's timestamp of an
        ``extra_data`` run (``pip install calcat-git[xfel]``). Unlike EXtra, the conditions
        are given, not read from the run."""
        stamps = run.train_timestamps(pydatetime=True)
        first = next((t for t in stamps if t is not None), None)
        if first is None:
            raise InvalidInputError("the run has no train timestamps (RAW data older than format 1.0?): "
                                    "call from_condition with event_at instead")
        return cls.from_condition(condition, detector_name, calibrations, catalog, event_at=first,
                                  snapshot_at=snapshot_at, begin_at_strategy=begin_at_strategy,
                                  include_bad_quality=include_bad_quality)

    @classmethod
    def from_report(cls, report: int | str, catalog: Catalog | str | Path | None = None,
                    snapshot_at: datetime | str | None = None) -> CalibrationData:
        """The constants one report (id, or its store path) produced, by calibration and
        module (the module its PDU sat in at the constant's begin_at)."""
        cat = catalog if isinstance(catalog, Catalog) else Catalog.open(catalog or ".")
        if snapshot_at is not None:
            cat = cat.at(snapshot_at)
        rows = Engine(cat).report_rows(report)
        if not rows:
            raise NotFoundError(f"no constants of report {report!r} in this snapshot: pass its id (int) or path")
        detectors = {r.detector for r in rows}
        if len(detectors) != 1:
            raise InvalidInputError(f"report {report!r} has constants of several detectors: {sorted(detectors)}")
        det = cat.detector(detectors.pop())
        outcome = Outcome(catalog=cat, detector=det, event_at=from_micros(min(r.begin_at for r in rows)),
                          strategy="report", pdus={})
        for row in rows:
            slots = cat.mapping(det.identifier, at=from_micros(row.begin_at))
            aggregator = next((a for a, p in slots.items() if p == row.pdu), None)
            if aggregator is not None:
                outcome.found.setdefault(row.calibration, {})[aggregator] = row
        return cls.from_outcome(outcome)

    @classmethod
    def from_outcome(cls, outcome: Outcome) -> CalibrationData:
        cat, det = outcome.catalog, outcome.detector
        modules = {m.aggregator: m for m in det.modules}

        def single(calibration: str, aggregator: str, row: CCVRow) -> SingleConstant:
            module = modules[aggregator]
            return SingleConstant(
                calibration=calibration, aggregator=aggregator, module_number=module.module_number,
                virtual_device_name=module.virtual_device_name, pdu_name=row.pdu, ccv_id=row.ccv_id,
                int_id=ccv_int_id(row.ccv_id, row.calcat_id), path=Path(row.file), dataset=row.dataset,
                begin_at=from_micros(row.begin_at), sha256=row.sha256, commit=cat.commit,
                report_path=row.report_path, catalog_root=cat.root)

        groups = {cal: MultiModuleConstant({a: single(cal, a, r) for a, r in rows.items()}, det.identifier, cal)
                  for cal, rows in outcome.found.items() if rows}
        missing = {cal: reasons for cal, reasons in outcome.missing.items() if reasons}
        return cls(groups, det, outcome.event_at, cat.commit, cat.committed_at, outcome.strategy, missing)

    def to_dict(self) -> dict[str, Any]:
        """The ``lookup --json`` shape (guide: site/guide/lookup-rules.md)."""
        return {
            "detector": self.detector.identifier, "event_at": format_timestamp(self.event_at),
            "commit": self.commit,
            "committed_at": format_timestamp(self.committed_at) if self.committed_at else None,
            "strategy": self.strategy,
            "constants": {cal: {a: c.to_dict() for a, c in group.constants.items()}
                          for cal, group in self.constant_groups.items()},
            "missing": self.missing,
        }
