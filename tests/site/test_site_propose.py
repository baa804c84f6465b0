"""The site's pictures, recent changes, feeds and the module swap form, in a real browser:
the YAML the form produces, appended to the mapping file, validates."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ..helpers import ARGS, CHROMIUM, MINI, build_site, commit_all, edit, git, run_cli, serve, watch

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)

FORGE = "extra:\n  forge:\n    repo_url: https://gitlab.example.org/xfel/catalog\n    edit_uri: -/edit/main/docs/\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The mini catalog (two commits, the second a mapping change) with a forge; its site."""
    import shutil

    root = tmp_path_factory.mktemp("propose")
    repo, out = root / "catalog", root / "html"
    shutil.copytree(MINI, repo)
    config = resources.files("calcat_git").joinpath("site/defaults/mkdocs.yml").read_text("utf-8")
    (repo / "mkdocs.yml").write_text(config + FORGE, "utf-8")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "mini catalog", "2024-05-02T00:00:00Z")
    edit(repo, "registry/mappings/SPB_DET_AGIPD1M-1.yaml", "      AGIPD00: AGIPD_M1\n",
         "      AGIPD00: AGIPD_M1\n  - from: \"2024-03-01T00:00:00Z\"\n    reason: Q1M2 swapped\n"
         "    modules:\n      AGIPD01: AGIPD_M2\n")
    commit_all(repo, "SPB Q1M2 swapped", "2024-05-03T00:00:00Z")  # backdated two months
    return repo, build_site(repo, out)


@pytest.fixture
def browser_page(site: tuple[Path, Path]) -> Iterator[tuple[Any, str, list[str], list[str]]]:
    from playwright.sync_api import sync_playwright

    with serve(site[1]) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        errors, outside = watch(page, url)
        yield page, url, errors, outside
        browser.close()


def _swap(page: Any, slot: str, pdu: str, when: str, reason: str) -> list[str]:
    page.select_option("#swap-slot", slot)
    page.select_option("#swap-pdu", pdu)
    page.fill("#swap-from", when)
    page.fill("#swap-reason", reason)
    page.evaluate("document.getElementById('swap-problems').replaceChildren()")
    page.click("#swap-check")
    page.wait_for_function("document.getElementById('swap-problems').children.length > 0 || "
                           "!document.getElementById('swap-result').hidden")
    return page.locator("#swap-problems li").all_inner_texts()  # type: ignore[no-any-return]


def test_swap_form_produces_a_change_that_validates(site: tuple[Path, Path], browser_page: Any,
                                                    tmp_path: Path) -> None:
    repo, _ = site
    page, url, errors, outside = browser_page
    page.goto(f"{url}/catalog/detectors/MID_DET_AGIPD1M-1.html")
    assert "sits in SPB_DET_AGIPD1M-1 AGIPD01" in " ".join(
        _swap(page, "AGIPD00", "AGIPD_M2", "2024-02-01T00:00:00Z", "back"))  # M2 goes to SPB a month later
    assert any("newest change" in p for p in _swap(page, "AGIPD00", "AGIPD_M3", "2023-01-01T00:00:00Z", "early"))
    assert any("zone" in p for p in _swap(page, "AGIPD00", "AGIPD_M4", "2025-01-10T08:00", "naive"))
    assert _swap(page, "AGIPD00", "AGIPD_M4", "2025-01-10T08:00:00+01:00", "Q1M1: spare M4 installed") == []
    change = page.inner_text("#swap-yaml")
    assert "AGIPD00: AGIPD_M4" in change and '"2025-01-10T07:00:00Z"' in change  # as the CLI writes it
    command = page.inner_text("#swap-command")
    assert "calcat-git validate" in command
    words = shlex.split(command.splitlines()[0])  # the equivalent one-step command, run in a copy
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    done = run_cli(*words[1:], "--repo", str(clone))
    assert done.returncode == 0 and words[:2] == ["calcat-git", "swap"], done.stdout + done.stderr
    branch = words[words.index("--branch") + 1] if "--branch" in words else None  # --branch leaves the checkout
    committed = subprocess.run(["git", "-C", str(clone), "show", f"{branch}:registry/mappings/MID_DET_AGIPD1M-1.yaml"],
                               capture_output=True, text=True, check=True).stdout if branch else \
        (clone / "registry/mappings/MID_DET_AGIPD1M-1.yaml").read_text()
    assert "AGIPD00: AGIPD_M4" in committed
    assert page.get_attribute("#swap-edit", "href") == (
        "https://gitlab.example.org/xfel/catalog/-/edit/main/registry/mappings/MID_DET_AGIPD1M-1.yaml")
    assert errors == [] and outside == []
    mapping = repo / "registry/mappings/MID_DET_AGIPD1M-1.yaml"
    before = mapping.read_text()
    try:
        mapping.write_text(before + change)
        done = run_cli("validate", str(repo))
        assert done.returncode == 0, done.stdout + done.stderr
        mapping.write_text(before + change.replace("AGIPD_M4", "AGIPD_M2"))  # what the form refuses, the validator too
        done = run_cli("validate", str(repo))
        assert done.returncode != 0
    finally:
        mapping.write_text(before)


def test_pictures_changes_and_feeds(site: tuple[Path, Path], browser_page: Any) -> None:
    _, out = site
    page, url, errors, outside = browser_page
    page.goto(f"{url}/catalog/detectors/MID_DET_AGIPD1M-1.html")
    modules = page.locator("svg.calcat-constants g.module")
    assert modules.count() == 4  # Offset and Noise × two slots
    assert page.locator("svg.calcat-constants g.module[data-count='1']").count() == 2  # the batch: slot AGIPD01
    assert page.get_attribute("a[href$='registry/detectors/MID_DET_AGIPD1M-1.yaml']", "href") == (
        "https://gitlab.example.org/xfel/catalog/-/edit/main/registry/detectors/MID_DET_AGIPD1M-1.yaml")
    page.goto(f"{url}/index.html")
    page.locator("article a", has_text="Recent changes").click()
    page.wait_for_url("**/changes.html")
    text = page.inner_text("article")
    assert "SPB Q1M2 swapped" in text and "backdated" in text and "AGIPD01: AGIPD_M5 → AGIPD_M2" in text
    assert errors == [] and outside == []
    ns = {"a": "http://www.w3.org/2005/Atom"}
    spb = ET.parse(out / "feeds/SPB_DET_AGIPD1M-1.atom").getroot()
    titles = [e.findtext("a:title", namespaces=ns) for e in spb.findall("a:entry", ns)]
    assert titles == ["[backdated] SPB Q1M2 swapped"]
    assert ET.parse(out / "feeds/MID_DET_AGIPD1M-1.atom").getroot().findall("a:entry", ns) == []
    assert len(ET.parse(out / "feeds/all.atom").getroot().findall("a:entry", ns)) == 1
