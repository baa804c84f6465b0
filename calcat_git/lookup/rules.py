"""The one normalisation of an asked condition, from the detector type's rules in the
catalog (its ``conditions:`` block, model/conditions.py). The Python API, the command line,
``serve``, ``explain`` and the site's look-up page (its JavaScript reads :meth:`LookupRules.to_json`
and follows the same steps) all ask through it:

- a name is the type's CALCAT spelling or its keyword, in any case (``Memory cells``,
  ``memory_cells``); anything else is an error naming the type's parameters;
- a number is a number; numeric text (``"300"``, ``"1e3"``) is that number; text where a
  number belongs is an error; ``integer`` values are whole, ``boolean`` ones true/false (asked
  as 1/0); ``text`` parameters take text only;
- ``None`` (or the text None/none/null) leaves out a parameter that allows it;
- a parameter not given takes its default (a required one is an error), where the look-up
  completes a question (Python API, command line, page); ``serve`` asks what the client sent;
- each calibration is asked its own parameters; a parameter at its legacy value is left
  out, as EXtra does.

A type without rules asks every calibration every given parameter, numeric text as a number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.model.conditions import ParameterRule
from calcat_git.model.records import DetectorType
from calcat_git.model.selection import Asked

NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # lookup.js: NUMERIC
NONE_TEXTS = ("None", "none", "null")
OPEN = "number or text"  # the kind of every parameter of a type without rules


class ConditionError(InvalidInputError):
    """The conditions of a look-up cannot be asked as given (the message names the type's parameters)."""


def keyword(name: str) -> str:
    """The form names are compared in: lower case, runs of spaces and underscores as one ``_``."""
    return re.sub(r"[\s_]+", "_", name.strip().lower())


def check_calibrations(dtype: DetectorType, names: list[str]) -> None:
    """Every name is a calibration of the detector type; else one line with the closest."""
    known = dtype.calibrations
    for calibration in names:
        if calibration not in known:
            hint = closest_names(calibration, list(known)) or f" (it has {', '.join(known) or 'none'})"
            raise NotFoundError(f"{dtype.identifier} has no calibration {calibration!r}{hint}")


def _number(rule: ParameterRule, raw: float | int, shown: str) -> float:
    """``raw`` as asked; messages show what was given as text (``shown``), as the command line
    and the page have it."""
    if not math.isfinite(raw):
        raise ValueError(f"{shown!r} is not a finite number")
    if rule.kind == "text":
        raise ValueError(f"{shown!r} is a number; {rule.name} takes text")
    if rule.kind == "boolean" and raw not in (0, 1):
        raise ValueError(f"{shown!r} is not true or false")
    if rule.kind == "integer" and not float(raw).is_integer():
        raise ValueError(f"{shown!r} is not an integer")
    return float(raw)


def _text(rule: ParameterRule, text: str) -> float | str:
    if rule.kind == "text":
        return text
    if rule.kind == "boolean" and text.lower() in ("true", "yes", "false", "no"):
        return 1.0 if text.lower() in ("true", "yes") else 0.0
    if NUMERIC_TEXT.fullmatch(text):
        return _number(rule, float(text), text)
    if rule.kind == OPEN:
        return text
    raise ValueError(f"{text!r} is not {'true or false' if rule.kind == 'boolean' else 'a number'}")


def value_of(rule: ParameterRule, raw: Any) -> float | str | None:
    """The asked value of ``raw`` for ``rule`` (None: left out); ValueError saying what is expected."""
    if isinstance(raw, str) and raw.strip() in NONE_TEXTS and (rule.allows_none or rule.kind == OPEN):
        raw = None
    if raw is None:
        if rule.allows_none or rule.kind == OPEN:
            return None
        raise ValueError("None is not allowed (the parameter is required)")
    if isinstance(raw, bool):
        if rule.kind != "boolean":
            raise ValueError(f"{raw!r} is not a {rule.kind}")
        return float(raw)
    if isinstance(raw, int | float):
        return _number(rule, raw, str(raw))
    if isinstance(raw, str):
        return _text(rule, raw.strip())
    raise ValueError(f"{raw!r} is neither a number nor text")


@dataclass(frozen=True)
class Asks:
    """What a look-up asks, per calibration: made by :class:`LookupRules` only, which checked
    the calibrations (once) and normalised the values."""

    detector_type: str
    by_calibration: dict[str, Asked]


@dataclass(frozen=True)
class LookupRules:
    """The look-up rules of one detector type, read from the catalog."""

    detector_type: str
    parameters: tuple[ParameterRule, ...]
    calibrations: tuple[tuple[str, tuple[str, ...] | None], ...]  # every calibration of the type, its parameters
    stated: bool  # False: the type has no conditions block (every parameter as given)
    dtype: DetectorType

    @classmethod
    def of(cls, dtype: DetectorType) -> LookupRules:
        rules = dtype.conditions
        if rules is None:
            params = tuple(ParameterRule(name=p, kind=OPEN, required=False) for p in dtype.parameters)
            return cls(dtype.identifier, params, tuple((c, None) for c in dtype.calibrations), False, dtype)
        return cls(dtype.identifier, rules.parameters,
                   tuple((c, rules.of_calibration(c)) for c in dtype.calibrations), True, dtype)

    def parameter(self, name: str) -> ParameterRule | None:
        wanted = keyword(name)
        return next((p for p in self.parameters if keyword(p.name) == wanted), None)

    def _error(self, problems: list[str]) -> ConditionError:
        known = ", ".join(p.name for p in self.parameters) or "none"
        return ConditionError(f"{self.detector_type} conditions: {'; '.join(problems)} (parameters: {known}; "
                              f"`calcat-git conditions {self.detector_type}` lists them with defaults)")

    def values(self, given: Mapping[str, Any], complete: bool = True) -> dict[str, float | str]:
        """The given values normalised, by CALCAT spelling in the rules' order; with
        ``complete``, defaults filled in and required ones demanded. Every problem in one error."""
        problems: list[str] = []
        found: dict[str, float | str | None] = {}
        seen: set[str] = set()
        for name, raw in given.items():
            rule = self.parameter(name)
            if rule is None:
                problems.append(f"unknown {name!r}{closest_names(name, [p.name for p in self.parameters])}")
            elif rule.name in seen:
                problems.append(f"{rule.name} is given twice")
            else:
                seen.add(rule.name)
                try:
                    found[rule.name] = value_of(rule, raw)
                except ValueError as exc:
                    problems.append(f"{rule.name}: {exc}")
        if complete:
            missing = [p.name for p in self.parameters if p.required and p.name not in seen]
            if missing:
                problems.append("missing " + ", ".join(repr(m) for m in missing))
            for rule in self.parameters:
                if rule.name not in found and rule.default is not None:
                    found[rule.name] = value_of(rule, rule.default)
        if problems:
            raise self._error(problems)
        return {p.name: v for p in self.parameters if (v := found.get(p.name)) is not None}

    def without_legacy(self, asked: Mapping[str, float | str]) -> Asked:
        """``asked`` without the parameters at their legacy value."""
        legacy = {p.name: p.legacy for p in self.parameters if p.legacy is not None}
        return {k: v for k, v in asked.items() if not (k in legacy and not isinstance(v, str) and v == legacy[k])}

    def asked(self, given: Mapping[str, Any], calibrations: list[str] | None = None, complete: bool = True) -> Asks:
        """The question of a look-up: the given values (checked first; defaults filled in
        unless not ``complete``), the calibrations (default: all of the type's, checked here),
        each asked its own parameters, legacy values left out."""
        values = self.values(given, complete)  # the conditions first: a conditions object says them when made
        names = list(calibrations) if calibrations else [c for c, _ in self.calibrations]
        check_calibrations(self.dtype, names)
        lists = dict(self.calibrations)
        out = {}
        for name in names:
            params = lists[name]
            out[name] = self.without_legacy(values if params is None else {p: values[p] for p in params if p in values})
        return Asks(self.detector_type, out)

    def explicit(self, asked: Mapping[str, Mapping[str, Any]]) -> Asks:
        """Per-calibration conditions as a client sent them (``serve``, direct callers of the
        engine): calibrations checked, values normalised, legacy values left out, nothing added."""
        check_calibrations(self.dtype, list(asked))
        return Asks(self.detector_type, {c: self.without_legacy(self.values(given, complete=False))
                                         for c, given in asked.items()})

    def to_json(self) -> dict[str, Any]:
        """The rules as the look-up page reads them (lookup.js ``normalise``)."""
        return {"detector_type": self.detector_type, "stated": self.stated,
                "parameters": [{"name": p.name, "kind": p.kind, "required": p.required, "default": p.default,
                                "allows_none": p.allows_none, "legacy": p.legacy} for p in self.parameters],
                "calibrations": [[c, list(ps) if ps is not None else None] for c, ps in self.calibrations]}
