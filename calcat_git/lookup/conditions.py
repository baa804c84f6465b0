"""Operating conditions per detector type, with the names and habits of
``extra.calibration`` (European XFEL's EXtra), so that users' code ports with an
import change.

A conditions object turns into the parameter dict of a look-up with
``make_dict(parameters)``: parameter names are spelled as CALCAT spells them for the
type, numbers become floats, strings stay strings, ``None`` is left out. Like EXtra,
some classes leave out a parameter at its legacy default value (e.g. AGIPD's
``Gain mode`` 0 and ``Integration time`` 12), because older constants were injected
without it and conditions must match parameter for parameter.
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from calcat_git.errors import InvalidInputError, closest_names

REQUIRED: Any = MISSING  # ParameterInfo.default of a parameter that has none


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterInfo:
    """One parameter of a conditions class as the command line sees it."""

    spelling: str                    # CALCAT's spelling, e.g. 'Memory cells'
    field: str                       # the class's field, e.g. memory_cells
    kind: str                        # int, float, str or bool
    optional: bool                   # None is a value
    default: Any                     # REQUIRED when there is none
    calibrations: tuple[str, ...]    # the calibrations that are asked it

    def convert(self, text: str) -> Any:
        """The value of ``text`` for this parameter; ValueError saying what is expected."""
        text = text.strip()
        if self.optional and text in ("None", "none", "null"):
            return None
        if self.kind == "str":
            return text
        if self.kind == "bool":
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(f"{text!r} is not true or false")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError(f"{text!r} is not an integer")
            return int(number)
        return number


def _kind(annotation: Any) -> tuple[str, bool]:
    """(kind, optional) of a field annotation such as ``int | None``."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [a for a in args if a is not type(None)]
    return (kinds[0].__name__ if kinds else "str"), len(kinds) != len(args)


