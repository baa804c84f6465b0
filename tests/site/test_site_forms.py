"""The site's edit forms in a real browser, against the CLI: for the same input, the files a
form writes equal, byte for byte, what the command writes into a copy of the catalog's
working tree, and the forge links open the right editor."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ..helpers import ARGS, CHROMIUM, MINI, build_site, commit_all, git, require_chromium, run_cli, serve, watch

pytestmark = pytest.mark.slow  # a site build and a browser

REPO = "https://github.example.org/xfel/catalog"
FORGE = f"extra:\n  forge:\n    repo_url: {REPO}\n    edit_uri: edit/main/docs/\n"
LONG = ("spare module from the 2024 batch: tested at the detector lab, dark frames clean, "
        "gain stages as expected; 'kept' for the SPB refurbishment next year")

RULES = """conditions:
  parameters:  # look-up rules: what each calibration is asked
    Memory Cells: {type: integer}
    Sensor Bias Voltage: {type: number, default: 90}
  calibrations:
    Offset: [Memory Cells, Sensor Bias Voltage]
    SlopesFF: [Sensor Bias Voltage]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("forms")
    repo = root / "catalog"
    shutil.copytree(MINI, repo)
    config = resources.files("calcat_git").joinpath("site/defaults/mkdocs.yml").read_text("utf-8")
    (repo / "mkdocs.yml").write_text(config + FORGE.replace("github.example.org", "github.com"), "utf-8")
    with (repo / "registry/detector_types/jungfrau-Type.yaml").open("a", encoding="utf-8") as typefile:
        typefile.write(RULES)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "mini catalog", "2024-05-02T00:00:00Z")
    return repo, build_site(repo, root / "html")


@pytest.fixture(scope="module")
def page(site: tuple[Path, Path]) -> Iterator[tuple[Any, str, list[str], list[str]]]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with serve(site[1]) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        tab = browser.new_page()
        errors, outside = watch(tab, url)
        yield tab, url, errors, outside
        browser.close()


def _submit(tab: Any, kind: str, fields: dict[str, str]) -> tuple[list[str], list[dict[str, str]]]:
    """Fill a form, check it: (problems, [{path, content, href}] of the files shown)."""
    for field, value in fields.items():
        if tab.locator(f"#{field}").evaluate("e => e.tagName") == "SELECT":
            tab.select_option(f"#{field}", value)
        else:
            tab.fill(f"#{field}", value)
    tab.evaluate(f"document.getElementById('{kind}-problems').replaceChildren();"
                 f"document.getElementById('{kind}-result').hidden = true")
    tab.click(f"button[data-check='{kind}']" if kind != "swap" else "#swap-check")
    box = "swap-files" if kind == "swap" else f"{kind}-result"
    tab.wait_for_function(f"document.getElementById('{kind}-problems').children.length > 0 || "
                          f"!document.getElementById('{box}').hidden")
    files = tab.eval_on_selector_all(f"#{box} .propose-file", """parts => parts.map(p => ({
        path: p.dataset.path, content: p.querySelector('.propose-content').textContent,
        href: p.querySelector('a.propose-open') ? p.querySelector('a.propose-open').href : null}))""")
    return tab.locator(f"#{kind}-problems li").all_inner_texts(), files


def _cli(repo: Path, tmp_path: Path, *args: str) -> Path:
    """The command, written into a copy of the catalog's working tree (no commit)."""
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)  # (tmp_path: a new folder for each command)
    done = run_cli(*args, "--repo", str(clone))
    assert done.returncode == 0, done.stdout + done.stderr
    return clone


def _same_as_cli(files: list[dict[str, str]], repo: Path, clone: Path) -> None:
    changed = sorted(git(clone, "status", "--porcelain", "--untracked-files=all").split())
    assert sorted(f["path"] for f in files) == sorted(p for p in changed if p.startswith(("registry/", "constants_index/")))
    for file in files:
        assert file["content"].encode() == (clone / file["path"]).read_bytes(), file["path"]


def _new_file_url(href: str) -> tuple[str, str, str]:
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query["filename"][0], query["value"][0]


