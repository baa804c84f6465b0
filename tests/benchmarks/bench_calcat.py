"""The recorded CALCAT queries against calcat-git, beside the real server's own X-Runtime.

Imports the recorded replies into a fresh repository, builds its index, then times every
recorded ``get_by_detector_conditions`` (look-up of all modules and calibrations asked)
and every ``get_all_by_detector`` (mapping at the snapshot) through the Python API, warm,
and also through the index-less (brute-force) reading as a naive baseline. The
production server's ``X-Runtime`` header is its own processing time for the same request.

    python -m tests.benchmarks.bench_calcat [--replies tests/data/calcat-replies] [--repeat 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from calcat_git import Catalog
from calcat_git.calcat_import.facts import Facts, collect
from calcat_git.calcat_import.parity import asked_of
from calcat_git.calcat_import.replies import read_cassettes
from calcat_git.calcat_import.write import import_replies
from calcat_git.lookup.engine import Engine

HERE = Path(__file__).resolve().parent


def _median_ms(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _queries(engine: Engine, facts: Facts, repeat: int) -> list[float]:
    out = []
    for query in facts.queries:
        asked = asked_of(engine.catalog, facts, query)
        out.append(_median_ms(partial(engine.run, query.detector, asked, query.event_at, query.strategy), repeat))
    return out


def _snapshots(catalog: Catalog, facts: Facts, repeat: int) -> list[float]:
    out = []
    for obs in (o for o in facts.recorded if not o.no_pdu):   # every recorded PDU list
        name = facts.detectors[obs.detector_id]["identifier"]
        if name in catalog.names("detector"):
            out.append(_median_ms(partial(catalog.mapping, name, at=obs.at), repeat))
    return out


def run(replies: Path, repeat: int) -> dict[str, Any]:
    facts = collect(read_cassettes([replies]))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "catalog"
        root.mkdir()
        for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "empty"]):
            subprocess.run(["git", "-C", str(root), *args], check=True)
        import_replies(root, read_cassettes([replies]))
        indexed, naive = Catalog.open(root), Catalog.open(root, index=False)
        calcat_q = [q.runtime * 1e3 for q in facts.queries if q.runtime is not None]
        calcat_s = [t * 1e3 for t in facts.snapshot_runtimes]
        ours_q, naive_q = _queries(Engine(indexed), facts, repeat), _queries(Engine(naive), facts, repeat)
        ours_s, naive_s = _snapshots(indexed, facts, repeat), _snapshots(naive, facts, repeat)
    med = statistics.median
    return {
        "get_by_detector_conditions": {"cases": len(ours_q), "calcat_x_runtime_ms": med(calcat_q),
                                       "calcat_git_ms": med(ours_q), "naive_no_index_ms": med(naive_q),
                                       "ratio_calcat_over_calcat_git": med(calcat_q) / med(ours_q)},
        "get_all_by_detector": {"cases": len(ours_s), "calcat_x_runtime_ms": med(calcat_s),
                                "calcat_git_ms": med(ours_s), "naive_no_index_ms": med(naive_s),
                                "ratio_calcat_over_calcat_git": med(calcat_s) / med(ours_s)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=Path, default=HERE.parent / "data" / "calcat-replies")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.replies, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, r in result.items():
            print(f"{name}: {r['cases']} recorded queries, median CALCAT X-Runtime {r['calcat_x_runtime_ms']:.1f} ms, "
                  f"calcat-git {r['calcat_git_ms']:.3f} ms (×{r['ratio_calcat_over_calcat_git']:.0f}), "
                  f"naive without index {r['naive_no_index_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
