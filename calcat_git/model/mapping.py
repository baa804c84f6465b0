"""Mapping records (which PDU sits in which slot since when) and their fold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calcat_git.model.interval import Interval
from calcat_git.timeutil import format_timestamp, parse_timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingChange:
    """A dated change naming only the slots that change; ``None`` empties a slot."""

    valid_from: datetime
    reason: str
    modules: tuple[tuple[str, str | None], ...]
    correction: str | None = None
    observed_between: tuple[datetime, datetime] | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MappingChange:
        observed = d.get("observed_between")
        return cls(
            valid_from=parse_timestamp(d["from"]),
            reason=d["reason"],
            modules=tuple(d["modules"].items()),
            correction=d.get("correction"),
            observed_between=None if observed is None else (
                parse_timestamp(observed[0]),
                parse_timestamp(observed[1]),
            ),
            source=d.get("source"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": format_timestamp(self.valid_from), "reason": self.reason,
        }
        if self.correction is not None:
            out["correction"] = self.correction
        if self.observed_between is not None:
            out["observed_between"] = [format_timestamp(t) for t in self.observed_between]
        if self.source is not None:
            out["source"] = self.source
        out["modules"] = dict(self.modules)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotPeriod:
    """A PDU (or ``None``) in one slot over a validity interval."""

    aggregator: str
    pdu: str | None
    interval: Interval
    change_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    detector: str
    changes: tuple[MappingChange, ...]
    description: str | None = None
    source: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mapping:
        return cls(
            detector=d["detector"],
            changes=tuple(
                MappingChange.from_dict(c) for c in d["changes"]
            ),
            description=d.get("description"), source=d.get("source"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"detector": self.detector}
        if self.description is not None:
            out["description"] = self.description
        if self.source is not None:
            out["source"] = self.source
        out["changes"] = [c.to_dict() for c in self.changes]
        return out

    def ordered(self) -> list[tuple[int, MappingChange]]:
        """Changes with their file index, in validity order (stable for ties)."""
        return sorted(enumerate(self.changes), key=lambda ic: ic[1].valid_from)

    def state_at(self, moment: datetime) -> dict[str, str | None]:
        """Slot → PDU after folding every change with ``from <= moment``.

        Only slots that some change has named appear; a slot emptied by ``null``
        maps to ``None``.
        """
        state: dict[str, str | None] = {}
        for _, change in self.ordered():
            if change.valid_from > moment:
                break
            state.update(change.modules)
        return state

    def periods(self) -> Iterator[SlotPeriod]:
        """Every maximal period a slot held one PDU (or was empty)."""
        open_periods: dict[str, tuple[str | None, datetime, int]] = {}
        for index, change in self.ordered():
            for aggregator, pdu in change.modules:
                if aggregator in open_periods:
                    old_pdu, since, old_index = open_periods[aggregator]
                    if since < change.valid_from:
                        yield SlotPeriod(
                            aggregator=aggregator, pdu=old_pdu, change_index=old_index,
                            interval=Interval(since=since, until=change.valid_from),
                        )
                open_periods[aggregator] = (pdu, change.valid_from, index)
        for aggregator, (pdu, since, index) in open_periods.items():
            yield SlotPeriod(
                aggregator=aggregator, pdu=pdu, change_index=index,
                interval=Interval(since=since),
            )
