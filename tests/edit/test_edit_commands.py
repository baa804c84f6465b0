"""One-step edits beyond swaps: add-calibration, add-parameter, add-detector and flag, each
through the one write path (success, refusal with nothing written, --branch), the Python
`Change` methods, and the look-up rules they join. Real git repos in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from calcat_git import CalibrationData, Catalog
from calcat_git.edit import rules
from calcat_git.edit.yamltext import checked, data_of

from ..helpers import git, run_cli
from ..lookup.test_constants import MiniConditions

TYPE = "registry/detector_types/AGIPD-Type.yaml"
BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"


def _files(root: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*")
                  if p.is_file() and ".git" not in p.relative_to(root).parts)


def _refused(root: Path, args: list[str], message: str) -> None:
    before, refs = _files(root), git(root, "for-each-ref")
    run = run_cli(*args, repo=root)
    assert (run.returncode, run.stdout, run.stderr) == (1, "", f"error: {message}\n")
    assert _files(root) == before and git(root, "for-each-ref") == refs


def _on_branch(root: Path, branch: str, args: list[str]) -> str:
    """Run an edit with --branch: the branch gets one commit, the checkout stays as it is."""
    before, head = _files(root), git(root, "rev-parse", "HEAD")
    run = run_cli(*args, "--branch", branch, repo=root)
    assert run.returncode == 0, run.stderr
    assert _files(root) == before and git(root, "rev-parse", "HEAD") == head
    assert git(root, "rev-parse", f"{branch}^") == head
    return git(root, "diff", "--name-only", "HEAD", branch)


@pytest.mark.slow
def test_add_calibration(git_mini: Path) -> None:
    out = run_cli("add-calibration", "DarkDrift", "--type", "AGIPD-Type", "--parameter", "Memory cells", "--description",
                  "slow offset drift", "--commit", repo=git_mini)
    assert out.returncode == 0, out.stderr
    assert (git_mini / "registry/calibrations/DarkDrift.yaml").read_text() == (
        "identifier: DarkDrift\ndescription: slow offset drift\n")
    assert (git_mini / TYPE).read_text().splitlines()[2] == "calibrations: [Offset, Noise, DarkDrift]"
    assert Catalog.open(git_mini).validate() == [] and git(git_mini, "status", "--porcelain") == "?? calcat-git.yaml"
    _refused(git_mini, ["add-calibration", "Drift2", "--type", "AGIPD-Type", "--parameter", "Memory cell"],
             "AGIPD-Type has no parameter 'Memory cell' (did you mean Memory cells?): add it first "
             "(`calcat-git add-parameter 'Memory cell' --type AGIPD-Type`)")
    _refused(git_mini, ["add-calibration", "DarkDrift", "--type", "AGIPD-Type", "--parameter", "Memory cells"],
             "AGIPD-Type has calibration 'DarkDrift' already")
    assert _on_branch(git_mini, "jf-drift", ["add-calibration", "DarkDrift", "--type", "jungfrau-Type", "--parameter",
                                             "Memory Cells"]).splitlines() == ["registry/detector_types/jungfrau-Type.yaml"]


@pytest.mark.slow
def test_add_parameter(git_mini: Path) -> None:
    out = run_cli("add-parameter", "Probe param", "--type", "AGIPD-Type", "--unit", "V", "--lower-deviation", "0.5",
                  "--upper-deviation", "0.5", repo=git_mini)
    assert out.returncode == 0, out.stderr
    assert (git_mini / "registry/parameters/probe_param.yaml").read_text() == (
        "identifier: probe_param\nspellings:\n- Probe param\nunit: V\nlower_deviation: 0.5\nupper_deviation: 0.5\n")
    assert "parameters: [Memory cells, Sensor Bias Voltage, Probe param]" in (git_mini / TYPE).read_text()
    git(git_mini, "checkout", "-q", "--", ".")
    git(git_mini, "clean", "-qfd", "registry")
    _refused(git_mini, ["add-parameter", "Probe param", "--type", "AGIPD-Type", "--default", "3"],
             "AGIPD-Type has no look-up rules (no `conditions:` block in its file: every calibration is asked every "
             "parameter given), so --calibration, --default or --legacy has nothing to say there; leave it out")
    _refused(git_mini, ["add-parameter", "Memory cells", "--type", "AGIPD-Type"],
             "AGIPD-Type has parameter 'Memory cells' already")
    _refused(git_mini, ["add-parameter", "Memory Cells", "--type", "AGIPD-Type", "--unit", "cells"],
             "parameter 'Memory Cells' exists (registry/parameters/memory_cells.yaml) with another unit: every type "
             "shares that file, so edit it there")
    assert _on_branch(git_mini, "probe", ["add-parameter", "Probe param", "--type", "jungfrau-Type"]).splitlines() == [
        "registry/detector_types/jungfrau-Type.yaml", "registry/parameters/probe_param.yaml"]


@pytest.mark.slow
def test_add_detector_and_its_first_swap(git_mini: Path) -> None:
    out = run_cli("add-detector", "HED_IA1_JF500K2", "--type", "jungfrau-Type", "--instrument", "MID", "--modules", "2",
                  "--first-module-index", "1", "--commit", repo=git_mini)
    assert out.returncode == 0, out.stderr
    assert (git_mini / "registry/detectors/HED_IA1_JF500K2.yaml").read_text() == (
        "identifier: HED_IA1_JF500K2\ndetector_type: jungfrau-Type\ninstruments:\n- MID\n"
        "karabo_id_control: HED_IA1_JF500K2\nsource_name_pattern: HED_IA1_JF500K2/DET/{modno}CH0:xtdf\nexperts: []\n"
        "modules:\n- aggregator: JNGFR01\n  virtual_device_name: ''\n  module_number: 1\n"
        "- aggregator: JNGFR02\n  virtual_device_name: ''\n  module_number: 2\n")
    swap = run_cli("swap", "HED_IA1_JF500K2", "JNGFR01=Jungfrau_M001", "--from", "2024-06-01T00:00:00Z", "--reason", "installed",
                   "--commit", repo=git_mini)
    assert swap.returncode == 0, swap.stderr
    assert Catalog.open(git_mini).mapping("HED_IA1_JF500K2", at="2024-07-01T00:00:00Z") == {
        "JNGFR01": "Jungfrau_M001", "JNGFR02": None}
    _refused(git_mini, ["add-detector", "X_DET", "--type", "jungfrau-Type", "--instrument", "HEDD", "--modules", "1"],
             "unknown instrument 'HEDD'")
    _refused(git_mini, ["add-detector", "HED_IA1_JF500K2", "--type", "jungfrau-Type", "--instrument", "MID",
                        "--modules", "1"],
             "detector 'HED_IA1_JF500K2' exists already: registry/detectors/HED_IA1_JF500K2.yaml")
    assert _on_branch(git_mini, "spb-jf", ["add-detector", "SPB_JF", "--type", "jungfrau-Type", "--instrument", "SPB",
                                           "--modules", "1"]) == "registry/detectors/SPB_JF.yaml"


def _offset(root: Path, **at: str) -> str | None:
    found = CalibrationData.from_condition(MiniConditions(sensor_bias_voltage=300, memory_cells=352),
                                           "MID_DET_AGIPD1M-1", catalog=root, event_at="2024-05-02T00:00:00Z", **at)
    return found["Offset"]["AGIPD01"].ccv_hash if "Offset" in found and "AGIPD01" in found["Offset"] else None


@pytest.mark.slow
def test_flag_keeps_the_reason_and_the_past(git_mini: Path) -> None:
    before = git(git_mini, "rev-parse", "HEAD")
    ccv = _offset(git_mini)
    assert ccv is not None
    git(git_mini, "commit", "-q", "--allow-empty", "-m", "later", date="2030-01-01T00:00:00Z")
    out = run_cli("flag", ccv[:12], "--bad-quality", "--reason", "stripes in the offset map", "--commit", repo=git_mini)
    assert out.returncode == 0, out.stderr
    item = data_of((git_mini / BATCH).read_text())["constants"][0]
    assert item["good_quality"] is False and len(item["flagged"]) == 1
    assert item["flagged"][0]["reason"] == "stripes in the offset map" and item["flagged"][0]["good_quality"] is False
    assert _offset(git_mini) is None  # skipped now …
    assert _offset(git_mini, snapshot_at=before) == ccv  # … and as the catalog was before, unchanged
    assert run_cli("check", "--base", before, repo=git_mini).returncode == 0  # flags may flip: no append-only problem
    _refused(git_mini, ["flag", ccv[:12], "--bad-quality", "--reason", "again"],
             f"CCV {ccv[:12]} (Offset, AGIPD_M3) is bad-quality already")
    _refused(git_mini, ["flag", "abcdef12", "--deployed", "--reason", "x"], "no CCV with content id abcdef12")
    _refused(git_mini, ["flag", ccv[:12], "--reason", "x"],
             "give one of --bad-quality, --good-quality, --not-deployed, --deployed")
    int_id = str(2**52 + int(ccv[:12], 16))
    assert _on_branch(git_mini, "deploy", ["flag", int_id, "--not-deployed", "--reason", "replaced"]) == BATCH
    assert len(data_of(git(git_mini, "show", f"deploy:{BATCH}"))["constants"][0]["flagged"]) == 2


def test_change_methods_from_python(git_mini: Path) -> None:
    with Catalog.open(git_mini).change("a probe calibration", branch="probe") as change:
        change.add_parameter("Probe param", types=["AGIPD-Type"], unit="V")
        change.add_calibration("Probe", types=["AGIPD-Type"], parameters=["Probe param"])
    assert change.written is not None and sorted(change.written.files) == [
        "registry/calibrations/Probe.yaml", TYPE, "registry/parameters/probe_param.yaml"]
    on_branch = Catalog.open(git_mini, branch="probe", index=False).registry
    assert on_branch.detector_types["AGIPD-Type"].calibrations[-1] == "Probe"
    assert on_branch.detector_types["AGIPD-Type"].parameters[-1] == "Probe param"


RULED = """identifier: X-Type
aggregator_prefix: X
calibrations: [Offset]
parameters:
- Memory cells
conditions:
  parameters:  # the fields, in order
    Memory cells: {type: integer}
  calibrations:
    Offset: [Memory cells]
