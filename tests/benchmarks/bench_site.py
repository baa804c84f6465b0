"""Browser benchmark of the static site at scale: build, then read it in Chromium.

    python tests/benchmarks/bench_site.py --repo /tmp/big --baseline /work/baseline [--json]

``--repo`` is a catalog made by ``generate.py`` (its index is built first if missing). The
site is built by this checkout's code and, with ``--baseline``, by another checkout's code
(e.g. a worktree of main before the sharding) in the same run; both are served from
localhost and opened in headless Debian chromium (Playwright, never a downloaded browser,
no request leaves the host). Printed for each: build seconds and peak RSS (the build and
its site engine), output size, and in a fresh browser context each:

* detector page: bytes fetched until the constants table shows rows (all, and the JSON
  API part; also all bytes once the network is idle, the theme's search index included)
  and seconds until then;
* filtered table (one calibration, one year): bytes and seconds until it shows them;
* look-up page, whole detector, every calibration: bytes and seconds until done.

Then one more batch is committed and this checkout's build runs again: seconds, and how
many generated files were rewritten. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.helpers import serve, watch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
        "--no-first-run", "--disable-sync"]
TARGETS = {"detector_bytes": 1_000_000, "detector_first_rows_s": 0.5, "lookup_bytes": 1_000_000,
           "build_rss_mib": 500}

# A child builds the site with the code of one checkout; the editable install of this
# checkout is taken off the import path so that the other checkout's package is imported.
BUILD = """
import json, resource, shutil, sys, time
from pathlib import Path
code, repo, out = sys.argv[1:4]
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path.insert(0, code)
import calcat_git
assert calcat_git.__file__.startswith(code), calcat_git.__file__
try:
    import calcat_git.site.build as module
    from calcat_git.cli.site import change_summary  # as `calcat-git site build` does
    args = {"pages": {"guide/cli.md": "# CLI reference\\n"}, "summarize": change_summary(Path(repo))}
except ImportError:  # the flat layout before the subpackages
    import calcat_git.sitebuild as module
    args = {}
generated = {}
prepare = module.prepare
def timed(*a, **k):  # the generator's part of the build (the rest is the site engine)
    t = time.perf_counter()
    done = prepare(*a, **k)
    generated["seconds"] = time.perf_counter() - t
    return done
module.prepare = timed
t = time.perf_counter()
counts = module.build(Path(repo), Path(out), None, False, "mkdocs", **args)
seconds = time.perf_counter() - t
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
print(json.dumps({"seconds": round(seconds, 1), "generate_seconds": round(generated["seconds"], 1),
                  "rss_mib": round(rss / 1024), "size_mib": round(size / 2**20, 1),
                  **{k: v for k, v in counts.items() if k.startswith("files_")}}))
