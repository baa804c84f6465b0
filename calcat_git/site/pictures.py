"""The constants timeline of a detector: for each calibration, one row per module showing
the months in which constants were injected for it (by ``begin_at``), months with a
bad-quality constant marked red. Gaps and stale modules show at a glance; static SVG,
readable without JavaScript."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape

from calcat_git.model.mapping import SlotPeriod
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import format_timestamp, from_micros, micros

ROW, LABEL, WIDTH, HEAD = 14, 150, 900, 18

Month = int  # months since year 0: year * 12 + month - 1


def _month(moment: datetime) -> Month:
    return moment.year * 12 + moment.month - 1


class Injections:
    """Per (calibration, aggregator): month → [constants, bad ones], gathered row by row."""

    def __init__(self, periods: Iterable[SlotPeriod]) -> None:
        self.cells: dict[tuple[str, str], dict[Month, list[int]]] = defaultdict(dict)
        self.newest: dict[tuple[str, str], int] = {}
        self._slots: dict[str, tuple[list[int], list[tuple[int | None, str]]]] = {}
        for p in sorted(periods, key=lambda p: p.interval.since):
            if p.pdu is not None:
                starts, spans = self._slots.setdefault(p.pdu, ([], []))
                starts.append(micros(p.interval.since))
                spans.append((micros(p.interval.until) if p.interval.until else None, p.aggregator))

    def slot(self, pdu: str, at: int) -> str | None:
        """The slot ``pdu`` held at ``at`` (microseconds), if any."""
        starts, spans = self._slots.get(pdu, ([], []))
        i = bisect.bisect_right(starts, at) - 1
        if i < 0 or (spans[i][0] is not None and at >= spans[i][0]):  # type: ignore[operator]
            return None
        return spans[i][1]

    def add(self, rows: list[CCVRow]) -> None:
        for row in rows:
            aggregator = self.slot(row.pdu, row.begin_at)
            if aggregator is None:
                continue
            key = (row.calibration, aggregator)
            cell = self.cells[key].setdefault(_month(from_micros(row.begin_at)), [0, 0])
            cell[0] += 1
            cell[1] += not row.good_quality
            self.newest[key] = max(self.newest.get(key, row.begin_at), row.begin_at)


def constants_timeline(injections: Injections, calibrations: list[str], aggregators: list[str],
                       end: datetime) -> str:
    """The SVG: a labelled block per calibration with constants, a row per module."""
    used = [c for c in calibrations if any((c, a) in injections.cells for a in aggregators)]
    if not used:
        return "No constants."
    first = min(m for cells in injections.cells.values() for m in cells)
    last = _month(end)
    span = max(last - first + 1, 1)

    def x(month: Month) -> float:
        return LABEL + (WIDTH - LABEL) * (month - first) / span

    height = len(used) * (HEAD + ROW * len(aggregators)) + 20
    parts = [f'<svg class="calcat-constants" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" role="img" aria-label="constants timeline">']
    for year in range(first // 12 + 1, last // 12 + 1):
        at = x(year * 12)
        parts.append(f'<line x1="{at:.1f}" y1="0" x2="{at:.1f}" y2="{height - 16}" stroke="#ddd"/>'
                     f'<text x="{at:.1f}" y="{height - 4}" font-size="10" text-anchor="middle">{year}</text>')
    y = 0
    for calibration in used:
        parts.append(f'<text x="2" y="{y + 13}" font-size="12" font-weight="bold">{escape(calibration)}</text>')
        y += HEAD
        for aggregator in aggregators:
            parts.append(_row(injections, calibration, aggregator, y, x))
            y += ROW
    parts.append("</svg>")
    return "".join(parts)


def _row(injections: Injections, calibration: str, aggregator: str, y: int, x: Callable[[Month], float]) -> str:
    cells = injections.cells.get((calibration, aggregator), {})
    total, bad = sum(c[0] for c in cells.values()), sum(c[1] for c in cells.values())
    newest = injections.newest.get((calibration, aggregator))
    title = (f"{calibration} {aggregator}: {total} constants, {bad} bad, newest "
             f"{format_timestamp(from_micros(newest))}" if newest is not None else f"{calibration} {aggregator}: none")
    out = [f'<g class="module" data-calibration="{escape(calibration)}" data-module="{escape(aggregator)}" '
           f'data-count="{total}" data-bad="{bad}"><title>{escape(title)}</title>'
           f'<text x="12" y="{y + 10}" font-size="10">{escape(aggregator)}</text>']
    months = sorted(cells)
    runs: list[list[int]] = []
    for month in months:  # consecutive months with constants become one bar
        if runs and runs[-1][1] == month - 1:
            runs[-1][1] = month
        else:
            runs.append([month, month])
    for start, stop in runs:
        out.append(f'<rect x="{x(start):.1f}" y="{y + 2}" width="{max(x(stop + 1) - x(start), 1.0):.1f}" '
                   f'height="{ROW - 4}" fill="#5b8fd0"/>')
    for month in months:
        if cells[month][1]:
            out.append(f'<rect class="bad" x="{x(month):.1f}" y="{y + 2}" width="{max(x(month + 1) - x(month), 2.0):.1f}"'
                       f' height="{ROW - 4}" fill="#c62828"/>')
    out.append("</g>")
    return "".join(out)

