"""Replies in the order CALCAT gave them, and records as most recently recorded.

Recordings made at different times can show one record in two states (a detector's
``number_of_modules`` null in an older recording, 16 in a newer one). Replies are read
oldest first (by ``recorded_at``, or the earlier time a PDU snapshot shows; replies without
a time first, in the order given), and
each record is merged field by field, so the newest recording of each field wins and a
field that is not in a newer reply (a nested copy lists fewer fields) keeps its value.
Every field that changed between recordings is listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from calcat_git.calcat_import.replies import Reply
from calcat_git.errors import CalcatGitError
from calcat_git.timeutil import FACILITY_ZONE, parse_facility_time

SNAPSHOT = "physical_detector_units/get_all_by_detector"


def _as_of(reply: Reply, zone: str) -> Reply:
    """A PDU snapshot shows its PDUs (and their detector) as they were at ``pdu_snapshot_at``,
    not when it was recorded (in the recordings, a PDU's description is null in a snapshot of
    an earlier time and set in CCV replies recorded five seconds before): such a reply counts
    as of that time. An unreadable time is left to the reply check, which names it."""
    asked = reply.query.get("pdu_snapshot_at") if reply.path == SNAPSHOT else None
    if not asked or reply.recorded_at is None:
        return reply
    try:
        at = parse_facility_time(asked, zone, "pdu_snapshot_at")
    except CalcatGitError:
        return reply
    return replace(reply, as_of=at) if at < reply.recorded_at else reply


def in_recorded_order(replies: Iterable[Reply], zone: str = FACILITY_ZONE) -> list[Reply]:
    """Oldest state first: by the time a reply's records show (its recording time, or a PDU
    snapshot's earlier time); replies without a recording time before all others; ties in the
    given order."""
    listed = [_as_of(reply, zone) for reply in replies]
    never = datetime.min

    def when(item: tuple[int, Reply]) -> tuple[bool, datetime, int]:
        n, reply = item
        at = reply.as_of or reply.recorded_at
        return at is not None, never if at is None else at.replace(tzinfo=None), n
    return [reply for _, reply in sorted(enumerate(listed), key=when)]


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    for key, value in new.items():
        if key not in old or old[key] == value:
            continue
        if isinstance(value, dict) and isinstance(old[key], dict):
            yield from _differences(old[key], value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", old[key], value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Latest:
    """Each record (by what and key) merged in recorded order; the changes seen on the way."""

    records: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)
    where: dict[tuple[str, Any], dict[str, str]] = field(default_factory=dict)   # field -> recording of its value
    changes: list[str] = field(default_factory=list)

    def put(self, what: str, key: Any, record: dict[str, Any], recording: str,
            leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
        """The record merged with what was recorded of it before (newest wins, field by field);
        ``leave_out``: nested records accounted for on their own."""
        mine = {k: v for k, v in record.items() if k not in leave_out}
        old = self.records.get((what, key))
        where = self.where.setdefault((what, key), {})
        if old is not None:
            for path, before, after in _differences(old, mine):
                first = where.get(path.split(".")[0], "?")
                self.changes.append(f"{what} {key}: {path} {_short(before)} ({first}) → {_short(after)} ({recording})")
        merged = {**(old or {}), **mine}
        self.records[(what, key)] = merged
        where.update(dict.fromkeys(mine, recording))
        return merged
