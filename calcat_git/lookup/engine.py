"""The constant look-up engine: the selection rules of ``selection`` applied per
calibration and module. The catalog's back end (its index, or its records loaded in
memory: ``Catalog.backend``) returns candidates; the engine chooses (``selection.choose``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError
from calcat_git.index.seeks import Seek
from calcat_git.lookup.rules import Asks, check_calibrations
from calcat_git.model.records import Detector
from calcat_git.model.selection import (
    Asked,
    CCVRow,
    Deviations,
    Question,
    check_strategy,
    choose,
    condition_mismatch,
    eligibility,
    why_missing,
)
from calcat_git.timeutil import ensure_utc, format_timestamp, from_micros, micros


@dataclass
class Outcome:
    """What a look-up found, per calibration and module, and why not elsewhere.

    ``missing`` is worked out on first use (a reply that shows no reasons, such as
    CALCAT's, never pays for them): ``explain(calibration, pdu)`` gives the reason for a
    PDU without a chosen CCV."""

    catalog: Catalog
    detector: Detector
    event_at: datetime
    strategy: str
    pdus: dict[str, str | None]
    found: dict[str, dict[str, CCVRow]] = field(default_factory=dict)
    explain: Callable[[str, str], str] | None = None
    problems: list[str] = field(default_factory=list)  # what the answer says besides (Catalog.check_loads)
    _missing: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @property
    def missing(self) -> dict[str, dict[str, str]]:
        for calibration, reasons in self._missing.items():
            for aggregator, reason in reasons.items():
                if reason is None:
                    pdu = self.pdus[aggregator]
                    assert self.explain is not None and pdu is not None
                    reasons[aggregator] = f"{pdu}: " + self.explain(calibration, pdu)
        return self._missing  # type: ignore[return-value]  # every None was just replaced


class Engine:
    """Look-ups in one catalog snapshot."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.backend = catalog.backend
        self._defaults: Deviations | None = None

    @property
    def defaults(self) -> Deviations:
        if self._defaults is None:
            self._defaults = self.catalog.parameter_deviations()
        return self._defaults

    def candidates(self, pdu: str, calibration: str) -> list[CCVRow]:
        """Every CCV of ``pdu`` and ``calibration`` in this snapshot."""
        return self.backend.ccvs_of(pdu, calibration)

    def best(self, question: Question, pdus: list[str]) -> dict[str, CCVRow | Seek]:
        """Per PDU, the candidate the selection rules choose (PDUs with none are left out)."""
        by_pdu: dict[str, list[CCVRow | Seek]] = {}
        for candidate in self.backend.candidates(question, pdus, self.defaults):
            by_pdu.setdefault(candidate.pdu, []).append(candidate)
        chosen = {}
        for pdu, candidates in by_pdu.items():
            winner = choose(candidates, question.event_us, question.strategy)
            if winner is not None:
                chosen[pdu] = winner
        return chosen

    def report_rows(self, report: int | str) -> list[CCVRow]:
        """Every CCV of a report (by id or store path) in this snapshot."""
        return self.backend.report_ccvs(report)

    def why_missing(self, question: Question, pdu: str) -> str:
        sets = self.backend.condition_summary(pdu, question.calibration)
        matching = self.backend.matching(pdu, question, self.defaults) if sets else []
        return why_missing(sets, matching, question, self.defaults)

    def run(self, detector: str, asked: Asks | dict[str, Asked], event_at: datetime | str,
            strategy: str = "closest", include_bad: bool = False,
            pdus: dict[str, str | None] | None = None) -> Outcome:
        """Select per calibration and module. ``asked``: as the detector type's rules made it
        (``LookupRules.asked``/``explicit``, calibrations checked there), or per calibration as
        is (its calibrations are checked here). ``pdus`` (slot → PDU) replaces the mapping at
        ``event_at`` of this snapshot, e.g. one read at another time or from another snapshot."""
        check_strategy(strategy)
        problems = self.catalog.check_loads(detector)
        moment = ensure_utc(event_at, "event_at")
        event_us = micros(moment)
        det = self.catalog.detector(detector)
        if not isinstance(asked, Asks):
            check_calibrations(self.catalog.detector_type(det.type_name()), list(asked))
        elif asked.detector_type != det.type_name():
            raise InvalidInputError(f"conditions of {asked.detector_type} asked of {detector} ({det.type_name()})")
        by_calibration = asked.by_calibration if isinstance(asked, Asks) else asked
        questions = {calibration: Question(calibration=calibration, asked=conditions, event_us=event_us,
                                           strategy=strategy, include_bad=include_bad)
                     for calibration, conditions in by_calibration.items()}
        outcome = Outcome(catalog=self.catalog, detector=det, event_at=moment, strategy=strategy,
                          pdus=self.catalog.mapping(detector, at=moment) if pdus is None else pdus,
                          explain=lambda calibration, pdu: self.why_missing(questions[calibration], pdu),
                          problems=problems)
        mapped = sorted({pdu for pdu in outcome.pdus.values() if pdu is not None})
        places: list[tuple[str, str]] = []  # (calibration, aggregator) of each chosen candidate
        chosen: list[CCVRow | Seek] = []
        for calibration, question in questions.items():
            missing = outcome._missing.setdefault(calibration, {})
            outcome.found[calibration] = {}
            best = self.best(question, mapped)
            for aggregator, pdu in outcome.pdus.items():
                if pdu is None:
                    missing[aggregator] = f"no PDU mapped to {aggregator} at {format_timestamp(moment)}"
                elif pdu in best:
                    places.append((calibration, aggregator))
                    chosen.append(best[pdu])
                else:
                    missing[aggregator] = None  # explained on first use of outcome.missing
        for (calibration, aggregator), row in zip(places, self.backend.load(chosen), strict=True):
            outcome.found[calibration][aggregator] = row
        return outcome

    def explain(self, outcome: Outcome, asked: Asks | dict[str, Asked], include_bad: bool = False) -> list[str]:
        """Every candidate considered per calibration and module, and why it won or lost."""
        lines = []
        for calibration, conditions in (asked.by_calibration if isinstance(asked, Asks) else asked).items():
            question = Question(calibration=calibration, asked=conditions, event_us=micros(outcome.event_at),
                                strategy=outcome.strategy, include_bad=include_bad)
            for aggregator, pdu in outcome.pdus.items():
                winner = outcome.found.get(calibration, {}).get(aggregator)
                head = f"{calibration} {aggregator} ({pdu or 'no PDU'}):"
                lines.append(f"{head} " + (f"chose {winner.ccv_id[:12]}" if winner else
                                           outcome.missing[calibration][aggregator]))
                for row in self.candidates(pdu, calibration) if pdu else []:
                    lines.append(f"    {row.ccv_id[:12]} begin_at {format_timestamp(from_micros(row.begin_at))}: "
                                 + self._verdict(row, winner, question))
        return lines

    def _verdict(self, row: CCVRow, winner: CCVRow | None, question: Question) -> str:
        if winner is not None and row.ccv_id == winner.ccv_id:
            return "WINNER"
        event_us, strategy = question.event_us, question.strategy
        why = condition_mismatch(row.conditions, question.asked, self.defaults) \
            or eligibility(row, event_us, question.include_bad)
        if why:
            return f"lost: {why}"
        if strategy == "prior" and row.begin_at > event_us:
            return "lost: begins after event_at ('prior')"
        if winner is None:
            return "lost"
        return f"lost: {abs(row.begin_at - event_us) / 3.6e9:.1f} h from event_at, winner " \
               f"{abs(winner.begin_at - event_us) / 3.6e9:.1f} h" if strategy == "closest" else "lost: an older begin_at"
