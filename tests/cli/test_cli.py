"""The command line, run as a real subprocess against real catalogs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import REPO_ROOT, edit, fast_sample, run_cli

MAP = "registry/mappings/MID_DET_AGIPD1M-1.yaml"


def test_embedded_catalog_is_valid() -> None:
    result = run_cli("validate", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout
    assert report["ok"] and report["problems"] == []
    assert report["counts"]["detectors"] >= 8 and report["counts"]["detector_types"] >= 8


def test_validate_reports_every_problem_and_exits_1(mini: Path) -> None:
    batch = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"
    edit(mini, batch, "calibration: Noise", "calibration: Noize")
    edit(mini, MAP, '"2024-01-01T00:00:00Z"', '"2024-01-01T00:00:00"')
    result = run_cli("validate", str(mini))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{batch}:15: constants.1.calibration: unknown calibration 'Noize'")
    assert lines[1].startswith(f"{MAP}:12: changes.2.from: naive timestamp")
    assert result.stderr.startswith("2 problem(s) in 2 file(s)")
    skipped = run_cli("validate", str(mini), "--skip", "references", "--skip", "schema")
    assert skipped.returncode == 0, skipped.stdout


def test_validate_list_names_every_check() -> None:
    result = run_cli("validate", "--list")
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"yaml", "schema", "one-slot", "references", "store-paths", "mapping-order"} <= set(names)


def test_mapping_json_shape(mini: Path) -> None:
    result = run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2023-05-10T08:00:00+02:00", "--repo", str(mini),
                     "--worktree", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "detector": "MID_DET_AGIPD1M-1", "at": "2023-05-10T06:00:00Z", "commit": None, "committed_at": None,
        "modules": {"AGIPD00": "AGIPD_M1", "AGIPD01": "AGIPD_M3"}, "module_names": {"AGIPD00": "Q1M1", "AGIPD01": "Q1M2"},
    }
    before = json.loads(run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2023-05-10T05:59:59Z", "--repo", str(mini),
                                "--worktree", "--json").stdout)
    assert before["modules"]["AGIPD01"] == "AGIPD_M2"
    emptied = json.loads(run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--repo", str(mini),
                                 "--worktree", "--json").stdout)
    assert emptied["modules"] == {"AGIPD00": None, "AGIPD01": "AGIPD_M3"}


def test_embedded_real_fact() -> None:
    """AGIPD_SIV1_AGIPDV11_M315 sat in AGIPD01 of SPB_DET_AGIPD1M-1 in January 2020 (CALCAT reply)."""
    result = run_cli("mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2020-01-07T12:00:00Z", "--worktree", "--json")
    assert json.loads(result.stdout)["modules"]["AGIPD01"] == "AGIPD_SIV1_AGIPDV11_M315"


@pytest.mark.parametrize(("args", "message"), fast_sample([
    (["mapping", "SPB_DET_AGIPD1M", "--event-at", "2020-01-07T12:00:00Z"],
     "error: unknown detector 'SPB_DET_AGIPD1M' (did you mean SPB_DET_AGIPD1M-1"),
    (["mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2020-01-07 12:00"],
     "error: naive --event-at time '2020-01-07 12:00' has no time zone"),
    (["mapping", "SPB_DET_AGIPD1M-1", "--event-at", "07.01.2020"], "error: malformed --event-at time '07.01.2020'"),
    (["schema", "pdus"], "error: no schema kind 'pdus' (did you mean pdu?)"),
    (["validate", "--skip", "one-slt"], "error: no check named 'one-slt' (did you mean one-slot?)"),
    (["mapping", "X", "--repo", "/nonexistent"], "error: /nonexistent is not in a git repository, so not a calcat-git catalog"),
    (["mapping", "X", "--repo", "/nonexistent", "--worktree"], "error: /nonexistent has no registry/ folder"),
], keep=2))
def test_errors_are_one_line_exit_1(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_schema_prints_json_schema() -> None:
    result = run_cli("schema", "mapping")
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema") and schema["additionalProperties"] is False


def test_cli_reference_page_is_in_sync() -> None:
    from calcat_git.cli.doc import PAGE, page

    assert (REPO_ROOT / PAGE).read_text("utf-8") == page(), f"{PAGE} is stale: run `make docs`"


@pytest.mark.slow
def test_one_spelling_per_clock_the_old_ones_still_accepted_but_not_shown(git_mini: Path) -> None:
    """--event-at is the validity time and --snapshot-at a time or commit in every command;
    the older --at of mapping, verify-store and site build still works, hidden from --help."""
    from click.testing import CliRunner

    from calcat_git.cli.main import main

    for command in (["mapping"], ["lookup"], ["explain"], ["verify-store"], ["site", "build"]):
        shown = CliRunner().invoke(main, [*command, "--help"], terminal_width=200).output
        assert "--at " not in shown and "--at," not in shown and "--snapshot-at TIME|REV" in shown, command
    new = run_cli("mapping", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--json", cwd=git_mini)
    old = run_cli("mapping", "MID_DET_AGIPD1M-1", "--at=2024-06-01T00:00:00Z", "--json", cwd=git_mini)
    assert new.returncode == 0 and new.stdout == old.stdout
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=git_mini, capture_output=True, text=True, check=True)
    for spelling in ("--snapshot-at", "--at"):
        checked = run_cli("verify-store", spelling, head.stdout.strip(), "--json", cwd=git_mini)
        assert "checked" in json.loads(checked.stdout), checked.stderr


def test_each_command_module_is_imported_when_its_command_runs() -> None:
    """`calcat-git lookup` loads the look-up commands' module only, not those of the others."""
    code = ("import sys\nfrom calcat_git.cli.main import main\ntry:\n    main(['lookup', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith('calcat_git.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "['calcat_git.cli.common', 'calcat_git.cli.constants', 'calcat_git.cli.main']"


@pytest.mark.slow
def test_pdus_lists_where_each_sits_and_the_free_ones(git_mini: Path) -> None:
    at = ["--event-at", "2024-03-01T00:00:00Z", "--repo", str(git_mini)]
    data = json.loads(run_cli("pdus", "--type", "AGIPD-Type", *at, "--json").stdout)
    where = {row["pdu"]: (row["detector"], row["aggregator"]) for row in data["pdus"]}
    assert where == {"AGIPD_M1": ("SPB_DET_AGIPD1M-1", "AGIPD00"), "AGIPD_M2": (None, None),
                     "AGIPD_M3": ("MID_DET_AGIPD1M-1", "AGIPD01"), "AGIPD_M4": (None, None),
                     "AGIPD_M5": ("SPB_DET_AGIPD1M-1", "AGIPD01")}
    free = run_cli("pdus", "--type", "AGIPD-Type", "--free", *at)
    assert free.returncode == 0, free.stderr
    assert [line.split()[0] for line in free.stdout.splitlines()[1:]] == ["AGIPD_M2", "AGIPD_M4"]
    unknown = run_cli("pdus", "--type", "AGIPD", *at)
    assert unknown.returncode == 2 and "unknown detector type 'AGIPD': one of AGIPD-Type, jungfrau-Type" in unknown.stderr


def test_reading_commands_name_the_branch_read_and_warn_when_not_checked_out(git_mini: Path) -> None:
    args = ["MID_DET_AGIPD1M-1", "--at", "2024-03-01T00:00:00Z", "--repo", str(git_mini)]
    on_main = run_cli("mapping", *args)
    assert "(read from main at commit " in on_main.stdout and "not read" not in on_main.stdout
    subprocess.run(["git", "checkout", "-q", "-b", "mid-swap"], cwd=git_mini, check=True)
    elsewhere = run_cli("mapping", *args)
    assert "; the checked-out branch 'mid-swap' is not read: pass --branch mid-swap)" in elsewhere.stdout
    assert "(read from mid-swap at commit " in run_cli("mapping", *args, "--branch", "mid-swap").stdout
