"""The built site in a real headless browser (Debian chromium driven by Playwright)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..helpers import ARGS, CHROMIUM, build_site, commit_with_late_move, edit, require_chromium, serve, watch
from .test_site import built  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)


@pytest.fixture
def served(built: Path) -> Iterator[str]:  # noqa: F811
    with serve(built) as url:
        yield url


def test_browse_detector_timeline_pdu_and_search(served: str, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        errors, outside = watch(page, served)
        page.goto(f"{served}/index.html")
        page.screenshot(path=str(tmp_path / "home.png"))
        page.locator("article a", has_text="MID_DET_AGIPD1M-1").first.click()
        page.wait_for_url("**/catalog/detectors/MID_DET_AGIPD1M-1.html")
        expect(page.locator("svg.calcat-timeline g.slot")).to_have_count(2)  # waits for the page
        count = page.locator(".ccv-table .ccv-count")
        expect(count).to_have_text("2 of 2 constants match")
        expect(page.locator(".ccv-table tbody tr")).to_have_count(2)
        page.select_option('.ccv-table [data-filter="calibration"]', "Noise")
        expect(count).to_have_text("1 of 2 constants match")
        expect(page.locator(".ccv-table tbody tr")).to_have_count(1)
        page.fill('.ccv-table [data-filter="module"]', "AGIPD01")
        expect(count).to_have_text("1 of 2 constants match")
        page.fill('.ccv-table [data-filter="module"]', "AGIPD00")
        expect(count).to_have_text("0 of 2 constants match")
        page.fill('.ccv-table [data-filter="module"]', "")
        page.fill('.ccv-table [data-filter="condition"]', "Memory cells=352")
        expect(count).to_have_text("1 of 2 constants match")
        page.fill('.ccv-table [data-filter="since"]', "2024-06-01")
        expect(count).to_have_text("0 of 2 constants match")
        page.screenshot(path=str(tmp_path / "detector.png"), full_page=True)
        page.locator("article table a", has_text="AGIPD_M3").first.click()
        page.wait_for_url("**/catalog/pdus/AGIPD_M3.html")
        expect(page.locator("svg.calcat-timeline rect[data-pdu='AGIPD_M3']")).to_have_count(1)
        page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
        search = page.locator("input.md-search__input")
        search.click()
        search.press_sequentially("AGIPD_M5", delay=20)
        expect(page.locator(".md-search-result__item").first).to_contain_text("AGIPD_M5", timeout=10_000)
        page.screenshot(path=str(tmp_path / "search.png"))
        search.fill("")
        search.press_sequentially("SPB_DET_AGIPD1M", delay=20)  # a detector, by name
        expect(page.locator(".md-search-result__item").first).to_contain_text("SPB_DET_AGIPD1M-1", timeout=10_000)
        expect(page.locator(".md-search-result__item a").first).to_have_attribute(
            "href", re.compile(r"/catalog/detectors/SPB_DET_AGIPD1M-1\.html(\?|$)"))
        browser.close()
    assert errors == [] and outside == []


def test_pages_work_from_file_urls(built: Path) -> None:  # noqa: F811
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((built / "index.html").as_uri())
        page.locator("article a", has_text="MID_DET_AGIPD1M-1").first.click()
        expect(page.locator("svg.calcat-timeline g.slot")).to_have_count(2)
        expect(page.locator(".ccv-table .ccv-count")).to_contain_text("serve this folder over http(s)")
        browser.close()
    # mkdocs-material's search worker cannot start from file:// (the browser refuses); nothing else may fail
    assert [e for e in errors if "/search/" not in e] == []


HOSTILE = ("x ![i](http://evil.example/md.png) [c](javascript:alert(1)) <img src=http://evil.example/raw.png> "
           "<https://evil.example/auto> &lt;img src=http://evil.example/entity.png&gt;")


@pytest.fixture
def hostile_site(mini: Path, tmp_path: Path) -> Path:
    """The mini catalog with hostile free text in a commit subject and body (shown in tooltips and
    history tables), a reason, a correction and a description; built like any site."""
    yaml_text = HOSTILE.replace('"', "'")
    edit(mini, "registry/calibrations/Offset.yaml", "identifier: Offset",
         f'identifier: Offset\ndescription: "{yaml_text}\\n\\n# heading {yaml_text}"')
    edit(mini, "registry/mappings/MID_DET_AGIPD1M-1.yaml", "reason: initial installation",
         f'reason: "{yaml_text}\\n| a | b |\\n|---|---|"\n    correction: "{yaml_text}"')
    commit_with_late_move(mini, f"{HOSTILE}\n\n# body {HOSTILE}\n\n```\n{HOSTILE}", "2024-05-02T00:00:00Z")
    return build_site(mini, tmp_path / "html")


def test_hostile_catalog_text_fetches_nothing(hostile_site: Path) -> None:
    """Every catalog page is opened; no request leaves the site, no link or image comes from catalog text."""
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(hostile_site).as_posix() for p in hostile_site.rglob("*.html")
                   if p.parts[len(hostile_site.parts)] in ("catalog", "index.html"))
    assert "catalog/detectors/MID_DET_AGIPD1M-1.html" in pages
    found: list[str] = []
    with serve(hostile_site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        _, outside = watch(page, url)
        for name in pages:
            page.goto(f"{url}/{name}", wait_until="load")
            found += [f"{name}: {a}" for a in page.eval_on_selector_all(
                "a[href^='javascript'], img[src*='evil'], a[href*='evil'], h1, h2, h3, h4, pre, code",
                "els => els.filter(e => e.tagName === 'A' || e.tagName === 'IMG' || /heading|body|evil/.test("
                "e.textContent)).map(e => e.outerHTML.slice(0, 80))")]
        tip = page.goto(f"{url}/catalog/detectors/MID_DET_AGIPD1M-1.html") and \
            page.locator("svg.calcat-timeline path.backdated title").first.text_content()
        browser.close()
    assert outside == [] and found == []
    assert tip is not None and HOSTILE.split(" <https")[0] in tip  # the tooltip shows the text as text
