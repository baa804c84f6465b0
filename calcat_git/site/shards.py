"""The static JSON API's constants, sharded so that a page fetches only what it shows.

A detector's CCVs (those filed under it) are cut by calibration and quarter of
``begin_at`` into ``api/v1/ccvs/<detector>/<calibration>/<YYYY>-Q<n>.json``; beside them,
``index.json`` lists every shard with its count, ``begin_at`` range, PDUs and condition
sets (so a reader picks the shards a question needs before fetching any), and
``recent.json`` holds the detector's newest rows (a page's first screen). Shards are
compact: a row is a list in the order of ``columns``; PDU names, condition sets and
report paths are stored once per shard and referred to by position.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from calcat_git.catalog.published import COLUMNS, period_of
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import format_timestamp, from_micros

RECENT_ROWS = 50  # rows in recent.json: one screen of the detector page's table


class _Table:
    """Position of each distinct value, in order of first use."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._at: dict[str, int] = {}

    def at(self, value: Any, key: str | None = None) -> int:
        key = value if key is None else key
        found = self._at.get(key)
        if found is None:
            found = self._at[key] = len(self.values)
            self.values.append(value)
        return found


def shard(detector: str, rows: Iterable[CCVRow], condition_key: Any) -> dict[str, Any]:
    """One shard document of ``rows`` (``condition_key`` gives a condition set's text)."""
    pdus, conditions, reports = _Table(), _Table(), _Table()
    packed = [[r.ccv_id, r.calibration, pdus.at(r.pdu), format_timestamp(from_micros(r.begin_at)),
               format_timestamp(from_micros(r.end_at)) if r.end_at is not None else None,
               conditions.at(r.conditions, condition_key(r.conditions)), r.good_quality, r.deployed, r.file,
               r.dataset, reports.at(r.report_path)] for r in rows]
    return {"detector": detector, "columns": list(COLUMNS), "pdus": pdus.values, "conditions": conditions.values,
            "reports": reports.values, "rows": packed}


def detector_shards(detector: str, rows: list[CCVRow], condition_key: Any) -> dict[str, dict[str, Any]]:
    """Path (under ``api/v1/ccvs/``) → document, for all of a detector's CCVs (by begin_at)."""
    groups: dict[tuple[str, str], list[CCVRow]] = defaultdict(list)
    for row in rows:
        groups[(row.calibration, period_of(row.begin_at))].append(row)
    pdus, conditions = _Table(), _Table()
    entries = []
    out: dict[str, dict[str, Any]] = {}
    for (calibration, period), group in sorted(groups.items()):
        path = f"{detector}/{calibration}/{period}.json"
        out[path] = shard(detector, group, condition_key)
        entries.append({"path": path.split("/", 1)[1], "calibration": calibration, "period": period,
                        "count": len(group), "first": format_timestamp(from_micros(group[0].begin_at)),
                        "last": format_timestamp(from_micros(group[-1].begin_at)),
                        "pdus": sorted({pdus.at(r.pdu) for r in group}),
                        "conditions": sorted({conditions.at(r.conditions, condition_key(r.conditions))
                                              for r in group})})
    out[f"{detector}/recent.json"] = shard(detector, rows[-RECENT_ROWS:], condition_key)
    out[f"{detector}/index.json"] = {"detector": detector, "count": len(rows), "recent": "recent.json",
                                     "pdus": pdus.values, "conditions": conditions.values, "shards": entries}
    return out