class ConditionsBase:
    """Base of all conditions classes."""

    detector_type: ClassVar[str] = ""
    calibration_types: ClassVar[dict[str, list[str]]] = {}  # calibration -> parameter names
    legacy_defaults: ClassVar[dict[str, float]] = {}  # parameter left out at this value

    def make_dict(self, parameters: list[str]) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        for name in parameters:
            value = getattr(self, name.lower().replace(" ", "_"))
            if isinstance(value, str):
                out[name] = value
            elif value is not None:
                out[name] = float(value)
        return self.without_legacy(out)

    @classmethod
    def without_legacy(cls, asked: dict[str, float | str]) -> dict[str, float | str]:
        """``asked`` without the parameters at their legacy default (see the module doc)."""
        return {k: v for k, v in asked.items()
                if not (k in cls.legacy_defaults and not isinstance(v, str) and v == cls.legacy_defaults[k])}

    @classmethod
    def asked_per_calibration(cls, given: dict[str, float | str],
                              calibrations: list[str]) -> dict[str, dict[str, float | str]]:
        """What each calibration is asked: the given parameters it uses, legacy defaults left out."""
        out = {}
        for name in calibrations:
            params = cls.calibration_types.get(name)
            out[name] = cls.without_legacy({k: v for k, v in given.items() if params is None or k in params})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def parameter_infos(cls) -> list[ParameterInfo]:
        """The class's parameters in field order, with CALCAT spellings, kinds and defaults."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in fields(cls):  # type: ignore[arg-type]
            spellings = [p for params in cls.calibration_types.values() for p in params
                         if p.lower().replace(" ", "_") == f.name]
            kind, optional = _kind(hints[f.name])
            out.append(ParameterInfo(
                spelling=spellings[0] if spellings else f.name.replace("_", " ").capitalize(), field=f.name,
                kind=kind, optional=optional, default=f.default,
                calibrations=tuple(c for c, params in cls.calibration_types.items() if spellings and spellings[0] in params)))
        return out

    @classmethod
    def from_strings(cls, given: dict[str, str]) -> ConditionsBase:
        """A conditions object from ``NAME=VALUE`` texts (the command line's --condition):
        names in CALCAT spelling or as the field (any case), defaults filled in. Every
        unknown, missing or malformed parameter is named in one error."""
        infos = {re.sub(r"[\s_]+", "_", i.field.lower()): i for i in cls.parameter_infos()}
        values: dict[str, Any] = {}
        problems: list[str] = []
        seen: set[str] = set()
        for name, text in given.items():
            info = infos.get(re.sub(r"[\s_]+", "_", name.strip().lower()))
            if info is None:
                problems.append(f"unknown {name!r}{closest_names(name, [i.spelling for i in infos.values()])}")
                continue
            seen.add(info.field)
            try:
                values[info.field] = info.convert(text)
            except ValueError as exc:
                problems.append(f"{info.spelling}: {exc}")
        missing = [i.spelling for i in infos.values() if i.default is REQUIRED and i.field not in seen]
        if missing:
            problems.append("missing " + ", ".join(repr(m) for m in missing))
        if problems:
            known = ", ".join(i.spelling for i in infos.values())
            raise InvalidInputError(f"{cls.detector_type} conditions: {'; '.join(problems)} (parameters: {known}; "
                                    f"`calcat-git conditions {cls.detector_type}` lists them with defaults)")
        return cls(**values)

    def asked_of(self, calibrations: list[str]) -> dict[str, dict[str, float | str]]:
        """What each calibration is asked (its parameters, defaults included, legacy
        defaults left out); a calibration the class does not know is asked every parameter."""
        every = [i.spelling for i in self.parameter_infos()]
        return {name: self.make_dict(self.calibration_types.get(name, every)) for name in calibrations}


@dataclass
class AGIPDConditions(ConditionsBase):
    """Conditions for AGIPD detectors."""

    sensor_bias_voltage: float
    memory_cells: int
    acquisition_rate: float
    gain_setting: int | None
    gain_mode: int | None
    source_energy: float = 9.2
    integration_time: int = 12
    pixels_x: int = 512
    pixels_y: int = 128

    detector_type: ClassVar[str] = "AGIPD-Type"
    _base: ClassVar[list[str]] = ["Sensor Bias Voltage", "Pixels X", "Pixels Y", "Memory cells", "Acquisition rate",
                                  "Gain setting"]
    _dark: ClassVar[list[str]] = [*_base, "Gain mode", "Integration time"]
    _gain: ClassVar[list[str]] = [*_base, "Integration time"]
    _illuminated: ClassVar[list[str]] = [*_base, "Integration time", "Source energy"]
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "Offset": _dark, "Noise": _dark, "ThresholdsDark": _dark, "BadPixelsDark": _dark,
        "BadPixelsPC": _gain, "SlopesPC": _gain, "BadPixelsFF": _illuminated, "SlopesFF": _illuminated,
        "BadPixelsCS": _base, "SlopesCS": _base,
    }
    legacy_defaults: ClassVar[dict[str, float]] = {"Gain mode": 0, "Integration time": 12}


@dataclass
class LPDConditions(ConditionsBase):
    """Conditions for LPD detectors."""

    sensor_bias_voltage: float = 250.0
    memory_cells: int = 512
    memory_cell_order: str | None = None
    feedback_capacitor: float = 5.0
    source_energy: float = 9.3
    category: int = 0
    pixels_x: int = 256
    pixels_y: int = 256
    parallel_gain: bool = False

    detector_type: ClassVar[str] = "LPD-Type"
    _base: ClassVar[list[str]] = ["Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Feedback capacitor"]
    _dark: ClassVar[list[str]] = [*_base, "Memory cell order", "Parallel gain"]
    _illuminated: ClassVar[list[str]] = [*_base, "Source Energy", "category"]
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "Offset": _dark, "Noise": _dark, "BadPixelsDark": _dark, "RelativeGain": _illuminated,
        "GainAmpMap": _illuminated, "FFMap": _illuminated, "BadPixelsFF": _illuminated,
    }
    legacy_defaults: ClassVar[dict[str, float]] = {"Parallel gain": 0}


@dataclass
class DSSCConditions(ConditionsBase):
    """Conditions for DSSC detectors."""

    sensor_bias_voltage: float
    memory_cells: int
    pulse_id_checksum: float | None = None
    acquisition_rate: float | None = None
    target_gain: int | None = None
    encoded_gain: int | None = None
    pixels_x: int = 512
    pixels_y: int = 128

    detector_type: ClassVar[str] = "DSSC-Type"
    _params: ClassVar[list[str]] = ["Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Pulse id checksum",
                                    "Acquisition rate", "Target gain", "Encoded gain"]
    calibration_types: ClassVar[dict[str, list[str]]] = {"Offset": _params, "Noise": _params}


@dataclass
class JUNGFRAUConditions(ConditionsBase):
    """Conditions for JUNGFRAU detectors."""

    sensor_bias_voltage: float
    memory_cells: int
    integration_time: float
    gain_setting: int
    gain_mode: int | None = None
    exposure_timeout: int = 25
    sensor_temperature: float = 291
    pixels_x: int = 1024
    pixels_y: int = 512

    detector_type: ClassVar[str] = "jungfrau-Type"
    _params: ClassVar[list[str]] = ["Sensor Bias Voltage", "Memory Cells", "Pixels X", "Pixels Y", "Integration Time",
                                    "Sensor temperature", "Gain Setting", "Gain mode"]
    _dark: ClassVar[list[str]] = [*_params, "Exposure timeout"]
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "Offset10Hz": _dark, "Noise10Hz": _dark, "BadPixelsDark10Hz": _dark,
        "RelativeGain10Hz": _params, "BadPixelsFF10Hz": _params,
    }
    legacy_defaults: ClassVar[dict[str, float]] = {"Gain mode": 0, "Exposure timeout": 25}


@dataclass
class ShimadzuHPVX2Conditions(ConditionsBase):
    """Conditions for Shimadzu HPV-X2 cameras."""

    burst_frame_count: float

    detector_type: ClassVar[str] = "ShimadzuHPVX2-Type"
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "Offset": ["Burst Frame Count"], "DynamicFF": ["Burst Frame Count"],
    }


@dataclass
class Epix100Conditions(ConditionsBase):
    """Conditions for ePix100 cameras (from the type's CALCAT parameter names)."""

    sensor_bias_voltage: float
    integration_time: float
    sensor_temperature: float
    in_vacuum: int = 0
    source_energy: float = 9.2
    pixels_x: int = 708
    pixels_y: int = 768

    detector_type: ClassVar[str] = "ePix100-Type"
    _dark: ClassVar[list[str]] = ["Sensor Bias Voltage", "Integration time", "Pixels X", "Pixels Y",
                                  "Sensor temperature", "In vacuum"]
    calibration_types: ClassVar[dict[str, list[str]]] = {
        "OffsetEPix100": _dark, "NoiseEPix100": _dark, "BadPixelsDarkEPix100": _dark,
        "RelativeGainEPix100": [*_dark, "Source energy"], "BadPixelsFFEPix100": [*_dark, "Source energy"],
    }


@dataclass
class Epix10KConditions(ConditionsBase):
    """Conditions for ePix10K cameras (from the type's CALCAT parameter names)."""

    sensor_bias_voltage: float
    integration_time: float
    gain_setting: int
    sensor_temperature: float
    memory_cells: int = 1
    in_vacuum: int = 0
    pixels_x: int = 352
    pixels_y: int = 384

    detector_type: ClassVar[str] = "ePix10K-Type"
    _dark: ClassVar[list[str]] = ["Sensor Bias Voltage", "Memory cells", "Pixels X", "Pixels Y", "Integration time",
                                  "Sensor temperature", "In vacuum", "Gain setting"]
    calibration_types: ClassVar[dict[str, list[str]]] = {"Offset": _dark, "Noise": _dark, "BadPixelsDark": _dark}


@dataclass
class Gotthard2Conditions(ConditionsBase):
    """Conditions for Gotthard-II strip detectors (from the type's CALCAT parameter names)."""

    sensor_bias_voltage: float
    exposure_time: float
    exposure_period: float
    acquisition_rate: float
    single_photon: int = 0

    detector_type: ClassVar[str] = "Gotthard2-Type"
    _params: ClassVar[list[str]] = ["Sensor Bias Voltage", "Exposure time", "Exposure period", "Acquisition rate",
                                    "Single photon"]
    calibration_types: ClassVar[dict[str, list[str]]] = dict.fromkeys(
        ("LUTGotthard2", "OffsetGotthard2", "NoiseGotthard2", "BadPixelsDarkGotthard2", "RelativeGainGotthard2",
         "BadPixelsFFGotthard2"), _params)


@dataclass
class PnCCDConditions(ConditionsBase):
    """Conditions for pnCCD cameras (from the type's CALCAT parameter names)."""

    sensor_bias_voltage: float
    integration_time: float
    gain_setting: float
    sensor_temperature: float
    pixels_x: int = 1024
    pixels_y: int = 1024

    detector_type: ClassVar[str] = "pnCCD-Type"
    _params: ClassVar[list[str]] = ["Sensor Bias Voltage", "Integration Time", "Gain Setting", "Sensor Temperature",
                                    "Pixels X", "Pixels Y"]
    calibration_types: ClassVar[dict[str, list[str]]] = dict.fromkeys(
        ("OffsetCCD", "NoiseCCD", "BadPixelsDarkCCD", "RelativeGainCCD"), _params)


CONDITIONS_CLASSES: dict[str, type[ConditionsBase]] = {
    cls.detector_type: cls for cls in (AGIPDConditions, LPDConditions, DSSCConditions, JUNGFRAUConditions,
                                       ShimadzuHPVX2Conditions, Epix100Conditions, Epix10KConditions,
                                       Gotthard2Conditions, PnCCDConditions)
}