description: a type with look-up rules
"""


def test_rules_wiring_keeps_the_layout() -> None:
    data = data_of(RULED)
    rule = rules.rule_of("number", 3.0, 0)
    wanted = rules.wire_parameter({**data, "parameters": [*data["parameters"], "Probe"]}, "Probe", rule, ["Offset"])
    text = rules.entry_added(RULED.replace("- Memory cells\n", "- Memory cells\n- Probe\n"),
                             ("conditions", "parameters"), "Probe", rule)
    text = text and rules.item_appended(text, ("conditions", "calibrations"), "Offset", "Probe")
    assert checked(text, wanted) == text == RULED.replace("- Memory cells\n", "- Memory cells\n- Probe\n").replace(
        "    Memory cells: {type: integer}\n", "    Memory cells: {type: integer}\n    Probe: {type: number, default: 3.0, "
        "legacy: 0}\n").replace("Offset: [Memory cells]", "Offset: [Memory cells, Probe]")
    calibration = rules.wire_calibration(wanted, "Drift", ["Probe"])
    assert calibration["conditions"]["calibrations"]["Drift"] == ["Probe"]
    assert rules.entry_added(RULED, ("conditions", "calibrations"), "Drift", ["Probe"]).endswith(
        "    Drift: [Probe]\ndescription: a type with look-up rules\n")
    with pytest.raises(ValueError, match="no parameter 'Nope'"):
        rules.wire_calibration(wanted, "Drift", ["Nope"])
    assert checked(None, wanted) == checked("not: [the, data]\n", wanted)  # written out whole when a line edit fails
