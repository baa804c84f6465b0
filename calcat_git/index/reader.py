"""The derived SQLite index: every record with its transaction interval.

Each row (registry record, mapping slot entry, CCV) carries ``[tx_from, tx_to)`` in
first-parent commit positions, so "as of snapshot s" is one indexed filter
``tx_from <= s AND (tx_to IS NULL OR tx_to > s)``. The index lives in
``.git/calcat-git/``, is built from ``git log --first-parent --raw``, updated
incrementally (only changed files are re-parsed) and is a cache: a missing, stale,
corrupted, foreign or older-format file is detected (:mod:`calcat_git.index.usable`) and rebuilt.
"""

from __future__ import annotations

import bisect
import json
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

from calcat_git.errors import RepositoryError, no_snapshot
from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo
from calcat_git.index.schema import Group, index_path
from calcat_git.index.seeks import Seek, SeekTable
from calcat_git.index.usable import extends, open_usable
from calcat_git.locks import exclusive
from calcat_git.model.selection import Asked, CCVRow, Deviations, Question, condition_mismatch
from calcat_git.timeutil import format_timestamp, micros

R = TypeVar("R")
ROW_COLUMNS = ("ccv_id, detector, calibration, pdu, begin_at, end_at, file, dataset, sha256, good_quality, deployed, "
               "condition_id, batch, report_id, report_path, calcat_id")
SQL_SNAPSHOTS = 32  # snapshot look-ups answered by SQL before commit times are loaded
COMPOUND_SEEKS = 250  # index seeks per SQL statement (SQLite allows 500 terms in a compound SELECT)
ROW_CACHE = 50_000  # rows kept by Index.load (~0.5 kB each)
MMAP_BYTES = 1 << 32  # a long-lived reader (preload_seeks) maps the index file (shared page cache, not process memory)
VISIBLE = "tx_from <= :s AND (tx_to IS NULL OR tx_to > :s)"


def _commit_row(row: tuple[Any, ...]) -> Commit:
    return Commit(sha=row[0], committed_at=datetime.fromtimestamp(row[1], UTC), author=row[2], message=row[3])


