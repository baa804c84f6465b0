"""Scale benchmark of snapshots, mapping look-ups and the index.

    python -m tests.benchmarks.bench --ccvs 1000000 --commits 50000 --json

Generates a synthetic catalog (tests/benchmarks/generate.py) unless --repo is given,
then prints each figure beside a naive baseline measured in the same run. Naive means:
resolve the snapshot by bisecting the first-parent log, then read and parse the YAML
files at that commit for every query (a persistent ``git cat-file --batch``). Timings
are never asserted; the test suite runs this at a small size and asserts only that the
index answers equal the naive answers.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calcat_git import Catalog, Detector, Mapping
from calcat_git.files.strict_yaml import load_yaml
from calcat_git.git.history import Timeline
from calcat_git.git.repo import GitRepo

HERE = Path(__file__).resolve().parent

TARGETS = {"snapshot_ms": 0.5, "mapping_ms": 1.0, "cold_cli_s": 0.3, "incremental_s": 0.3, "build_s": 90,
           "build_rss_mib": 1024, "query_rss_mib": 150, "lookup_ms": 5.0, "cold_lookup_cli_s": 0.4, "check_pr_s": 5.0,
           "site_build_s": 600}


class CatFile:
    """The baseline's blob reader: one persistent ``git cat-file --batch`` (``<sha>:<path>`` names)."""

    def __init__(self, repo: str) -> None:
        self.proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def read(self, name: str) -> bytes:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(name.encode() + b"\n")
        self.proc.stdin.flush()
        size = int(self.proc.stdout.readline().split()[2])
        return self.proc.stdout.read(size + 1)[:-1]


class NaiveReader:
    """The baseline: bisect the log, then parse the YAML files at that commit, every time."""

    def __init__(self, repo: Path) -> None:
        self.timeline = Timeline(GitRepo(repo).first_parent_log("main"))
        self.reader = CatFile(str(repo))

    def mapping(self, detector: str, event_at: datetime, snapshot_at: datetime) -> tuple[str, dict[str, str | None]]:
        sha = self.timeline.at(snapshot_at).sha
        det = Detector.from_dict(load_yaml(self.reader.read(f"{sha}:registry/detectors/{detector}.yaml")).data)
        mapping = Mapping.from_dict(load_yaml(self.reader.read(f"{sha}:registry/mappings/{detector}.yaml")).data)
        state = mapping.state_at(event_at)
        return sha, {agg: state.get(agg) for agg in det.aggregators}


def naive_registry_mapping(repo: GitRepo, timeline: Timeline, detector: str, event_at: datetime,
                           snapshot_at: datetime) -> dict[str, str | None]:
    """A plainer baseline: load every registry file at the resolved commit, then fold."""
    from calcat_git.files.loading import load_registry

    sha = timeline.at(snapshot_at).sha
    listing = repo.tree_blobs(sha, ["registry"])
    paths, blobs = list(listing), list(listing.values())
    reg = load_registry(zip(paths, repo.read_blobs(blobs), strict=True))
    state = reg.mappings[detector].state_at(event_at)
    return {agg: state.get(agg) for agg in reg.detectors[detector].aggregators}


def _child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints a JSON dict; add its peak RSS (MiB)."""
    prelude = f"import json, resource, sys, time; sys.path.insert(0, {str(HERE.parent.parent)!r})\n"
    epilogue = ("\nrss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                "out['rss_mib'] = round(rss / 1024, 1); print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", prelude + code + epilogue, *args], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


BUILD = """
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
from calcat_git.index.schema import index_path
repo = GitRepo(sys.argv[1]); index_path(repo, 'main').unlink(missing_ok=True)
t = time.perf_counter(); idx = Index.open(repo, 'main', progress=False)
out = {'seconds': time.perf_counter() - t, 'invalid_files': idx.invalid_files}
"""
SITE = """
import shutil, tempfile
from pathlib import Path
from calcat_git.cli.doc import page
from calcat_git.site.build import build
work = Path(tempfile.mkdtemp(prefix="calcat-bench-site-"))
out = work / "site"  # a new folder: site build replaces only what it built
pages = {"guide/cli.md": page()}
t = time.perf_counter(); counts = build(Path(sys.argv[1]).resolve(), out, None, False, "mkdocs", pages)
size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
out_dict = {"seconds": time.perf_counter() - t, "pages": counts["pages"], "mib": round(size / 2**20, 1)}
shutil.rmtree(work)
out = out_dict
"""
QUERY_PROCESS = """
from datetime import datetime, timezone
from calcat_git import Catalog
queries = json.loads(sys.argv[2]); cat = Catalog.open(sys.argv[1])
t = time.perf_counter()
for det, event, snap in queries:
    cat.at(snap).mapping(det, at=event)
