"""Half-open validity intervals ``[since, until)``; ``until=None`` means open-ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calcat_git.timeutil import format_timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    since: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.until is not None and self.until <= self.since:
            raise ValueError(f"empty interval: until {self.until} <= since {self.since}")

    def __contains__(self, moment: datetime) -> bool:
        return self.since <= moment and (self.until is None or moment < self.until)

    def overlaps(self, other: Interval) -> bool:
        starts_before_other_ends = other.until is None or self.since < other.until
        ends_after_other_starts = self.until is None or other.since < self.until
        return starts_before_other_ends and ends_after_other_starts

    def intersection(self, other: Interval) -> Interval | None:
        if not self.overlaps(other):
            return None
        since = max(self.since, other.since)
        untils = [u for u in (self.until, other.until) if u is not None]
        return Interval(since=since, until=min(untils) if untils else None)

    def __str__(self) -> str:
        end = format_timestamp(self.until) if self.until else "…"
        return f"[{format_timestamp(self.since)}, {end})"
