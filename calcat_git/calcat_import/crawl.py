"""The GETs an import needs from a live CALCAT, in the order they depend on each other.

What a reply names (a detector's id, the calibrations, reports and conditions of CCVs) is
read only where it has the expected type; a malformed reply is refused later, by
:func:`calcat_git.calcat_import.facts.collect`, with the reply and field named.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from calcat_git.calcat_import.live import Fetch, get_one, get_pages
from calcat_git.calcat_import.replies import Reply
from calcat_git.errors import InvalidInputError
from calcat_git.timeutil import format_timestamp


def _records(replies: Iterable[Reply]) -> Iterator[dict[str, Any]]:
    for reply in replies:
        if isinstance(reply.data, list):
            yield from (r for r in reply.data if isinstance(r, dict))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _named(records: Iterable[dict[str, Any]], *keys: str) -> set[int]:
    """The integer ids at ``record[keys[0]][keys[1]]…`` (others are left to the reply check)."""
    found = set()
    for record in records:
        node: Any = record
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if _int(node) is not None:
            found.add(node)
    return found


def crawl(fetch: Fetch, detectors: Iterable[str], snapshots: Iterable[datetime],
          reports: Iterable[int] = (), progress: Any = None) -> Iterator[Reply]:
    """The GETs an import needs from a live CALCAT: registry lists, each detector's PDUs at
    each snapshot time, its CCVs and those of the given reports (all pages), then the
    calibrations, reports and conditions those CCVs name."""
    say = progress or (lambda message: None)
    times = [format_timestamp(t) for t in snapshots]
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
        ids = sorted(_named([r for r in _records(found) if r.get("identifier") == identifier], "id"))
        if not ids:
            raise InvalidInputError(f"CALCAT has no detector {identifier!r}")
        for at in times:
            yield get_one(fetch, "physical_detector_units/get_all_by_detector",
                          {"detector_id": str(ids[0]), "pdu_snapshot_at": at}, f"PDUs of {identifier} at {at}")
        ccvs += list(get_pages(fetch, "calibration_constant_versions", {"detector_id": str(ids[0])}))
    for report in reports:
        say(f"reading the CCVs of report {report}")
        ccvs += list(get_pages(fetch, "calibration_constant_versions", {"report_id": str(report)}))
    yield from ccvs
    yield from _named_by(fetch, lists, ccvs)


def _named_by(fetch: Fetch, lists: list[Reply], ccvs: list[Reply]) -> Iterator[Reply]:
    """The calibrations (those not listed already), reports and conditions the CCVs name."""
    known = _named(_records(r for r in lists if r.path == "calibrations"), "id")
    records = list(_records(ccvs))
    for cid in sorted(_named(records, "calibration_constant", "calibration_id") - known):
        yield get_one(fetch, f"calibrations/{cid}", {}, f"calibration {cid}")
    for rid in sorted(_named(records, "report_id")):
        yield get_one(fetch, f"reports/{rid}", {}, f"report {rid}")
    for cid in sorted(_named(records, "calibration_constant", "condition_id")):
        yield get_one(fetch, f"conditions/{cid}", {}, f"condition {cid}")  # exact values and deviations