def test_add_pdu_form_writes_what_the_cli_writes(site: tuple[Path, Path], page: Any, tmp_path: Path) -> None:
    repo, _ = site
    tab, url, errors, outside = page
    tab.goto(f"{url}/propose.html")
    found, _ = _submit(tab, "pdu", {"pdu-name": "AGIPD_M1", "pdu-type": "AGIPD-Type", "pdu-uuid": "5"})
    assert any("already exists" in p for p in found)
    found, _ = _submit(tab, "pdu", {"pdu-name": "A" * 101, "pdu-uuid": "7"})
    assert found == ["pdu.physical_name: must be a name of letters, digits and _ . + - (no spaces or slashes)"]  # schema
    found, files = _submit(tab, "pdu", {"pdu-name": "AGIPD_M9", "pdu-type": "AGIPD-Type", "pdu-uuid": "101001499998",
                                        "pdu-description": LONG})
    assert found == [] and len(files) == 1
    clone = _cli(repo, tmp_path, "add-pdu", "AGIPD_M9", "--type", "AGIPD-Type", "--uuid", "101001499998",
                 "--description", LONG)
    _same_as_cli(files, repo, clone)
    assert "\n  " in files[0]["content"]  # the long description folded as PyYAML folds it
    base, name, value = _new_file_url(files[0]["href"])
    assert (base, name, value) == ("https://github.com/xfel/catalog/new/main", "registry/pdus/AGIPD-Type/AGIPD_M9.yaml",
                                   files[0]["content"])
    assert errors == [] and outside == []


def test_add_calibration_form_writes_what_the_cli_writes(site: tuple[Path, Path], page: Any, tmp_path: Path) -> None:
    repo, _ = site
    tab, url, errors, outside = page
    tab.goto(f"{url}/propose.html")
    found, files = _submit(tab, "calibration", {"calibration-name": "Dark2", "calibration-type": "jungfrau-Type",
                                                "calibration-parameters": "Sensor Bias Voltage, Memory Cells"})
    assert found == [], found  # a type with look-up rules: the calibration joins them
    clone = _cli(repo, tmp_path / "ruled", "add-calibration", "Dark2", "--type", "jungfrau-Type", "--parameter",
                 "Sensor Bias Voltage", "--parameter", "Memory Cells")
    _same_as_cli(files, repo, clone)
    assert "    Dark2: [Sensor Bias Voltage, Memory Cells]\n" in files[1]["content"]
    found, _ = _submit(tab, "calibration", {"calibration-name": "DarkDrift", "calibration-type": "AGIPD-Type",
                                            "calibration-parameters": "Memory cells, Gain"})
    assert any("has no parameter 'Gain'" in p for p in found)
    found, files = _submit(tab, "calibration", {"calibration-parameters": "Memory cells, Sensor Bias Voltage",
                                                "calibration-description": "slow offset drift: [test]"})
    assert found == [], found
    clone = _cli(repo, tmp_path, "add-calibration", "DarkDrift", "--type", "AGIPD-Type", "--parameter", "Memory cells",
                 "--parameter", "Sensor Bias Voltage", "--description", "slow offset drift: [test]")
    _same_as_cli(files, repo, clone)
    new, edit = files
    assert _new_file_url(new["href"])[:2] == ("https://github.com/xfel/catalog/new/main",
                                               "registry/calibrations/DarkDrift.yaml")
    assert edit["href"] == "https://github.com/xfel/catalog/edit/add-calibration-DarkDrift/" \
        "registry/detector_types/AGIPD-Type.yaml"  # the second file: on the branch the first started
    assert errors == [] and outside == []


