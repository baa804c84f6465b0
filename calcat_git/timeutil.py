"""Strict timezone-aware timestamps: parse, normalise to UTC, format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from calcat_git.errors import InvalidInputError

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(text: str, what: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp with ``Z`` or an offset into a UTC datetime.

    A naive timestamp (no ``Z`` and no offset) is an error, never a guess.
    A date alone (``2024-05-01``) is not accepted either: it has no zone.
    """
    return _parse_cached(text, what) if isinstance(text, str) else _parse(text, what, None)


def is_naive(text: str) -> bool:
    """Whether ``text`` is a well-formed time without ``Z`` or an offset."""
    match = _ISO.match(text.strip())
    return bool(match and match.group(4) is not None and match.group(8) is None)


@lru_cache(maxsize=4096)  # a batch file repeats its times, and its schema and its record both read them
def _parse_cached(text: str, what: str) -> datetime:
    return _parse(text, what, None)


def _parse(text: str, what: str, naive_zone: tzinfo | None) -> datetime:
    """:func:`parse_timestamp`; a naive time is read in ``naive_zone`` if one is given."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a string, got {text!r}")
    match = _ISO.match(text.strip())
    if not match or match.group(4) is None:
        raise InvalidInputError(
            f"malformed {what} {text!r}: use ISO-8601 with Z or an offset, "
            "e.g. 2024-05-01T10:00:00Z"
        )
    if match.group(8) is None and naive_zone is None:
        raise InvalidInputError(
            f"naive {what} {text!r} has no time zone: add Z for UTC or an offset "
            "such as +02:00"
        )
    normal = text.strip().replace(" ", "T", 1).replace("Z", "+00:00")
    frac = match.group(7)
    if frac and len(frac) > 7:  # fromisoformat takes at most microseconds
        normal = normal.replace(frac, frac[:7], 1)
    try:
        parsed = datetime.fromisoformat(normal)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=naive_zone)
        return parsed.astimezone(UTC)
    except ValueError as exc:
        reason = "the offset must be less than 24 hours" if "offset must be a timedelta" in str(exc) else exc
        raise InvalidInputError(f"impossible {what} {text!r}: {reason}") from None
    except OverflowError:
        raise InvalidInputError(f"impossible {what} {text!r}: outside the years 1 to 9999 in UTC") from None


@lru_cache(maxsize=4096)  # the CCVs of a batch share their times
def format_timestamp(value: datetime) -> str:
    """Format a UTC datetime as ``2024-05-01T10:00:00Z`` (microseconds if any)."""
    if value.tzinfo is None:
        raise InvalidInputError(f"naive datetime {value!r}: attach a time zone")
    value = value.astimezone(UTC)
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(spec)


def ensure_utc(value: datetime | str, what: str = "timestamp") -> datetime:
    """Accept an aware datetime or an ISO string; refuse naive datetimes."""
    if isinstance(value, str):
        return parse_timestamp(value, what)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"naive {what} {value.isoformat()}: pass a timezone-aware datetime "
            "(e.g. datetime(..., tzinfo=timezone.utc))"
        )
    return value.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """A UTC datetime as integer microseconds since the epoch (exact, sortable)."""
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    """Inverse of :func:`micros`."""
    return EPOCH + value * MICROSECOND


FACILITY_ZONE = "Europe/Berlin"


def facility_zone(name: str = FACILITY_ZONE) -> tzinfo:
    """The IANA time zone ``name``; a clear error for an unknown one."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from None


def parse_facility_time(text: str, zone: str | tzinfo = FACILITY_ZONE, what: str = "timestamp") -> datetime:
    """Read a CALCAT time: with ``Z`` or an offset as given, a naive one in the facility's zone.

    Only CALCAT's own replies and the CALCAT-compatible server read times this way (its
    clients send naive times such as ``2020-01-07 13:26:48.00``); everything else is
    strict (:func:`parse_timestamp`).
    """
    return _parse(text, what, facility_zone(zone) if isinstance(zone, str) else zone)


def format_span(delta: timedelta) -> str:
    """How long, in the same words everywhere (`check`, `diff`, `history`): whole days and
    hours, rounded down ("936 days 10 hours", "3 days", "5 hours")."""
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days == 0:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} hour{'s' if hours != 1 else ''}" if hours else "")
