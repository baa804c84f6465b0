"""The derived SQLite index: every record with its transaction interval.

Each row (registry record, mapping slot entry, CCV) carries ``[tx_from, tx_to)`` in
first-parent commit positions, so "as of snapshot s" is one indexed filter
``tx_from <= s AND (tx_to IS NULL OR tx_to > s)``. The index lives in
``.git/calcat-git/``, is built from ``git log --first-parent --raw``, updated
incrementally (only changed files are re-parsed) and is a cache: a missing, stale,
corrupted, foreign or older-format file is detected and rebuilt.
"""

from __future__ import annotations

import fcntl
import json
import math
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .blobs import micros
from .errors import RepositoryError
from .gitrepo import Commit, GitRepo
from .timeutil import format_timestamp

FORMAT = "1"
APPLICATION_ID = 0x43414C47  # "CALG"
VISIBLE = "tx_from <= :s AND (tx_to IS NULL OR tx_to > :s)"

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE commits(seq INTEGER PRIMARY KEY, sha TEXT NOT NULL UNIQUE, committed_at INTEGER NOT NULL,
                     author TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE files(path TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
                   tx_from INTEGER NOT NULL, tx_to INTEGER);
CREATE TABLE slots(path TEXT NOT NULL, detector TEXT NOT NULL, aggregator TEXT NOT NULL, valid_from INTEGER NOT NULL,
                   pdu TEXT, tx_from INTEGER NOT NULL, tx_to INTEGER);
CREATE TABLE ccvs(ccv_id TEXT NOT NULL, detector TEXT NOT NULL, calibration TEXT NOT NULL, pdu TEXT NOT NULL,
                  begin_at INTEGER NOT NULL, end_at INTEGER, file TEXT NOT NULL, dataset TEXT NOT NULL,
                  sha256 TEXT NOT NULL, good_quality INTEGER NOT NULL, deployed INTEGER NOT NULL,
                  conditions TEXT NOT NULL, batch TEXT NOT NULL, report_id INTEGER, report_path TEXT NOT NULL,
                  injected_at INTEGER NOT NULL, calcat_id INTEGER, tx_from INTEGER NOT NULL, tx_to INTEGER);
CREATE TABLE invalid(path TEXT NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX files_open ON files(path) WHERE tx_to IS NULL;
CREATE INDEX slots_open ON slots(path) WHERE tx_to IS NULL;
CREATE INDEX ccvs_open ON ccvs(batch) WHERE tx_to IS NULL;
"""
QUERY_INDEXES = """
CREATE INDEX IF NOT EXISTS commits_time ON commits(committed_at, seq);
CREATE INDEX IF NOT EXISTS files_key ON files(kind, key, tx_from);
CREATE INDEX IF NOT EXISTS slots_query ON slots(detector, valid_from);
CREATE INDEX IF NOT EXISTS ccvs_query ON ccvs(detector, calibration, pdu, begin_at);
"""


def index_path(repo: GitRepo, rev: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in rev)
    return repo.git_dir / "calcat-git" / f"index-{safe}.v{FORMAT}.sqlite"


@contextmanager
def _write_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"calcat-git: waiting for another process updating {path.name} …", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _commit_row(row: tuple[Any, ...]) -> Commit:
    return Commit(sha=row[0], committed_at=datetime.fromtimestamp(row[1], UTC), author=row[2], message=row[3])


class Index:
    """A read connection to an up-to-date index of one branch."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        self.head: str = meta["head"]
        self.rev: str = meta["rev"]
        self.invalid_files = int(meta.get("invalid_files", "0"))
        self.last_build = (meta.get("last_build", ""), int(meta.get("last_parsed", "0")))

    @classmethod
    def open(cls, repo: GitRepo, rev: str, *, progress: bool | None = None) -> Index:
        """Open the index of ``rev``, building or updating it first if needed."""
        from .indexbuild import build_full, update

        path = index_path(repo, rev)
        head = repo.rev_parse(rev)
        index = cls._try_open(path)
        if index is not None and index.head == head:
            return index
        with _write_lock(path):
            index = cls._try_open(path)  # another process may have done the work meanwhile
            if index is not None and index.head == head:
                return index
            if index is not None and _extends(repo, index.head, head):
                update(index.conn, repo, index.head, head, progress=progress)
            else:
                if index is not None:
                    index.conn.close()
                build_full(repo, rev, head, path, progress=progress)
        opened = cls._try_open(path)
        if opened is None:  # pragma: no cover - we just wrote it
            raise RepositoryError(f"could not open the index just built at {path}")
        return opened

    @classmethod
    def _try_open(cls, path: Path) -> Index | None:
        """The index at ``path``, or None if missing, corrupted, foreign or of another format."""
        if not path.exists():
            return None
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                raise sqlite3.DatabaseError("not a calcat-git index")
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            if meta.get("format") != FORMAT or meta.get("complete") != "1":
                raise sqlite3.DatabaseError("older format or incomplete")
            return cls(conn, path)
        except sqlite3.DatabaseError as exc:
            print(f"calcat-git: index {path.name} is unusable ({exc}); rebuilding", file=sys.stderr)
            return None

    # --- queries -------------------------------------------------------------------------
    def snapshot(self, moment: datetime) -> tuple[int, Commit]:
        row = self.conn.execute(
            "SELECT seq, sha, committed_at, author, message FROM commits WHERE committed_at <= ? "
            "ORDER BY committed_at DESC, seq DESC LIMIT 1", (math.floor(moment.timestamp()),)).fetchone()
        if row is None:
            first = self.conn.execute("SELECT committed_at FROM commits ORDER BY seq LIMIT 1").fetchone()
            when = format_timestamp(datetime.fromtimestamp(first[0], UTC)) if first else "never"
            raise RepositoryError(f"no snapshot at {format_timestamp(moment)}: the catalog's first commit is at "
                                  f"{when}; ask for a later time")
        return row[0], _commit_row(row[1:])

    def by_sha(self, sha: str) -> tuple[int, Commit] | None:
        row = self.conn.execute("SELECT seq, sha, committed_at, author, message FROM commits WHERE sha = ?",
                                (sha,)).fetchone()
        return None if row is None else (row[0], _commit_row(row[1:]))

    def latest(self) -> tuple[int, Commit]:
        row = self.conn.execute("SELECT seq, sha, committed_at, author, message FROM commits "
                                "ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0], _commit_row(row[1:])

    def entity(self, kind: str, key: str, seq: int) -> dict[str, Any] | None:
        row = self.conn.execute(f"SELECT data FROM files WHERE kind = :k AND key = :key AND {VISIBLE}",
                                {"k": kind, "key": key, "s": seq}).fetchone()
        return None if row is None else json.loads(row[0])

    def names(self, kind: str, seq: int) -> list[str]:
        rows = self.conn.execute(f"SELECT key FROM files WHERE kind = :k AND {VISIBLE} ORDER BY key",
                                 {"k": kind, "s": seq})
        return [r[0] for r in rows]

    def mapping(self, detector: str, at: datetime, seq: int) -> dict[str, str | None]:
        """Slot → PDU folded up to validity time ``at`` in snapshot ``seq`` (named slots only)."""
        rows = self.conn.execute(
            f"SELECT aggregator, pdu, MAX(valid_from) FROM slots WHERE detector = :d AND valid_from <= :t "
            f"AND {VISIBLE} GROUP BY aggregator", {"d": detector, "t": micros(at), "s": seq})
        return {aggregator: pdu for aggregator, pdu, _ in rows}

    def counts(self, seq: int) -> dict[str, int]:
        ccvs = self.conn.execute(f"SELECT COUNT(*) FROM ccvs WHERE {VISIBLE}", {"s": seq}).fetchone()[0]
        kinds = dict(self.conn.execute(f"SELECT kind, COUNT(*) FROM files WHERE {VISIBLE} GROUP BY kind", {"s": seq}))
        return {**kinds, "ccvs": ccvs}


def _extends(repo: GitRepo, old: str, new: str) -> bool:
    """Is ``old`` on the first-parent line of ``new`` (so the index can be extended)?"""
    if not repo.is_ancestor(old, new):
        return False
    out = repo._git("rev-list", "--first-parent", "--reverse", f"{old}..{new}").split()
    return bool(out) and repo.rev_parse(f"{out[0]}^1") == old
