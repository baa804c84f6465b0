"""Whether an index file on disk can be read as it is, extended, or must be built anew.

The index is a cache: a file that is missing, a symbolic link, corrupted, foreign, of an
older format, incomplete, built on a clone with another shallow boundary or not holding
the head it claims is unusable (the reader builds it anew); a usable one whose head is
on the first-parent line of the branch's head is extended.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from calcat_git.git.repo import GitRepo
from calcat_git.index.schema import APPLICATION_ID, FORMAT


def open_usable(path: Path, shallow: str = "", say: bool = True) -> sqlite3.Connection | None:
    """A connection to the index at ``path``, or None if it is missing or unusable (said on
    stderr with ``say``); a symbolic link there is never followed: it is removed."""
    if path.is_symlink():
        if say:
            print(f"calcat-git: index {path.name} is unusable (a symbolic link); rebuilding", file=sys.stderr)
        path.unlink()
        return None
    if not path.exists():
        return None
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        _check(conn, shallow)
        return conn
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if say:
            print(f"calcat-git: index {path.name} is unusable ({exc}); rebuilding", file=sys.stderr)
        return None


def _check(conn: sqlite3.Connection, shallow: str) -> None:
    """Raise a DatabaseError saying why the index of ``conn`` is unusable, if it is."""
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise sqlite3.DatabaseError("not a calcat-git index")
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    if meta.get("format") != FORMAT or meta.get("complete") != "1":
        raise sqlite3.DatabaseError("older format or incomplete")
    if meta.get("shallow", "") != shallow:
        raise sqlite3.DatabaseError("built on a clone with another shallow boundary")
    last = conn.execute("SELECT sha FROM commits ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None or last[0] != meta.get("head"):  # the commit it claims is the one it holds last
        raise sqlite3.DatabaseError(f"it claims head {str(meta.get('head'))[:12]} but holds commits up to "
                                    f"{last[0][:12] if last else 'none'}")


def extends(repo: GitRepo, old: str, new: str) -> bool:
    """Is ``old`` on the first-parent line of ``new`` (so the index can be extended)?"""
    if not repo.is_ancestor(old, new):
        return False
    out = repo.first_parent_since(old, new)
    return bool(out) and repo.rev_parse(f"{out[0]}^1") == old
