"""Validate benchmark: `calcat-git validate` of a whole working tree, cold and warm, and
the pre-commit hook after one mapping file is edited.

    python -m tests.benchmarks.bench_validate --tree /tmp/tree [--build] [--json]

``--tree`` is a working tree of a catalog (``git clone`` of a generate.py repository, or
``generate.py --checkout``). Every figure runs the real CLI in a fresh process and is
printed beside the baseline measured in the same run: the CPU time one process takes to
parse every catalog file once with PyYAML's C loader (``yaml.load(..., Loader=
yaml.CSafeLoader)``), checking nothing. Cold means no ``.git/calcat-git/`` (no index, no
cache of checked files); warm is the next run; the hook is ``validate --changed-since
HEAD`` after one mapping file changed (it is restored afterwards). ``--build`` adds the
full index build (``.git/calcat-git/`` deleted first). Timings are never asserted; the
test suite runs this at a small size and asserts only that the runs agree.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGETS = {"cold": 0.6, "warm": 0.15, "hook_s": 1.0}

# run a command and report its wall time, the CPU time of it and every process it waited
# for (workers included), and the largest peak RSS among them
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "cpu_s": r.ru_utime + r.ru_stime, "rss_mib": r.ru_maxrss / 1024,
                  "code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}))
"""
C_PARSE = """
import os, sys, time, yaml
n, t, w = 0, time.process_time(), time.perf_counter()
for top in ("registry", "constants_index"):
    for folder, _, names in os.walk(os.path.join(sys.argv[1], top)):
        for name in names:
            if name.endswith(".yaml"):
                with open(os.path.join(folder, name), "rb") as handle:
                    yaml.load(handle.read(), Loader=yaml.CSafeLoader)
                n += 1
print(n, time.process_time() - t, time.perf_counter() - w)
"""
BUILD = """
import shutil, sys
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
Index.open(GitRepo(sys.argv[1]), "main", progress=False)
"""


def _measure(*command: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def _cli(tree: Path, *args: str) -> dict[str, Any]:
    run = _measure(str(Path(sys.executable).with_name("calcat-git")), "validate", str(tree), "--json", *args)
    assert "Traceback" not in run["stderr"], run["stderr"]
    report = json.loads(run.pop("stdout"))
    run["problems"] = [f"{p['file']}:{p['line']}: {p['field']}: {p['message']} [{p['check']}]"
                       for p in report["problems"]]
    run["counts"] = report["counts"]
    return run


def _figure(run: dict[str, Any], parse_cpu_s: float, target: float | None) -> dict[str, Any]:
    return {"wall_s": round(run["wall_s"], 3), "cpu_s": round(run["cpu_s"], 2), "rss_mib": round(run["rss_mib"], 1),
            "wall_x_parse": round(run["wall_s"] / parse_cpu_s, 3), "cpu_x_parse": round(run["cpu_s"] / parse_cpu_s, 3),
            "problems": len(run["problems"]), "target": target}


def _edit_one_mapping(tree: Path) -> str:
    """Change the reason of a mapping file's first change (a valid edit); returns its path."""
    path = sorted((tree / "registry" / "mappings").glob("*.yaml"))[0]
    text = path.read_text("utf-8")
    assert "reason: " in text, path
    path.write_text(text.replace("reason: ", "reason: edited, ", 1), "utf-8")
    return path.relative_to(tree).as_posix()


def run(tree: Path, build: bool = False) -> dict[str, Any]:
    """Every figure for the working tree at ``tree`` (its ``.git/calcat-git/`` is deleted)."""
    cache = tree / ".git" / "calcat-git"
    parse = subprocess.run([sys.executable, "-c", C_PARSE, str(tree)], capture_output=True, text=True, check=True)
    files, parse_cpu, parse_wall = parse.stdout.split()
    baseline = {"files": int(files), "cpu_s": round(float(parse_cpu), 2), "wall_s": round(float(parse_wall), 2)}
    shutil.rmtree(cache, ignore_errors=True)
    cold, warm = _cli(tree), _cli(tree)
    edited = _edit_one_mapping(tree)
    try:
        hook = _cli(tree, "--changed-since", "HEAD")
    finally:
        subprocess.run(["git", "-C", str(tree), "checkout", "--", edited], check=True)
    figures = {"cold": _figure(cold, float(parse_cpu), TARGETS["cold"]),
               "warm": _figure(warm, float(parse_cpu), TARGETS["warm"]),
               "hook_s": _figure(hook, float(parse_cpu), TARGETS["hook_s"])}
    figures["cold"]["counts"] = cold["counts"]
    if build:
        shutil.rmtree(cache, ignore_errors=True)
        built = _measure(sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE.parent.parent)!r})\n" + BUILD,
                         str(tree))
        figures["index_build"] = _figure({**built, "problems": []}, float(parse_cpu), None)
    return {"baseline_c_parse": baseline, "figures": figures, "warm_equals_cold": warm["problems"] == cold["problems"],
            "edited": edited}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True, help="working tree of a catalog (its .git/calcat-git/ "
                        "is deleted)")
    parser.add_argument("--build", action="store_true", help="also time the full index build")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    result = run(args.tree, args.build)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        base = result["baseline_c_parse"]
        print(f"baseline: C loader parses {base['files']} files in {base['cpu_s']} s CPU ({base['wall_s']} s wall)")
        for name, fig in result["figures"].items():
            print(f"{name:12} {fig['wall_s']:>9} s wall ×{fig['wall_x_parse']} of the parse, {fig['cpu_s']} s CPU "
                  f"×{fig['cpu_x_parse']}, {fig['rss_mib']} MiB peak RSS (one process), {fig['problems']} problems  "
                  f"(target {fig['target']})")
        print(f"warm finds what cold finds: {result['warm_equals_cold']}")
    return 0 if result["warm_equals_cold"] else 1


if __name__ == "__main__":
    sys.exit(main())
