"""How a look-up asks a detector type's constants, as the registry states it: the
``conditions:`` block of ``registry/detector_types/<type>.yaml``.

```yaml
conditions:
  parameters:                 # the look-up parameters, in the order of the conditions class
    Sensor Bias Voltage: {type: number}                     # required
    Gain mode: {type: integer, nullable: true, legacy: 0}   # required, None allowed
    Integration time: {type: integer, default: 12, legacy: 12}
    Memory cell order: {type: text, default: null}          # left out unless given
  calibrations:               # the parameters each calibration is asked
    Offset: [Sensor Bias Voltage, Gain mode, Integration time]
```

A type without the block asks every calibration every parameter given, as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("number", "integer", "boolean", "text")
Value = float | int | bool | str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterRule:
    """One look-up parameter of a detector type."""

    name: str  # the type's CALCAT spelling, e.g. 'Memory cells'
    kind: str  # one of KINDS
    required: bool  # no default: a look-up must give it
    default: Value | None = None  # when not required; None: left out unless given
    nullable: bool = False  # None is a value (the parameter is then left out)
    legacy: Value | None = None  # left out of a look-up at this value, as EXtra does

    @property
    def field(self) -> str:
        """The Python keyword of the parameter, e.g. memory_cells."""
        return self.name.lower().replace(" ", "_")

    @property
    def allows_none(self) -> bool:
        return self.nullable or (not self.required and self.default is None)

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> ParameterRule:
        return cls(name=name, kind=d["type"], required="default" not in d, default=d.get("default"),
                   nullable=bool(d.get("nullable", False)), legacy=d.get("legacy"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if not self.required:
            out["default"] = self.default
        if self.nullable:
            out["nullable"] = True
        if self.legacy is not None:
            out["legacy"] = self.legacy
        return out


@dataclass(frozen=True, slots=True)
class ConditionRules:
    """The ``conditions:`` block of a detector type."""

    parameters: tuple[ParameterRule, ...]
    calibrations: tuple[tuple[str, tuple[str, ...]], ...]  # (calibration, its parameters), in file order

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConditionRules:
        return cls(parameters=tuple(ParameterRule.from_dict(n, r) for n, r in d.get("parameters", {}).items()),
                   calibrations=tuple((c, tuple(ps)) for c, ps in d.get("calibrations", {}).items()))

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": {p.name: p.to_dict() for p in self.parameters},
                "calibrations": {c: list(ps) for c, ps in self.calibrations}}

    def parameter(self, name: str) -> ParameterRule | None:
        return next((p for p in self.parameters if p.name == name), None)

    def of_calibration(self, calibration: str) -> tuple[str, ...] | None:
        return next((ps for c, ps in self.calibrations if c == calibration), None)
