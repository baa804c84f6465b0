"""A detector page's constants table: the first screen is in its HTML, identical to what the script renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from calcat_git.site.table import js_text

from ..helpers import ARGS, CHROMIUM, require_chromium, serve, watch
from .test_lookup_page import synthetic_site  # noqa: F401  (fixture)

ROWS = "els => els.map(tr => [...tr.children].map(td => td.textContent + (td.title ? ' | ' + td.title : '')))"
ON_SCREEN = "els => els.filter(tr => tr.getBoundingClientRect().bottom <= innerHeight).length"


@pytest.mark.parametrize(("value", "text"), [  # each as node's String(value) writes it
    (5.0, "5"), (0.1, "0.1"), (1e-7, "1e-7"), (1e-6, "0.000001"), (1.5e300, "1.5e+300"), (-0.0, "0"),
    (1.2345678901234568e20, "123456789012345680000"), (1e21, "1e+21"), (-2.5, "-2.5"), (250, "250"),
    (True, "true"), (None, "null"), ("interleaved-300", "interleaved-300")])
def test_condition_values_are_written_as_javascript_writes_them(value: object, text: str) -> None:
    assert js_text(value) == text


@pytest.mark.slow
def test_first_screen_in_the_html_equals_the_scripts(synthetic_site: tuple[Path, Path]) -> None:  # noqa: F811
    """Without JavaScript the page shows the newest rows; the script then renders the very same rows."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    _, out = synthetic_site
    pages = sorted(p.name for p in (out / "catalog/detectors").glob("*.html"))[:6]
    with serve(out) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        static = browser.new_context(java_script_enabled=False).new_page()
        page = browser.new_page()
        errors, outside = watch(page, url)
        for name in pages:
            static.goto(f"{url}/catalog/detectors/{name}")
            written = static.eval_on_selector_all(".ccv-table tbody tr", ROWS)
            count = static.text_content(".ccv-table .ccv-count")
            page.goto(f"{url}/catalog/detectors/{name}")
            page.wait_for_selector(".ccv-table[data-ready]", state="attached")
            assert page.eval_on_selector_all(".ccv-table tbody tr", ROWS) == written, name
            assert page.text_content(".ccv-table .ccv-count") == count and "constants match" in (count or "")
            assert len(written) == min(50, int((count or "0").split()[0])) > 0
        conditions = [row[4] for row in written]
        page.set_viewport_size({"width": 1400, "height": 900})  # a laptop
        page.evaluate("document.querySelector('.ccv-table tbody').scrollIntoView()")
        on_screen = page.eval_on_selector_all(".ccv-table tbody tr", ON_SCREEN)
        browser.close()
    assert errors == [] and outside == []
    assert all(" | " in c and "=" in c.split(" | ")[1] for c in conditions)  # values shown, names on hover
    assert any(c.startswith("〃 | ") for c in conditions)  # a condition is shown once
    print(f"constants table: {on_screen} rows on a 1400x900 screen")
    assert on_screen >= 15
