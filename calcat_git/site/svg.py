"""Inline SVG pictures for the site: the mapping timeline of a detector or a PDU.

The SVG is one line inside a ``<div>``, so the markdown engine passes it through as raw
HTML and never reads markdown in it; the free text in it (tooltips holding commit
subjects) goes through ``_text`` as well, which writes line breaks as spaces and every
markup character as a character reference: inert whatever the engine. Names (slots,
PDUs) are validated identifiers and only HTML-escaped.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from html import escape

from calcat_git.model.mapping import SlotPeriod
from calcat_git.timeutil import format_timestamp

ROW, LABEL, WIDTH = 22, 120, 900
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_MARKUP = set("\\`*_{}[]()#+-.!|~:<>&\"'=")


def _text(value: str) -> str:
    """Catalog text for SVG markup: one line, every markup character a character reference."""
    return "".join(f"&#{ord(ch)};" if ch in _MARKUP else ch for ch in _LINE_BREAKS.sub(" ", value))


def colour(name: str) -> str:
    """A stable, readable colour per PDU name."""
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue},55%,62%)"


def timeline(rows: list[tuple[str, list[SlotPeriod]]], start: datetime, end: datetime,
             marks: list[tuple[datetime, str]] | None = None) -> str:
    """One row per slot (label, periods); ``marks`` are (time, tooltip) of backdated changes."""
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return LABEL + (WIDTH - LABEL) * max(0.0, min(1.0, (moment - start).total_seconds() / span))

    height = ROW * len(rows) + 30
    parts = ['<div class="calcat-timeline-box">',
             f'<svg class="calcat-timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" role="img" aria-label="mapping timeline">']
    for year in range(start.year + 1, end.year + 1):
        at = x(start.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0))
        parts.append(f'<line x1="{at:.1f}" y1="0" x2="{at:.1f}" y2="{height - 18}" stroke="#ccc"/>'
                     f'<text x="{at:.1f}" y="{height - 5}" font-size="10" text-anchor="middle">{year}</text>')
    for i, (label, periods) in enumerate(rows):
        y = i * ROW
        parts.append(f'<g class="slot" data-slot="{escape(label)}"><text x="4" y="{y + 15}" font-size="11">'
                     f"{escape(label)}</text>")
        for p in periods:
            if p.pdu is None:
                continue
            x0, x1 = x(p.interval.since), x(p.interval.until or end)
            until = format_timestamp(p.interval.until) if p.interval.until else "now"
            parts.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{ROW - 6}" '
                         f'fill="{colour(p.pdu)}" data-pdu="{escape(p.pdu)}"><title>{escape(p.pdu)}: '
                         f"{format_timestamp(p.interval.since)} – {until}</title></rect>")
        parts.append("</g>")
    for moment, tip in marks or []:
        parts.append(f'<path class="backdated" d="M{x(moment):.1f},0 l-5,-0 l5,9 l5,-9 z" fill="#c62828">'
                     f"<title>{_text(tip)}</title></path>")
    parts.append("</svg></div>")
    return "".join(parts)
