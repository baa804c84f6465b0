"""In-memory seeks for a long-lived reader (the server): the index's nearest-CCV seeks
without SQL.

For one snapshot, every visible CCV's ``begin_at`` sorted per (PDU, calibration,
condition) with its row id, quality and ``end_at``. A seek is a bisection plus a short
walk past ineligible rows, and gives exactly the row the index's SQL seek gives
(``Index.seek_candidates``: nearest ``begin_at`` on each side, ties to the highest
``ccv_id``, only eligible rows), already reduced to the one ``selection.choose`` takes
per PDU (the look-up's choosing among one candidate is then trivial).
Building it reads the snapshot's CCVs once (about 2 s at a million); a CLI process never
builds one.
"""

from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass, field

from calcat_git.model.selection import Question, rank

Key = tuple[str, str, int]  # (pdu, calibration, condition id)
ID_BYTES = 32  # a CCV id is a sha256 in hex: kept as its 32 bytes (same order)


@dataclass(frozen=True, slots=True)
class Seek:
    """A seek result: what ``selection.choose`` reads, and the row to load if chosen."""

    pdu: str
    calibration: str
    begin_at: int
    ccv_id: bytes
    rowid: int


@dataclass
class _Run:
    begins: list[int] = field(default_factory=list)
    rowids: list[int] = field(default_factory=list)
    good: bytearray = field(default_factory=bytearray)     # good_quality and deployed
    ends: list[int | None] = field(default_factory=list)
    ids: bytearray = field(default_factory=bytearray)      # ID_BYTES per row

    def eligible(self, i: int, event_us: int, include_bad: bool) -> bool:
        end = self.ends[i]
        return (include_bad or bool(self.good[i])) and (end is None or end > event_us)

    def before(self, event_us: int, include_bad: bool) -> int | None:
        """Position of the last eligible row with begin_at ≤ event (highest ccv_id on ties)."""
        i = bisect.bisect_right(self.begins, event_us) - 1
        while i >= 0 and not self.eligible(i, event_us, include_bad):
            i -= 1
        return i if i >= 0 else None

    def after(self, event_us: int, include_bad: bool) -> int | None:
        """Position of the eligible row with the smallest begin_at > event (highest ccv_id on ties)."""
        i, n = bisect.bisect_right(self.begins, event_us), len(self.begins)
        while i < n and not self.eligible(i, event_us, include_bad):
            i += 1
        if i == n:
            return None
        best, begin = i, self.begins[i]
        while i + 1 < n and self.begins[i + 1] == begin:
            i += 1
            if self.eligible(i, event_us, include_bad):
                best = i
        return best

    def id(self, i: int) -> bytes:
        return bytes(self.ids[i * ID_BYTES:(i + 1) * ID_BYTES])


class SeekTable:
    """The seek structure of snapshot ``seq`` of one index database."""

    def __init__(self, conn: sqlite3.Connection, seq: int) -> None:
        self.seq = seq
        self.runs: dict[Key, _Run] = {}
        rows = conn.execute(
            "SELECT pdu, calibration, condition_id, begin_at, rowid, good_quality AND deployed, end_at, ccv_id FROM ccvs "
            "WHERE tx_from <= :s AND (tx_to IS NULL OR tx_to > :s) "
            "ORDER BY pdu, calibration, condition_id, begin_at, ccv_id", {"s": seq})
        key: Key | None = None
        run = _Run()
        for pdu, calibration, condition, begin, rowid, good, end, ccv_id in rows:
            if (pdu, calibration, condition) != key:
                key = (pdu, calibration, condition)
                run = self.runs[key] = _Run()
            run.begins.append(begin)
            run.rowids.append(rowid)
            run.good.append(1 if good else 0)
            run.ends.append(end)
            run.ids += bytes.fromhex(ccv_id)

    def seeks(self, question: Question, pdus: list[str], condition_ids: tuple[int, ...]) -> list[Seek]:
        """The index's seek results for ``question`` (see ``Index.seek_candidates``) reduced
        to what ``selection.choose`` picks among them: per PDU at most one, its winner by
        ``selection.rank`` (a tie to the highest ``ccv_id``)."""
        event_us, bad, calibration = question.event_us, question.include_bad, question.calibration
        closest = question.strategy != "prior"
        runs, out = self.runs, []
        for pdu in pdus:
            best: tuple[int, int, _Run, int] | None = None  # (key, run, position): the least key wins
            for cid in condition_ids:
                run = runs.get((pdu, calibration, cid))
                if run is None:
                    continue
                for i in (run.before(event_us, bad), run.after(event_us, bad) if closest else None):
                    if i is None:
                        continue
                    key = rank(run.begins[i], event_us, closest)
                    if best is None or key < best[:2] or (key == best[:2] and run.id(i) > best[2].id(best[3])):
                        best = (*key, run, i)
            if best is not None:
                run, i = best[2], best[3]
                out.append(Seek(pdu, calibration, run.begins[i], run.id(i), run.rowids[i]))
        return out
