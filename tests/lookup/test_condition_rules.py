"""The look-up rules of each detector type (which parameters each calibration is asked,
their kinds, defaults and legacy values) are catalog data; the EXtra-named classes keep their
names and fields and take the rules from the catalog.

``TODAY`` is the table the conditions classes held in code before their rules moved into
the registry (written out from those classes): the embedded catalog must say the same."""

from __future__ import annotations

import json
import shutil
import types
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from calcat_git import CalibrationData, Catalog, ConditionError, Conditions
from calcat_git.cli.main import main
from calcat_git.lookup.conditions import CONDITIONS_CLASSES, Epix100Conditions
from calcat_git.lookup.rules import LookupRules

from ..helpers import REPO_ROOT, commit_all, edit, git, stop_process
from ..server.test_serve import Server

REQUIRED: Any = MISSING
KINDS = {"number": "float", "integer": "int", "boolean": "bool", "text": "str"}

TODAY: dict[str, dict[str, Any]] = {
    "AGIPDConditions": {
        "detector_type": "AGIPD-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("memory_cells", "Memory cells", "int", False, REQUIRED),
            ("acquisition_rate", "Acquisition rate", "float", False, REQUIRED),
            ("gain_setting", "Gain setting", "int", True, REQUIRED),
            ("gain_mode", "Gain mode", "int", True, REQUIRED),
            ("source_energy", "Source energy", "float", False, 9.2),
            ("integration_time", "Integration time", "int", False, 12),
            ("pixels_x", "Pixels X", "int", False, 512),
            ("pixels_y", "Pixels Y", "int", False, 128),
        ],
        "calibration_types": {
            "Offset": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Gain mode", "Integration time",
            ],
            "Noise": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Gain mode", "Integration time",
            ],
            "ThresholdsDark": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Gain mode", "Integration time",
            ],
            "BadPixelsDark": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Gain mode", "Integration time",
            ],
            "BadPixelsPC": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Integration time",
            ],
            "SlopesPC": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Integration time",
            ],
            "BadPixelsFF": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Integration time", "Source energy",
            ],
            "SlopesFF": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
                "Integration time", "Source energy",
            ],
            "BadPixelsCS": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
            ],
            "SlopesCS": [
                "Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate", "Gain setting",
            ],
        },
        "legacy_defaults": {"Gain mode": 0, "Integration time": 12},
    },
    "LPDConditions": {
        "detector_type": "LPD-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, 250.0),
            ("memory_cells", "Memory cells", "int", False, 512),
            ("memory_cell_order", "Memory cell order", "str", True, None),
            ("feedback_capacitor", "Feedback capacitor", "float", False, 5.0),
            ("source_energy", "Source Energy", "float", False, 9.3),
            ("category", "category", "int", False, 0),
            ("pixels_x", "Pixels X", "int", False, 256),
            ("pixels_y", "Pixels Y", "int", False, 256),
            ("parallel_gain", "Parallel gain", "bool", False, False),
        ],
        "calibration_types": {
            "Offset": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor",
                "Memory cell order", "Parallel gain",
            ],
            "Noise": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor",
                "Memory cell order", "Parallel gain",
            ],
            "BadPixelsDark": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor",
                "Memory cell order", "Parallel gain",
            ],
            "RelativeGain": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor", "Source Energy",
                "category",
            ],
            "GainAmpMap": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor", "Source Energy",
                "category",
            ],
            "FFMap": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor", "Source Energy",
                "category",
            ],
            "BadPixelsFF": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor", "Source Energy",
                "category",
            ],
        },
        "legacy_defaults": {"Parallel gain": 0},
    },
    "DSSCConditions": {
        "detector_type": "DSSC-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("memory_cells", "Memory cells", "int", False, REQUIRED),
            ("pulse_id_checksum", "Pulse id checksum", "float", True, None),
            ("acquisition_rate", "Acquisition rate", "float", True, None),
            ("target_gain", "Target gain", "int", True, None),
            ("encoded_gain", "Encoded gain", "int", True, None),
            ("pixels_x", "Pixels X", "int", False, 512),
            ("pixels_y", "Pixels Y", "int", False, 128),
        ],
        "calibration_types": {
            "Offset": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Pulse id checksum", "Acquisition rate",
                "Target gain", "Encoded gain",
            ],
            "Noise": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Pulse id checksum", "Acquisition rate",
                "Target gain", "Encoded gain",
            ],
        },
        "legacy_defaults": {},
    },
    "JUNGFRAUConditions": {
        "detector_type": "jungfrau-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("memory_cells", "Memory Cells", "int", False, REQUIRED),
            ("integration_time", "Integration Time", "float", False, REQUIRED),
            ("gain_setting", "Gain Setting", "int", False, REQUIRED),
            ("gain_mode", "Gain mode", "int", True, None),
            ("exposure_timeout", "Exposure timeout", "int", False, 25),
            ("sensor_temperature", "Sensor temperature", "float", False, 291),
            ("pixels_x", "Pixels X", "int", False, 1024),
            ("pixels_y", "Pixels Y", "int", False, 512),
        ],
        "calibration_types": {
            "Offset10Hz": [
                "Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                "Sensor temperature", "Gain Setting", "Gain mode", "Exposure timeout",
            ],
            "Noise10Hz": [
                "Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                "Sensor temperature", "Gain Setting", "Gain mode", "Exposure timeout",
            ],
            "BadPixelsDark10Hz": [
                "Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                "Sensor temperature", "Gain Setting", "Gain mode", "Exposure timeout",
            ],
            "RelativeGain10Hz": [
                "Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                "Sensor temperature", "Gain Setting", "Gain mode",
            ],
            "BadPixelsFF10Hz": [
                "Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                "Sensor temperature", "Gain Setting", "Gain mode",
            ],
        },
        "legacy_defaults": {"Gain mode": 0, "Exposure timeout": 25},
    },
    "ShimadzuHPVX2Conditions": {
        "detector_type": "ShimadzuHPVX2-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("burst_frame_count", "Burst Frame Count", "float", False, REQUIRED),
        ],
        "calibration_types": {
            "Offset": [
                "Burst Frame Count",
            ],
            "DynamicFF": [
                "Burst Frame Count",
            ],
        },
        "legacy_defaults": {},
    },
    "Epix100Conditions": {
        "detector_type": "ePix100-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("integration_time", "Integration time", "float", False, REQUIRED),
            ("sensor_temperature", "Sensor temperature", "float", False, REQUIRED),
            ("in_vacuum", "In vacuum", "int", False, 0),
            ("source_energy", "Source energy", "float", False, 9.2),
            ("pixels_x", "Pixels X", "int", False, 708),
            ("pixels_y", "Pixels Y", "int", False, 768),
        ],
        "calibration_types": {
            "OffsetEPix100": [
                "Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y", "Sensor temperature", "In vacuum",
            ],
            "NoiseEPix100": [
                "Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y", "Sensor temperature", "In vacuum",
            ],
            "BadPixelsDarkEPix100": [
                "Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y", "Sensor temperature", "In vacuum",
            ],
            "RelativeGainEPix100": [
                "Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y", "Sensor temperature", "In vacuum",
                "Source energy",
            ],
            "BadPixelsFFEPix100": [
                "Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y", "Sensor temperature", "In vacuum",
                "Source energy",
            ],
        },
        "legacy_defaults": {},
    },
    "Epix10KConditions": {
        "detector_type": "ePix10K-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("integration_time", "Integration time", "float", False, REQUIRED),
            ("gain_setting", "Gain setting", "int", False, REQUIRED),
            ("sensor_temperature", "Sensor temperature", "float", False, REQUIRED),
            ("memory_cells", "Memory cells", "int", False, 1),
            ("in_vacuum", "In vacuum", "int", False, 0),
            ("pixels_x", "Pixels X", "int", False, 352),
            ("pixels_y", "Pixels Y", "int", False, 384),
        ],
        "calibration_types": {
            "Offset": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Integration time",
                "Sensor temperature", "In vacuum", "Gain setting",
            ],
            "Noise": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Integration time",
                "Sensor temperature", "In vacuum", "Gain setting",
            ],
            "BadPixelsDark": [
                "Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Integration time",
                "Sensor temperature", "In vacuum", "Gain setting",
            ],
        },
        "legacy_defaults": {},
    },
    "Gotthard2Conditions": {
        "detector_type": "Gotthard2-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("exposure_time", "Exposure time", "float", False, REQUIRED),
            ("exposure_period", "Exposure period", "float", False, REQUIRED),
            ("acquisition_rate", "Acquisition rate", "float", False, REQUIRED),
            ("single_photon", "Single photon", "int", False, 0),
        ],
        "calibration_types": {
            "LUTGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
            "OffsetGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
            "NoiseGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
            "BadPixelsDarkGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
            "RelativeGainGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
            "BadPixelsFFGotthard2": [
                "Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate", "Single photon",
            ],
        },
        "legacy_defaults": {},
    },
    "PnCCDConditions": {
        "detector_type": "pnCCD-Type",
        "fields": [  # (field, CALCAT spelling, kind, None allowed, default)
            ("sensor_bias_voltage", "Sensor Bias Voltage", "float", False, REQUIRED),
            ("integration_time", "Integration Time", "float", False, REQUIRED),
            ("gain_setting", "Gain Setting", "float", False, REQUIRED),
            ("sensor_temperature", "Sensor Temperature", "float", False, REQUIRED),
            ("pixels_x", "Pixels X", "int", False, 1024),
            ("pixels_y", "Pixels Y", "int", False, 1024),
        ],
        "calibration_types": {
            "OffsetCCD": [
                "Sensor Bias Voltage", "Integration Time", "Gain Setting", "Sensor Temperature", "Pixels X",
                "Pixels Y",
            ],
            "NoiseCCD": [
                "Sensor Bias Voltage", "Integration Time", "Gain Setting", "Sensor Temperature", "Pixels X",
                "Pixels Y",
            ],
            "BadPixelsDarkCCD": [
                "Sensor Bias Voltage", "Integration Time", "Gain Setting", "Sensor Temperature", "Pixels X",
                "Pixels Y",
            ],
            "RelativeGainCCD": [
                "Sensor Bias Voltage", "Integration Time", "Gain Setting", "Sensor Temperature", "Pixels X",
                "Pixels Y",
            ],
        },
        "legacy_defaults": {},
    },
}


