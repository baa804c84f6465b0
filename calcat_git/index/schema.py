"""The index's SQLite schema and where an index file lives (format, tables, query indexes)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from calcat_git.git.repo import GitRepo

FORMAT = "5"


class Group(NamedTuple):
    """A row of ``Index.constant_groups``: the CCVs of a snapshot that share a PDU, a
    calibration, a condition set and the kept ids of CALCAT's constant and condition."""

    pdu: str
    calibration: str
    condition_set: int  # ccvs.condition_id: the index's id of the condition set
    kept_constant: int | None  # CALCAT's calibration constant id an imported CCV keeps
    kept_condition: int | None  # CALCAT's condition id an imported CCV keeps
    first_begin_us: int  # the earliest begin_at of its CCVs
    first_injected_us: int  # the earliest injected_at of its CCVs
    imported: int  # 1 if any of its CCVs was imported from CALCAT
APPLICATION_ID = 0x43414C47  # "CALG"

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
                  condition_id INTEGER NOT NULL, batch TEXT NOT NULL, report_id INTEGER, report_path TEXT NOT NULL,
                  injected_at INTEGER NOT NULL, calcat_id INTEGER, constant_id INTEGER,
                  constant_condition INTEGER, calcat_name TEXT, tx_from INTEGER NOT NULL, tx_to INTEGER);
CREATE TABLE conditions(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE invalid(path TEXT NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL, tx_to INTEGER);
CREATE INDEX files_open ON files(path) WHERE tx_to IS NULL;
CREATE INDEX slots_open ON slots(path) WHERE tx_to IS NULL;
CREATE INDEX ccvs_open ON ccvs(batch) WHERE tx_to IS NULL;
CREATE INDEX invalid_open ON invalid(path) WHERE tx_to IS NULL;
"""
QUERY_INDEXES = """
CREATE INDEX IF NOT EXISTS commits_time ON commits(committed_at, seq);
CREATE INDEX IF NOT EXISTS files_key ON files(kind, key, tx_from);
CREATE INDEX IF NOT EXISTS slots_query ON slots(detector, valid_from);
CREATE INDEX IF NOT EXISTS ccvs_lookup ON ccvs(pdu, calibration, condition_id, begin_at, ccv_id, tx_from, tx_to);
CREATE INDEX IF NOT EXISTS ccvs_int_id ON ccvs(substr(ccv_id, 1, 12));
CREATE INDEX IF NOT EXISTS ccvs_calcat_id ON ccvs(calcat_id) WHERE calcat_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ccvs_constant ON ccvs(constant_id) WHERE constant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ccvs_calcat_name ON ccvs(calcat_name) WHERE calcat_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS ccvs_report ON ccvs(report_id) WHERE report_id IS NOT NULL;
"""


def index_path(repo: GitRepo, rev: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in rev)
    return repo.git_dir / "calcat-git" / f"index-{safe}.v{FORMAT}.sqlite"
