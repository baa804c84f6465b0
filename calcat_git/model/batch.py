"""Constants batch files: one injection of calibration constant versions (CCVs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calcat_git.model.records import Verbatim, verbatim
from calcat_git.timeutil import format_timestamp, parse_timestamp

ConditionValue = int | float | str


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One parameter condition; deviations override the parameter's defaults."""

    name: str
    value: ConditionValue
    lower_deviation: float | None = None
    upper_deviation: float | None = None

    @classmethod
    def from_item(cls, name: str, raw: Any) -> Condition:
        if isinstance(raw, dict):
            return cls(
                name=name, value=raw["value"], lower_deviation=raw.get("lower_deviation"),
                upper_deviation=raw.get("upper_deviation"),
            )
        return cls(name=name, value=raw)

    def to_item(self) -> Any:
        if self.lower_deviation is None and self.upper_deviation is None:
            return self.value
        out: dict[str, Any] = {"value": self.value}
        if self.lower_deviation is not None:
            out["lower_deviation"] = self.lower_deviation
        if self.upper_deviation is not None:
            out["upper_deviation"] = self.upper_deviation
        return out


def _conditions(raw: dict[str, Any] | None) -> tuple[Condition, ...]:
    return tuple(Condition.from_item(k, v) for k, v in (raw or {}).items())


def _conditions_dict(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    return {c.name: c.to_item() for c in conditions}


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    path: str
    id: int | None = None
    calcat: Verbatim | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "path": self.path} if self.id is not None else {"path": self.path}
        if self.calcat is not None:
            out["calcat"] = self.calcat.data()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagChange:
    """Why a CCV's flags changed (``calcat-git flag``): when, why, and the flags set."""

    at: datetime
    reason: str
    good_quality: bool | None = None
    deployed: bool | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlagChange:
        return cls(at=parse_timestamp(d["at"]), reason=d["reason"], good_quality=d.get("good_quality"),
                   deployed=d.get("deployed"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": format_timestamp(self.at)}
        if self.good_quality is not None:
            out["good_quality"] = self.good_quality
        if self.deployed is not None:
            out["deployed"] = self.deployed
        out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CCV:
    """One calibration constant version."""

    calibration: str
    pdu: str
    begin_at: datetime
    file: str
    dataset: str
    sha256: str = ""               # "" only for CCVs imported from CALCAT (file not in our store)
    good_quality: bool = True
    deployed: bool = True
    end_at: datetime | None = None
    conditions: tuple[Condition, ...] = ()
    calcat_id: int | None = None
    calcat: Verbatim | None = None
    description: str | None = None
    flagged: tuple[FlagChange, ...] = ()  # why the flags changed, oldest first

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CCV:
        end_at = d.get("end_at")
        return cls(
            calibration=d["calibration"], pdu=d["pdu"],
            begin_at=parse_timestamp(d["begin_at"]),
            file=d["file"], dataset=d["dataset"], sha256=d.get("sha256", ""),
            good_quality=d.get("good_quality", True), deployed=d.get("deployed", True),
            end_at=None if end_at is None else parse_timestamp(end_at),
            conditions=_conditions(d.get("conditions")),
            calcat_id=d.get("calcat_id"), calcat=verbatim(d), description=d.get("description"),
            flagged=tuple(FlagChange.from_dict(f) for f in d.get("flagged", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "calibration": self.calibration, "pdu": self.pdu,
            "begin_at": format_timestamp(self.begin_at),
        }
        if self.end_at is not None:
            out["end_at"] = format_timestamp(self.end_at)
        out.update(file=self.file, dataset=self.dataset)
        if self.sha256:
            out["sha256"] = self.sha256
        out.update(good_quality=self.good_quality, deployed=self.deployed)
        if self.conditions:
            out["conditions"] = _conditions_dict(self.conditions)
        if self.calcat_id is not None:
            out["calcat_id"] = self.calcat_id
        if self.calcat is not None:
            out["calcat"] = self.calcat.data()
        if self.description is not None:
            out["description"] = self.description
        if self.flagged:
            out["flagged"] = [f.to_dict() for f in self.flagged]
        return out

    def identity(self, batch: ConstantBatch, conditions: dict[str, Any] | None = None) -> str:
        """Content-derived id: what the CCV *is*, not its mutable flags (sha256 hex).
        ``conditions``: its merged conditions as items, if the caller has them already."""
        key = {
            "detector": batch.detector, "calibration": self.calibration, "pdu": self.pdu,
            "begin_at": format_timestamp(self.begin_at), "file": self.file,
            "dataset": self.dataset, "sha256": self.sha256,
            "conditions": _conditions_dict(batch.conditions_for(self)) if conditions is None else conditions,
        }
        blob = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstantBatch:
    detector: str
    report: Report
    injected_at: datetime
    conditions: tuple[Condition, ...]
    constants: tuple[CCV, ...]
    description: str | None = None
    source: str | None = None

    def conditions_for(self, ccv: CCV) -> tuple[Condition, ...]:
        """The batch's shared conditions with the CCV's own overrides applied."""
        merged = {c.name: c for c in self.conditions}
        merged.update((c.name, c) for c in ccv.conditions)
        return tuple(merged.values())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConstantBatch:
        report = d["report"]
        return cls(
            detector=d["detector"],
            report=Report(path=report["path"], id=report.get("id"), calcat=verbatim(report)),
            injected_at=parse_timestamp(d["injected_at"]),
            conditions=_conditions(d["conditions"]),
            constants=tuple(
                CCV.from_dict(c) for c in d["constants"]
            ),
            description=d.get("description"), source=d.get("source"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "detector": self.detector, "report": self.report.to_dict(),
            "injected_at": format_timestamp(self.injected_at),
        }
        if self.description is not None:
            out["description"] = self.description
        if self.source is not None:
            out["source"] = self.source
        out["conditions"] = _conditions_dict(self.conditions)
        out["constants"] = [c.to_dict() for c in self.constants]
        return out
