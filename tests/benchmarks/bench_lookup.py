"""Look-up figures of the scale benchmark (called by bench.py).

A query: a random 16-module AGIPD detector, 5 calibrations, random event and snapshot
times, strategy 'closest', and per calibration the conditions of the detector's newest
CCV before the event (as the RAW data's conditions would usually be).
Naive: read and parse every batch file of the detector at the resolved commit, then
apply the selection rules (generous to naive: CCVs filed under other detectors are
not read).
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calcat_git import Catalog, ConstantBatch
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.files.strict_yaml import load_yaml
from calcat_git.git.history import Timeline
from calcat_git.git.repo import GitRepo
from calcat_git.index.parse import batch_rows
from calcat_git.lookup.engine import Engine
from calcat_git.model.selection import CCVRow, select
from calcat_git.timeutil import micros

Query = tuple[str, datetime, datetime, dict[str, dict[str, float | str]]]


def lookup_queries(cat: Catalog, n: int, seed: int) -> list[Query]:
    backend = cat.backend
    assert isinstance(backend, IndexedSnapshot)
    index, seq = backend.index, backend.seq
    rng = random.Random(seed)
    detectors = [d for d in cat.names("detector")
                 if cat.detector(d).detector_type == "AGIPD-Type" and len(cat.detector(d).modules) == 16]
    calibrations = list(cat.detector_type("AGIPD-Type").calibrations)[:5]
    times = [c.committed_at.timestamp() for c in (index.commit_at(1), index.commit_at(seq))]
    queries = []
    for _ in range(n):
        det = rng.choice(detectors)
        event, snapshot = (datetime.fromtimestamp(rng.uniform(*times), UTC) for _ in range(2))
        asked = {}
        for cal in calibrations:
            row = index.conn.execute("SELECT condition_id FROM ccvs WHERE detector = ? AND calibration = ? "
                                     "AND begin_at <= ? ORDER BY begin_at DESC LIMIT 1",
                                     (det, cal, micros(event))).fetchone()
            conditions = index.condition_sets()[row[0]] if row else {}
            asked[cal] = {k: (v["value"] if isinstance(v, dict) else v) for k, v in conditions.items()}
        queries.append((det, event, snapshot, asked))
    return queries


def naive_lookup(repo: GitRepo, timeline: Timeline, cat: Catalog, query: Query) -> dict[str, dict[str, str]]:
    det, event, snapshot, asked = query
    sha = timeline.at(snapshot).sha
    listing = repo.tree_blobs(sha, [f"constants_index/{det}"])
    rows: list[CCVRow] = []
    for raw, path in zip(repo.read_blobs(list(listing.values())), listing, strict=True):
        rows += batch_rows(ConstantBatch.from_dict(load_yaml(raw).data), path)
    at = cat.at(sha)
    pdus, defaults, event_us = at.mapping(det, at=event), at.parameter_deviations(), micros(event)
    out: dict[str, dict[str, str]] = {}
    for cal, conditions in asked.items():
        for agg, pdu in pdus.items():
            candidates = [r for r in rows if r.pdu == pdu and r.calibration == cal]
            winner = select(candidates, conditions, defaults, event_us, "closest")
            if winner:
                out.setdefault(cal, {})[agg] = winner.ccv_id
    return out


def lookup_figures(repo: Path, cat: Catalog, time_each: Any, ratio: Any, n: int, seed: int) -> dict[str, Any]:
    queries = lookup_queries(cat, n, seed)

    def fast(det: str, event: datetime, snapshot: datetime, asked: dict[str, dict[str, float | str]]) -> Any:
        return Engine(cat.at(snapshot)).run(det, asked, event, "closest")

    for query in queries[:20]:  # warm caches, as a long-running correction process would
        fast(*query)
    warm = time_each(fast, queries)
    git_repo = GitRepo(repo)
    timeline = Timeline(git_repo.first_parent_log("main"))
    naive = time_each(lambda q: naive_lookup(git_repo, timeline, cat, q), [(q,) for q in queries[:3]])
    figure = ratio(warm, naive, "parse the detector's batch YAML at the resolved commit, then select")
    figure["found_per_query"] = sum(len(m) for m in fast(*queries[0]).found.values())
    det, event, snapshot, asked = queries[0]
    cli = [str(Path(sys.executable).with_name("calcat-git")), "lookup", det, "--event-at", event.isoformat(),
           "--snapshot-at", snapshot.isoformat(), "--repo", str(repo), "--json"]
    for cal in asked:
        cli += ["--calibration", cal]
    cli += [f"--condition={k}={v}" for k, v in next(iter(asked.values())).items()]
    cold = time_each(lambda: subprocess.run(cli, capture_output=True, check=False), [()] * 5)
    # No answer check against this naive: it skips CCVs filed under other detectors (moved PDUs) on
    # purpose; tests/lookup/test_lookup_property.py checks the index against a full brute force instead.
    return {"lookup_ms": figure, "cold_lookup_cli_s": {"value": round(cold, 4)}}
