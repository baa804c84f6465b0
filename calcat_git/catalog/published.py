"""``Catalog.from_site``: read-only look-ups from a published site's static JSON API
(a folder or an http(s) URL), with the same selection rules as the Python API.

The shard format of ``api/v1/ccvs/`` is defined here (``COLUMNS``, :func:`period_of`,
:func:`unpack_shard`): the site writes it, this reader and the site's scripts read it."""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.model.mapping import Mapping
from calcat_git.model.records import PDU, Detector
from calcat_git.model.selection import CCVRow, select
from calcat_git.timeutil import ensure_utc, from_micros, micros, now_utc, parse_timestamp

COLUMNS = ("ccv_id", "calibration", "pdu", "begin_at", "end_at", "condition", "good_quality", "deployed")
"""A shard row, in order (``pdu``, ``condition``: positions in the shard's tables)."""
DETAIL_COLUMNS = ("file", "dataset", "report")
"""A row of a shard's details file, in order (``report``: a position in its ``reports``)."""


class SiteCatalog:
    """A catalog as published under ``<site>/api/v1/``."""

    def __init__(self, base: str | os.PathLike[str]) -> None:
        self.base = str(base).rstrip("/")

    @cache  # noqa: B019 - one reader per site, kept for the process
    def _get(self, path: str) -> Any:
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise InvalidInputError(f"refusing API path {path!r}: it would leave the site's api/v1/")
        if self.base.startswith(("http://", "https://")):
            with urlopen(f"{self.base}/api/v1/{path}", timeout=30) as reply:
                return json.load(reply)
        return json.loads((Path(self.base) / "api" / "v1" / path).read_text("utf-8"))

    def names(self) -> list[str]:
        return sorted(self._get("detectors.json"))

    def detector(self, name: str) -> Detector:
        detectors = self._get("detectors.json")
        if name not in detectors:
            raise NotFoundError(f"unknown detector {name!r}{closest_names(name, list(detectors))}")
        return Detector.from_dict(detectors[name])

    def pdu(self, name: str) -> PDU:
        pdus = self._get("pdus.json")
        if name not in pdus:
            raise NotFoundError(f"unknown PDU {name!r}{closest_names(name, list(pdus))}")
        return PDU.from_dict(pdus[name])

    def mapping(self, detector: str, at: datetime | str | None = None) -> dict[str, str | None]:
        det = self.detector(detector)
        raw = self._get(f"detectors/{detector}.json")["mapping"]
        state = Mapping.from_dict(raw).state_at(now_utc() if at is None else ensure_utc(at)) if raw else {}
        return {agg: state.get(agg) for agg in det.aggregators}

    def _rows(self, detector: str, calibrations: set[str], pdus: set[str]) -> list[CCVRow]:
        """The CCVs of ``pdus`` and ``calibrations`` in every shard that may hold them (the
        shard indexes name each shard's PDUs, so other shards are never read)."""
        rows = []
        for folder in self._get(f"detectors/{detector}.json")["ccv_shards"]:
            index = self._get(f"ccvs/{folder}/index.json")
            wanted = {i for i, name in enumerate(index["pdus"]) if name in pdus}
            for entry in index["shards"]:
                if entry["calibration"] in calibrations and wanted.intersection(entry["pdus"]):
                    path = f"ccvs/{folder}/{entry['path']}"
                    shard = unpack_shard(self._get(path), self._get(path.replace(".json", ".details.json")))
                    rows += [_row(folder, r) for r in shard if r["pdu"] in pdus]
        return rows

    def lookup(self, detector: str, asked: dict[str, dict[str, float | str]], event_at: datetime | str,
               strategy: str = "closest") -> dict[str, dict[str, CCVRow]]:
        """Calibration → aggregator → chosen CCV (modules without one are left out)."""
        moment = ensure_utc(event_at, "event_at")
        event_us, slots = micros(moment), self.mapping(detector, moment)
        rows = self._rows(detector, set(asked), {p for p in slots.values() if p})
        defaults = {k: (float(v[0]), float(v[1])) for k, v in self._get("parameters.json").items()}
        found: dict[str, dict[str, CCVRow]] = {}
        for calibration, conditions in asked.items():
            for aggregator, pdu in slots.items():
                candidates = [r for r in rows if r.pdu == pdu and r.calibration == calibration]
                best = select(candidates, conditions, defaults, event_us, strategy) if pdu else None
                if best is not None:
                    found.setdefault(calibration, {})[aggregator] = best
        return found


def _row(detector: str, r: dict[str, Any]) -> CCVRow:
    return CCVRow(ccv_id=r["ccv_id"], detector=detector, calibration=r["calibration"], pdu=r["pdu"],
                  begin_at=micros(parse_timestamp(r["begin_at"])),
                  end_at=micros(parse_timestamp(r["end_at"])) if r["end_at"] else None, file=r["file"],
                  dataset=r["dataset"], sha256="", good_quality=r["good_quality"], deployed=r["deployed"],
                  conditions=r["conditions"], batch="", report_id=None, report_path=r["report"], calcat_id=None)


def period_of(begin_at: int) -> str:
    """The shard period of a ``begin_at`` (microseconds): its quarter, e.g. ``2024-Q2`` (UTC)."""
    moment = from_micros(begin_at)
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def unpack_shard(doc: dict[str, Any], details: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A CCV shard's rows as objects named by its ``columns`` (PDU and condition set resolved
    from the shard's tables), with ``file``, ``dataset`` and ``report`` when its ``details``
    are given."""
    out = []
    for i, packed in enumerate(doc["rows"]):
        row = dict(zip(doc["columns"], packed, strict=True))
        row["pdu"] = doc["pdus"][row["pdu"]]
        row["conditions"] = doc["conditions"][row.pop("condition")]
        if details is not None:
            row.update(zip(details["columns"], details["rows"][i], strict=True))
            row["report"] = details["reports"][row["report"]]
        out.append(row)
    return out
