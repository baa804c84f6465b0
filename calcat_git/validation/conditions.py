"""The ``conditions:`` block of a detector type (model/conditions.py): what the schema
cannot see — names that must be the type's own, values of the parameter's kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calcat_git.files.loading import Registry
from calcat_git.model.conditions import ParameterRule
from calcat_git.model.problems import Problem
from calcat_git.model.records import DetectorType
from calcat_git.validation.registry import check

CHECK = "condition-rules"


def kind_problem(rule: ParameterRule, value: Any) -> str | None:
    """Why ``value`` cannot be a value of ``rule``'s kind (None: it can)."""
    if rule.kind == "text":
        return None if isinstance(value, str) else "must be text"
    if isinstance(value, str):
        return f"must be a {rule.kind}, not text"
    if rule.kind == "boolean":
        return None if value in (0, 1) else "must be true, false, 0 or 1"
    if isinstance(value, bool):
        return f"must be a {rule.kind}, not {str(value).lower()}"
    if rule.kind == "integer" and not float(value).is_integer():
        return "must be an integer"
    return None


def _type_problems(reg: Registry, name: str, dtype: DetectorType) -> Iterator[Problem]:
    rules = dtype.conditions
    if rules is None:
        return
    path = reg.where("detector_type", name)
    fields: dict[str, str] = {}
    for rule in rules.parameters:
        at = f"conditions.parameters.{rule.name}"
        if rule.name not in dtype.parameters:
            yield reg.problem(path, at, f"{rule.name!r} is not in the type's parameters (add it there first)", CHECK)
        if rule.field in fields:
            yield reg.problem(path, at, f"{rule.name!r} and {fields[rule.field]!r} are one keyword "
                              f"({rule.field}) in look-ups: rename one", CHECK)
        fields.setdefault(rule.field, rule.name)
        for key, value in (("default", rule.default), ("legacy", rule.legacy)):
            why = kind_problem(rule, value) if value is not None else None
            if why:
                yield reg.problem(path, f"{at}.{key}", f"{key} {value!r} {why} ({rule.name} is of type {rule.kind})",
                                  CHECK)
    for calibration, params in rules.calibrations:
        at = f"conditions.calibrations.{calibration}"
        if calibration not in dtype.calibrations:
            yield reg.problem(path, at, f"{calibration!r} is not in the type's calibrations", CHECK)
        for param in params:
            if rules.parameter(param) is None:
                yield reg.problem(path, at, f"{param!r} is not in conditions.parameters", CHECK)
    for calibration in dtype.calibrations:
        if rules.of_calibration(calibration) is None:
            yield reg.problem(path, "conditions.calibrations", f"calibration {calibration!r} has no parameter list: "
                              "look-ups ask it every parameter", CHECK, "warning")


@check(CHECK)
def check_condition_rules(reg: Registry) -> Iterator[Problem]:
    """a type's look-up rules name its own parameters and calibrations; defaults and legacy
    values are of the parameter's type"""
    for name, dtype in reg.detector_types.items():
        yield from _type_problems(reg, name, dtype)