def test_add_parameter_form_writes_what_the_cli_writes(site: tuple[Path, Path], page: Any, tmp_path: Path) -> None:
    repo, _ = site
    tab, url, errors, outside = page
    tab.goto(f"{url}/propose.html")
    found, files = _submit(tab, "parameter", {"parameter-name": "Probe param", "parameter-type": "AGIPD-Type",
                                              "parameter-unit": "V", "parameter-lower": "0.5", "parameter-upper": "1"})
    assert found == [], found
    clone = _cli(repo, tmp_path, "add-parameter", "Probe param", "--type", "AGIPD-Type", "--unit", "V",
                 "--lower-deviation", "0.5", "--upper-deviation", "1")
    _same_as_cli(files, repo, clone)
    found, _ = _submit(tab, "parameter", {"parameter-name": "Memory cells", "parameter-type": "AGIPD-Type"})
    assert any("has parameter 'Memory cells' already" in p for p in found)
    found, _ = _submit(tab, "parameter", {"parameter-name": "Gain", "parameter-calibrations": "Offset"})
    assert any("has no look-up rules" in p for p in found)
    found, _ = _submit(tab, "parameter", {"parameter-name": "Gain: mode", "parameter-type": "jungfrau-Type"})
    assert any("use the CLI command" in p for p in found)  # the CLI writes that type file anew, without comments
    found, files = _submit(tab, "parameter", {"parameter-name": "Gain mode", "parameter-type": "jungfrau-Type",
                                              "parameter-unit": "", "parameter-lower": "", "parameter-upper": "",
                                              "parameter-calibrations": "Offset, SlopesFF", "parameter-default": "0",
                                              "parameter-legacy": "0.5"})
    assert found == [], found  # a type with look-up rules: the parameter joins them
    clone = _cli(repo, tmp_path / "ruled", "add-parameter", "Gain mode", "--type", "jungfrau-Type", "--calibration",
                 "Offset", "--calibration", "SlopesFF", "--default", "0", "--legacy", "0.5")
    _same_as_cli(files, repo, clone)
    assert "# look-up rules" in files[-1]["content"] and "    Gain mode: {type: number, default: 0, legacy: 0.5}\n" \
        in files[-1]["content"]  # edited in place, its layout kept
    assert errors == [] and outside == []


@pytest.mark.parametrize(("slot", "pdu", "when", "reason"), [
    ("AGIPD00", "AGIPD_M4", "2025-01-10T08:00:00+01:00", "Q1M1: spare M4 installed"),
    ("AGIPD00", "AGIPD_M3", "2025-02-01T00:00:00.250Z", "M3 moved from Q1M2 to Q1M1"),  # M3 leaves AGIPD01
    ("AGIPD01", "AGIPD_M1", "2025-03-01T09:30:00-05:00", "M1 back from SPB"),  # M1 leaves SPB: two files
])
def test_swap_form_writes_what_the_cli_writes(site: tuple[Path, Path], page: Any, tmp_path: Path, slot: str,
                                              pdu: str, when: str, reason: str) -> None:
    repo, _ = site
    tab, url, errors, outside = page
    tab.goto(f"{url}/catalog/detectors/MID_DET_AGIPD1M-1.html")
    found, files = _submit(tab, "swap", {"swap-slot": slot, "swap-pdu": pdu, "swap-from": when, "swap-reason": reason})
    assert found == [] and len(files) == (2 if pdu == "AGIPD_M1" else 1), found
    clone = _cli(repo, tmp_path, "swap", "MID_DET_AGIPD1M-1", f"{slot}={pdu}", "--from", when, "--reason", reason)
    _same_as_cli(files, repo, clone)
    assert files[0]["href"] == "https://github.com/xfel/catalog/edit/main/registry/mappings/MID_DET_AGIPD1M-1.yaml"
    assert errors == [] and outside == []


def test_gitlab_editor_urls(page: Any) -> None:
    tab, url, _, _ = page
    tab.goto(f"{url}/propose.html")
    forge = {"repo_url": "https://gitlab.example.org/xfel/catalog", "kind": "gitlab", "branch": "main"}
    new, edit = tab.evaluate("f => [CalcatPropose.editorUrl(f, 'main', 'registry/pdus/T/A B.yaml', null, 'x: 1\\n'),"
                             "CalcatPropose.editorUrl(f, 'add-x', 'registry/detector_types/T.yaml', 'old', 'new')]", forge)
    assert new == "https://gitlab.example.org/xfel/catalog/-/new/main?file_name=registry%2Fpdus%2FT%2FA%20B.yaml&content=x%3A%201%0A"
    assert edit == "https://gitlab.example.org/xfel/catalog/-/edit/add-x/registry/detector_types/T.yaml"
    shown = tab.evaluate("""() => {  // without a forge: the files, no links
        const box = document.getElementById('pdu-result');
        CalcatPropose.show(box, [{path: 'registry/a.yaml', old: null, content: 'a: 1\\n'}], null, 'b');
        return [box.querySelectorAll('a').length, box.querySelector('.propose-content').textContent];
    }""")
    assert shown == [0, "a: 1\n"]


