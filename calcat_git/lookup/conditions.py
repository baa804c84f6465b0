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

from dataclasses import dataclass
from typing import Any, ClassVar

from calcat_git.lookup import conditions_data as raw
from calcat_git.lookup.conditions_base import ConditionsBase


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

    @classmethod
    def from_data(cls, data: Any, detector: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Conditions read from an ``extra_data`` run of ``detector`` (its identifier or
        ``DetectorData``); keyword parameters win (see ``lookup.conditions_data``)."""
        return raw.agipd_from_data(cls, data, detector, **kwargs)

    # EXtra's readers of RAW data (extra_data source data), one per parameter
    bias_voltage_from_control = staticmethod(raw.agipd_bias_from_control)
    bias_voltage_from_mpod = staticmethod(raw.agipd_bias_from_mpod)
    memory_cells_from_comp = staticmethod(raw.agipd_memory_cells_from_comp)
    memory_cells_from_xtdf = staticmethod(raw.agipd_memory_cells_from_xtdf)
    acquisition_rate_from_comp = staticmethod(raw.agipd_rate_from_comp)
    acquisition_rate_from_xtdf = staticmethod(raw.agipd_rate_from_xtdf)
    gain_setting_from_comp = staticmethod(raw.agipd_gain_setting_from_comp)
    gain_mode_from_comp = staticmethod(raw.agipd_gain_mode_from_comp)
    integration_time_from_comp = staticmethod(raw.agipd_integration_time_from_comp)


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

    @classmethod
    def from_data(cls, data: Any, detector: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Conditions read from an ``extra_data`` run (see ``lookup.conditions_data``)."""
        return raw.lpd_from_data(cls, data, detector, **kwargs)

    gain_mode_from_fem_comp = staticmethod(raw.lpd_gain_mode_from_fem_comp)
    parallel_gain_from_fem_comp = staticmethod(raw.lpd_parallel_gain_from_fem_comp)
    memory_cell_order_from_xtdf = staticmethod(raw.lpd_memory_cell_order_from_xtdf)


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

    @classmethod
    def from_data(cls, data: Any, detector: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Conditions read from an ``extra_data`` run (see ``lookup.conditions_data``)."""
        return raw.jungfrau_from_data(cls, data, detector, **kwargs)

    legacy_settings: ClassVar[dict[str, tuple[str, str]]] = raw.JUNGFRAU_LEGACY_SETTINGS
    gain_mode_labels: ClassVar[dict[str, int]] = raw.JUNGFRAU_GAIN_MODES
    sensor_bias_voltage_from_control = staticmethod(raw.jungfrau_bias_from_control)
    memory_cells_from_control = staticmethod(raw.jungfrau_memory_cells_from_control)
    memory_cell_start_from_control = staticmethod(raw.jungfrau_memory_cell_start_from_control)
    integration_time_from_control = staticmethod(raw.jungfrau_integration_time_from_control)
    exposure_timeout_from_control = staticmethod(raw.jungfrau_exposure_timeout_from_control)
    gain_setting_from_control = staticmethod(raw.jungfrau_gain_setting_from_control)
    gain_mode_from_control = staticmethod(raw.jungfrau_gain_mode_from_control)


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
