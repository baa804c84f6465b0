"""``Catalog.from_site``: read-only look-ups from a published site's static JSON API
(a folder or an http(s) URL), with the same selection rules as the Python API."""

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
from calcat_git.model.records import Detector
from calcat_git.model.selection import CCVRow, select
from calcat_git.timeutil import ensure_utc, micros, now_utc, parse_timestamp


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

    def mapping(self, detector: str, at: datetime | str | None = None) -> dict[str, str | None]:
        det = self.detector(detector)
        raw = self._get(f"detectors/{detector}.json")["mapping"]
        state = Mapping.from_dict(raw).state_at(now_utc() if at is None else ensure_utc(at)) if raw else {}
        return {agg: state.get(agg) for agg in det.aggregators}

    def _rows(self, detector: str) -> list[CCVRow]:
        rows = []
        for shard in self._get(f"detectors/{detector}.json")["ccv_shards"]:
            for r in self._get(f"ccvs/{shard}.json"):
                rows.append(CCVRow(ccv_id=r["ccv_id"], detector=shard, calibration=r["calibration"], pdu=r["pdu"],
                                   begin_at=micros(parse_timestamp(r["begin_at"])),
                                   end_at=micros(parse_timestamp(r["end_at"])) if r.get("end_at") else None,
                                   file=r["file"], dataset=r["dataset"], sha256="", good_quality=r["good_quality"],
                                   deployed=r.get("deployed", True), conditions=r["conditions"], batch="",
                                   report_id=None, report_path=r.get("report", ""), calcat_id=None))
        return rows

    def lookup(self, detector: str, asked: dict[str, dict[str, float | str]], event_at: datetime | str,
               strategy: str = "closest") -> dict[str, dict[str, CCVRow]]:
        """Calibration → aggregator → chosen CCV (modules without one are left out)."""
        moment = ensure_utc(event_at, "event_at")
        event_us, slots, rows = micros(moment), self.mapping(detector, moment), self._rows(detector)
        defaults = {k: (float(v[0]), float(v[1])) for k, v in self._get("parameters.json").items()}
        found: dict[str, dict[str, CCVRow]] = {}
        for calibration, conditions in asked.items():
            for aggregator, pdu in slots.items():
                candidates = [r for r in rows if r.pdu == pdu and r.calibration == calibration]
                best = select(candidates, conditions, defaults, event_us, strategy) if pdu else None
                if best is not None:
                    found.setdefault(calibration, {})[aggregator] = best
        return found
