"""Browser benchmark of the static site at scale: build, then read it in Chromium.

    python -m tests.benchmarks.bench_site --repo /tmp/big --baseline /work/baseline [--json]

``--repo`` is a catalog made by ``generate.py`` (its index is built first if missing). The
site is built by this checkout's code and, with ``--baseline``, by another checkout's code
(e.g. a worktree of main before the sharding) in the same run; both are served from
localhost and opened in headless Debian chromium (Playwright, never a downloaded browser,
no request leaves the host). Printed for each: build seconds and peak RSS (the build and
its site engine), output size, and in a fresh browser context each:

* detector page: seconds from the start of the navigation until a rendered frame shows
  rows in the constants table, and until its filters work (the script has read the shard
  index); bytes fetched until the rows show (all, and the JSON API part) and once the
  network is idle (everything the page loads, the theme's search index included);
* filtered table (one calibration, one year): bytes and seconds until it shows them;
* look-up page, whole detector, every calibration: bytes and seconds until done.

Seconds and bytes are read in the page's own clock and resource timing (conditions checked
at each animation frame by a script the page runs before its own; the time is when that
frame has been rendered, by the Long Animation Frames API), not by the driver, so they leave out
Playwright's round trips, do not wait for the page's ``load`` event nor for the main thread
to be free for the driver. ``--browse SITE [--baseline-site SITE]`` reads already built
sites (this code's and the baseline's, in the same run) without building.

Then one more batch is committed and this checkout's build runs again: seconds, and how
many generated files were rewritten. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..helpers import watch

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


# Run in the page before any of its scripts: at each animation frame each named condition is
# checked, and the time it is first seen to hold noted, in the page's own clock; long
# animation frames (over 50 ms) are recorded too, to tell when the frame that shows it ends.
WATCH = """(() => {
  const conditions = %s, seen = window.__benchSeen = {}, frames = window.__benchFrames = [];
  new PerformanceObserver((list) => frames.push(...list.getEntries().map((e) => [e.startTime, e.duration])))
    .observe({type: "long-animation-frame", buffered: true});
  const check = () => {
    for (const [name, condition] of Object.entries(conditions)) {
      try { if (!(name in seen) && (0, eval)(condition)) seen[name] = performance.now(); } catch (e) { /* not yet */ }
    }
    if (Object.keys(seen).length < Object.keys(conditions).length) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();"""
# When the frame rendered at page time t has been painted: the end of its long animation
# frame, or t if it was not a long one (it ended within 50 ms).
FRAME_END = """(t) => window.__benchFrames.filter(([start, d]) => start <= t && t <= start + d)
  .reduce((end, [start, d]) => Math.max(end, start + d), t)"""
# Bytes (encoded bodies) of the page and of what it fetched, by the page's resource timing:
# all of them, or those done by a time; the JSON API's part; the theme's search index.
BYTES = """([since, until]) => {
  const all = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .filter((e) => e.startTime >= since && e.responseEnd <= until);
  const sum = (es) => es.reduce((n, e) => n + e.encodedBodySize, 0);
  return {bytes: sum(all), api_bytes: sum(all.filter((e) => e.name.includes("/api/v1/"))),
          search_index_bytes: sum(all.filter((e) => e.name.includes("/search/"))), requests: all.length};
}"""


def measure(browser: Any, url: str, base: str, ready: str, action: str | None = None,
            also: dict[str, str] | None = None) -> dict[str, Any]:
    """Open ``url`` in a fresh context: seconds from the start of the navigation until the
    frame in which the JS condition ``ready`` first holds has been rendered, and the bytes
    fetched until then (all, and api/v1/ only) and once the network is idle. With ``action``
    (a JS statement, run once ``also["interactive"]`` holds), seconds and bytes from the
    action instead. ``also``: more conditions timed the same way in the same page load."""
    context = browser.new_context()
    page = context.new_page()

    def seen(name: str) -> float:
        handle = page.wait_for_function(f"window.__benchSeen && window.__benchSeen[{json.dumps(name)}]",
                                        timeout=120_000, polling=10)
        return float(handle.json_value())

    errors, outside = watch(page, base, console=False)
    conditions = dict(also or {}) if action else {"ready": ready, **(also or {})}
    page.add_init_script(WATCH % json.dumps(conditions))
    page.goto(url, wait_until="commit")
    start, end = 0.0, seen("ready") if action is None else 0.0
    timed = {name: seen(name) for name in also or {}}
    if action is not None:
        start = float(page.evaluate(f"(() => {{ const start = performance.now(); {action}; return start; }})()"))
        end = float(page.wait_for_function(f"({ready}) ? performance.now() : 0", timeout=120_000,
                                           polling="raf").json_value())
    page.wait_for_load_state("networkidle")  # e.g. the theme's search index, loaded after the page
    if action is None:
        end = float(page.evaluate(FRAME_END, end))
    timed = {f"{name}_seconds": round(float(page.evaluate(FRAME_END, t)) / 1000, 3) for name, t in timed.items()}
    at_ready, idle = (page.evaluate(BYTES, [start, until]) for until in (end, 1e12))
    context.close()
    return {"seconds": round((end - start) / 1000, 3), **timed, **at_ready,
            "search_index_bytes": idle["search_index_bytes"], "bytes_when_idle": idle["bytes"],
            "requests_when_idle": idle["requests"], "outside": len(outside), "errors": errors[:3]}


ROWS = "document.querySelectorAll('.ccv-table tbody tr').length > 0"
FILTER = ("(() => { const box = document.querySelector('.ccv-table');"
          "box.querySelector('tbody').replaceChildren();"
          "const s = box.querySelector('[data-filter=calibration]'); s.value = 'Noise';"
          "s.dispatchEvent(new Event('input')); const d = box.querySelector('[data-filter=since]');"
          "d.value = '2023-01-01'; d.dispatchEvent(new Event('input'));"
          "const u = box.querySelector('[data-filter=until]'); u.value = '2023-12-31';"
          "u.dispatchEvent(new Event('input')); })()")
# The table's filters work: the script has read the shard index (it fills the calibration
# list then renders its first screen; a page without rows in its HTML shows them just after).
INTERACTIVE = ROWS + " && document.querySelectorAll('.ccv-table [data-filter=calibration] option').length > 1"
DONE = "document.getElementById('lk-status').textContent.startsWith('done')"


def questions(repo: Path) -> tuple[str, str]:
    """A 16-module detector and a look-up of it (its newest batch's conditions, a time in 2024)."""
    from calcat_git import Catalog

    catalog = Catalog.open(repo)
    detector = next(d for d in catalog.names("detector") if len(catalog.detector(d).modules) == 16)
    newest = max((r for name, rows in catalog.backend.ccvs_by_detector() if name == detector for r in rows),
                 key=lambda r: r.begin_at)
    lines = [f"{k}={v['value'] if isinstance(v, dict) else v}" for k, v in newest.conditions.items()]
    query = [("detector", detector), ("event", "2024-06-15T12:00:00Z"), ("strategy", "closest")]
    return detector, urlencode(query + [("c", line) for line in lines])


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free localhost port from a process of its own (a server thread in
    this process would share its interpreter with the browser driver)."""
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(site)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        port = server.stdout.readline().split(" port ")[1].split()[0]  # "Serving HTTP on 127.0.0.1 port N (...)"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def browse(site: Path, detector: str, lookup: str, repeat: int = 1) -> dict[str, Any]:
    """The figures of one site; the detector page's are of the run with the median time to
    first rows of ``repeat`` runs (all runs' times listed), as they vary most with the load."""
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = f"{base}/catalog/detectors/{detector}.html"
        runs = sorted((measure(browser, page, base, ROWS, also={"interactive": INTERACTIVE}) for _ in range(repeat)),
                      key=lambda run: float(run["seconds"]))
        median = {**runs[len(runs) // 2], "runs": [[r["seconds"], r["interactive_seconds"]] for r in runs]}
        out = {"detector_page": median,
               "filtered_table": measure(browser, page, base, ROWS + " && document.querySelector('.ccv-table "
                                         "tbody tr td').textContent === 'Noise'", FILTER,
                                         also={"interactive": INTERACTIVE}),
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
    parser.add_argument("--baseline-site", type=Path, help="with --browse: an already built baseline site, read "
                        "beside it in the same run")
    parser.add_argument("--repeat", type=int, default=5, help="detector page loads per site (the median is "
                        "reported) [default: 5]")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    work = args.work or Path(tempfile.mkdtemp(prefix="calcat-bench-site-"))
    detector, lookup = questions(repo)
    report: dict[str, Any] = {"detector": detector, "lookup": lookup, "targets": TARGETS}
    if args.browse:
        if args.baseline_site:
            report["baseline"] = browse(args.baseline_site, detector, lookup, args.repeat)
        report["site"] = browse(args.browse, detector, lookup, args.repeat)
        print(json.dumps(report, indent=None if args.json else 2))
        return 0
    if args.baseline:
        report["baseline_build"] = build(args.baseline.resolve(), repo, work / "baseline")
        report["baseline"] = browse(work / "baseline", detector, lookup, args.repeat)
    subprocess.run(["rm", "-rf", str(repo / ".site-src")], check=True)  # the baseline's, in the same place
    report["build"] = build(ROOT, repo, work / "site")
    report["site"] = browse(work / "site", detector, lookup, args.repeat)
    if not args.no_incremental:
        from .bench import _add_typical_commit

        _add_typical_commit(repo)
        report["incremental_build"] = build(ROOT, repo, work / "site")
    print(json.dumps(report, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
