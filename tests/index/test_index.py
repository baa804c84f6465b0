"""The SQLite index: incremental, a cache that is rebuilt when it cannot be trusted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from calcat_git import Catalog
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
from calcat_git.index.schema import index_path

from ..helpers import commit_all, edit, git

SPB = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"


def _index(mini: Path) -> Index:
    git_repo = GitRepo(mini)
    return Index.open(git_repo, "main", progress=False)


def test_incremental_update_parses_only_changed_files(mini: Path, repo: dict[str, str]) -> None:
    first = _index(mini)
    assert first.last_build[0] == "full" and first.head == repo["late"]
    edit(mini, SPB, "AGIPD01: AGIPD_M5\n", "AGIPD01: AGIPD_M5\n  - from: \"2024-06-01T00:00:00Z\"\n"
         "    reason: M4 back\n    modules:\n      AGIPD00: AGIPD_M4\n")
    edit(mini, "registry/mappings/MID_DET_AGIPD1M-1.yaml", "AGIPD00: null", "AGIPD00: null\n")
    new = commit_all(mini, "M4 back", "2024-06-02T00:00:00Z")
    second = _index(mini)
    assert second.last_build == ("incremental", 2) and second.head == new
    catalog = Catalog.open(mini)
    assert catalog.commit == new
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at="2024-07-01T00:00:00Z")["AGIPD00"] == "AGIPD_M4"
    assert catalog.at(repo["late"]).mapping("SPB_DET_AGIPD1M-1", at="2024-07-01T00:00:00Z")["AGIPD00"] == "AGIPD_M1"
    assert _index(mini).last_build == ("incremental", 2)  # nothing new: not touched again


def test_ccv_flag_flip_keeps_history(mini: Path, repo: dict[str, str]) -> None:
    idx = _index(mini)
    seq_late, _ = idx.latest()
    rows = idx.conn.execute("SELECT ccv_id, good_quality FROM ccvs WHERE tx_to IS NULL").fetchall()
    assert len(rows) == 2 and {r[1] for r in rows} == {1}
    edit(mini, BATCH, "good_quality: true", "good_quality: false")
    commit_all(mini, "Offset of M3 is bad", "2024-06-02T00:00:00Z")
    idx = _index(mini)
    seq, _ = idx.latest()
    visible = {r[0]: r[1] for r in idx.conn.execute(
        "SELECT ccv_id, good_quality FROM ccvs WHERE tx_from <= ? AND (tx_to IS NULL OR tx_to > ?)", (seq, seq))}
    before = {r[0]: r[1] for r in idx.conn.execute(
        "SELECT ccv_id, good_quality FROM ccvs WHERE tx_from <= ? AND (tx_to IS NULL OR tx_to > ?)",
        (seq_late, seq_late))}
    assert set(visible) == set(before)  # same CCV ids: a flag is not identity
    assert sorted(visible.values()) == [0, 1] and sorted(before.values()) == [1, 1]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "old-format"])
def test_damaged_index_is_rebuilt(mini: Path, repo: dict[str, str], damage: str) -> None:
    path = index_path(GitRepo(mini), "main")
    _index(mini).conn.close()
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif damage == "foreign":
        path.unlink()
        sqlite3.connect(path).executescript("CREATE TABLE meta(key, value); INSERT INTO meta VALUES ('format', '1');")
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
    catalog = Catalog.open(mini)
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at="2024-03-01T00:00:00Z")["AGIPD00"] == "AGIPD_M1"
    assert _index(mini).last_build[0] == "full"


def test_force_push_is_detected_and_rebuilt(mini: Path, repo: dict[str, str]) -> None:
    assert _index(mini).head == repo["late"]
    git(mini, "reset", "-q", "--hard", repo["swap"])
    edit(mini, SPB, "AGIPD01: AGIPD_M5\n", "AGIPD01: AGIPD_M5\n  - from: \"2024-06-01T00:00:00Z\"\n"
         "    reason: other\n    modules:\n      AGIPD01: null\n")
    other = commit_all(mini, "a different history", "2024-06-02T00:00:00Z")
    idx = _index(mini)
    assert idx.head == other and idx.last_build[0] == "full"
    catalog = Catalog.open(mini)
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at="2024-07-01T00:00:00Z") == {"AGIPD00": "AGIPD_M4", "AGIPD01": None}


def test_index_agrees_with_naive_reading(mini: Path, repo: dict[str, str]) -> None:
    fast = Catalog.open(mini)
    naive = Catalog.open(mini, index=False)
    times = ["2019-06-01T00:00:00Z", "2023-05-10T06:30:00Z", "2024-01-15T00:00:00Z", "2024-02-15T00:00:00Z",
             "2025-01-01T00:00:00Z"]
    for snapshot in times:
        for event in ["2018-01-01T00:00:00Z", *times]:
            for det in ("MID_DET_AGIPD1M-1", "SPB_DET_AGIPD1M-1"):
                a = fast.at(snapshot)
                b = naive.at(snapshot)
                assert a.commit == b.commit
                assert a.mapping(det, at=event) == b.mapping(det, at=event), (snapshot, event, det)


def test_index_cli_reports_counts(mini: Path, repo: dict[str, str]) -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "calcat_git", "index", "--repo", str(mini), "--rebuild", "--json"],
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    assert report["commit"] == repo["late"] and report["commits"] == 3 and report["last_build"] == "full"
    assert report["counts"] == {"calibration": 3, "detector": 2, "detector_type": 2, "instrument": 2, "mapping": 2,
                                "parameter": 2, "pdu": 6, "ccvs": 2}


@pytest.mark.parametrize("tamper", ["claims-newer-head", "symlink"])
def test_tampered_index_is_not_trusted(mini: Path, repo: dict[str, str], tmp_path: Path, tamper: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An index that claims a head it does not hold (an older index with its head edited), or a
    symbolic link in its place (followed before), is said on one line and built anew."""
    path = index_path(GitRepo(mini), "main")
    _index(mini).conn.close()
    victim = tmp_path / "victim"
    if tamper == "symlink":
        victim.write_bytes(b"someone else's file")
        path.unlink()
        path.symlink_to(victim)
        why = "a symbolic link"
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM commits WHERE sha = ?", (repo["late"],))
        why = f"it claims head {repo['late'][:12]} but holds commits up to {repo['swap'][:12]}"
    capsys.readouterr()
    catalog = Catalog.open(mini)
    assert capsys.readouterr().err.splitlines() == [f"calcat-git: index {path.name} is unusable ({why}); rebuilding"]
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at="2024-03-01T00:00:00Z")["AGIPD00"] == "AGIPD_M1"
    assert not path.is_symlink() and (tamper != "symlink" or victim.read_bytes() == b"someone else's file")
