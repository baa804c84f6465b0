"""``import-calcat``: CALCAT records → catalog files, validated, in one commit.

The import is idempotent (records already in the catalog are compared, not written
again) and incremental (new replies add only what is new). Nothing existing is
overwritten: disagreements are reported as conflicts. The result is built apart: the
catalog's files with the import's files in their place are loaded and validated in
memory, and only a result that validates is written (only under ``registry/`` and
``constants_index/``) and committed; a failed import leaves every file as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from calcat_git.calcat_import.facts import Facts, collect
from calcat_git.calcat_import.plan import Plan
from calcat_git.calcat_import.plan_ccvs import Planner
from calcat_git.calcat_import.replies import Fetch, Reply, get_pages
from calcat_git.edit.change import Change
from calcat_git.errors import CatalogInvalidError, InvalidInputError
from calcat_git.files.config import load_config
from calcat_git.timeutil import FACILITY_ZONE, format_timestamp


@dataclass
class ImportResult:
    plan: Plan
    facts: Facts
    commit: str | None = None
    written: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The commit message: what was added, extended, left out and in conflict."""
        added = ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in sorted(self.plan.added.items()))
        lines = [f"import-calcat: {added or 'nothing new'}"]
        for title, items in (("extended", self.plan.extended), ("conflicts (left as they are)", self.plan.conflicts),
                             ("left out", self.plan.left_out), ("notes", self.plan.notes)):
            if items:
                lines += ["", f"{title}: {len(items)}", *(f"- {item}" for item in items[:50])]
                if len(items) > 50:
                    lines.append(f"- … and {len(items) - 50} more")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "added": dict(self.plan.added), "extended": self.plan.extended,
                "conflicts": self.plan.conflicts, "left_out": self.plan.left_out, "notes": self.plan.notes,
                "written": self.written}


def _text(record: Any) -> str:
    return yaml.safe_dump(record.to_dict(), sort_keys=False, allow_unicode=True, width=120)


def _experts(root: Path, experts: tuple[str, ...] | None) -> tuple[str, ...]:
    if experts is not None:
        return experts
    return tuple(load_config(root).get("admins", ()))


def import_facts(root: str | Path, facts: Facts, *, commit: bool = True,
                 experts: tuple[str, ...] | None = None) -> ImportResult:
    """Add what ``facts`` hold and the catalog at ``root`` lacks; validate; commit (through
    the one write path: the catalog as it would be committed is validated, and written
    with the commit or not at all)."""
    root = Path(root)
    with Change(root, commit=commit) as change:
        reg = change.registry()
        if reg.load_problems:
            raise CatalogInvalidError("the catalog has files that do not load; run `calcat-git validate` and fix "
                                      "them before importing", reg.load_problems)
        result = ImportResult(plan=Planner(facts, reg, _experts(root, experts)).run(), facts=facts)
        for path, record in sorted(result.plan.records.items()):
            change.put(path, _text(record))
        change.message = result.summary()
    if change.written is not None:
        result.written, result.commit = sorted(change.written.files), change.written.commit
    return result


def import_replies(root: str | Path, replies: Iterable[Reply], *, zone: str = FACILITY_ZONE,
                   commit: bool = True, experts: tuple[str, ...] | None = None) -> ImportResult:
    return import_facts(root, collect(replies, zone), commit=commit, experts=experts)


def _fetch_one(fetch: Fetch, path: str, query: dict[str, str], origin: str) -> Reply:
    status, _, data = fetch(path, query, None)
    return Reply(path=path, query=query, body=None, status=status, data=data, runtime=None, origin=origin)


def _ids(replies: list[Reply], key: str) -> set[int]:
    return {int(r[key]) for reply in replies if isinstance(reply.data, list)
            for r in reply.data if isinstance(r, dict) and r.get(key) is not None}


def crawl(fetch: Fetch, detectors: Iterable[str], snapshots: Iterable[datetime],
          reports: Iterable[int] = (), progress: Any = None) -> Iterator[Reply]:
    """The GETs an import needs from a live CALCAT: registry lists, each detector's PDUs at
    each snapshot time, its CCVs and those of the given reports (all pages), then the
    calibrations and reports those CCVs name."""
    say = progress or (lambda message: None)
    lists = []
    for path in ("detector_types", "instruments", "calibrations"):
        say(f"reading {path}")
        lists += list(get_pages(fetch, path, {}))
    yield from lists
    ccvs: list[Reply] = []
    for identifier in detectors:
        say(f"reading detector {identifier}")
        found = list(get_pages(fetch, "detectors", {"identifier": identifier}))
        yield from found
        records = [r for reply in found if isinstance(reply.data, list) for r in reply.data]
        if not records:
            raise InvalidInputError(f"CALCAT has no detector {identifier!r}")
        detector_id = str(records[0]["id"])
        for at in (format_timestamp(t) for t in snapshots):
            yield _fetch_one(fetch, "physical_detector_units/get_all_by_detector",
                             {"detector_id": detector_id, "pdu_snapshot_at": at}, f"PDUs of {identifier} at {at}")
        ccvs += list(get_pages(fetch, "calibration_constant_versions", {"detector_id": detector_id}))
    for report in reports:
        say(f"reading the CCVs of report {report}")
        ccvs += list(get_pages(fetch, "calibration_constant_versions", {"report_id": str(report)}))
    yield from ccvs
    yield from _named_by(fetch, lists, ccvs)


def _named_by(fetch: Fetch, lists: list[Reply], ccvs: list[Reply]) -> Iterator[Reply]:
    """The calibrations (those not listed already), reports and conditions the CCVs name."""
    known = {int(r["id"]) for reply in lists if reply.path == "calibrations" and isinstance(reply.data, list)
             for r in reply.data}
    for cid in sorted({int(r["calibration_constant"]["calibration_id"]) for reply in ccvs
                       if isinstance(reply.data, list) for r in reply.data} - known):
        yield _fetch_one(fetch, f"calibrations/{cid}", {}, f"calibration {cid}")
    for rid in sorted(_ids(ccvs, "report_id")):
        yield _fetch_one(fetch, f"reports/{rid}", {}, f"report {rid}")
    conditions = {r["calibration_constant"]["condition_id"] for reply in ccvs if isinstance(reply.data, list)
                  for r in reply.data if isinstance(r, dict) and isinstance(r.get("calibration_constant"), dict)}
    for cid in sorted(c for c in conditions if isinstance(c, int)):
        yield _fetch_one(fetch, f"conditions/{cid}", {}, f"condition {cid}")  # exact values and deviations
