"""What every conditions class shares: the parameters it declares, how they become a
look-up's parameter dict (``make_dict``) and how the command line fills them in
(``from_strings``). The classes of each detector type are in
:mod:`calcat_git.lookup.conditions`."""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from calcat_git.errors import InvalidInputError, closest_names

REQUIRED: Any = MISSING  # ParameterInfo.default of a parameter that has none


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterInfo:
    """One parameter of a conditions class as the command line sees it."""

    spelling: str  # CALCAT's spelling, e.g. 'Memory cells'
    field: str  # the class's field, e.g. memory_cells
    kind: str  # int, float, str or bool
    optional: bool  # None is a value
    default: Any  # REQUIRED when there is none
    calibrations: tuple[str, ...]  # the calibrations that are asked it

    def convert(self, text: str) -> Any:
        """The value of ``text`` for this parameter; ValueError saying what is expected."""
        text = text.strip()
        if self.optional and text in ("None", "none", "null"):
            return None
        if self.kind == "str":
            return text
        if self.kind == "bool":
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(f"{text!r} is not true or false")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError(f"{text!r} is not an integer")
            return int(number)
        return number


def _kind(annotation: Any) -> tuple[str, bool]:
    """(kind, optional) of a field annotation such as ``int | None``."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [a for a in args if a is not type(None)]
    return (kinds[0].__name__ if kinds else "str"), len(kinds) != len(args)


class ConditionsBase:
    """Base of all conditions classes."""

    detector_type: ClassVar[str] = ""
    calibration_types: ClassVar[dict[str, list[str]]] = {}  # calibration -> parameter names
    legacy_defaults: ClassVar[dict[str, float]] = {}  # parameter left out at this value

    @classmethod
    def from_data(cls, params: dict[str, Any], **sources: Any) -> Any:
        """An object of this class from ``params`` read from data (EXtra's base rule: a
        missing required parameter is an ``AutoConditionsError`` naming ``sources``)."""
        from calcat_git.lookup.conditions_data import build

        return build(cls, params, **sources)

    def _repr_markdown_(self) -> str:
        """The parameters set, as a markdown list (IPython shows conditions so)."""
        return "\n".join(f"- {f.name.replace('_', ' ').capitalize()}: {getattr(self, f.name)}"
                         for f in fields(self) if getattr(self, f.name) is not None)  # type: ignore[arg-type]

    def make_dict(self, parameters: list[str]) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        for name in parameters:
            value = getattr(self, name.lower().replace(" ", "_"))
            if isinstance(value, str):
                out[name] = value
            elif value is not None:
                out[name] = float(value)
        return self.without_legacy(out)

    @classmethod
    def without_legacy(cls, asked: dict[str, float | str]) -> dict[str, float | str]:
        """``asked`` without the parameters at their legacy default (see the module doc)."""
        return {
            k: v
            for k, v in asked.items()
            if not (k in cls.legacy_defaults and not isinstance(v, str) and v == cls.legacy_defaults[k])
        }

    @classmethod
    def asked_per_calibration(cls, given: dict[str, float | str], calibrations: list[str]) -> dict[str, dict[str, float | str]]:
        """What each calibration is asked: the given parameters it uses, legacy defaults left out."""
        out = {}
        for name in calibrations:
            params = cls.calibration_types.get(name)
            out[name] = cls.without_legacy({k: v for k, v in given.items() if params is None or k in params})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def parameter_infos(cls) -> list[ParameterInfo]:
        """The class's parameters in field order, with CALCAT spellings, kinds and defaults."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in fields(cls):  # type: ignore[arg-type]
            spellings = [p for params in cls.calibration_types.values() for p in params if p.lower().replace(" ", "_") == f.name]
            kind, optional = _kind(hints[f.name])
            out.append(
                ParameterInfo(
                    spelling=spellings[0] if spellings else f.name.replace("_", " ").capitalize(),
                    field=f.name,
                    kind=kind,
                    optional=optional,
                    default=f.default,
                    calibrations=tuple(c for c, params in cls.calibration_types.items() if spellings and spellings[0] in params),
                )
            )
        return out

    @classmethod
    def from_strings(cls, given: dict[str, str]) -> ConditionsBase:
        """A conditions object from ``NAME=VALUE`` texts (the command line's --condition):
        names in CALCAT spelling or as the field (any case), defaults filled in. Every
        unknown, missing or malformed parameter is named in one error."""
        infos = {re.sub(r"[\s_]+", "_", i.field.lower()): i for i in cls.parameter_infos()}
        values: dict[str, Any] = {}
        problems: list[str] = []
        seen: set[str] = set()
        for name, text in given.items():
            info = infos.get(re.sub(r"[\s_]+", "_", name.strip().lower()))
            if info is None:
                problems.append(f"unknown {name!r}{closest_names(name, [i.spelling for i in infos.values()])}")
                continue
            seen.add(info.field)
            try:
                values[info.field] = info.convert(text)
            except ValueError as exc:
                problems.append(f"{info.spelling}: {exc}")
        missing = [i.spelling for i in infos.values() if i.default is REQUIRED and i.field not in seen]
        if missing:
            problems.append("missing " + ", ".join(repr(m) for m in missing))
        if problems:
            known = ", ".join(i.spelling for i in infos.values())
            raise InvalidInputError(
                f"{cls.detector_type} conditions: {'; '.join(problems)} (parameters: {known}; "
                f"`calcat-git conditions {cls.detector_type}` lists them with defaults)"
            )
        return cls(**values)

    def asked_of(self, calibrations: list[str]) -> dict[str, dict[str, float | str]]:
        """What each calibration is asked (its parameters, defaults included, legacy
        defaults left out); a calibration the class does not know is asked every parameter."""
        every = [i.spelling for i in self.parameter_infos()]
        return {name: self.make_dict(self.calibration_types.get(name, every)) for name in calibrations}