@pytest.mark.parametrize(("which", "by_int"), [("bad-quality", False), ("not-deployed", True)])
def test_flag_form_writes_what_the_cli_writes(site: tuple[Path, Path], page: Any, tmp_path: Path, which: str,
                                              by_int: bool) -> None:
    import re

    from calcat_git.model.calcat_ids import ccv_int_id

    repo, _ = site
    tab, url, errors, outside = page
    tab.goto(f"{url}/propose.html")
    found, _ = _submit(tab, "flag", {"flag-ccv": "ffffffff00", "flag-which": which, "flag-reason": "x"})
    assert found == ["no CCV with content id ffffffff00"]
    ccv = "0938ff3ada520c4c0fa22e23e62d597b766768f316ea18b38a911b4034e007bf"  # Noise: no good_quality key yet
    name = str(ccv_int_id(ccv)) if by_int else ccv[:10]
    reason = "stripes in the offset map: see #12"
    found, files = _submit(tab, "flag", {"flag-ccv": name, "flag-which": which, "flag-reason": reason})
    assert found == [] and len(files) == 1, found
    clone = _cli(repo, tmp_path, "flag", name, f"--{which}", "--reason", reason)
    stamp = re.compile(r"at: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'")  # the time each flagged it at
    assert len(stamp.findall(files[0]["content"])) == 1
    files[0]["content"] = stamp.sub("at: T", files[0]["content"])
    written = clone / files[0]["path"]
    written.write_text(stamp.sub("at: T", written.read_text("utf-8")), "utf-8")
    _same_as_cli(files, repo, clone)
    assert files[0]["href"] == f"https://github.com/xfel/catalog/edit/main/{files[0]['path']}"
    assert errors == [] and outside == []


def test_an_edited_file_is_copied_to_the_clipboard(page: Any) -> None:
    url = page[1]
    context = page[0].context.browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        tab = context.new_page()
        errors, outside = watch(tab, url)
        tab.goto(f"{url}/propose.html")
        _, files = _submit(tab, "calibration", {"calibration-name": "Dark3", "calibration-type": "AGIPD-Type",
                                                "calibration-parameters": "Memory cells"})
        link = tab.locator("#calibration-result .propose-file a.propose-open").nth(1)
        link.evaluate("a => a.addEventListener('click', e => e.preventDefault())")  # stay here: no forge
        link.click()
        assert tab.evaluate("navigator.clipboard.readText()") == files[1]["content"]
        assert errors == [] and outside == []
    finally:
        context.close()


SCALARS = ["x", "yes", "No", "on", "1.5", "1e3", "1.0e+3", "0x1F", "0777", "1_000", "12:30", "~", "null", "", " x", "x ",
           "a: b", "a:b", "x:", "a #b", "a#b", "-x", "- x", "-", "?x", "? x", ":x", "[x", "x]", "x,y", "{x}", "@x", "`x",
           "'x'", '"x"', "%x", "!x", "&x", "*x", "|x", ">x", "#x", "2024-01-01", "2024-1-1 10:00:00", "=", "<<", "é ü",
           "---x", "...", "a  b", ".inf", "-.5", "+1", "it's", "x" * 30 + " y" * 60, "'" + "ab cd " * 30]


def test_yaml_text_is_pyyaml_s(page: Any) -> None:
    """The forms' YAML writer against PyYAML's, value by value (block and flow)."""
    import yaml

    tab, url, _, _ = page
    tab.goto(f"{url}/propose.html")
    block, flow = tab.evaluate("xs => [xs.map(x => CalcatPropose.dump({k: x})), CalcatPropose.flowList(xs)]", SCALARS)
    for text, got in zip(SCALARS, block, strict=True):
        assert got == yaml.safe_dump({"k": text}, sort_keys=False, allow_unicode=True, width=120), text
    expected = yaml.safe_dump(SCALARS, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    assert flow == expected
