"""What every conditions object shares: its values, and the look-up rules of its detector
type, which are catalog data (the ``conditions:`` block of the type's registry file, read
through :mod:`calcat_git.lookup.rules`). The EXtra-named classes are in
:mod:`calcat_git.lookup.conditions`; a type without a class gets a :class:`Conditions`. Reading
conditions from data ends in :func:`build`, EXtra's rule for what could not be read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from calcat_git.errors import NotFoundError
from calcat_git.lookup.rules import LookupRules
from calcat_git.model.records import DetectorType
from calcat_git.model.selection import Asked

if TYPE_CHECKING:
    from calcat_git.catalog.catalog import Catalog

EMBEDDED = Path(__file__).resolve().parents[2]  # the catalog this package is developed with


def embedded_rules(detector_type: str) -> LookupRules:
    """The rules of ``detector_type`` in the embedded catalog (what a conditions object uses
    when no catalog is at hand: EXtra's ``calibration_types``, ``make_dict``)."""
    from calcat_git.files.parse import parse_file  # on use: a look-up through an index parses no YAML

    rel = f"registry/detector_types/{detector_type}.yaml"
    path = EMBEDDED / rel
    if not path.is_file():
        raise NotFoundError(f"no embedded catalog with {rel} next to the package: ask with a catalog "
                            f"(CalibrationData.from_condition(..., catalog=...), or .rules(catalog))")
    parsed = parse_file(rel, path.read_bytes())
    if not isinstance(parsed.record, DetectorType):
        raise NotFoundError(f"{rel}: {parsed.problems[0].message if parsed.problems else 'not a detector type'}")
    return LookupRules.of(parsed.record)


class AutoConditionsError(ValueError):
    """Conditions could not be inferred from data: ``missing`` parameters, ``sources`` looked at."""

    def __init__(self, missing: set[str], sources: dict[str, Any]) -> None:
        super().__init__(missing, sources)
        self.missing, self.sources = missing, sources

    def __str__(self) -> str:
        msg = "required parameters could not be inferred from data: " + ", ".join(sorted(self.missing))
        if self.sources:
            msg += "\n\navailable sources to infer parameters:\n"
            for name, value in self.sources.items():
                if isinstance(value, Iterable) and not isinstance(value, str):
                    items = sorted(value)
                    value = (f"{items[0]}, ...[{len(items) - 1} more]" if len(items) > 1 else
                             str(items[0]) if items else None)
                msg += f"- {name}: {value}\n"
        return msg


def build(cls: Any, params: dict[str, Any], **sources: Any) -> Any:
    """``cls(**params)``; an :class:`AutoConditionsError` naming what is missing."""
    if is_dataclass(cls):
        required = {f.name for f in fields(cls) if f.init and f.default is MISSING and f.default_factory is MISSING}
        missing = required - params.keys()
        if missing:
            raise AutoConditionsError(missing, sources)
    return cls(**params)


class _FromRules:
    """A class attribute of EXtra's (``calibration_types``, ``legacy_defaults``), read from the
    embedded catalog's rules of the class's type."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __get__(self, obj: Any, owner: type[ConditionsBase]) -> dict[str, Any]:
        rules = obj.rules() if obj is not None else owner.rules()
        if self.what == "legacy_defaults":
            return {p.name: p.legacy for p in rules.parameters if p.legacy is not None}
        every = [p.name for p in rules.parameters]
        return {c: list(ps) if ps is not None else every for c, ps in rules.calibrations}


class ConditionsBase:
    """Base of all conditions objects: values by keyword (``memory_cells``); the rules come
    from the catalog of the look-up, or from the embedded one."""

    detector_type: ClassVar[str] = ""
    calibration_types: ClassVar[Any] = _FromRules("calibration_types")  # calibration -> parameter names
    legacy_defaults: ClassVar[Any] = _FromRules("legacy_defaults")  # parameter left out at this value

    @classmethod
    def from_data(cls, params: dict[str, Any], **sources: Any) -> Any:
        """An object of this class from ``params`` read from data (EXtra's base rule: a
        missing required parameter is an ``AutoConditionsError`` naming ``sources``)."""
        return build(cls, params, **sources)

    def _repr_markdown_(self) -> str:
        """The parameters set, as a markdown list (IPython shows conditions so)."""
        return "\n".join(f"- {k.replace('_', ' ').capitalize()}: {v}" for k, v in self.given().items() if v is not None)

    @classmethod
    def rules(cls, catalog: Catalog | None = None) -> LookupRules:
        """The rules of the class's detector type in ``catalog`` (default: the embedded one)."""
        if catalog is None:
            return embedded_rules(cls.detector_type)
        return LookupRules.of(catalog.detector_type(cls.detector_type))

    def given(self) -> dict[str, Any]:
        """The values of this object, by keyword (None: left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return self.given()

    def make_dict(self, parameters: list[str]) -> dict[str, float | str]:
        """EXtra's: the values of ``parameters`` (CALCAT spellings) as a look-up asks them,
        legacy values left out (rules of the embedded catalog)."""
        rules = self.rules()
        values = rules.values(self.given())
        return rules.without_legacy({p: values[p] for p in parameters if p in values})

    def asked_of(self, calibrations: list[str] | None = None, rules: LookupRules | None = None) -> dict[str, Asked]:
        """What each calibration is asked (its parameters, legacy values left out)."""
        return (rules or self.rules()).asked(self.given(), calibrations).by_calibration


class Conditions(ConditionsBase):
    """Conditions of a detector type without an EXtra-named class (or of any type), by
    keyword or CALCAT spelling: ``Conditions.for_type("ePix100-Type", sensor_bias_voltage=200, …)``."""

    def __init__(self, rules: LookupRules, values: dict[str, Any]) -> None:
        rules.values(values, complete=rules.stated)  # unknown, malformed or missing: said now
        self._rules, self._values = rules, dict(values)
        self.detector_type = rules.detector_type  # type: ignore[misc]  # per object here

    @classmethod
    def for_type(cls, detector_type: str, catalog: Catalog | None = None, **values: Any) -> Conditions:
        rules = embedded_rules(detector_type) if catalog is None else LookupRules.of(catalog.detector_type(detector_type))
        return cls(rules, values)

    def rules(self, catalog: Catalog | None = None) -> LookupRules:  # type: ignore[override]
        return self._rules if catalog is None else LookupRules.of(catalog.detector_type(self.detector_type))

    def given(self) -> dict[str, Any]:
        return dict(self._values)

    def __getattr__(self, name: str) -> Any:
        rule = self._rules.parameter(name) if not name.startswith("_") else None
        if rule is None:
            raise AttributeError(name)
        return next((v for k, v in self._values.items() if self._rules.parameter(k) is rule), rule.default)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Conditions.for_type({self.detector_type!r}, {args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Conditions) and (self._rules, self._values) == (other._rules, other._values)

    __hash__ = None  # type: ignore[assignment]
