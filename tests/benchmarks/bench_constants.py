"""How ``calcat-git serve``'s calibration-constant layer (``server/constants.py``) grows with a
catalog's CCVs: this checkout's code beside another checkout's, in the same run.

    python -m tests.benchmarks.bench_constants [--ccvs 5000 20000 80000] [--work /tmp/bench-cc]
                                               [--baseline <checkout>] [--json]

For each size a synthetic catalog (``generate.py``, 50 commits, seed 7; kept in ``--work``
for the next run) is opened and indexed, then measured by each code in a process of its own
(``PYTHONPATH`` the checkout; the index is built before anything is timed):

* *first version question*: on a fresh snapshot view, the versions of one CC for one PDU
  (``Constants.of(view).rows``, what ``get_version``/``get_all_versions`` ask first), chosen
  and shown as JSON; then the layer's part of it (``rows``) warm, the mean of 200;
* *first listing*: on a fresh view, every CC (``GET calibration_constants``);
* memory: what the view keeps after each (``tracemalloc``, after a garbage collection,
  another fresh view each), per view: a worker keeps the served view and up to
  ``PINNED_VIEWS`` pinned ones.

Times are wall clock on a possibly shared machine: compare the two codes of one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calcat_git import Catalog
from calcat_git.model.calcat_ids import calibration_constant_id
from calcat_git.server.constants import Constants
from calcat_git.server.shapes import condition_key
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import facility_zone, now_utc

ROOT = Path(__file__).resolve().parents[2]
WARM = 200


def _question(view: CalcatView) -> tuple[int, str]:
    """A CC of a CCV that is not imported and that CCV's PDU (the same in any code)."""
    pdu, calibration, set_id = view.backend.index.conn.execute(
        "SELECT pdu, calibration, condition_id FROM ccvs WHERE calcat_id IS NULL ORDER BY rowid LIMIT 1").fetchone()
    key = condition_key(view.backend.index.condition_sets()[set_id])
    return calibration_constant_id(view.catalog.pdu(pdu).detector_type, calibration, key), pdu


def _ask(view: CalcatView, cc_id: int, pdu: str) -> int:
    layer = Constants.of(view)
    rows = layer.rows([cc_id], pdu, None)
    chosen = layer.choose(rows, now_utc(), "closest")
    assert chosen is not None, "the question has an answer"
    layer.ccv_json(chosen)
    return len(rows)


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def _kept_bytes(catalog: Catalog, work: Callable[[CalcatView], Any]) -> tuple[int, int]:
    """(bytes a fresh view keeps after ``work``, peak bytes during it)."""
    view = CalcatView(catalog, facility_zone("Europe/Berlin"))
    gc.collect()
    tracemalloc.start()
    work(view)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del view
    return kept, peak


def _times(catalog: Catalog, cc_id: int, pdu: str) -> dict[str, Any]:
    zone = facility_zone("Europe/Berlin")
    view = CalcatView(catalog, zone)
    first_s, versions = _timed(lambda: _ask(view, cc_id, pdu))
    layer = Constants.of(view)
    warm_s, _ = _timed(lambda: [layer.rows([cc_id], pdu, None) for _ in range(WARM)])
    listing = CalcatView(catalog, zone)
    all_s, listed = _timed(lambda: len(Constants.of(listing).all()))
    return {"ccs": listed, "versions": versions, "first_question_ms": first_s * 1e3,
            "warm_question_us": warm_s / WARM * 1e6, "first_listing_ms": all_s * 1e3}


def measure(repo: Path) -> dict[str, Any]:
    """The figures of the code on ``sys.path`` for the catalog at ``repo`` (index built first)."""
    catalog = Catalog.open(repo)
    ccvs = catalog.backend.index.counts(catalog.backend.seq)["ccvs"]  # type: ignore[union-attr]
    cc_id, pdu = _question(CalcatView(catalog, facility_zone("Europe/Berlin")))
    times = _times(catalog, cc_id, pdu)
    question_kept, question_peak = _kept_bytes(catalog, lambda v: _ask(v, cc_id, pdu))
    all_kept, all_peak = _kept_bytes(catalog, lambda v: Constants.of(v).all())
    return {"ccvs": ccvs, **times, "question_kept_mib": question_kept / 2**20,
            "question_peak_mib": question_peak / 2**20, "listing_kept_mib": all_kept / 2**20,
            "listing_peak_mib": all_peak / 2**20}


def catalog_of(work: Path, ccvs: int) -> Path:
    repo = work / f"catalog-{ccvs}"
    if not repo.exists():
        from tests.benchmarks.generate import generate  # only the driver generates: a measured checkout may lack it

        generate(repo, ccvs=ccvs, commits=50, seed=7)
    return repo


def run_in(checkout: Path, repo: Path) -> dict[str, Any]:
    """``measure`` in a process of its own, with ``checkout``'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, __file__, "--measure", str(repo)], env=env, check=True,
                          capture_output=True, text=True)
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def line(name: str, found: dict[str, Any]) -> str:
    return (f"  {name:9} {found['ccvs']:>7} CCVs {found['ccs']:>5} CCs  first question {found['first_question_ms']:8.1f} ms"
            f"  warm {found['warm_question_us']:7.0f} us  first listing {found['first_listing_ms']:8.1f} ms  kept "
            f"{found['question_kept_mib']:6.2f} MiB (listing {found['listing_kept_mib']:6.2f})  peak "
            f"{found['question_peak_mib']:6.2f} MiB (listing {found['listing_peak_mib']:6.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ccvs", type=int, nargs="+", default=[5000, 20000, 80000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-constants"), help="where catalogs are kept")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # a child: measure this catalog
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    report: list[dict[str, Any]] = []
    for ccvs in args.ccvs:
        repo = catalog_of(args.work, ccvs)
        entry = {"this": run_in(ROOT, repo)}
        if args.baseline:
            entry["baseline"] = run_in(args.baseline.resolve(), repo)
        report.append(entry)
        if not args.json:
            for name, found in entry.items():
                print(line(name, found), flush=True)
    if args.json:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
