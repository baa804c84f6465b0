"""The catalog's records: frozen dataclasses with explicit ``from_dict``/``to_dict``.

``from_dict`` expects data that passed the kind's JSON schema; it normalises
timestamps to UTC. ``to_dict`` writes the canonical form (UTC ``Z`` timestamps, optional
keys only when set), so ``X.from_dict(x.to_dict()) == x`` for every record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from calcat_git.errors import NotFoundError
from calcat_git.model.conditions import ConditionRules

# Optional keys every kind accepts, in the order to_dict writes them.
COMMON_OPTIONAL = ("calcat_id", "calcat", "description", "source")


@dataclass(frozen=True, slots=True)
class Verbatim:
    """CALCAT's own fields of an imported record, exactly as CALCAT sent them (nulls
    included): what the catalog's own fields cannot say (``view_url``, ``created_at``, a
    ``null`` module number, the calibration constant of a CCV, …). Kept as canonical JSON
    text so records stay hashable; the CALCAT-compatible server answers these values for
    the fields they name."""

    text: str

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Verbatim | None:
        return None if not data else cls(json.dumps(data, sort_keys=True, ensure_ascii=False))

    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.text)
        return value


def verbatim(d: dict[str, Any]) -> Verbatim | None:
    return Verbatim.of(d.get("calcat"))


def _common(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: d[k] for k in COMMON_OPTIONAL if k in d}
    if "calcat" in out:
        out["calcat"] = Verbatim.of(out["calcat"])
    return out


def _with_common(out: dict[str, Any], record: Any) -> dict[str, Any]:
    for key in COMMON_OPTIONAL:
        value = getattr(record, key)
        if value is not None:
            out[key] = value.data() if isinstance(value, Verbatim) else value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectorType:
    identifier: str
    aggregator_prefix: str
    calibrations: tuple[str, ...]
    parameters: tuple[str, ...]
    conditions: ConditionRules | None = None  # how look-ups ask (model/conditions.py); None: as given
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DetectorType:
        return cls(
            identifier=d["identifier"], aggregator_prefix=d["aggregator_prefix"],
            calibrations=tuple(d["calibrations"]), parameters=tuple(d["parameters"]),
            conditions=ConditionRules.from_dict(d["conditions"]) if "conditions" in d else None,
            **_common(d),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "identifier": self.identifier, "aggregator_prefix": self.aggregator_prefix,
            "calibrations": list(self.calibrations), "parameters": list(self.parameters),
        }
        if self.conditions is not None:
            out["conditions"] = self.conditions.to_dict()
        return _with_common(out, self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    identifier: str
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(identifier=d["identifier"], **_common(d))

    def to_dict(self) -> dict[str, Any]:
        return _with_common({"identifier": self.identifier}, self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    identifier: str
    spellings: tuple[str, ...]
    unit: str
    lower_deviation: float
    upper_deviation: float
    calcat_ids: tuple[tuple[str, int], ...] = ()
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Parameter:
        return cls(
            identifier=d["identifier"], spellings=tuple(d["spellings"]), unit=d["unit"],
            lower_deviation=d["lower_deviation"], upper_deviation=d["upper_deviation"],
            calcat_ids=tuple(d.get("calcat_ids", {}).items()), **_common(d),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "identifier": self.identifier, "spellings": list(self.spellings),
            "unit": self.unit, "lower_deviation": self.lower_deviation,
            "upper_deviation": self.upper_deviation,
        }
        if self.calcat_ids:
            out["calcat_ids"] = dict(self.calcat_ids)
        return _with_common(out, self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    identifier: str
    name: str
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Instrument:
        return cls(identifier=d["identifier"], name=d["name"], **_common(d))

    def to_dict(self) -> dict[str, Any]:
        return _with_common({"identifier": self.identifier, "name": self.name}, self)


@dataclass(frozen=True, slots=True, kw_only=True)
class PDU:
    physical_name: str
    detector_type: str
    uuid: int
    status: str = "active"
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @property
    def identifier(self) -> str:
        return self.physical_name

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PDU:
        return cls(
            physical_name=d["physical_name"], detector_type=d["detector_type"],
            uuid=d["uuid"], status=d["status"], **_common(d),
        )

    def to_dict(self) -> dict[str, Any]:
        return _with_common({
            "physical_name": self.physical_name, "detector_type": self.detector_type,
            "uuid": self.uuid, "status": self.status,
        }, self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Module:
    """One slot of a detector."""

    aggregator: str
    virtual_device_name: str
    module_number: int
    calcat: Verbatim | None = None   # e.g. {virtual_device_name: null, module_number: null}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Module:
        return cls(
            aggregator=d["aggregator"], virtual_device_name=d["virtual_device_name"],
            module_number=d["module_number"], calcat=verbatim(d),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "aggregator": self.aggregator, "virtual_device_name": self.virtual_device_name,
            "module_number": self.module_number,
        }
        if self.calcat is not None:
            out["calcat"] = self.calcat.data()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Detector:
    identifier: str
    detector_type: str | None       # None: CALCAT lists the detector but no PDU of it (type not known yet)
    instruments: tuple[str, ...]
    karabo_id_control: str
    source_name_pattern: str
    experts: tuple[str, ...]
    modules: tuple[Module, ...]
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    source: str | None = None

    @property
    def aggregators(self) -> tuple[str, ...]:
        return tuple(m.aggregator for m in self.modules)

    def type_name(self) -> str:
        """The detector type; an error for a detector CALCAT listed without any PDU."""
        if self.detector_type is None:
            raise NotFoundError(f"detector {self.identifier} has no detector type and no modules yet (CALCAT listed "
                                "it without PDUs): add them to its file before looking constants up")
        return self.detector_type

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Detector:
        return cls(
            identifier=d["identifier"], detector_type=d.get("detector_type"),
            instruments=tuple(d["instruments"]), karabo_id_control=d["karabo_id_control"],
            source_name_pattern=d["source_name_pattern"], experts=tuple(d["experts"]),
            modules=tuple(Module.from_dict(m) for m in d["modules"]), **_common(d),
        )

    def to_dict(self) -> dict[str, Any]:
        return _with_common({
            "identifier": self.identifier, "detector_type": self.detector_type,
            "instruments": list(self.instruments),
            "karabo_id_control": self.karabo_id_control,
            "source_name_pattern": self.source_name_pattern,
            "experts": list(self.experts),
            "modules": [m.to_dict() for m in self.modules],
        }, self)
