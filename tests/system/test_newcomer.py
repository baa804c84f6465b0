"""What a newcomer meets in the first hour (conditions on the command line,
short results, the demo's replay kept in a named place)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from calcat_git.cli.main import main
from calcat_git.errors import InvalidInputError
from calcat_git.lookup.conditions import AGIPDConditions, JUNGFRAUConditions

from ..helpers import REPO_ROOT, run_cli, stop_process

LOOKUP = ["lookup", "MID_DET_AGIPD1M-1", "--repo", str(REPO_ROOT), "--worktree", "--event-at", "2024-03-01T00:00:00Z",
          "--calibration", "Offset"]
AGIPD_GIVEN = {"Sensor Bias Voltage": "300", "Memory cells": "202", "Acquisition rate": "1.1", "Gain setting": "0",
               "Gain mode": "0"}


def test_cli_conditions_are_the_python_classes_with_defaults() -> None:
    from_cli = AGIPDConditions.rules().asked(AGIPD_GIVEN, ["Offset", "SlopesFF"]).by_calibration
    python = AGIPDConditions(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0,
                             gain_mode=0)
    assert from_cli == {"Offset": python.make_dict(AGIPDConditions.calibration_types["Offset"]),
                        "SlopesFF": python.make_dict(AGIPDConditions.calibration_types["SlopesFF"])}
    assert from_cli == python.asked_of(["Offset", "SlopesFF"])
    assert from_cli["Offset"]["Pixels X"] == 512.0 and "Gain mode" not in from_cli["Offset"]  # default in, legacy out
    assert from_cli["SlopesFF"]["Source energy"] == 9.2
    # any case and the field name read the same; None where the class allows it
    asked = JUNGFRAUConditions.rules().asked({"sensor_bias_voltage": "180", "MEMORY CELLS": "1", "Integration Time": "10",
                                              "Gain Setting": "0", "Gain mode": "None"}, ["Offset10Hz"])
    assert "Gain mode" not in asked.by_calibration["Offset10Hz"] and asked.by_calibration["Offset10Hz"]["Memory Cells"] == 1


def test_every_missing_extra_and_malformed_parameter_is_named_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        AGIPDConditions.rules().values({"Memory cells": "202x", "Foo": "3", "Gain setting": "0.5"})
    text = str(caught.value)
    assert "Memory cells: '202x' is not a number" in text and "unknown 'Foo'" in text
    assert "Gain setting: '0.5' is not an integer" in text
    assert "missing 'Sensor Bias Voltage', 'Acquisition rate', 'Gain mode'" in text
    assert "calcat-git conditions AGIPD-Type" in text


def test_lookup_refuses_a_malformed_number_and_explain_exits_1_on_missing() -> None:
    runner = CliRunner()
    bad = runner.invoke(main, [*LOOKUP, *(f"--condition={k}={v}" for k, v in {**AGIPD_GIVEN, "Memory cells": "202x"}.items())])
    assert bad.exit_code == 1 and "Memory cells: '202x' is not a number" in bad.output
    good = runner.invoke(main, [*LOOKUP, *(f"--condition={k}={v}" for k, v in AGIPD_GIVEN.items())])
    assert good.exit_code == 0 and "MISSING" not in good.output, good.output
    explain = runner.invoke(main, ["explain", *LOOKUP[1:], *(f"--condition={k}={v}" for k, v in AGIPD_GIVEN.items()),
                                   "--condition=Pixels X=510"])
    assert explain.exit_code == 1 and "lost: Pixels X: asked 510" in explain.output


def test_conditions_command_lists_parameters_and_defaults() -> None:
    out = CliRunner().invoke(main, ["conditions", "MID_DET_AGIPD1M-1", "--repo", str(REPO_ROOT)])
    assert out.exit_code == 0, out.output
    lines = {line.split()[0] + " " + line.split()[1]: line for line in out.output.splitlines()[1:] if "  " in line}
    assert "required" in lines["Memory cells"] and "default 512" in lines["Pixels X"]
    assert "BadPixelsFF, SlopesFF" in lines["Source energy"]


def test_results_have_a_short_repr() -> None:
    from calcat_git import CalibrationData

    found = CalibrationData.from_report(3757, catalog=REPO_ROOT)
    assert repr(found).startswith("<CalibrationData: BadPixelsDark, Noise, Offset, ThresholdsDark constants for 16 "
                                  "modules of SPB_DET_AGIPD1M-1, commit ")  # EXtra's, and the commit read
    assert repr(found["Offset"]) == "<MultiModuleConstant: Offset for 16 modules of SPB_DET_AGIPD1M-1>"


@pytest.mark.slow
def test_demo_replay_is_kept_and_reused(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "catalog"
    run = [sys.executable, "-m", "calcat_git.demo", "--source", str(REPO_ROOT), "--out", str(out)]
    first = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    head = (out / ".git" / "HEAD").read_text()
    second = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "Reusing the replay" not in first and "Reusing the replay" in second
    assert (out / ".git" / "HEAD").read_text() == head and "BACKDATED by 10 days" in second
    (tmp_path / "other").mkdir()
    refused = subprocess.run([*run[:-1], str(tmp_path / "other")], capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "is not a demo replay" in refused.stderr


# --- one-step edits and what reviewers read of them --------------------------------------------------------------

from ..helpers import commit_all, edit, git  # noqa: E402
from ..review import test_review  # noqa: E402
from ..review.test_review import MID, SPB, found  # noqa: E402

pr = test_review.pr  # the fixture: the mini catalog on main with a branch 'pr' checked out


@pytest.mark.slow
def test_swap_moves_a_pdu_and_empties_its_old_slot_on_a_new_branch(pr: Path) -> None:
    before, mid = (pr / SPB).read_text(), (pr / MID).read_text()
    out = run_cli("swap", "MID_DET_AGIPD1M-1", "Q1M1=AGIPD_M5", "--from", "2024-06-01T10:00:00+02:00", "--reason",
                  "M5 from SPB replaces the empty Q1M1", "--branch", "mid-q1m1", repo=pr)
    assert out.returncode == 0, out.stderr
    assert "committed" in out.stdout and "onto branch mid-q1m1; your checkout is unchanged" in out.stdout
    assert git(pr, "branch", "--show-current") == "pr" and (pr / MID).read_text() == mid  # the checkout as it was
    assert git(pr, "status", "--porcelain") == ""
    git(pr, "switch", "-q", "mid-q1m1")
    assert (pr / MID).read_text().endswith('''      AGIPD00: null
  - from: "2024-06-01T08:00:00Z"
    reason: M5 from SPB replaces the empty Q1M1
    modules:
      AGIPD00: AGIPD_M5
''')
    assert (pr / SPB).read_text() == before + '''  - from: "2024-06-01T08:00:00Z"
    reason: 'AGIPD_M5 to MID_DET_AGIPD1M-1: M5 from SPB replaces the empty Q1M1'
    modules:
      AGIPD01: null
'''
    assert git(pr, "status", "--porcelain") == ""
    assert run_cli("check", "--base", "main", repo=pr).returncode == 0


@pytest.mark.slow
def test_swap_within_a_detector_and_refusals_leave_nothing(pr: Path) -> None:
    out = run_cli("swap", "MID_DET_AGIPD1M-1", "AGIPD00=AGIPD_M3", "--from", "2024-06-01T00:00:00Z", "--reason", "r", repo=pr)
    assert out.returncode == 0, out.stderr
    assert (pr / MID).read_text().endswith("      AGIPD00: AGIPD_M3\n      AGIPD01: null\n")  # M3 left Q1M2
    git(pr, "checkout", "-q", "--", ".")
    early = run_cli("swap", "MID_DET_AGIPD1M-1", "AGIPD00=AGIPD_M3", "--from", "2023-06-01T00:00:00Z", "--reason", "r", repo=pr)
    assert early.returncode == 1 and "correction: <why>" in early.stderr
    clash = run_cli("swap", "MID_DET_AGIPD1M-1", "AGIPD00=AGIPD_M4", "--from", "2024-06-01T00:00:00Z", "--reason", "r",
                    "--branch", "x", repo=pr)
    assert clash.returncode == 0  # M4 leaves SPB's AGIPD00 … which M1 took in 2024-02: M4 sits nowhere then
    git(pr, "switch", "-q", "pr")
    bad = run_cli("swap", "MID_DET_AGIPD1M-1", "Q9M9=AGIPD_M4", "--from", "2024-06-01T00:00:00Z", "--reason", "r", repo=pr)
    assert bad.returncode == 1 and "has no module 'Q9M9'" in bad.stderr
    assert git(pr, "status", "--porcelain") == ""


@pytest.mark.slow
def test_add_pdu_writes_the_template_and_refuses_a_taken_uuid(pr: Path) -> None:
    taken = run_cli("add-pdu", "AGIPD_M9", "--type", "AGIPD-Type", "--uuid", "100005", repo=pr)
    assert taken.returncode == 1 and "uuid 100005 is already AGIPD_M5's" in taken.stderr
    out = run_cli("add-pdu", "AGIPD_M9", "--type", "AGIPD-Type", "--uuid", "100009", "--commit", repo=pr)
    assert out.returncode == 0, out.stderr
    assert (pr / "registry/pdus/AGIPD-Type/AGIPD_M9.yaml").read_text() == (
        "physical_name: AGIPD_M9\ndetector_type: AGIPD-Type\nuuid: 100009\nstatus: active\n")
    assert run_cli("swap", "MID_DET_AGIPD1M-1", "AGIPD00=AGIPD_M9", "--from", "2024-06-01T00:00:00Z", "--reason", "new",
                   "--commit", repo=pr).returncode == 0
    assert run_cli("check", "--base", "main", repo=pr).returncode == 0


def test_diff_names_exactly_the_slots_a_correction_changes(pr: Path) -> None:
    edit(pr, MID, "    reason: initial installation\n", "    reason: initial installation\n"
         "    correction: Q1M2 was installed later\n")
    edit(pr, MID, "      AGIPD01: AGIPD_M2\n", "      AGIPD01: null\n")
    commit_all(pr, "correct", "2024-05-13T08:00:00Z")
    data = json.loads(run_cli("diff", "main", "--format", "json", repo=pr).stdout)
    assert data["mappings"] == {"MID_DET_AGIPD1M-1": [
        "AGIPD01: AGIPD_M2 → (empty) from 2019-03-01 00:00 UTC until 2023-05-10 06:00 UTC, backdated 1900 days "
        "8 hours: RAW data taken then will now have no PDU in AGIPD01 (correction: Q1M2 was installed later)"]}


def test_moving_a_past_from_needs_a_correction_and_backdating_reads_the_same(pr: Path) -> None:
    edit(pr, MID, '"2024-01-01T00:00:00Z"', '"2023-12-01T00:00:00Z"')
    refused = found(pr)
    assert any("removed or its `from` moved" in p and "`correction: <why>`" in p for p in refused)
    edit(pr, MID, "    reason: Q1M1 sent to SPB\n", "    reason: Q1M1 sent to SPB\n    correction: it left in December\n")
    fixed = found(pr, "2024-05-13T20:00:00Z")
    assert [p for p in fixed if "[mapping-history]" in p and "error" not in p] == fixed and len(fixed) == 1
    assert "past change corrected (it left in December)" in fixed[0]
    # a new, late change: `check` and `diff` say how late in the same words
    edit(pr, MID, "      AGIPD00: null\n", '      AGIPD00: null\n  - from: "2024-05-10T00:00:00Z"\n    reason: back\n'
         "    modules:\n      AGIPD00: AGIPD_M4\n")
    late = found(pr, "2024-05-13T20:00:00Z")
    assert any("backdated by 3 days 20 hours:" in p for p in late)
    assert "backdated 3 days 20 hours: RAW data" in run_cli("diff", "main", repo=pr).stdout


# --- the site: plain mkdocs on a fresh clone; site build says where ----------------------------------------------

@pytest.mark.slow
def test_plain_mkdocs_build_works_on_a_fresh_clone(mini: Path, tmp_path: Path) -> None:
    import shutil

    config = (REPO_ROOT / "mkdocs.yml").read_text()
    (mini / "mkdocs.yml").write_text(config.replace("calcat_git/mkdocs_hook.py", "hooks/mkdocs_hook.py"))
    shutil.copytree(REPO_ROOT / "site", mini / "site")
    (mini / "hooks").mkdir()  # not calcat_git/: that would hide the installed package
    shutil.copy2(REPO_ROOT / "calcat_git" / "mkdocs_hook.py", mini / "hooks" / "mkdocs_hook.py")
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    assert not (mini / ".site-src").exists()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=mini, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (mini / ".site-build" / "catalog" / "index.html").is_file()
    assert (mini / ".site-build" / "guide" / "cli.html").is_file()
    out = subprocess.run([sys.executable, "-m", "calcat_git", "site", "build", "--repo", str(mini), "--out",
                          str(tmp_path / "html")], capture_output=True, text=True, check=True).stdout
    assert f"in {tmp_path / 'html'} (open {tmp_path / 'html' / 'index.html'}" in out


def test_missing_browser_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from ..helpers import require_chromium

    monkeypatch.setenv("CALCAT_GIT_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="sudo apt-get install chromium"):
        require_chromium()
    monkeypatch.delenv("CALCAT_GIT_SKIP_BROWSER")
    monkeypatch.setattr("tests.helpers.CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="CALCAT_GIT_SKIP_BROWSER=1 to skip"):
        require_chromium()
    hint = subprocess.run(["make", "-s", "chromium"], cwd=REPO_ROOT, capture_output=True, text=True, check=False,
                          env={**__import__("os").environ, "CALCAT_GIT_SKIP_BROWSER": "1"})
    assert hint.returncode == 0 and "needs Python >= 3.11, git and Debian's chromium" in hint.stdout


# --- where a name is, where a catalog is ---------------------------------------------------------------------------

def test_a_name_only_on_the_checked_out_branch_or_working_tree_is_pointed_at(git_mini: Path) -> None:
    git(git_mini, "switch", "-q", "-c", "feature")
    pdu = git_mini / "registry/pdus/AGIPD-Type/AGIPD_M9.yaml"
    pdu.write_text("physical_name: AGIPD_M9\ndetector_type: AGIPD-Type\nuuid: 100009\nstatus: active\n")
    runner = CliRunner()
    local = runner.invoke(main, ["history", "AGIPD_M9", "--repo", str(git_mini)])
    assert local.exit_code == 1 and "exists in the working tree" in local.output and "--worktree" in local.output
    commit_all(git_mini, "add M9", "2024-05-03T00:00:00Z")
    on_branch = runner.invoke(main, ["history", "AGIPD_M9", "--repo", str(git_mini)])
    assert on_branch.exit_code == 1 and "exists on the checked-out branch 'feature'" in on_branch.output
    assert "pass --branch feature" in on_branch.output
    assert runner.invoke(main, ["history", "AGIPD_M9", "--repo", str(git_mini), "--branch", "feature"]).exit_code == 0


def test_outside_a_catalog_the_error_names_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    nowhere = runner.invoke(main, ["mapping", "MID_DET_AGIPD1M-1", "--repo", str(tmp_path)])
    assert nowhere.exit_code == 1 and "is not in a git repository" in nowhere.output and "--repo" in nowhere.output
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "x.txt").write_text("x")
    commit_all(tmp_path, "unrelated", "2024-05-03T00:00:00Z")
    for args in (["mapping", "MID_DET_AGIPD1M-1"], ["lookup", "MID_DET_AGIPD1M-1"], ["serve", "--port", "0"]):
        out = runner.invoke(main, [*args, "--repo", str(tmp_path)])
        assert out.exit_code == 1 and "is a git repository but not a calcat-git catalog" in out.output, args


def test_serve_gives_absolute_report_paths_for_a_relative_store(git_mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ..server.test_serve import Server

    monkeypatch.chdir(git_mini)  # as a user runs it: `calcat-git serve --store ../store` from the catalog
    server = Server(git_mini, "--store", "../store")
    try:
        report = server.ok("reports/3757")
    finally:
        stop_process(server.proc)
    assert report["file_path"] == str((git_mini.parent / "store").resolve() / "xfel/reports/MID/AGIPD/dark_r0012.pdf")


@pytest.mark.slow
def test_a_complete_demo_store_is_not_rewritten(demo_store: Path) -> None:
    from calcat_git.demo.constants import generate

    before = {p: p.stat().st_mtime_ns for p in demo_store.rglob("*") if p.is_file()}
    assert generate(REPO_ROOT, demo_store) == 1984
    assert {p: p.stat().st_mtime_ns for p in demo_store.rglob("*") if p.is_file()} == before
    assert not list(demo_store.glob(".demo-scratch*"))
