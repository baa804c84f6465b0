"""A detector page's constants table: its first screen is in the page's HTML, the rest in JSON.

The 50 newest constants (those of the detector's ``recent.json``) are written into the
table as the page is generated, so they show as soon as the browser has parsed that far,
without JavaScript and without waiting for the theme. ``assets/ccv-table.js``, loaded right
after the table, then reads the JSON API, renders the same rows again (a browser test
checks they are identical) and wires the filters. Cells are written exactly as that script
writes them: module by the same fold of the mapping, conditions as JavaScript prints them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any

from calcat_git.model.mapping import Mapping
from calcat_git.model.selection import CCVRow
from calcat_git.site.shards import RECENT_ROWS
from calcat_git.timeutil import format_timestamp, from_micros

CCV_TABLE = """<div class="ccv-table" data-src="{src}" data-detector="{detector}" markdown="0">
<style>.ccv-table {{ overflow-x: auto }} .ccv-table td {{ white-space: nowrap }}</style>
<select data-filter="calibration"><option value="">all calibrations</option></select>
<input data-filter="module" placeholder="module{module_hint}" size="14">
<input data-filter="pdu" placeholder="PDU name">
<input data-filter="condition" placeholder="condition{condition_hint}">
<input data-filter="since" type="date"> – <input data-filter="until" type="date">
<span class="ccv-count">{count}</span>
<table><thead><tr><th>calibration</th><th>module</th><th>PDU</th><th>begin_at</th>
<th title="values in the order of the parameters; hover a cell for their names; 〃: as the row above">conditions</th><th>good</th>
<th>CCV</th></tr></thead>
<tbody>{rows}</tbody></table>
</div>
<script src="{assets}ccv-table.js"></script>"""


def js_text(value: Any) -> str:
    """``value`` (a JSON scalar) as JavaScript's ``String(value)`` writes it."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if not isinstance(value, float):
        return str(value)
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()  # the shortest digits, as JavaScript's
    assert isinstance(exponent, int)
    d = "".join(map(str, digits))
    k, n = len(d), len(d) + exponent  # value = 0.d × 10^n
    if k <= n <= 21:
        text = d + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{d[:n]}.{d[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + d
    else:
        text = f"{d[0]}{'.' + d[1:] if k > 1 else ''}e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return ("-" if sign else "") + text


SAME = "〃"  # a row's conditions equal to the row above's: shown once, as in a printed table


def _value(v: Any) -> Any:
    return v["value"] if isinstance(v, dict) else v


def condition_text(conditions: dict[str, Any]) -> str:
    """``name=value, …``: what the condition filter searches and a cell's tooltip shows."""
    return ", ".join(f"{k}={js_text(_value(v))}" for k, v in conditions.items())


def condition_values(conditions: dict[str, Any]) -> str:
    """The values only, ``352 · 300 · 1.1``: a condition in a narrow cell (names on hover)."""
    return " · ".join(js_text(_value(v)) for v in conditions.values())


def slot_of(mapping: Mapping | None, pdu: str, moment: datetime) -> str:
    """The slot holding ``pdu`` at ``moment`` (the script's fold of the mapping changes)."""
    slot = ""
    for change in sorted(mapping.changes, key=lambda c: c.valid_from) if mapping else []:
        if change.valid_from > moment:
            break
        for aggregator, held in change.modules:
            if held == pdu:
                slot = aggregator
            elif slot == aggregator:
                slot = ""
    return slot


def ccv_table(name: str, rows: list[CCVRow], mapping: Mapping | None) -> str:
    """The table of detector ``name`` (its CCVs by begin_at), with its first screen filled."""
    recent = [(format_timestamp(from_micros(r.begin_at)), r) for r in rows[-RECENT_ROWS:]]
    recent.sort(key=lambda br: (br[0], br[1].ccv_id), reverse=True)  # the script's newest first
    lines, above = [], None
    for begin_at, r in recent:
        full = condition_text(r.conditions)
        short = SAME if full == above else condition_values(r.conditions)
        above = full
        plain = (r.calibration, slot_of(mapping, r.pdu, from_micros(r.begin_at)), r.pdu, begin_at)
        lines.append("<tr>" + "".join(f"<td>{escape(t)}</td>" for t in plain)
                    + f'<td class="cond" title="{escape(full)}">{escape(short)}</td>'
                    + f"<td>{'yes' if r.good_quality else 'no'}</td><td>{escape(r.ccv_id[:12])}</td></tr>")
    html = "".join(lines)
    count = f"{len(rows)} of {len(rows)} constants match" + (f" (newest {RECENT_ROWS} shown)"
                                                              if len(rows) > RECENT_ROWS else "")
    return CCV_TABLE.format(src=f"../../api/v1/ccvs/{name}/index.json", detector=f"../../api/v1/detectors/{name}.json",
                            count=count, rows=html, assets="../../assets/", **_hints(recent, mapping))


def _hints(recent: list[tuple[str, CCVRow]], mapping: Mapping | None) -> dict[str, str]:
    """The filters' placeholders, from this detector's newest constant (never another facility's names)."""
    if not recent:
        return {"module_hint": "", "condition_hint": ""}
    row = recent[0][1]
    slot = slot_of(mapping, row.pdu, from_micros(row.begin_at))
    condition = next(iter(sorted(row.conditions.items())), None)
    return {"module_hint": escape(f", e.g. {slot}") if slot and slot != "-" else "",
            "condition_hint": escape(f", e.g. {condition[0]}={js_text(condition[1])}") if condition else ""}
