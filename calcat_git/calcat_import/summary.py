"""The import summary (the commit message) and its JSON: nothing read is left unmentioned.

Besides what was added, extended, left out and in conflict, it lists every field of a
record that changed between recordings (the newest was kept), the replies and fields
that were not imported (with a count and the reason), and — loudly — every endpoint and
field the importer does not know.
"""

from __future__ import annotations

from typing import Any

from calcat_git.calcat_import.facts import Facts
from calcat_git.calcat_import.plan import Plan

SHOWN = 50   # items per section in the text; the JSON has them all


def _section(title: str, items: list[str], shown: int | None = SHOWN) -> list[str]:
    if not items:
        return []
    lines = ["", f"{title}: {len(items)}", *(f"- {item}" for item in items[:shown])]
    if shown is not None and len(items) > shown:
        lines.append(f"- … and {len(items) - shown} more (all of them in --json)")
    return lines


def summary_text(plan: Plan, facts: Facts) -> str:
    added = ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in sorted(plan.added.items()))
    lines = [f"import-calcat: {added or 'nothing new'}"]
    sections = facts.fields.lines()
    unknown, known = sections[:2], sections[2:]   # the unknown first: they need a newer calcat-git
    for title, items in unknown:
        lines += _section(title, items, None)
    for title, items in (("extended", plan.extended), ("conflicts (left as they are)", plan.conflicts),
                         ("left out", plan.left_out), ("notes", plan.notes)):
        lines += _section(title, items)
    lines += _section("changed between recordings (the most recent recording was imported)", facts.changed, None)
    for title, items in known:
        lines += _section(title, items, None)
    return "\n".join(lines)


def summary_json(plan: Plan, facts: Facts) -> dict[str, Any]:
    return {"added": dict(plan.added), "extended": plan.extended, "conflicts": plan.conflicts,
            "left_out": plan.left_out, "notes": plan.notes, "changed": facts.changed, "fields": facts.fields.to_json()}
