"""The constant look-up engine: the selection rules of ``selection`` applied per
calibration and module, through the index when there is one, else over the records
read at the snapshot (the brute-force way the tests compare against)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.index.parse import batch_rows
from calcat_git.model.records import Detector, DetectorType
from calcat_git.model.selection import (
    STRATEGIES,
    Asked,
    CCVRow,
    Deviations,
    condition_mismatch,
    eligibility,
    select,
    why_missing,
)
from calcat_git.timeutil import ensure_utc, format_timestamp, from_micros, micros, now_utc


@dataclass
class Outcome:
    """What a look-up found, per calibration and module, and why not elsewhere."""

    catalog: Catalog
    detector: Detector
    event_at: datetime
    strategy: str
    pdus: dict[str, str | None]
    found: dict[str, dict[str, CCVRow]] = field(default_factory=dict)
    missing: dict[str, dict[str, str]] = field(default_factory=dict)


def registry_rows(catalog: Catalog) -> dict[tuple[str, str], list[CCVRow]]:
    """Every CCV of the snapshot's records by (PDU, calibration): the brute-force source."""
    rows: dict[tuple[str, str], list[CCVRow]] = defaultdict(list)
    for path, batch in catalog.registry.batches.items():
        for row in batch_rows(batch, path):
            rows[(row.pdu, row.calibration)].append(row)
    return rows


def check_calibrations(dtype: DetectorType, names: list[str]) -> None:
    """Every name is a calibration of the detector type; else one line with the closest."""
    known = dtype.calibrations
    for calibration in names:
        if calibration not in known:
            hint = closest_names(calibration, list(known)) or f" (it has {', '.join(known)})"
            raise NotFoundError(f"{dtype.identifier} has no calibration {calibration!r}{hint}")