def _kind(annotation: Any) -> tuple[str, bool]:
    """(kind, None allowed) of a field annotation such as ``int | None``."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [a for a in args if a is not type(None)]
    return kinds[0].__name__, len(kinds) != len(args)


def test_the_classes_keep_their_fields() -> None:
    assert {cls.__name__: cls.detector_type for cls in CONDITIONS_CLASSES.values()} == \
        {name: row["detector_type"] for name, row in TODAY.items()}
    for cls in CONDITIONS_CLASSES.values():
        hints = typing.get_type_hints(cls)
        got = [(f.name, *_kind(hints[f.name]), f.default) for f in fields(cls)]  # type: ignore[arg-type]
        assert got == [(f, kind, none, default) for f, _, kind, none, default in TODAY[cls.__name__]["fields"]]


def test_the_embedded_catalog_states_the_classes_rules_field_by_field() -> None:
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    for name, today in TODAY.items():
        rules = LookupRules.of(catalog.detector_type(today["detector_type"]))
        assert rules.stated, name
        got = [(p.field, p.name, KINDS[p.kind], p.allows_none, REQUIRED if p.required else p.default)
               for p in rules.parameters]
        assert got == today["fields"], name
        assert {c: list(ps or ()) for c, ps in rules.calibrations} == today["calibration_types"], name
        assert {p.name: p.legacy for p in rules.parameters if p.legacy is not None} == today["legacy_defaults"], name
        cls = next(c for c in CONDITIONS_CLASSES.values() if c.__name__ == name)
        assert cls.calibration_types == today["calibration_types"] and cls.legacy_defaults == today["legacy_defaults"]


PROBE_BATCH = """detector: MID_EXP_EPIX-1
report: {id: 990001, path: xfel/reports/MID_EXP_EPIX-1/probe.pdf}
injected_at: "2026-01-02T00:00:00Z"
conditions: {Sensor Bias Voltage: 200}
constants:
""" + "".join(f"""- calibration: ProbeCal
  pdu: ePix100_M18
  begin_at: "2026-01-01T00:00:00Z"
  file: probe/{name}.h5
  dataset: /ePix100_M18/ProbeCal/0
  sha256: "{digit * 64}"
  good_quality: true
{extra}""" for name, digit, extra in (
    ("at7", "7", "  conditions: {Probe param: 7}\n"), ("at9", "9", "  conditions: {Probe param: 9}\n"),
    ("without", "0", "")))


def catalog_with_a_new_calibration(target: Path) -> Path:
    """The embedded catalog, then a calibration and a parameter added to ePix100-Type by
    editing YAML only, and a batch using them: three constants, with the new parameter at
    its default 7, at 9, and without it (what a look-up at the legacy value 0 asks)."""
    for name in ("registry", "constants_index"):
        shutil.copytree(REPO_ROOT / name, target / name)
    shutil.copy(REPO_ROOT / "calcat-git.yaml", target)
    git(target, "init", "-q", "-b", "main")
    commit_all(target, "the embedded catalog", "2026-11-01T00:00:00Z")
    edit(target, "registry/detector_types/ePix100-Type.yaml", "- BadPixelsFFEPix100\n", "- BadPixelsFFEPix100\n- ProbeCal\n")
    edit(target, "registry/detector_types/ePix100-Type.yaml", "- Source energy\n", "- Source energy\n- Probe param\n")
    edit(target, "registry/detector_types/ePix100-Type.yaml", "  calibrations:\n",
         "    Probe param: {type: number, default: 7, legacy: 0}\n  calibrations:\n"
         "    ProbeCal: [Sensor Bias Voltage, Probe param]\n")
    (target / "registry/calibrations/ProbeCal.yaml").write_text("identifier: ProbeCal\n")
    (target / "registry/parameters/probe_param.yaml").write_text(
        "identifier: probe_param\nspellings: [Probe param]\nunit: ''\nlower_deviation: 0.5\nupper_deviation: 0.5\n")
    batch = target / "constants_index/MID_EXP_EPIX-1/2026/20260101T000000Z-probe.yaml"
    batch.parent.mkdir(parents=True)
    batch.write_text(PROBE_BATCH)
    commit_all(target, "ProbeCal and Probe param", "2026-11-02T00:00:00Z")
    return target


ASK = {"sensor_bias_voltage": 200, "integration_time": 20, "sensor_temperature": 265}
PROBE_EVENT = "2026-02-01T00:00:00Z"


def _cli_ccv(repo: Path, *conditions: str) -> str:
    args = ["lookup", "MID_EXP_EPIX-1", "--repo", str(repo), "--event-at", PROBE_EVENT, "--calibration", "ProbeCal",
            "--json", *(f"--condition={k}={v}" for k, v in ASK.items()), *(f"--condition={c}" for c in conditions)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["constants"]["ProbeCal"]["EPIX01"]["file"])


@pytest.mark.slow
def test_a_calibration_and_parameter_added_in_yaml_work_everywhere(tmp_path: Path) -> None:
    repo = catalog_with_a_new_calibration(tmp_path / "catalog")
    assert Catalog.open(repo).validate() == []
    # the command line: the default from the catalog, a value, the legacy value left out
    assert _cli_ccv(repo) == "probe/at7.h5"
    assert _cli_ccv(repo, "Probe param=9") == _cli_ccv(repo, "probe_param=9.2") == "probe/at9.h5"
    assert _cli_ccv(repo, "Probe param=0") == "probe/without.h5"
    bad = CliRunner().invoke(main, ["lookup", "MID_EXP_EPIX-1", "--repo", str(repo), "--condition=Probe parm=1"])
    assert bad.exit_code == 1 and "unknown 'Probe parm' (did you mean Probe param?)" in bad.output
    explained = CliRunner().invoke(main, ["explain", "MID_EXP_EPIX-1", "--repo", str(repo), "--event-at", PROBE_EVENT,
                                          "--calibration", "ProbeCal", *(f"--condition={k}={v}" for k, v in ASK.items())])
    assert "lost: Probe param: asked 7, constant has 9" in explained.output
    listed = CliRunner().invoke(main, ["conditions", "ePix100-Type", "--repo", str(repo), "--json"])
    assert {"parameter": "Probe param", "type": "float", "default": 7, "required": False, "legacy": 0,
            "calibrations": ["ProbeCal"]} in json.loads(listed.output)["parameters"]
    # the Python API: the EXtra-named class (no field for it: the catalog's default) and the generic object
    catalog = Catalog.open(repo)
    found = CalibrationData.from_condition(Epix100Conditions(**ASK), "MID_EXP_EPIX-1", calibrations=["ProbeCal"],
                                           catalog=catalog, event_at=PROBE_EVENT)
    assert found["ProbeCal"]["EPIX01"].path.as_posix() == "probe/at7.h5"
    for value, file in ((9, "probe/at9.h5"), ("9", "probe/at9.h5"), (0, "probe/without.h5")):
        conditions = Conditions.for_type("ePix100-Type", catalog=catalog, **ASK, probe_param=value)
        found = CalibrationData.from_condition(conditions, "MID_EXP_EPIX-1", calibrations=["ProbeCal"],
                                               catalog=catalog, event_at=PROBE_EVENT)
        assert found["ProbeCal"]["EPIX01"].path.as_posix() == file, value
    with pytest.raises(ConditionError, match="Probe param: 'nine' is not a number"):
        Conditions.for_type("ePix100-Type", catalog=catalog, **ASK, probe_param="nine")
    # serve, asked as calibration_client asks: numbers as text
    server = Server(repo)
    try:
        cal_id = server.ok("calibrations", {"name": "ProbeCal"})[0]["id"]
        query = {"detector_identifier": "MID_EXP_EPIX-1", "calibration_id": str([cal_id]), "karabo_da": "",
                 "event_at": PROBE_EVENT, "pdu_snapshot_at": PROBE_EVENT, "begin_at_strategy": "closest"}
        for value, file in (("9", "at9.h5"), (7, "at7.h5"), ("0", "without.h5")):
            body = {"parameters_conditions_attributes": [{"parameter_name": "Sensor Bias Voltage", "value": "200"},
                                                         {"parameter_name": "Probe param", "value": value}]}
            ccvs = server.ok("calibration_constant_versions/get_by_detector_conditions", query, body)
            assert [c["file_name"] for c in ccvs] == [file], value
        status, _, data = server.get("calibration_constant_versions/get_by_detector_conditions", query,
                                     {"parameters_conditions_attributes": [{"parameter_name": "Probe param",
                                                                            "value": "nine"}]})
        assert status == 400 and "Probe param: 'nine' is not a number" in data["info"]
    finally:
        stop_process(server.proc)


def test_a_type_without_rules_asks_what_is_given() -> None:
    catalog = Catalog.open(REPO_ROOT, worktree=True)
    rules = LookupRules.of(catalog.detector_type("FastCCD-Type"))
    assert not rules.stated and rules.asked({}).by_calibration == {}
    with pytest.raises(ConditionError, match="unknown 'memory_cells' \\(parameters: none"):
        Conditions.for_type("FastCCD-Type", memory_cells=1)
    epix = Conditions.for_type("ePix100-Type", sensor_bias_voltage=200, integration_time="20", sensor_temperature=265)
    assert epix.sensor_bias_voltage == 200 and epix.pixels_x == 708
    assert epix.asked_of(["OffsetEPix100"]) == Epix100Conditions(200, 20, 265).asked_of(["OffsetEPix100"])
