"""Building and updating the index: walk the first-parent log, parse changed files in
parallel, and close/open rows so each carries its transaction interval."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Generator, Iterable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from calcat_git.files.parse import DATA_ROOTS, ignored
from calcat_git.files.schema import compile_all
from calcat_git.git.history import Commit, FileChange
from calcat_git.git.repo import GitRepo
from calcat_git.git.runner import BlobReader
from calcat_git.index import parse as blobs
from calcat_git.index.schema import APPLICATION_ID, FORMAT, QUERY_INDEXES, SCHEMA

CHUNK = 256  # files per worker task
PARALLEL_FROM = 2 * CHUNK  # fewer files than this are parsed in-process
CCV_COLUMNS = ("ccv_id, detector, calibration, pdu, begin_at, end_at, file, dataset, sha256, good_quality, deployed, "
               "condition_id, batch, report_id, report_path, injected_at, calcat_id, constant_id, constant_condition, "
               "calcat_name")


class Progress:
    """A one-line progress report on stderr, only on a terminal and after a second."""

    def __init__(self, total: int, what: str, enabled: bool | None) -> None:
        self.total, self.what, self.done = total, what, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = self.last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self.start > 1 and now - self.last > 0.2:
            self.last = now
            print(f"\rcalcat-git: {self.what} {self.done}/{self.total}", end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.enabled and time.monotonic() - self.start > 1:
            print(f"\rcalcat-git: {self.what} {self.total}/{self.total} done", file=sys.stderr)


def _parsed_stream(repo: GitRepo, items: list[tuple[str, str | None]], progress: Progress
                   ) -> Generator[blobs.Parsed, None, None]:
    """Parse ``(path, blob)`` items in order, on all cores when there are many."""
    if len(items) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        reader = BlobReader(str(repo.path))
        try:
            for path, blob in items:
                yield blobs.read_and_parse(reader, path, blob)
                progress.advance(1)
        finally:
            reader.close()
        return
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    compile_all()  # once here, not once per worker
    with get_context("fork").Pool(min(os.cpu_count() or 1, 4), blobs.init_worker, (str(repo.path),)) as pool:
        for parsed in pool.imap(blobs.parse_many, chunks):
            progress.advance(len(parsed))
            yield from parsed


def _close(conn: sqlite3.Connection, table: str, rowids: Iterable[int], seq: int) -> None:
    conn.executemany(f"UPDATE {table} SET tx_to = ? WHERE rowid = ?", [(seq, r) for r in rowids])


def _condition_id(conn: sqlite3.Connection, text: str) -> int:
    """The id of a condition set (JSON text), added on first sight."""
    row = conn.execute("SELECT id FROM conditions WHERE text = ?", (text,)).fetchone()
    if row is not None:
        return int(row[0])
    return int(conn.execute("INSERT INTO conditions(text) VALUES (?)", (text,)).lastrowid or 0)


def _apply(conn: sqlite3.Connection, seq: int, path: str, parsed: blobs.Parsed | None) -> None:
    """Make the open rows of ``path`` equal to ``parsed`` (None: the file was deleted)."""
    conn.execute("UPDATE invalid SET tx_to = ? WHERE path = ? AND tx_to IS NULL", (seq, path))  # changed: read anew
    if isinstance(parsed, blobs.Invalid):
        conn.execute("INSERT INTO invalid VALUES (?, ?, ?, NULL)", (path, seq, parsed.message))
    conn.execute("UPDATE files SET tx_to = ? WHERE path = ? AND tx_to IS NULL", (seq, path))
    if isinstance(parsed, blobs.EntityRow):
        conn.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, NULL)", (path, parsed.kind, parsed.key, parsed.data, seq))
    new: set[tuple[Any, ...]] = set()
    if isinstance(parsed, blobs.MappingRows):
        conn.execute("INSERT INTO files VALUES (?, 'mapping', ?, ?, ?, NULL)", (path, parsed.detector, parsed.data, seq))
        new = {(parsed.detector, *slot) for slot in parsed.slots}
    old = {row[1:]: row[0] for row in conn.execute(
        "SELECT rowid, detector, aggregator, valid_from, pdu FROM slots WHERE path = ? AND tx_to IS NULL", (path,))}
    _close(conn, "slots", (rowid for key, rowid in old.items() if key not in new), seq)
    conn.executemany("INSERT INTO slots VALUES (?, ?, ?, ?, ?, ?, NULL)",
                     [(path, *key, seq) for key in new if key not in old])
    new_ccvs = ({(*r[:11], _condition_id(conn, r[11]), *r[12:]) for r in parsed.rows}
                if isinstance(parsed, blobs.ConstantRows) else set())
    old_ccvs = {row[1:]: row[0] for row in conn.execute(
        f"SELECT rowid, {CCV_COLUMNS} FROM ccvs WHERE batch = ? AND tx_to IS NULL", (path,))}
    _close(conn, "ccvs", (rowid for key, rowid in old_ccvs.items() if key not in new_ccvs), seq)
    conn.executemany(f"INSERT INTO ccvs ({CCV_COLUMNS}, tx_from) VALUES ({', '.join('?' * 21)})",
                     [(*row, seq) for row in new_ccvs if row not in old_ccvs])


def _ingest(conn: sqlite3.Connection, repo: GitRepo, spec: str, first_seq: int, progress: bool | None) -> int:
    """Add the first-parent commits of ``spec`` and their data changes; returns files parsed."""
    commits = repo.first_parent_log(spec)
    seq_of = {c.sha: first_seq + i for i, c in enumerate(commits)}
    conn.executemany("INSERT INTO commits VALUES (?, ?, ?, ?, ?)",
                     [(seq_of[c.sha], c.sha, int(c.committed_at.timestamp()), c.author, c.message) for c in commits])
    touched: list[tuple[Commit, list[FileChange]]] = list(repo.changed_files(spec, DATA_ROOTS))
    todo = [(seq_of[c.sha], fc) for c, changes in touched for fc in changes if not ignored(fc.path)]
    items = [(fc.path, fc.blob if fc.regular else None) for _, fc in todo if fc.blob]
    bar = Progress(len(items), "indexing files", progress)
    stream = _parsed_stream(repo, items, bar)
    for seq, fc in todo:
        _apply(conn, seq, fc.path, next(stream) if fc.blob else None)
    stream.close()
    bar.finish()
    return len(items)


def _set_meta(conn: sqlite3.Connection, **values: str) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


def _invalid_count(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT COUNT(*) FROM invalid").fetchone()[0])


def build_full(repo: GitRepo, rev: str, head: str, path: Path, progress: bool | None = None) -> dict[str, Any]:
    """Build the index of ``rev`` from scratch into a temporary file, then swap it in."""

    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"{path.name}.tmp-*"):  # left by a killed build: we hold the lock now
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(f"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                           f"PRAGMA application_id = {APPLICATION_ID};" + SCHEMA)
        _set_meta(conn, format=FORMAT, rev=rev, head=head, complete="0", shallow=repo.shallow())
        parsed = _ingest(conn, repo, head, 0, progress)
        conn.executescript(QUERY_INDEXES)
        _set_meta(conn, complete="1", invalid_files=_invalid_count(conn), last_build="full", last_parsed=str(parsed))
        conn.commit()
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        for suffix in ("-journal", "-wal", "-shm"):  # a stale journal must never meet the new file
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        os.replace(tmp, path)
        for old in path.parent.glob(path.name.replace(f".v{FORMAT}.", ".v*.")):  # older formats: dead weight
            if old != path:
                old.unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
    return {"files_parsed": parsed}


def update(conn: sqlite3.Connection, repo: GitRepo, old: str, new: str, progress: bool | None = None) -> dict[str, Any]:
    """Extend the index from ``old`` to ``new`` in one transaction (readers keep a consistent view)."""
    first_seq = conn.execute("SELECT MAX(seq) FROM commits").fetchone()[0] + 1
    with conn:
        parsed = _ingest(conn, repo, f"{old}..{new}", first_seq, progress)
        _set_meta(conn, head=new, invalid_files=_invalid_count(conn), last_build="incremental",
                  last_parsed=str(parsed))
    return {"files_parsed": parsed}