class Engine:
    """Look-ups in one catalog snapshot."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = catalog.index_at_snapshot()
        self._brute: dict[tuple[str, str], list[CCVRow]] | None = None
        self._defaults: Deviations | None = None

    @property
    def defaults(self) -> Deviations:
        if self._defaults is None:
            self._defaults = self.catalog.parameter_deviations()
        return self._defaults

    def candidates(self, pdu: str, calibration: str) -> list[CCVRow]:
        """Every CCV of ``pdu`` and ``calibration`` in this snapshot."""
        if self.index is not None:
            return self.index[0].ccvs_of(pdu, calibration, self.index[1])
        if self._brute is None:
            self._brute = registry_rows(self.catalog)
        return self._brute.get((pdu, calibration), [])

    def best(self, pdus: list[str], calibration: str, asked: Asked, event_us: int, strategy: str,
             include_bad: bool) -> dict[str, CCVRow]:
        """Per PDU, the CCV the selection rules choose (PDUs with none are left out)."""
        if self.index is not None:
            index, seq = self.index
            ids = index.matching_conditions(asked, self.defaults)
            return index.best_ccvs(pdus, calibration, ids, seq, event_us, strategy, include_bad)
        chosen = {}
        for pdu in pdus:
            row = select(self.candidates(pdu, calibration), asked, self.defaults, event_us, strategy, include_bad)
            if row is not None:
                chosen[pdu] = row
        return chosen

    def report_rows(self, report: int | str) -> list[CCVRow]:
        """Every CCV of a report (by id or store path) in this snapshot."""
        if self.index is not None:
            index, seq = self.index
            return index.report_ccvs(report, seq)
        if self._brute is None:
            self._brute = registry_rows(self.catalog)
        return [r for rows in self._brute.values() for r in rows if report in (r.report_id, r.report_path)]

    def why_missing(self, pdu: str, calibration: str, asked: Asked, event_us: int, strategy: str,
                    include_bad: bool) -> str:
        if self.index is not None:
            index, seq = self.index
            sets = index.condition_summary(pdu, calibration, seq)
            matching = index.ccvs_of(pdu, calibration, seq, index.matching_conditions(asked, self.defaults)) \
                if sets else []
        else:
            rows = self.candidates(pdu, calibration)
            newest: dict[str, tuple[dict[str, Any], int]] = {}
            for r in rows:
                key = json.dumps(r.conditions, sort_keys=True)
                newest[key] = (r.conditions, max(r.begin_at, newest.get(key, ({}, r.begin_at))[1]))
            sets = list(newest.values())
            matching = [r for r in rows if condition_mismatch(r.conditions, asked, self.defaults) is None]
        return why_missing(sets, matching, asked, self.defaults, event_us, strategy, include_bad)

    def run(self, detector: str, asked: dict[str, Asked], event_at: datetime | str | None = None,
            strategy: str = "closest", include_bad: bool = False,
            pdus: dict[str, str | None] | None = None) -> Outcome:
        """Select per calibration and module; ``pdus`` (slot → PDU) replaces the mapping at
        ``event_at`` of this snapshot, e.g. one read at another time or from another snapshot."""
        if strategy not in STRATEGIES:
            raise InvalidInputError(f"unknown begin_at strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
        moment = now_utc() if event_at is None else ensure_utc(event_at, "event_at")
        det = self.catalog.detector(detector)
        check_calibrations(self.catalog.detector_type(det.type_name()), list(asked))
        outcome = Outcome(catalog=self.catalog, detector=det, event_at=moment, strategy=strategy,
                          pdus=self.catalog.mapping(detector, at=moment) if pdus is None else pdus)
        event_us = micros(moment)
        mapped = sorted({pdu for pdu in outcome.pdus.values() if pdu is not None})
        for calibration, conditions in asked.items():
            found, missing = outcome.found.setdefault(calibration, {}), outcome.missing.setdefault(calibration, {})
            chosen = self.best(mapped, calibration, conditions, event_us, strategy, include_bad)
            for aggregator, pdu in outcome.pdus.items():
                if pdu is None:
                    missing[aggregator] = f"no PDU mapped to {aggregator} at {format_timestamp(moment)}"
                elif pdu in chosen:
                    found[aggregator] = chosen[pdu]
                else:
                    missing[aggregator] = f"{pdu}: " + self.why_missing(pdu, calibration, conditions, event_us, strategy,
                                                                         include_bad)
        return outcome

    def explain(self, outcome: Outcome, asked: dict[str, Asked], include_bad: bool = False) -> list[str]:
        """Every candidate considered per calibration and module, and why it won or lost."""
        lines = []
        event_us = micros(outcome.event_at)
        for calibration, conditions in asked.items():
            for aggregator, pdu in outcome.pdus.items():
                winner = outcome.found.get(calibration, {}).get(aggregator)
                head = f"{calibration} {aggregator} ({pdu or 'no PDU'}):"
                lines.append(f"{head} " + (f"chose {winner.ccv_id[:12]}" if winner else
                                           outcome.missing[calibration][aggregator]))
                for row in self.candidates(pdu, calibration) if pdu else []:
                    lines.append(f"    {row.ccv_id[:12]} begin_at {format_timestamp(from_micros(row.begin_at))}: "
                                 + self._verdict(row, winner, conditions, event_us, outcome.strategy, include_bad))
        return lines

    def _verdict(self, row: CCVRow, winner: CCVRow | None, asked: Asked, event_us: int, strategy: str,
                 include_bad: bool) -> str:
        if winner is not None and row.ccv_id == winner.ccv_id:
            return "WINNER"
        why = condition_mismatch(row.conditions, asked, self.defaults) or eligibility(row, event_us, include_bad)
        if why:
            return f"lost: {why}"
        if strategy == "prior" and row.begin_at > event_us:
            return "lost: begins after event_at ('prior')"
        if winner is None:
            return "lost"
        return f"lost: {abs(row.begin_at - event_us) / 3.6e9:.1f} h from event_at, winner " \
               f"{abs(winner.begin_at - event_us) / 3.6e9:.1f} h" if strategy == "closest" else "lost: an older begin_at"
