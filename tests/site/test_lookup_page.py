"""The site's look-up page (JavaScript on the static JSON API) answers like the Python API."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from calcat_git import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.lookup.engine import Engine

from ..helpers import build_site, require_chromium
from .test_site_browser import ARGS, CHROMIUM, serve

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)


@pytest.fixture(scope="module")
def synthetic_site(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the synthetic catalog and its built site."""
    root = tmp_path_factory.mktemp("site")
    repo, out = root / "catalog", root / "html"
    shutil.copytree(synthetic, repo)
    return repo, build_site(repo, out)


def test_lookup_page_equals_python_api(synthetic_site: tuple[Path, Path]) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    repo, out = synthetic_site
    catalog = Catalog.open(repo)
    backend = catalog.backend
    assert isinstance(backend, IndexedSnapshot)
    index = backend.index
    condition_sets = list(index.condition_sets().values())
    rng = random.Random(3)
    compared = found = 0
    with serve(out) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        for n in range(25):
            detector = rng.choice(catalog.names("detector"))
            dtype = catalog.detector_type(catalog.detector(detector).detector_type)
            base = rng.choice([c for c in condition_sets if set(c) <= set(dtype.parameters)] or condition_sets)
            lines = [f"{k}={v['value'] if isinstance(v, dict) else v}" for k, v in base.items()]
            event = datetime.fromtimestamp(rng.uniform(1.52e9, 1.77e9), UTC).replace(microsecond=0)
            strategy = rng.choice(["closest", "prior"])
            query = [("detector", detector), ("event", event.isoformat().replace("+00:00", "Z")),
                     ("strategy", strategy)] + [("c", line) for line in lines]
            page.goto(f"{url}/lookup.html?n={n}#{urlencode(query)}")
            page.wait_for_function("document.getElementById('lk-status').textContent.startsWith('done')")
            rows = page.eval_on_selector_all("#lk-result tbody tr",
                                             "trs => trs.map(t => [t.dataset.cal, t.dataset.agg, t.dataset.ccv])")
            in_browser = {(cal, agg): ccv for cal, agg, ccv in rows if ccv}
            asked = {}
            for line in lines:
                key, _, value = line.partition("=")
                try:
                    asked[key] = float(value)
                except ValueError:
                    asked[key] = value
            outcome = Engine(catalog).run(detector, dict.fromkeys(dtype.calibrations, asked), event, strategy)
            in_python = {(cal, agg): row.ccv_id for cal, rows_ in outcome.found.items() for agg, row in rows_.items()}
            assert in_browser == in_python, (detector, event, strategy, lines)
            compared += len(rows)
            found += len(in_python)
        page.goto(f"{url}/lookup.html#{urlencode([*query, ('commit', 'f' * 40)])}")  # a link made elsewhere
        page.wait_for_function("document.getElementById('lk-status').textContent.startsWith('done')")
        assert "this link was made on catalog commit ffffffffffff" in page.inner_text("#lk-status")
        page.click("#lk-go")  # the button writes the permalink, with this site's commit
        page.wait_for_function("location.hash.includes('commit=')")
        assert f"commit={catalog.commit}" in page.evaluate("location.hash")
        browser.close()
    assert compared > 500 and found > 50  # the queries do find constants, and do miss some


def test_catalog_from_site_reads_the_static_api(synthetic_site: tuple[Path, Path]) -> None:
    repo, out = synthetic_site
    catalog, site = Catalog.open(repo), Catalog.from_site(out)
    backend = catalog.backend
    assert isinstance(backend, IndexedSnapshot)
    rng = random.Random(5)
    hits = 0
    for _ in range(30):
        detector = rng.choice(site.names())
        event = datetime.fromtimestamp(rng.uniform(1.52e9, 1.77e9), UTC)
        assert site.mapping(detector, at=event) == catalog.mapping(detector, at=event)
        dtype = catalog.detector_type(catalog.detector(detector).detector_type)
        base = rng.choice([c for c in backend.index.condition_sets().values() if set(c) <= set(dtype.parameters)])
        asked = {k: (v["value"] if isinstance(v, dict) else v) for k, v in base.items()}
        wanted = dict.fromkeys(dtype.calibrations, asked)
        from_site = {(c, a): r.ccv_id for c, m in site.lookup(detector, wanted, event).items() for a, r in m.items()}
        outcome = Engine(catalog).run(detector, wanted, event)
        assert from_site == {(c, a): r.ccv_id for c, m in outcome.found.items() for a, r in m.items()}
        hits += len(from_site)
    assert hits > 20
    from calcat_git import InvalidInputError

    with pytest.raises(InvalidInputError, match="would leave the site"):
        site._get("detectors/../../../etc/passwd")
