"""The static JSON API's constants, sharded so that a page fetches only what it shows.

A detector's CCVs (those filed under it) are cut by calibration and quarter of
``begin_at`` into ``api/v1/ccvs/<detector>/<calibration>/<YYYY>-Q<n>.json``; beside them,
``index.json`` lists every shard with its count, ``begin_at`` range, PDUs and condition
sets (so a reader picks the shards a question needs before fetching any), and
``recent.json`` holds the detector's newest rows (a page's first screen). Shards are
compact: a row is a list in the order of ``columns``; PDU names and condition sets are
stored once per shard and referred to by position. Beside each shard, ``*.details.json``
holds each row's store file, dataset and report (same order), which neither the tables
nor the look-up page need.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from calcat_git.catalog.published import COLUMNS, DETAIL_COLUMNS, period_of
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


def shard(detector: str, rows: list[CCVRow], condition_key: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A shard document of ``rows`` and its details (store file, dataset, report of each row,
    in the same order: what a page shows needs none of them, so they are read apart)."""
    pdus, conditions, reports = _Table(), _Table(), _Table()
    packed = [[r.ccv_id, r.calibration, pdus.at(r.pdu), format_timestamp(from_micros(r.begin_at)),
               format_timestamp(from_micros(r.end_at)) if r.end_at is not None else None,
               conditions.at(r.conditions, condition_key(r.conditions)), r.good_quality, r.deployed] for r in rows]
    details = [[r.file, r.dataset, reports.at(r.report_path)] for r in rows]
    return ({"detector": detector, "columns": list(COLUMNS), "pdus": pdus.values, "conditions": conditions.values,
             "rows": packed},
            {"detector": detector, "columns": list(DETAIL_COLUMNS), "reports": reports.values, "rows": details})


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
        out[path], out[path.replace(".json", ".details.json")] = shard(detector, group, condition_key)
        entries.append({"path": path.split("/", 1)[1], "calibration": calibration, "period": period,
                        "count": len(group), "first": format_timestamp(from_micros(group[0].begin_at)),
                        "last": format_timestamp(from_micros(group[-1].begin_at)),
                        "pdus": sorted({pdus.at(r.pdu) for r in group}),
                        "conditions": sorted({conditions.at(r.conditions, condition_key(r.conditions))
                                              for r in group})})
    out[f"{detector}/recent.json"], out[f"{detector}/recent.details.json"] = shard(detector, rows[-RECENT_ROWS:],
                                                                                     condition_key)
    out[f"{detector}/index.json"] = {"detector": detector, "count": len(rows), "recent": "recent.json",
                                     "pdus": pdus.values, "conditions": conditions.values, "shards": entries}
    return out