out = {'seconds': time.perf_counter() - t}
"""
NAIVE_CLI = """
from datetime import datetime
from tests.benchmarks.bench import NaiveReader
det, event, snap = json.loads(sys.argv[2])
NaiveReader(sys.argv[1]).mapping(det, datetime.fromisoformat(event), datetime.fromisoformat(snap))
out = {}
"""


def _random_queries(cat: Catalog, repo: Path, n: int, seed: int) -> list[tuple[str, datetime, datetime]]:
    rng = random.Random(seed)
    timeline = Timeline(GitRepo(repo).first_parent_log("main"))
    first, last = timeline.times[0].timestamp(), timeline.times[-1].timestamp()
    detectors = [d for d in cat.names("detector") if len(cat.detector(d).modules) == 16]

    def pick() -> datetime:
        return datetime.fromtimestamp(rng.uniform(first, last + 86400), UTC)

    return [(rng.choice(detectors), pick(), pick()) for _ in range(n)]


def _time_each(func: Any, items: list[Any]) -> float:
    """Median seconds per call."""
    samples = []
    for item in items:
        start = time.perf_counter()
        func(*item)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _add_typical_commit(repo: Path) -> None:
    """One more dark-run batch (a copy of an existing one with a flag flipped), committed
    on main without a working tree (the benchmark repo is bare)."""
    git = GitRepo(repo)
    head = git.rev_parse("main")
    latest = git.first_parent_log("main")[-1].committed_at
    batch, blob = next((p, b) for p, b in git.tree_blobs(head, ["constants_index"]).items() if p.endswith(".yaml"))
    text = git.read_blobs([blob])[0]
    folder = batch.rsplit("/", 1)[0]
    name = f"{folder}/{folder[-4:]}1231T235959Z-bench-{head[:8]}.yaml"  # valid, and new on every run
    git.commit_file("main", name, text.replace(b"good_quality: true", b"good_quality: false"),
                    "bench: one more dark run", when=int(latest.timestamp()) + 60)


def _mismatches(cat: Catalog, naive: NaiveReader, queries: list[tuple[str, datetime, datetime]]) -> int:
    wrong = 0
    for det, event, snap in queries:
        fast = cat.at(snap)
        wrong += (fast.commit, fast.mapping(det, at=event)) != naive.mapping(det, event, snap)
    return wrong


def run(repo: Path, queries: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Every figure of the benchmark for the catalog repository at ``repo``."""
    from calcat_git.index.reader import Index

    figures: dict[str, Any] = {}
    build = _child(BUILD, str(repo))
    figures["build_s"] = {"value": round(build["seconds"], 2), "rss_mib": build["rss_mib"],
                          "invalid_files": build["invalid_files"]}
    figures["build_rss_mib"] = {"value": build["rss_mib"]}
    cat = Catalog.open(repo)
    naive = NaiveReader(repo)
    qs = _random_queries(cat, repo, queries, seed)
    mismatches = _mismatches(cat, naive, qs)
    idx = Index.open(GitRepo(repo), "main")
    snap_fast = _time_each(lambda s: idx.snapshot(s), [(s,) for _, _, s in qs])
    snap_naive = _time_each(lambda s: subprocess.run(["git", "-C", str(repo), "rev-list", "-1", "--first-parent",
                                                     f"--before={int(s.timestamp())}", "main"], capture_output=True),
                            [(s,) for _, _, s in qs[:50]])
    figures["snapshot_ms"] = _ratio(snap_fast, snap_naive, "git rev-list -1 --first-parent --before=T per query")
    map_fast = _time_each(lambda d, e, s: cat.at(s).mapping(d, at=e), qs)
    map_naive = _time_each(naive.mapping, qs[: max(50, queries // 10)])
    figures["mapping_ms"] = _ratio(map_fast, map_naive, "parse detector+mapping YAML at the resolved commit")
    git_repo = GitRepo(repo)
    map_registry = _time_each(lambda d, e, s: naive_registry_mapping(git_repo, naive.timeline, d, e, s), qs[:10])
    figures["mapping_ms"]["naive_registry"] = round(map_registry * 1000, 2)
    figures["mapping_ms"]["speedup_registry"] = round(map_registry / map_fast, 1)
    cli = [str(Path(sys.executable).with_name("calcat-git")), "mapping", qs[0][0], "--at", qs[0][1].isoformat(),
           "--snapshot-at", qs[0][2].isoformat(), "--repo", str(repo), "--json"]
    cli_fast = _time_each(lambda: subprocess.run(cli, capture_output=True, check=True), [()] * 7)
    naive_args = json.dumps([qs[0][0], qs[0][1].isoformat(), qs[0][2].isoformat()])
    cli_naive = _time_each(lambda: _child(NAIVE_CLI, str(repo), naive_args), [()] * 3)
    figures["cold_cli_s"] = _ratio(cli_fast, cli_naive, "fresh python: bisect log + parse YAML at commit", ms=False)
    _add_typical_commit(repo)
    start = time.perf_counter()
    updated = Index.open(GitRepo(repo), "main", progress=False)
    incremental = time.perf_counter() - start
    rebuild = _child(BUILD, str(repo))["seconds"]
    figures["incremental_s"] = _ratio(incremental, rebuild, "full rebuild after the same commit", ms=False)
    figures["incremental_s"]["files_parsed"] = updated.last_build[1]
    check = [str(Path(sys.executable).with_name("calcat-git")), "check", "--base", "main~1", "--head", "main", "--repo",
             str(repo), "--json"]
    figures["check_pr_s"] = {"value": round(_time_each(lambda: subprocess.run(check, capture_output=True), [()] * 3), 3)}
    from .bench_lookup import lookup_figures

    figures.update(lookup_figures(repo, Catalog.open(repo), _time_each, _ratio, min(queries, 200), seed))
    site = _child(SITE, str(repo))
    figures["site_build_s"] = {"value": round(site["seconds"], 1), "rss_mib": site["rss_mib"], "pages": site["pages"],
                               "size_mib": site["mib"]}
    qp = _child(QUERY_PROCESS, str(repo), json.dumps([(d, e.isoformat(), s.isoformat()) for d, e, s in qs[:1000]]))
    figures["query_rss_mib"] = {"value": qp["rss_mib"]}
    for name, target in TARGETS.items():
        figures[name]["target"] = target
    return {"figures": figures, "queries": len(qs), "mismatches": mismatches}


def _ratio(fast: float, naive: float, baseline: str, ms: bool = True) -> dict[str, Any]:
    scale = 1000 if ms else 1
    return {"value": round(fast * scale, 4), "naive": round(naive * scale, 4), "naive_is": baseline,
            "speedup": round(naive / fast, 1) if fast else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ccvs", type=int, default=5000)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--repo", type=Path, help="benchmark this existing catalog repo instead of generating one")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="calcat-bench-") as tmp:
        repo = args.repo
        generated = None
        if repo is None:
            from .generate import generate

            repo = Path(tmp) / "catalog"
            generated = generate(repo, args.ccvs, args.commits, args.seed)
        result = {"generated": generated, **run(repo, args.queries, args.seed)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, fig in result["figures"].items():
            extra = f"  naive {fig['naive']}  ×{fig['speedup']}" if "naive" in fig else ""
            print(f"{name:15} {fig['value']:>10}{extra}  (target {fig['target']})")
        print(f"mismatches with naive answers: {result['mismatches']} of {result['queries']}")
    return 1 if result["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
