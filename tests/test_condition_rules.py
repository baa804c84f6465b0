"""The look-up rules of each detector type (which parameters each calibration is asked,
their kinds, defaults and legacy values) are catalog data; the EXtra-named classes keep their
names and fields and take the rules from the catalog.

``TODAY`` is the table the conditions classes held in code before their rules moved into
the registry (written out from those classes): the embedded catalog must say the same."""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields
from typing import Any

from calcat_git import Catalog
from calcat_git.lookup.conditions import CONDITIONS_CLASSES
from calcat_git.lookup.rules import LookupRules

from .helpers import REPO_ROOT

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
