"""An expert's day, end to end: a parameter and a calibration added with the one-step
commands, a constant injected that uses them, found through the command line, the Python
API, ``serve`` (EXtra's client) and the site's look-up page; a published set tagged; the
constant flagged bad; the newest catalog skips it, the set and earlier snapshots still
return it, through all of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import pytest

from calcat_git import CalibrationData, Catalog
from calcat_git.store.hdf5 import write_constant

from ..helpers import ARGS, CHROMIUM, build_site, require_chromium, run_cli, serve, stop_process
from ..server.test_serve import Server

DETECTOR = "MID_DET_AGIPD1M-1"
EVENT = "2024-06-02T00:00:00Z"
ASKED = {"Memory cells": 352.0, "Probe param": 5.0}
EXPECTED_FILE_END = ".h5"


def ok(root: Path, *args: str) -> str:
    done = run_cli(*args, repo=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def cli_lookup(root: Path, *snapshot: str) -> str | None:
    """The CCV (content id) the command line finds for AGIPD01, or None when it is missing."""
    done = run_cli("lookup", DETECTOR, "--event-at", EVENT, "--calibration", "ProbeCal", "--json",
                   *(f"--condition={k}={v}" for k, v in ASKED.items()), *snapshot, repo=root)
    found = json.loads(done.stdout)["constants"].get("ProbeCal", {}).get("AGIPD01")
    return str(found["ccv_id"]) if found else None


def python_lookup(root: Path, snapshot: str | None = None) -> str | None:
    data = CalibrationData.from_condition(dict(ASKED), DETECTOR, calibrations=["ProbeCal"], catalog=Catalog.open(root),
                                          event_at=EVENT, snapshot_at=snapshot)
    group = data.get("ProbeCal")
    return group["AGIPD01"].ccv_hash if group is not None and "AGIPD01" in group.constants else None


def extra_lookup(url: str) -> str | None:
    """What EXtra's own client gets from ``serve`` at ``url`` (the file the CCV names)."""
    from extra.calibration import CalibrationData as ExtraData
    from extra.calibration import ConditionsBase, setup_client

    class ProbeConditions(ConditionsBase):  # type: ignore[misc]
        calibration_types: ClassVar[dict[str, list[str]]] = {"ProbeCal": ["Memory cells", "Probe param"]}

        def __init__(self) -> None:
            self.memory_cells, self.probe_param = ASKED["Memory cells"], ASKED["Probe param"]

        def make_dict(self, parameters: list[str]) -> dict[str, Any]:
            return {p: ASKED[p] for p in parameters}

    setup_client(url, None, None, None)
    data = ExtraData.from_condition(ProbeConditions(), DETECTOR, event_at=EVENT, calibrations=["ProbeCal"])
    group = data.get("ProbeCal") if "ProbeCal" in data else None
    return str(group["AGIPD01"].path) if group is not None and "AGIPD01" in group.constants else None


def page_lookup(page: Any, site: str) -> str | None:
    query = [("n", "1"), ("detector", DETECTOR), ("event", EVENT), ("strategy", "closest"),
             *(("c", f"{k}={v}") for k, v in ASKED.items()), ("cal", "ProbeCal")]
    page.goto(f"{site}/lookup.html#{urlencode(query)}")
    page.wait_for_function("document.getElementById('lookup').dataset.answered === location.hash", timeout=30_000)
    rows = page.eval_on_selector_all("#lk-result tbody tr", "trs => trs.map(t => [t.dataset.agg, t.dataset.ccv])")
    return next((ccv for agg, ccv in rows if agg == "AGIPD01" and ccv), None)


@pytest.mark.slow
def test_add_inject_find_everywhere_flag_and_tag(git_mini: Path, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    root = git_mini
    ok(root, "add-parameter", "Probe param", "--type", "AGIPD-Type", "--unit", "V", "--lower-deviation", "0.5",
       "--upper-deviation", "0.5", "--commit")
    ok(root, "add-calibration", "ProbeCal", "--type", "AGIPD-Type", "--parameter", "Memory cells", "--parameter",
       "Probe param", "--description", "a probe of the new parameter", "--commit")
    constant = tmp_path / "probe.h5"
    write_constant(constant, pdu="AGIPD_M3", uuid=100003, detector_type="AGIPD-Type", calibration="ProbeCal",
                   data=[[1.0, 2.0]], conditions={"Memory cells": (352, 0, 0), "Probe param": (5, 0.5, 0.5)},
                   begin_at="2024-06-01T10:00:00Z")
    ok(root, "inject", str(constant), "--report", "reports/probe.pdf", "--commit")
    ok(root, "tag", "probe-v1", "-m", "the first set with ProbeCal")
    found = cli_lookup(root)
    assert found is not None and python_lookup(root) == found  # command line and Python agree
    ok(root, "flag", found[:12], "--bad-quality", "--reason", "probe data were noise", "--commit")
    review = ok(root, "diff", "probe-v1", "HEAD")
    assert "good\\_quality True → False (reason: probe data were noise)" in review

    # the newest catalog skips it; the published set (and its commit) still returns it
    assert cli_lookup(root) is None and python_lookup(root) is None
    assert cli_lookup(root, "--snapshot-at", "probe-v1") == found == python_lookup(root, "probe-v1")
    server = Server(root)
    try:
        newest, pinned = extra_lookup(server.base), extra_lookup(f"{server.base}/at/probe-v1")
    finally:
        stop_process(server.proc)
    assert newest is None and pinned is not None and pinned.endswith(EXPECTED_FILE_END)

    # the look-up page of a site built at the set, and of the newest
    at_set = build_site(root, tmp_path / "site-set", "--snapshot-at", "probe-v1")
    at_head = build_site(root, tmp_path / "site-head")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        with serve(at_set) as url:
            assert page_lookup(page, url) == found
        with serve(at_head) as url:
            assert page_lookup(page, url) is None
        browser.close()
