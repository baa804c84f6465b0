"""Semantic checks: what the schema cannot see (time order, one slot at a time, …)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from calcat_git.files.loading import Registry
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.mapping import SlotPeriod
from calcat_git.model.problems import Problem
from calcat_git.timeutil import format_timestamp
from calcat_git.validation.registry import batch_check, check


@check("detector-modules")
def check_detector_modules(reg: Registry) -> Iterator[Problem]:
    """module aggregators and numbers are unique; aggregators use the type's prefix (those of a
    detector imported from CALCAT keep CALCAT's names, e.g. GH200/1)"""
    for name, det in reg.detectors.items():
        path = reg.where("detector", name)
        dtype = reg.detector_types.get(det.detector_type or "")
        seen_agg: dict[str, int] = {}
        seen_num: dict[int, int] = {}
        if det.detector_type is None and det.modules:
            yield reg.problem(path, "detector_type", "a detector with modules needs its detector type (null is "
                              "only for a detector without modules)", "detector-modules")
        for i, module in enumerate(det.modules):
            if module.aggregator in seen_agg:
                yield reg.problem(path, f"modules.{i}.aggregator", f"aggregator {module.aggregator} "
                                  f"repeats modules.{seen_agg[module.aggregator]}", "detector-modules")
            if module.module_number in seen_num:
                yield reg.problem(path, f"modules.{i}.module_number", f"module number {module.module_number} "
                                  f"repeats modules.{seen_num[module.module_number]}", "detector-modules")
            seen_agg.setdefault(module.aggregator, i)
            seen_num.setdefault(module.module_number, i)
            prefix = dtype.aggregator_prefix if dtype else ""
            if dtype and det.calcat_id is None and not re.fullmatch(re.escape(prefix) + r"\d{2}", module.aggregator):
                yield reg.problem(path, f"modules.{i}.aggregator", f"aggregator {module.aggregator!r} "
                                  f"must be {prefix} and two digits for {dtype.identifier}", "detector-modules")


@check("mapping-order")
def check_mapping_order(reg: Registry) -> Iterator[Problem]:
    """mapping changes are strictly in time order; observed_between brackets 'from'"""
    for name, mapping in reg.mappings.items():
        path = reg.where("mapping", name)
        for i, change in enumerate(mapping.changes):
            if i and change.valid_from <= mapping.changes[i - 1].valid_from:
                yield reg.problem(path, f"changes.{i}.from", f"{format_timestamp(change.valid_from)} is not "
                                  f"after changes.{i - 1}.from ({format_timestamp(mapping.changes[i - 1].valid_from)}): "
                                  "keep changes in strictly increasing time order", "mapping-order")
            if change.observed_between:
                first, last = change.observed_between
                if not first <= change.valid_from <= last:
                    yield reg.problem(path, f"changes.{i}.observed_between", "'from' must lie within "
                                      "observed_between [first, last]", "mapping-order")


@check("mapping-modules")
def check_mapping_modules(reg: Registry) -> Iterator[Problem]:
    """every slot a mapping names is a module of its detector"""
    for name, mapping in reg.mappings.items():
        det = reg.detectors.get(name)
        if det is None:
            continue  # reported by 'references'
        path = reg.where("mapping", name)
        aggregators = det.aggregators
        for i, change in enumerate(mapping.changes):
            for aggregator, _ in change.modules:
                if aggregator not in aggregators:
                    yield reg.problem(path, f"changes.{i}.modules.{aggregator}",
                                      f"{name} has no module {aggregator} (modules: "
                                      f"{aggregators[0]}…{aggregators[-1]})", "mapping-modules")


@check("pdu-type")
def check_pdu_types(reg: Registry) -> Iterator[Problem]:
    """a PDU mapped to a detector, or named by its CCVs, has the detector's type"""
    for name, mapping in reg.mappings.items():
        det = reg.detectors.get(name)
        for i, change in enumerate(mapping.changes):
            for aggregator, pdu_name in change.modules:
                pdu = reg.pdus.get(pdu_name or "")
                if det and pdu and pdu.detector_type != det.detector_type:
                    yield reg.problem(reg.where("mapping", name), f"changes.{i}.modules.{aggregator}",
                                      f"PDU {pdu_name} is {pdu.detector_type} but {name} is "
                                      f"{det.detector_type}", "pdu-type")


@batch_check("pdu-type")
def check_batch_pdu_types(reg: Registry, path: str, batch: ConstantBatch) -> Iterator[Problem]:
    """the PDUs a batch's CCVs name have the detector's type"""
    det = reg.detectors.get(batch.detector)
    for i, ccv in enumerate(batch.constants):
        pdu = reg.pdus.get(ccv.pdu)
        if det and pdu and pdu.detector_type != det.detector_type:
            yield reg.problem(path, f"constants.{i}.pdu", f"PDU {ccv.pdu} is {pdu.detector_type} "
                              f"but {batch.detector} is {det.detector_type}", "pdu-type")


@check("one-slot")
def check_one_slot(reg: Registry) -> Iterator[Problem]:
    """a PDU sits in at most one slot of all detectors at any instant"""
    periods: dict[str, list[tuple[str, SlotPeriod]]] = defaultdict(list)
    for name, mapping in reg.mappings.items():
        for period in mapping.periods():
            if period.pdu is not None:
                periods[period.pdu].append((name, period))
    for pdu, held in periods.items():
        held.sort(key=lambda np: np[1].interval.since)
        for i, (name, period) in enumerate(held):
            for other_name, other in held[:i]:
                overlap = period.interval.intersection(other.interval)
                if overlap is None:
                    continue
                yield reg.problem(
                    reg.where("mapping", name), f"changes.{period.change_index}.modules.{period.aggregator}",
                    f"PDU {pdu} would sit in {name}/{period.aggregator} and in "
                    f"{other_name}/{other.aggregator} during {overlap}: empty the other slot first",
                    "one-slot")


@check("pdu-status")
def check_retired_unmapped(reg: Registry) -> Iterator[Problem]:
    """a retired PDU is not left in a slot with no end"""
    for name, mapping in reg.mappings.items():
        for period in mapping.periods():
            pdu = reg.pdus.get(period.pdu or "")
            if pdu and pdu.status == "retired" and period.interval.until is None:
                yield reg.problem(reg.where("mapping", name), f"changes.{period.change_index}.modules.{period.aggregator}",
                                  f"PDU {pdu.physical_name} is retired but still sits in {period.aggregator}: "
                                  "map its successor or null", "pdu-status")


@check("parameter-spellings")
def check_parameter_spellings(reg: Registry) -> Iterator[Problem]:
    """each parameter spelling belongs to one parameter file only"""
    owner: dict[str, str] = {}
    for name, parameter in reg.parameters.items():
        for i, spelling in enumerate(parameter.spellings):
            first = owner.setdefault(spelling, name)
            if first != name:
                yield reg.problem(reg.where("parameter", name), f"spellings.{i}",
                                  f"spelling {spelling!r} is already a spelling of {first}",
                                  "parameter-spellings")


@check("pdu-uuid")
def check_pdu_uuids(reg: Registry) -> Iterator[Problem]:
    """Each PDU has a uuid of its own (the constant files and CALCAT name a PDU by it)."""
    first: dict[int, str] = {}
    for name in sorted(reg.pdus):
        uuid = reg.pdus[name].uuid
        other = first.setdefault(uuid, name)
        if other != name:
            yield reg.problem(reg.where("pdu", name), "uuid", f"uuid {uuid} is already the uuid of PDU {other} "
                              f"({reg.where('pdu', other)}): give each PDU its own", "pdu-uuid")