"""


def build(code: Path, repo: Path, out: Path) -> dict[str, Any]:
    env = {"PYTHONPATH": "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", BUILD, str(code), str(repo), str(out)], capture_output=True,
                          text=True, check=False, cwd=code, env=env)
    if done.returncode != 0:
        raise SystemExit(f"site build with {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(browser: Any, url: str, base: str, ready: str, action: str | None = None) -> dict[str, Any]:
    """Open ``url`` in a fresh context; seconds until the JS condition ``ready`` holds (after
    ``action``, a JS statement, when given), and bytes received (all, and api/v1/ only)."""
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}

    def finished(request: Any) -> None:
        sizes[request.url] = request.sizes()["responseBodySize"]

    errors, outside = watch(page, base, console=False)
    page.on("requestfinished", finished)
    start = time.perf_counter()
    page.goto(url)
    if action is not None:
        page.wait_for_function(ready.split("&&")[0], timeout=120_000)
        sizes.clear()
        start = time.perf_counter()
        page.evaluate(action)
    page.wait_for_function(ready, timeout=120_000, polling=10)
    seconds = time.perf_counter() - start
    at_ready = dict(sizes)
    page.wait_for_load_state("networkidle")  # e.g. the theme's search index, loaded after the page
    context.close()
    return {"seconds": round(seconds, 3), "bytes": sum(at_ready.values()),
            "api_bytes": sum(n for u, n in at_ready.items() if "/api/v1/" in u),
            "search_index_bytes": sum(n for u, n in sizes.items() if "/search/" in u), "requests": len(at_ready),
            "bytes_when_idle": sum(sizes.values()), "outside": len(outside), "errors": errors[:3]}


ROWS = "document.querySelectorAll('.ccv-table tbody tr').length > 0"
FILTER = ("(() => { const box = document.querySelector('.ccv-table');"
          "box.querySelector('tbody').replaceChildren();"
          "const s = box.querySelector('[data-filter=calibration]'); s.value = 'Noise';"
          "s.dispatchEvent(new Event('input')); const d = box.querySelector('[data-filter=since]');"
          "d.value = '2023-01-01'; d.dispatchEvent(new Event('input'));"
          "const u = box.querySelector('[data-filter=until]'); u.value = '2023-12-31';"
          "u.dispatchEvent(new Event('input')); })()")
DONE = "document.getElementById('lk-status').textContent.startsWith('done')"


def questions(repo: Path) -> tuple[str, str]:
    """A 16-module detector and a look-up of it (its newest batch's conditions, a time in 2024)."""
    sys.path.insert(0, str(ROOT))
    from calcat_git import Catalog

    catalog = Catalog.open(repo)
    detector = next(d for d in catalog.names("detector") if len(catalog.detector(d).modules) == 16)
    found = catalog.index_at_snapshot()
    assert found is not None
    index, seq = found
    newest = max((r for _, rows in index.snapshot_ccvs_by_detector(seq) if _ == detector for r in rows),
                 key=lambda r: r.begin_at)
    lines = [f"{k}={v['value'] if isinstance(v, dict) else v}" for k, v in newest.conditions.items()]
    query = [("detector", detector), ("event", "2024-06-15T12:00:00Z"), ("strategy", "closest")]
    return detector, urlencode(query + [("c", line) for line in lines])


def browse(site: Path, detector: str, lookup: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = f"{base}/catalog/detectors/{detector}.html"
        out = {"detector_page": measure(browser, page, base, ROWS),
               "filtered_table": measure(browser, page, base, ROWS + " && document.querySelector('.ccv-table "
                                         "tbody tr td').textContent === 'Noise'", FILTER),
               "lookup": measure(browser, f"{base}/lookup.html#{lookup}", base, DONE)}
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="catalog repository (generate.py makes one)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose site to measure beside this one's")
    parser.add_argument("--work", type=Path, help="folder for the built sites [default: a new temporary one]")
    parser.add_argument("--no-incremental", action="store_true", help="skip the rebuild after one more batch")
    parser.add_argument("--browse", type=Path, help="only read this already built site in the browser")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    work = args.work or Path(tempfile.mkdtemp(prefix="calcat-bench-site-"))
    detector, lookup = questions(repo)
    report: dict[str, Any] = {"detector": detector, "lookup": lookup, "targets": TARGETS}
    if args.browse:
        print(json.dumps({**report, "site": browse(args.browse, detector, lookup)}, indent=None if args.json else 2))
        return 0
    if args.baseline:
        report["baseline_build"] = build(args.baseline.resolve(), repo, work / "baseline")
        report["baseline"] = browse(work / "baseline", detector, lookup)
    subprocess.run(["rm", "-rf", str(repo / ".site-src")], check=True)  # the baseline's, in the same place
    report["build"] = build(ROOT, repo, work / "site")
    report["site"] = browse(work / "site", detector, lookup)
    if not args.no_incremental:
        from bench import _add_typical_commit

        _add_typical_commit(repo)
        report["incremental_build"] = build(ROOT, repo, work / "site")
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
