"""``diff``: a reviewer's summary of a change, as markdown (a PR comment) or JSON."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from calcat_git.catalog.sets import invalid_sets
from calcat_git.files.loading import Registry
from calcat_git.files.parse import SETS_FILE
from calcat_git.model.mapping import Mapping
from calcat_git.model.problems import Problem
from calcat_git.review.records import record_changes
from calcat_git.review.rules import Change
from calcat_git.timeutil import format_span

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    return format_span(delta)  # the same words as `check`


def _answer_changes(old: Mapping | None, new: Mapping) -> list[tuple[str, str | None, str | None, datetime, datetime]]:
    """Where the slot answers differ between the base's and the head's mapping: (slot, base
    PDU, head PDU, from, until), adjacent intervals with the same difference merged."""
    times = sorted({c.valid_from for c in new.changes} | {c.valid_from for c in (old.changes if old else ())})
    out: list[tuple[str, str | None, str | None, datetime, datetime]] = []
    for start, until in zip(times, [*times[1:], FAR_FUTURE], strict=True):
        was = old.state_at(start) if old else {}
        now = new.state_at(start)
        for slot in sorted(set(was) | set(now)):
            if was.get(slot) == now.get(slot):
                continue
            last = next((k for k in range(len(out) - 1, -1, -1) if out[k][0] == slot), None)
            if last is not None and out[last][1:3] == (was.get(slot), now.get(slot)) and out[last][4] == start:
                out[last] = (*out[last][:4], until)
            else:
                out.append((slot, was.get(slot), now.get(slot), start, until))
    return sorted(out, key=lambda d: (d[3], d[0]))


def mapping_sentences(ch: Change) -> dict[str, list[str]]:
    """Per detector, one sentence per slot whose answer the change alters: which PDU it
    named before and names now, over which validity window, how late (backdated), and the
    correction's reason where a past change was corrected."""
    out: dict[str, list[str]] = {}
    committed = ch.head_commit.committed_at
    for name, new in sorted(ch.head.mappings.items()):
        old = ch.base.mappings.get(name)
        known = set(old.changes) if old else set()
        corrections = {c.valid_from: c.correction for c in new.changes if c not in known and c.correction}
        for slot, was, now, start, until in _answer_changes(old, new):
            text = f"{slot}: {was or '(empty)'} → {now or '(empty)'} from {_when(start)}"
            if until != FAR_FUTURE:
                text += f" until {_when(until)}"
            if start < committed - ch.grace:
                uses = f"use {now}'s constants" if now else f"have no PDU in {slot}"
                taken = "then" if until != FAR_FUTURE else "since then"
                text += f", backdated {_span(committed - start)}: RAW data taken {taken} will now {uses}"
            why = corrections.get(start) or next((w for t, w in corrections.items() if t <= start < until), None)
            if why:
                text += f" (correction: {why})"
            out.setdefault(name, []).append(text)
    return out


def _homes(reg: Registry) -> dict[str, str]:
    """PDU → detector holding it in the newest mapping state."""
    return {pdu: name for name, m in reg.mappings.items() for pdu in m.state_at(FAR_FUTURE).values() if pdu}


def pdu_changes(ch: Change) -> dict[str, list[str]]:
    base_home, head_home = _homes(ch.base), _homes(ch.head)
    return {
        "added": sorted(set(ch.head.pdus) - set(ch.base.pdus)),
        "retired": sorted(n for n, p in ch.head.pdus.items()
                          if p.status == "retired" and n in ch.base.pdus and ch.base.pdus[n].status != "retired"),
        "moved": sorted(f"{n}: {base_home[n]} → {head_home[n]}" for n in set(base_home) & set(head_home)
                        if base_home[n] != head_home[n]),
    }


def constant_changes(ch: Change) -> tuple[list[dict[str, Any]], list[str]]:
    """Constants added (grouped by detector, calibration, report) and flag flips."""
    added: Counter[tuple[str, str, str]] = Counter()
    conditions: dict[tuple[str, str, str], dict[str, Any]] = {}
    flips = []
    for path, batch in sorted(ch.head.batches.items()):
        old = ch.base.batches.get(path)
        if old is None:
            for ccv in batch.constants:
                key = (batch.detector, ccv.calibration, batch.report.path)
                added[key] += 1
                conditions[key] = {c.name: c.to_item() for c in batch.conditions_for(ccv)}
            continue
        before = {c.identity(old): c for c in old.constants}
        for ccv in batch.constants:
            was = before.get(ccv.identity(batch))
            new_reasons = [f.reason for f in ccv.flagged[len(was.flagged):]] if was is not None else []
            why = f" (reason: {'; '.join(new_reasons)})" if new_reasons else " (no reason given)"
            for flag in ("good_quality", "deployed"):
                if was is not None and getattr(was, flag) != getattr(ccv, flag):
                    flips.append(f"{batch.detector} {ccv.calibration} {ccv.pdu} begin_at "
                                 f"{_when(ccv.begin_at)}: {flag} {getattr(was, flag)} → {getattr(ccv, flag)}{why}")
    groups = [{"detector": d, "calibration": c, "report": r, "count": n, "conditions": conditions[(d, c, r)]}
              for (d, c, r), n in sorted(added.items())]
    return groups, flips


