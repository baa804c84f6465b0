"""Issue 17: what a newcomer meets in the first hour (conditions on the command line,
short results, the demo's replay kept in a named place)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from calcat_git.cli.main import main
from calcat_git.errors import InvalidInputError
from calcat_git.lookup.conditions import AGIPDConditions, JUNGFRAUConditions

from .helpers import REPO_ROOT

LOOKUP = ["lookup", "MID_DET_AGIPD1M-1", "--repo", str(REPO_ROOT), "--worktree", "--event-at", "2024-03-01T00:00:00Z",
          "--calibration", "Offset"]
AGIPD_GIVEN = {"Sensor Bias Voltage": "300", "Memory cells": "202", "Acquisition rate": "1.1", "Gain setting": "0",
               "Gain mode": "0"}


def test_cli_conditions_are_the_python_classes_with_defaults() -> None:
    from_cli = AGIPDConditions.from_strings(AGIPD_GIVEN).asked_of(["Offset", "SlopesFF"])
    python = AGIPDConditions(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0,
                             gain_mode=0)
    assert from_cli == {"Offset": python.make_dict(AGIPDConditions.calibration_types["Offset"]),
                        "SlopesFF": python.make_dict(AGIPDConditions.calibration_types["SlopesFF"])}
    assert from_cli["Offset"]["Pixels X"] == 512.0 and "Gain mode" not in from_cli["Offset"]  # default in, legacy out
    assert from_cli["SlopesFF"]["Source energy"] == 9.2
    # any case and the field name read the same; None where the class allows it
    assert JUNGFRAUConditions.from_strings({"sensor_bias_voltage": "180", "MEMORY CELLS": "1", "Integration Time": "10",
                                            "Gain Setting": "0", "Gain mode": "None"}).gain_mode is None


def test_every_missing_extra_and_malformed_parameter_is_named_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        AGIPDConditions.from_strings({"Memory cells": "202x", "Foo": "3", "Gain setting": "0.5"})
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
    assert repr(found).startswith("<CalibrationData SPB_DET_AGIPD1M-1: 4 calibration(s), 64 constant(s), 0 missing")
    assert repr(found["Offset"]) == "<MultiModuleConstant Offset of SPB_DET_AGIPD1M-1: 16 module(s)>"


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