class Index:
    """A read connection to an up-to-date index of one branch."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        self.head: str = meta["head"]
        self.shallow: str = meta.get("shallow", "")
        self.rev: str = meta["rev"]
        self.invalid_files = int(meta.get("invalid_files", "0"))
        self.last_build = (meta.get("last_build", ""), int(meta.get("last_parsed", "0")))
        self._records: dict[tuple[str, str], list[tuple[int, int | None, Any]]] = {}
        self._times: list[int] | None = None  # committer times by seq, once loaded
        self._snapshot_calls = 0
        self._commits: dict[int, Commit] = {}
        self._conditions: dict[int, dict[str, Any]] | None = None
        self._matches: dict[tuple[Any, ...], tuple[int, ...]] = {}
        self._defaults: tuple[Deviations | None, tuple[Any, ...]] = (None, ())  # the last deviations and their key
        self._slots: dict[str, tuple[list[int], list[tuple[int, int | None, str, str | None]]]] = {}
        self._seek_table: SeekTable | None = None
        self._loaded: dict[int, CCVRow] = {}
        self._injected: dict[str, int] = {}  # batch → injected_at, noted by load()

    @classmethod
    def open(cls, repo: GitRepo, rev: str, *, progress: bool | None = None, rebuild: bool = False) -> Index:
        """Open the index of ``rev``, building or updating it first if needed; ``rebuild``
        builds it anew whatever the file holds (it was found damaged in use)."""
        path = index_path(repo, rev)
        head, shallow = repo.rev_parse(rev), repo.shallow()
        index = None if rebuild else cls._try_open(path, shallow)
        if index is not None and index.head == head:
            return index
        from calcat_git.index.build import build_full, update  # imported on use: opening a current index reads no YAML

        with exclusive(path.with_suffix(".lock"), f"waiting for another process updating {path.name} …"):
            index = None if rebuild else cls._try_open(path, shallow, say=False)  # another process may have done it
            if index is not None and index.head == head:
                return index
            if index is not None and extends(repo, index.head, head):
                update(index.conn, repo, index.head, head, progress=progress)
            else:
                if index is not None:
                    index.conn.close()
                build_full(repo, rev, head, path, progress=progress)
        opened = cls._try_open(path, shallow)
        if opened is None:  # pragma: no cover - we just wrote it
            raise RepositoryError(f"could not open the index just built at {path}")
        return opened

    @classmethod
    def _try_open(cls, path: Path, shallow: str = "", say: bool = True) -> Index | None:
        """The index at ``path``, or None if it is missing or unusable (:mod:`calcat_git.index.usable`)."""
        conn = open_usable(path, shallow, say)
        return None if conn is None else cls(conn, path)

    # --- queries -------------------------------------------------------------------------
    def snapshot(self, moment: datetime) -> tuple[int, Commit]:
        """Position and commit of the newest commit with committer time ≤ ``moment``.

        The first calls ask SQLite (cheap for a one-shot CLI); a process that keeps
        asking loads the commit times once and bisects them in memory.
        """
        stamp = math.floor(moment.timestamp())
        self._snapshot_calls += 1
        if self._times is None and self._snapshot_calls > SQL_SNAPSHOTS:
            self._times = [r[0] for r in self.conn.execute("SELECT committed_at FROM commits ORDER BY seq")]
        if self._times is not None:
            seq = bisect.bisect_right(self._times, stamp) - 1
        else:
            row = self.conn.execute("SELECT seq FROM commits WHERE committed_at <= ? "
                                    "ORDER BY committed_at DESC, seq DESC LIMIT 1", (stamp,)).fetchone()
            seq = -1 if row is None else row[0]
        if seq < 0:
            first = self.conn.execute("SELECT committed_at FROM commits ORDER BY seq LIMIT 1").fetchone()
            when = format_timestamp(datetime.fromtimestamp(first[0], UTC)) if first else "never"
            raise no_snapshot(format_timestamp(moment), when)
        return seq, self.commit_at(seq)

    def commit_at(self, seq: int) -> Commit:
        commit = self._commits.get(seq)
        if commit is None:
            row = self.conn.execute("SELECT sha, committed_at, author, message FROM commits WHERE seq = ?",
                                    (seq,)).fetchone()
            commit = self._commits[seq] = _commit_row(row)
        return commit

    def by_sha(self, sha: str) -> tuple[int, Commit] | None:
        row = self.conn.execute("SELECT seq, sha, committed_at, author, message FROM commits WHERE sha = ?",
                                (sha,)).fetchone()
        return None if row is None else (row[0], _commit_row(row[1:]))

    def latest(self) -> tuple[int, Commit]:
        row = self.conn.execute("SELECT seq, sha, committed_at, author, message FROM commits "
                                "ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0], _commit_row(row[1:])

    def record(self, kind: str, key: str, seq: int, cls: type[R]) -> R | None:
        """The record ``kind``/``key`` visible in snapshot ``seq``, parsed once and kept.

        Every version of the record is loaded on first use; a version's rows never
        change for the snapshots this index was opened at, so the cache needs no
        invalidation.
        """
        versions = self._records.get((kind, key))
        if versions is None:
            rows = self.conn.execute("SELECT tx_from, tx_to, data FROM files WHERE kind = ? AND key = ? "
                                     "ORDER BY tx_from", (kind, key))
            versions = [(f, t, cls.from_dict(json.loads(d))) for f, t, d in rows]  # type: ignore[attr-defined]
            self._records[(kind, key)] = versions
        for tx_from, tx_to, record in versions:
            if tx_from <= seq and (tx_to is None or tx_to > seq):
                return record  # type: ignore[no-any-return]
        return None

    def names(self, kind: str, seq: int) -> list[str]:
        rows = self.conn.execute(f"SELECT key FROM files WHERE kind = :k AND {VISIBLE} ORDER BY key",
                                 {"k": kind, "s": seq})
        return [r[0] for r in rows]

    def mapping(self, detector: str, at: datetime, seq: int, slots: tuple[str, ...]) -> dict[str, str | None]:
        """Slot → PDU folded up to validity time ``at`` in snapshot ``seq`` (named slots only).

        Walks the detector's slot entries back from ``at`` (newest validity first) and
        keeps the first entry visible in ``seq`` per slot; stops once all of ``slots``
        (the detector's aggregators) are known. The entries of a detector are loaded once, sorted by validity.
        """
        timeline = self._slots.get(detector)
        if timeline is None:
            rows = self.conn.execute("SELECT valid_from, tx_from, tx_to, aggregator, pdu FROM slots "
                                     "WHERE detector = ? ORDER BY valid_from", (detector,)).fetchall()
            timeline = ([r[0] for r in rows], [r[1:] for r in rows])
            self._slots[detector] = timeline
        times, entries = timeline
        found: dict[str, str | None] = {}
        wanted = set(slots)
        for i in range(bisect.bisect_right(times, micros(at)) - 1, -1, -1):
            tx_from, tx_to, aggregator, pdu = entries[i]
            if aggregator in wanted and tx_from <= seq and (tx_to is None or tx_to > seq):
                found[aggregator] = pdu
                wanted.discard(aggregator)
                if not wanted:
                    break
        return found

    # --- constants ------------------------------------------------------------------------
    def condition_sets(self) -> dict[int, dict[str, Any]]:
        """Every distinct condition set, by id (loaded once)."""
        if self._conditions is None:
            self._conditions = {i: json.loads(t) for i, t in self.conn.execute("SELECT id, text FROM conditions")}
        return self._conditions

    def matching_conditions(self, asked: Asked, defaults: Deviations) -> tuple[int, ...]:
        """Ids of the condition sets that match ``asked`` (cached per question)."""
        if self._defaults[0] is not defaults:  # one Deviations object per engine: its key made once
            self._defaults = (defaults, tuple(sorted(defaults.items())))
        key = (tuple(sorted(asked.items())), self._defaults[1])
        ids = self._matches.get(key)
        if ids is None:
            ids = tuple(i for i, stored in self.condition_sets().items()
                        if condition_mismatch(stored, asked, defaults) is None)
            self._matches[key] = ids
        return ids

    def _rows(self, where: str, params: dict[str, Any] | tuple[Any, ...]) -> list[CCVRow]:
        return self._to_rows(self.conn.execute(f"SELECT {ROW_COLUMNS} FROM ccvs WHERE {where}", params).fetchall())

    def _to_rows(self, rows: list[Any]) -> list[CCVRow]:
        sets = self.condition_sets()
        return [CCVRow(ccv_id=r[0], detector=r[1], calibration=r[2], pdu=r[3], begin_at=r[4], end_at=r[5], file=r[6],
                       dataset=r[7], sha256=r[8], good_quality=bool(r[9]), deployed=bool(r[10]),
                       conditions=sets[r[11]], batch=r[12], report_id=r[13], report_path=r[14], calcat_id=r[15])
                for r in rows]

    def seek_candidates(self, question: Question, pdus: list[str], condition_ids: tuple[int, ...], seq: int
                        ) -> list[Seek]:
        """Candidates for ``question`` among ``pdus`` in snapshot ``seq``: per PDU and
        matching condition (``condition_ids``), the nearest eligible row before and (for
        'closest') after the event, ties at one ``begin_at`` to the highest ``ccv_id``.
        The winner of ``selection.choose`` is always among them; choosing is the caller's.
        From the in-memory seek table of ``seq`` if one was built (:meth:`preload_seeks`),
        else one SQL seek each, sent as compound statements (per ``COMPOUND_SEEKS``): the
        per-statement overhead was most of a warm look-up. Either way they are light
        handles: :meth:`load` reads only the rows chosen."""
        table = self._seek_table
        if table is not None and table.seq == seq:
            return table.seeks(question, pdus, condition_ids)  # the winners as light handles: :meth:`load` reads them
        where = ("pdu = ? AND calibration = ? AND condition_id = ? AND tx_from <= ? AND (tx_to IS NULL OR tx_to > ?) "
                 "AND (? OR (good_quality = 1 AND deployed = 1)) AND (end_at IS NULL OR end_at > ?)")
        sides = ["begin_at <= ? ORDER BY begin_at DESC"] + (["begin_at > ? ORDER BY begin_at ASC"]
                                                           if question.strategy != "prior" else [])
        event_us, bad = question.event_us, int(question.include_bad)
        seeks = [(f"SELECT * FROM (SELECT pdu, begin_at, ccv_id, rowid FROM ccvs WHERE {where} AND {side}, ccv_id DESC "
                  "LIMIT 1)", (pdu, question.calibration, cid, seq, seq, bad, event_us, event_us))
                 for pdu in pdus for cid in condition_ids for side in sides]
        found: list[Seek] = []
        for start in range(0, len(seeks), COMPOUND_SEEKS):
            chunk = seeks[start:start + COMPOUND_SEEKS]
            sql = " UNION ALL ".join(part for part, _ in chunk)
            found += [Seek(pdu, question.calibration, begin, bytes.fromhex(ccv_id), rowid) for pdu, begin, ccv_id, rowid
                      in self.conn.execute(sql, [v for _, values in chunk for v in values])]
        return found

    def load(self, chosen: list[CCVRow | Seek]) -> list[CCVRow]:
        """The rows of ``chosen`` candidates, in order: seek handles read in one statement, and
        kept (a row id's row never changes in one index file; at most ``ROW_CACHE`` of them)."""
        cache = self._loaded
        wanted = [c.rowid for c in chosen if isinstance(c, Seek) and c.rowid not in cache]
        if len(cache) + len(wanted) > ROW_CACHE:
            cache.clear()
            wanted = [c.rowid for c in chosen if isinstance(c, Seek)]
        if wanted:
            fetched = self.conn.execute(f"SELECT rowid, tx_to IS NULL, injected_at, {ROW_COLUMNS} FROM ccvs "
                                        f"WHERE rowid IN ({','.join(map(str, wanted))})").fetchall()
            for raw, row in zip(fetched, self._to_rows([r[3:] for r in fetched]), strict=True):
                cache[raw[0]] = row
                if raw[1]:  # as injected_at() reads it: from a row of the batch's open version
                    self._injected[row.batch] = int(raw[2])
        return [cache[c.rowid] if isinstance(c, Seek) else c for c in chosen]

    def preload_seeks(self, seq: int, background: bool = False) -> None:
        """Keep snapshot ``seq``'s seeks in memory, for a long-lived reader such as the
        server (which also maps the file: its loads read pages in place); with
        ``background`` they are built on a thread with its own read-only connection, and
        the SQL seeks answer (the same) until the table is ready."""
        if self._seek_table is not None and self._seek_table.seq == seq:
            return
        self.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")  # rows are read at random: no read() per page
        if not background:
            self._seek_table = SeekTable(self.conn, seq)
            return

        def build() -> None:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                self._seek_table = SeekTable(conn, seq)

        threading.Thread(target=build, name=f"seeks-{seq}", daemon=True).start()

    def ccvs_of(self, pdu: str, calibration: str, seq: int, condition_ids: tuple[int, ...] | None = None
                ) -> list[CCVRow]:
        """The CCVs of a PDU and calibration visible in snapshot ``seq`` (optionally only
        those with one of ``condition_ids``)."""
        only = "" if condition_ids is None else f"AND condition_id IN ({','.join(map(str, condition_ids)) or 'NULL'})"
        return self._rows(f"pdu = :p AND calibration = :c AND {VISIBLE} {only} ORDER BY begin_at",
                          {"p": pdu, "c": calibration, "s": seq})

    def snapshot_ccvs(self, seq: int) -> list[CCVRow]:
        """Every CCV visible in snapshot ``seq``, by begin_at."""
        return self._rows(f"{VISIBLE} ORDER BY begin_at", {"s": seq})

    def broken_at(self, seq: int) -> list[tuple[str, str, str]]:
        """The files of snapshot ``seq`` that do not load, as (path, commit that brought that
        version, why), by path: a version stays broken until the file is changed or deleted."""
        if not self.invalid_files:
            return []
        rows = self.conn.execute(
            "SELECT i.path, c.sha, i.message FROM invalid i JOIN commits c ON c.seq = i.seq "
            "WHERE i.seq <= :s AND (i.tx_to IS NULL OR i.tx_to > :s) ORDER BY i.path", {"s": seq})
        return [(path, sha, message) for path, sha, message in rows]

    def last_good(self, upto: int) -> int | None:
        """The newest snapshot at or before ``upto`` in which every file loads (None: none)."""
        spans = self.conn.execute("SELECT seq, tx_to FROM invalid WHERE seq <= ?", (upto,)).fetchall()
        seq = upto
        while seq >= 0:
            covering = [tx_from for tx_from, tx_to in spans if tx_from <= seq and (tx_to is None or tx_to > seq)]
            if not covering:
                return seq
            seq = min(covering) - 1
        return None

    def snapshot_ccvs_by_detector(self, seq: int) -> Iterator[tuple[str, list[CCVRow]]]:
        """Every CCV visible in snapshot ``seq``, one detector (the one its batch file is filed
        under) at a time, by begin_at: a reader of all constants never holds more than one
        detector's rows (the static site streams its build from this)."""
        cursor = self.conn.execute(f"SELECT {ROW_COLUMNS} FROM ccvs WHERE {VISIBLE} ORDER BY detector, begin_at, ccv_id",
                                   {"s": seq})
        for detector, rows in groupby(cursor, key=lambda r: str(r[1])):
            yield detector, self._to_rows(list(rows))

    def snapshot_files(self, seq: int) -> dict[str, str]:
        """Store path → sha256 of every constant file snapshot ``seq`` names."""
        return dict(self.conn.execute(f"SELECT DISTINCT file, sha256 FROM ccvs WHERE {VISIBLE}", {"s": seq}))

    def report_ccvs(self, report: int | str, seq: int) -> list[CCVRow]:
        column = "report_id" if isinstance(report, int) else "report_path"
        return self._rows(f"{column} = :r AND {VISIBLE} ORDER BY begin_at", {"r": report, "s": seq})

    def ccvs_by_int_id(self, int_id: int, seq: int) -> list[CCVRow]:
        """The CCVs whose integer id (``calibration.ccv_int_id``) is ``int_id``: CALCAT's own
        id of an imported CCV, else ``2**52`` + the first 48 bits of the content id."""
        if int_id < 2**52:
            return self._rows(f"calcat_id = :i AND {VISIBLE}", {"i": int_id, "s": seq})
        prefix = f"{int_id - 2**52:012x}"
        return self._rows(f"substr(ccv_id, 1, 12) = :p AND calcat_id IS NULL AND {VISIBLE} ORDER BY ccv_id",
                          {"p": prefix, "s": seq})

    def constant_groups(self, seq: int, pdu: str | None = None, constant_id: int | None = None) -> Iterator[Group]:
        """The CCVs of snapshot ``seq`` (only ``pdu``'s, or only those of CALCAT's calibration
        constant ``constant_id``) grouped by what makes their calibration constant: PDU,
        calibration, condition set and the kept ids of CALCAT's constant and condition. One
        row per group, not per CCV, streamed."""
        where = "pdu = :p AND " if pdu is not None else "constant_id = :x AND " if constant_id is not None else ""
        return map(Group._make, self.conn.execute(
            "SELECT pdu, calibration, condition_id, constant_id, constant_condition, MIN(begin_at), MIN(injected_at), "
            f"MAX(calcat_id IS NOT NULL) FROM ccvs WHERE {where}{VISIBLE} "
            "GROUP BY pdu, calibration, condition_id, constant_id, constant_condition",
            {"p": pdu, "x": constant_id, "s": seq}))

    def group_ccvs(self, group: Group, seq: int, first: bool = False) -> list[CCVRow]:
        """The CCVs of one of :meth:`constant_groups`'s groups in snapshot ``seq``, by begin_at
        (with ``first``, only the first)."""
        return self._rows(f"pdu = :p AND calibration = :c AND condition_id = :k AND constant_id IS :x "
                          f"AND constant_condition IS :y AND {VISIBLE} ORDER BY begin_at{' LIMIT 1' if first else ''}",
                          {"p": group.pdu, "c": group.calibration, "k": group.condition_set, "x": group.kept_constant,
                           "y": group.kept_condition, "s": seq})

    def named_ccvs(self, name: str, seq: int) -> list[CCVRow]:
        """The CCVs of snapshot ``seq`` named ``name``: CALCAT's name kept by an imported CCV,
        else its content id."""
        return (self._rows(f"calcat_name = :n AND {VISIBLE}", {"n": name, "s": seq})
                + self._rows(f"substr(ccv_id, 1, 12) = substr(:n, 1, 12) AND ccv_id = :n AND calcat_name IS NULL "
                             f"AND {VISIBLE}", {"n": name, "s": seq}))

    def report_firsts(self, seq: int) -> list[CCVRow]:
        """The first CCV (earliest begin_at) of each report of snapshot ``seq``: a row a report."""
        rows = self.conn.execute(f"SELECT {ROW_COLUMNS}, MIN(begin_at) FROM ccvs WHERE {VISIBLE} GROUP BY report_path",
                                 {"s": seq}).fetchall()
        return self._to_rows([r[:-1] for r in rows])

    def injected_at(self, batch: str) -> int | None:
        """When a batch was injected (microseconds), from any of its rows."""
        if batch in self._injected:
            return self._injected[batch]
        row = self.conn.execute("SELECT injected_at FROM ccvs WHERE batch = ? AND tx_to IS NULL LIMIT 1",
                                (batch,)).fetchone()  # the partial index ccvs_open: a CCV is never removed
        return None if row is None else int(row[0])

    def report_paths(self, seq: int) -> list[str]:
        """Store paths of the reports without an id in snapshot ``seq``."""
        rows = self.conn.execute(f"SELECT DISTINCT report_path FROM ccvs WHERE report_id IS NULL AND {VISIBLE}",
                                 {"s": seq})
        return [r[0] for r in rows]

    def condition_summary(self, pdu: str, calibration: str, seq: int) -> list[tuple[dict[str, Any], int]]:
        """Each distinct condition of a PDU's CCVs of a calibration, with its newest begin_at."""
        sets = self.condition_sets()
        rows = self.conn.execute(f"SELECT condition_id, MAX(begin_at) FROM ccvs WHERE pdu = :p AND calibration = :c "
                                 f"AND {VISIBLE} GROUP BY condition_id", {"p": pdu, "c": calibration, "s": seq})
        return [(sets[cid], newest) for cid, newest in rows]

    def counts(self, seq: int) -> dict[str, int]:
        ccvs = self.conn.execute(f"SELECT COUNT(*) FROM ccvs WHERE {VISIBLE}", {"s": seq}).fetchone()[0]
        kinds = dict(self.conn.execute(f"SELECT kind, COUNT(*) FROM files WHERE {VISIBLE} GROUP BY kind", {"s": seq}))
        return {**kinds, "ccvs": ccvs}