def set_changes(ch: Change) -> list[str]:
    """Published sets marked invalid by the change (``published-sets.yaml``), with their reasons."""
    if not ch.base_sha or not any(path == SETS_FILE for _, path in ch.paths):
        return []
    before = invalid_sets(ch.repo.show_file(ch.base_sha, SETS_FILE))
    after = invalid_sets(ch.repo.show_file(ch.head_commit.sha, SETS_FILE))
    return [f"published set {name} marked invalid: {entry.reason}" for name, entry in sorted(after.items())
            if name not in before]


def summary(ch: Change, problems: list[Problem]) -> dict[str, Any]:
    groups, flips = constant_changes(ch)
    return {"head": ch.head_commit.sha, "problems": [p.to_dict() for p in problems],
            "mappings": mapping_sentences(ch), "pdus": pdu_changes(ch), "records": record_changes(ch),
            "constants_added": groups, "flag_flips": flips, "sets": set_changes(ch)}


_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _escape(text: str) -> str:
    """Catalog text as inert markdown on one line: a line break becomes a space (so it cannot
    start a paragraph, heading, list, table or code block), markup characters are escaped."""
    one_line = _LINE_BREAKS.sub(" ", text)
    return "".join(f"\\{ch}" if ch in "\\`*_[]<>|#!~&" else ch for ch in one_line)


def _prose(text: str) -> str:
    """A message with `code` spans (ours, e.g. "add `correction: <why>`"): the spans stay code,
    the rest is escaped; with unbalanced backticks, everything is escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return _escape(text)
    return "".join(_code(part) if i % 2 else _escape(part) for i, part in enumerate(parts))


def _code(text: str) -> str:
    """``text`` as an inline code span on one line, fenced by more backticks than it holds."""
    one_line = _LINE_BREAKS.sub(" ", text)
    fence = "`" * (max((len(run) for run in re.findall("`+", one_line)), default=0) + 1)
    return f"{fence} {one_line} {fence}" if "`" in one_line else f"`{one_line}`"


def markdown(data: dict[str, Any]) -> str:
    """The summary as GitHub/GitLab markdown (catalog strings escaped)."""
    lines = [f"### calcat-git review of `{data['head'][:12]}`", ""]
    errors = [p for p in data["problems"] if p["severity"] == "error"]
    warnings = [p for p in data["problems"] if p["severity"] != "error"]
    lines.append(f"**{len(errors)} error(s), {len(warnings)} warning(s)**" if data["problems"] else "**No problems.**")
    for p in errors + warnings:
        icon = "❌" if p["severity"] == "error" else "⚠️"
        where = _code(f"{p['file']}:{p['line']}")
        lines.append(f"- {icon} {where} {_escape(p['field'])} {_prose(p['message'])}")
    if data["mappings"]:
        lines += ["", "#### Mapping changes"]
        for det, sentences in data["mappings"].items():
            lines.append(f"- **{_escape(det)}**")
            lines += [f"  - {_escape(s)}" for s in sentences]
    if data.get("records"):
        lines += ["", "#### Registry records"]
        lines += [f"- {_escape(r['sentence'])}" + (" (admins approve)" if r["admins"] else "") for r in data["records"]]
    pdus = data["pdus"]
    if any(pdus.values()):
        lines += ["", "#### PDUs"]
        lines += [f"- {kind}: {', '.join(_escape(n) for n in names)}" for kind, names in pdus.items() if names]
    if data["constants_added"]:
        lines += ["", "#### Constants added", "", "| detector | calibration | report | CCVs | conditions |",
                  "|---|---|---|---:|---|"]
        for g in data["constants_added"]:
            cond = ", ".join(f"{k}={v}" for k, v in g["conditions"].items())
            lines.append(f"| {_escape(g['detector'])} | {_escape(g['calibration'])} | {_escape(g['report'])} | "
                         f"{g['count']} | {_escape(cond)} |")
    if data.get("sets"):
        lines += ["", "#### Published sets"] + [f"- {_escape(line)}" for line in data["sets"]]
    if data["flag_flips"]:
        lines += ["", "#### Flags changed"] + [f"- {_escape(f)}" for f in data["flag_flips"]]
    return "\n".join(lines) + "\n"
