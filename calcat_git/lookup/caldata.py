"""EXtra's ``CalibrationData``, answered from the catalog: the constants found for a
detector, by calibration and module. Built by ``from_condition``, ``from_report``,
``from_data`` (an ``extra_data`` run) or ``from_correction`` (a correction's metadata)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.lookup.caldata_views import CalibrationDataViews
from calcat_git.lookup.conditions_base import ConditionsBase
from calcat_git.lookup.detector_data import DetectorData, detector_row, module_row
from calcat_git.lookup.engine import Engine, Outcome
from calcat_git.lookup.extra_api import extra_time, get_catalog, run_start
from calcat_git.lookup.results import MultiModuleConstant, SingleConstant
from calcat_git.lookup.rules import Asks, LookupRules
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.records import Detector, Module
from calcat_git.model.selection import Asked, CCVRow, check_strategy
from calcat_git.timeutil import format_timestamp, from_micros, now_utc


def single_constant(catalog: Any, calibration: str, module: Module, row: CCVRow) -> SingleConstant:
    """The ``SingleConstant`` of CCV ``row`` chosen for ``module``."""
    return SingleConstant(
        path=Path(row.file), dataset=row.dataset, ccv_id=ccv_int_id(row.ccv_id, row.calcat_id), pdu_name=row.pdu,
        calibration=calibration, aggregator=module.aggregator, module_number=module.module_number,
        virtual_device_name=module.virtual_device_name, ccv_hash=row.ccv_id, begin_at=from_micros(row.begin_at),
        sha256=row.sha256, commit=getattr(catalog, "commit", None), report_path=row.report_path,
        catalog_root=catalog.root if isinstance(catalog, Catalog) else None, _catalog=catalog, _row=row)


def asked_of(condition: Any, calibrations: list[str] | None, catalog: Any, detector: str) -> Asks | dict[str, Asked]:
    """What each calibration is asked, through the detector type's look-up rules in the catalog
    (``LookupRules``: the one normalisation of every interface): a conditions object's values
    (defaults filled in, each calibration its own parameters, legacy values left out; where
    the catalog states no rules for the type, the rules the class was made with, those of the
    embedded catalog), or a plain dict of CALCAT parameter names (asked of every calibration,
    as given, normalised by ``LookupRules.explicit``)."""
    if not isinstance(condition, dict | ConditionsBase):
        raise InvalidInputError(f"conditions must be a conditions object (e.g. AGIPDConditions(...)) or a dict of "
                                f"CALCAT parameter names to values, not {type(condition).__name__}")
    if not isinstance(catalog, Catalog):  # a published site: the rules of the embedded catalog
        if isinstance(condition, dict):
            if calibrations is None:
                raise InvalidInputError("with conditions given as a dict, pass calibrations=[...] (a published site "
                                        "does not list a detector type's calibrations)")
            values = {k: v if isinstance(v, str) else float(v) for k, v in condition.items() if v is not None}
            return dict.fromkeys(calibrations, values)
        return condition.asked_of(calibrations)
    type_name = catalog.detector(detector).type_name()
    dtype = catalog.detector_type(type_name)
    rules = LookupRules.of(dtype)
    if isinstance(condition, ConditionsBase) and dtype.conditions is None and condition.detector_type == type_name:
        rules = condition.rules()  # the catalog states no rules for the type (e.g. imported): the class's own
    if isinstance(condition, dict):
        names = list(calibrations) if calibrations is not None else [c for c, _ in rules.calibrations]
        return rules.explicit(dict.fromkeys(names, condition))
    if condition.detector_type and condition.detector_type != type_name:
        raise InvalidInputError(f"{type(condition).__name__} are conditions of {condition.detector_type}; "
                                f"{detector} is of {type_name}")
    return rules.asked(condition.given(), calibrations)


class CalibrationData(CalibrationDataViews, Mapping[str, MultiModuleConstant]):
    """Constants found for a detector: ``cd['Offset']`` is a ``MultiModuleConstant``,
    ``cd['Offset', 'AGIPD00']`` a ``SingleConstant``. ``detector`` is the ``DetectorData``
    (the modules mapped when the constants were asked for); ``missing`` says, per
    calibration and module, why nothing was found; ``commit`` is the catalog commit read."""

    def __init__(self, constant_groups: Mapping[str, Any], detector: DetectorData, condition: Any = None, *,
                 event_at: datetime | None = None, commit: str | None = None, committed_at: datetime | None = None,
                 strategy: str = "closest", outcome: Outcome | None = None, problems: list[str] | None = None,
                 tag: str | None = None) -> None:
        self.constant_groups: dict[str, dict[str, SingleConstant]] = {
            cal: dict(group.constants if isinstance(group, MultiModuleConstant) else group)
            for cal, group in constant_groups.items()}
        self.detector = detector
        self._condition = condition
        self.event_at, self.commit, self.committed_at, self.strategy = event_at, commit, committed_at, strategy
        self._outcome = outcome
        self.problems = problems or []  # the snapshot's problems that did not change the answer (Catalog.check_loads)
        self.tag = tag  # the published set (git tag) the snapshot was asked by

    def _extras(self) -> dict[str, Any]:
        return {"event_at": self.event_at, "commit": self.commit, "committed_at": self.committed_at,
                "strategy": self.strategy, "problems": self.problems, "tag": self.tag}

    @property
    def missing(self) -> dict[str, dict[str, str]]:
        """Per calibration and module without a constant: why (look-ups by condition only)."""
        if self._outcome is None:
            return {}
        return {cal: reasons for cal, reasons in self._outcome.missing.items() if reasons}

    @classmethod
    def from_condition(cls, condition: Any, detector_name: str, calibrations: list[str] | None = None,
                       client: Any = None, event_at: Any = None, pdu_snapshot_at: Any = None,
                       begin_at_strategy: str = "closest", *, catalog: Any = None, snapshot_at: datetime | str | None = None,
                       include_bad_quality: bool = False) -> CalibrationData:
        """Constants for ``condition`` (a conditions object, or a dict of CALCAT parameter
        names) of ``detector_name`` for RAW data taken at ``event_at`` (default now), with
        the modules mapped at ``pdu_snapshot_at`` (default ``event_at``), from the catalog
        (``client``/``catalog``, default ``setup_catalog``'s) as of ``snapshot_at`` (default
        its newest commit)."""
        try:
            check_strategy(begin_at_strategy)
        except InvalidInputError as exc:
            raise InvalidInputError(f"Invalid begin_at_strategy: {exc}") from None
        cat = get_catalog(catalog if catalog is not None else client)
        if snapshot_at is not None:
            cat = cat.at(snapshot_at)  # type: ignore[union-attr]
        moment = extra_time(event_at, "event_at") or now_utc()
        mapped_at = extra_time(pdu_snapshot_at, "pdu_snapshot_at") or moment
        if isinstance(cat, Catalog):
            cat.check_loads(detector_name)  # a file the look-up depends on that does not load: refused, named
        if not cat.detector(detector_name).modules:  # CALCAT lists it, without PDUs yet: nothing found, as there
            return cls({}, DetectorData.from_catalog(cat, detector_name, mapped_at), condition, event_at=moment,
                       commit=getattr(cat, "commit", None), strategy=begin_at_strategy)
        asked = asked_of(condition, calibrations, cat, detector_name)
        if not isinstance(cat, Catalog):  # a published site
            det = cat.detector(detector_name)
            modules = {m.aggregator: m for m in det.modules}
            found = cat.lookup(detector_name, asked if isinstance(asked, dict) else asked.by_calibration, moment,
                               begin_at_strategy)
            groups = {cal: {a: single_constant(cat, cal, modules[a], r) for a, r in rows.items()}
                      for cal, rows in found.items()}
            return cls(groups, DetectorData.from_catalog(cat, detector_name, mapped_at), condition, event_at=moment,
                       strategy=begin_at_strategy)
        pdus = cat.mapping(detector_name, at=mapped_at) if mapped_at != moment else None
        outcome = Engine(cat).run(detector_name, asked, moment, begin_at_strategy, include_bad_quality, pdus=pdus)
        return cls.from_outcome(outcome, condition)

    @classmethod
    def from_outcome(cls, outcome: Outcome, condition: Any = None) -> CalibrationData:
        """The result of an engine run (the command line's ``lookup``)."""
        cat, det = outcome.catalog, outcome.detector
        modules = {m.aggregator: m for m in det.modules}
        rows = [module_row(cat, det, modules[a], p) for a, p in outcome.pdus.items() if p is not None and a in modules]
        detector = DetectorData(detector_row(det), rows, format_timestamp(outcome.event_at))
        groups = {cal: {a: single_constant(cat, cal, modules[a], r) for a, r in found.items()}
                  for cal, found in outcome.found.items() if found}
        return cls(groups, detector, condition, event_at=outcome.event_at, commit=cat.commit,
                   committed_at=cat.committed_at, strategy=outcome.strategy, outcome=outcome,
                   problems=outcome.problems, tag=cat.tag)

    @classmethod
    def from_report(cls, report_id_or_path: int | str, client: Any = None, *, catalog: Any = None,
                    snapshot_at: datetime | str | None = None) -> CalibrationData:
        """The constants one report (its id, or its path) produced, by calibration and
        module (the module its PDU sat in at the constant's begin_at)."""
        cat = get_catalog(catalog if catalog is not None else client)
        if not isinstance(cat, Catalog):
            raise NotFoundError("a published site has no report look-up: setup_catalog('/path/to/catalog') (a clone)")
        if snapshot_at is not None:
            cat = cat.at(snapshot_at)
        rows = Engine(cat).report_rows(report_id_or_path)
        detectors = {r.detector for r in rows}
        # a broken batch of the report's detector may hold more of its constants; with none found, any may
        problems = cat.check_loads(next(iter(detectors)) if len(detectors) == 1 else None)
        if not rows:
            raise NotFoundError(f"no constants of report {report_id_or_path!r} in this catalog: pass its id (int) or path")
        if len(detectors) != 1:
            raise InvalidInputError(f"report {report_id_or_path!r} has constants of several detectors: {sorted(detectors)}")
        det = cat.detector(detectors.pop())
        return cls._from_placed(cat, det, rows, event_at=from_micros(min(r.begin_at for r in rows)), strategy="report",
                                problems=problems, tag=cat.tag)

    @classmethod
    def _from_placed(cls, cat: Catalog, det: Detector, rows: list[CCVRow], **extras: Any) -> CalibrationData:
        """``rows`` in the modules their PDUs sat in at their begin_at."""
        modules = {m.aggregator: m for m in det.modules}
        groups: dict[str, dict[str, SingleConstant]] = {}
        pdus: dict[str, str] = {}
        for row in rows:
            slots = cat.mapping(det.identifier, at=from_micros(row.begin_at))
            aggregator = next((a for a, p in slots.items() if p == row.pdu and a in modules), None)
            if aggregator is None:
                continue
            if pdus.setdefault(aggregator, row.pdu) != row.pdu:
                raise InvalidInputError(f"mismatched PDU mapping: {aggregator} is both {row.pdu} and {pdus[aggregator]}")
            groups.setdefault(row.calibration, {})[aggregator] = single_constant(cat, row.calibration,
                                                                                  modules[aggregator], row)
        detector = DetectorData(detector_row(det), [module_row(cat, det, modules[a], p) for a, p in pdus.items()])
        return cls(groups, detector, commit=cat.commit, committed_at=cat.committed_at, **extras)

    @classmethod
    def from_data(cls, data: Any, detector_name: str, calibrations: list[str] | None = None, client: Any = None,
                  begin_at_strategy: str = "closest", *, condition: Any = None, catalog: Any = None,
                  snapshot_at: datetime | str | None = None, **kwargs: Any) -> CalibrationData:
        """Constants for an ``extra_data`` run (``pip install calcat-git[xfel]``): its
        conditions read from the run by the type's ``from_data`` (``kwargs`` go there), or
        ``condition`` when given; ``event_at`` is the run's first train."""
        start = run_start(data)
        cat = get_catalog(catalog if catalog is not None else client)
        if condition is None:
            from calcat_git.lookup.conditions import CONDITIONS_CLASSES  # on use: only from_data needs the classes

            det = DetectorData.from_catalog(cat, detector_name, start)
            cond_cls: Any = CONDITIONS_CLASSES.get(det.detector_type)
            if cond_cls is None or not hasattr(cond_cls, "from_data"):
                raise NotImplementedError(f"{det.detector_type}: no conditions class reads its RAW data; pass "
                                          "condition=...Conditions(...)")
            condition = cond_cls.from_data(data, det, client=cat, **kwargs)
        return cls.from_condition(condition, detector_name, calibrations, event_at=start, pdu_snapshot_at=start,
                                  begin_at_strategy=begin_at_strategy, catalog=cat, snapshot_at=snapshot_at)

    @classmethod
    def from_correction(cls, metadata_file_or_proposal: str | Path | int, run: int | None = None,
                        detector_name: str | None = None, *, client: Any = None, use_calcat: bool = True
                        ) -> CalibrationData:
        """The constants a correction used, from its metadata YAML (a file, or a proposal,
        run and detector: ``proc/rNNNN/calibration_metadata_<detector>.yml``). With
        ``use_calcat`` (default) the catalog adds each constant's metadata and modules."""
        from calcat_git.lookup.correction import from_correction  # imported on use: it loads PyYAML, which look-ups do not need

        found: CalibrationData = from_correction(cls, metadata_file_or_proposal, run, detector_name, client=client,
                                                 use_calcat=use_calcat)
        return found

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return MultiModuleConstant(self.constant_groups[key], self.module_details, self.detector_name, key)
        if isinstance(key, tuple) and len(key) == 2:
            calibration, module = key
            return self[calibration][module]
        raise TypeError(f"Key should be string or 2-tuple (got {key!r})")

    def __iter__(self) -> Iterator[str]:
        return iter(self.constant_groups)

    def __len__(self) -> int:
        return len(self.constant_groups)

    def __bool__(self) -> bool:
        return any(bool(group) for group in self.constant_groups.values())

    def __contains__(self, item: object) -> bool:
        return item in self.constant_groups

    def __repr__(self) -> str:
        read = f", commit {self.commit[:12]}" if self.commit else ""
        return (f"<CalibrationData: {', '.join(sorted(self.constant_groups))} constants for "
                f"{len(self.module_details)} modules of {self.detector_name}{read}>")

    @property
    def module_details(self) -> list[dict[str, Any]]:
        return [{"id": pdu.pdu_id, "physical_name": pdu.physical_name, "karabo_da": pdu.aggregator,
                 "virtual_device_name": pdu.virtual_device_name, "uuid": pdu.legacy_uuid,
                 "module_number": pdu.module_number, "detector_type": {"name": pdu.detector_type}}
                for pdu in self.detector.values()]

    @property
    def detector_name(self) -> str:
        return str(self.detector.identifier)

    @property
    def module_nums(self) -> list[int]:
        """Module numbers of the detector's modules (also those without constants)."""
        return [m["module_number"] for m in self.module_details]

    @property
    def aggregator_names(self) -> list[str]:
        """Data aggregator names of the detector's modules (also those without constants)."""
        return [m["karabo_da"] for m in self.module_details]

    @property
    def qm_names(self) -> list[str]:
        """``Q1M3``-style names of the detector's modules (also those without constants)."""
        return [m["virtual_device_name"] for m in self.module_details]

    @property
    def pdu_names(self) -> list[str]:
        """PDU names of the detector's modules (also those without constants)."""
        return [m["physical_name"] for m in self.module_details]

    def to_dict(self) -> dict[str, Any]:
        """The ``lookup --json`` shape (guide: calcat_git/site/guide/lookup-rules.md)."""
        return {
            "detector": self.detector_name,
            "event_at": format_timestamp(self.event_at) if self.event_at else None, "commit": self.commit,
            "committed_at": format_timestamp(self.committed_at) if self.committed_at else None,
            "strategy": self.strategy,
            "constants": {cal: {a: c.to_dict() for a, c in group.items()} for cal, group in self.constant_groups.items()},
            "missing": self.missing,
        } | ({"tag": self.tag} if self.tag else {}) | (
            {"problems": [{"message": p, "severity": "warning"} for p in self.problems]} if self.problems else {})
