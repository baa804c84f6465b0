"""Operating conditions read from RAW data (an ``extra_data`` run; the ``xfel`` extra), as
EXtra's ``AGIPDConditions.from_data``, ``LPDConditions.from_data`` and
``JUNGFRAUConditions.from_data`` read them: from the detector's control devices (names
made from the catalog's ``karabo_id_control`` and source names), parameters given as
keywords win, and whatever cannot be read is named in an :class:`AutoConditionsError`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calcat_git.lookup.conditions_base import AutoConditionsError as AutoConditionsError  # (re-exported)
from calcat_git.lookup.conditions_base import build

if TYPE_CHECKING:
    from calcat_git.lookup.detector_data import DetectorData


def purge_missing_sources(data: Any, *sources: Any) -> list[Any]:
    """Each source (a name or a list of names) without those the run does not have."""
    out: list[Any] = []
    for src in sources:
        if isinstance(src, str):
            out.append(src if src in data.all_sources else None)
        else:
            out.append([s for s in src if s in data.all_sources])
    return out


def detector_of(data: Any, detector: Any, client: Any) -> DetectorData:
    """``detector`` as ``DetectorData`` (an identifier is read from the catalog at the run's start)."""
    from calcat_git.lookup.detector_data import at_run  # on use: it loads the catalog, which the conditions classes do not need

    return at_run(data, detector, client)


def _property_error() -> type[Exception]:
    from extra_data import PropertyNameError  # the xfel extra, an optional package

    return PropertyNameError  # type: ignore[no-any-return]


def _numpy() -> Any:
    import numpy  # imported on use: every look-up loads the conditions classes, only reading RAW data needs numpy

    return numpy


def agipd_from_data(cls: Any, data: Any, detector: Any, fpga_comp: str | None = None, mpod: str | None = None,
                    fpga_control: list[str] | None = None, xtdf: list[str] | None = None, client: Any = None,
                    **params: Any) -> Any:
    """``AGIPDConditions.from_data`` (EXtra's rules)."""
    if None in (fpga_comp, mpod, fpga_control, xtdf):
        det = detector_of(data, detector, client)
        domain = det.karabo_control_domain
        fpga_comp = fpga_comp or f"{domain}/MDL/FPGA_COMP"
        mpod = mpod or f"{domain[:-1]}/PSC/HV"
        xtdf = det.source_names if xtdf is None else xtdf  # type: ignore[assignment]
        fpga_control = [f"{domain}/FPGA/M_{i}" for i in range(len(xtdf or []))] if fpga_control is None else fpga_control
    fpga_comp, mpod, fpga_control, xtdf = purge_missing_sources(data, fpga_comp, mpod, fpga_control, xtdf)
    if fpga_comp is not None:
        _agipd_from_comp(data[fpga_comp], params)
    if xtdf:
        if "memory_cells" not in params:
            params["memory_cells"] = next((v for s in xtdf if (v := agipd_memory_cells_from_xtdf(data[s])) > 0), 0)
        if "acquisition_rate" not in params:
            params["acquisition_rate"] = next((r for s in xtdf if (r := agipd_rate_from_xtdf(data[s])) > 0), 0.0)
    if "sensor_bias_voltage" not in params:
        if mpod is not None:  # AGIPD Gen1
            params["sensor_bias_voltage"] = agipd_bias_from_mpod(data[mpod])
        elif fpga_control:  # AGIPD Gen2
            params["sensor_bias_voltage"] = next(
                (b for s in fpga_control if (b := agipd_bias_from_control(data[s])) > 0), 0)
    return build(cls, params, fpga_comp=fpga_comp, mpod=mpod, fpga_control=fpga_control, xtdf=xtdf)


def _agipd_from_comp(sd: Any, params: dict[str, Any]) -> None:
    """Parameters from the FPGA composite device (preferred over XTDF data)."""
    missing_property = _property_error()
    if "memory_cells" not in params:
        params["memory_cells"] = agipd_memory_cells_from_comp(sd)
    if "acquisition_rate" not in params:
        with contextlib.suppress(missing_property):  # not in older data
            params["acquisition_rate"] = agipd_rate_from_comp(sd)
    if "gain_setting" not in params:
        params["gain_setting"] = agipd_gain_setting_from_comp(sd)
    if "gain_mode" not in params:
        params["gain_mode"] = agipd_gain_mode_from_comp(sd)
    if "integration_time" not in params:
        try:
            params["integration_time"] = agipd_integration_time_from_comp(sd)
        except missing_property:
            params["integration_time"] = 12  # newer property of the device; the earlier default


def agipd_memory_cells_from_comp(sd: Any) -> int:
    return int(sd["bunchStructure.nPulses"].as_single_value(reduce_by="max"))


def agipd_rate_from_comp(sd: Any) -> float:
    return round(float(sd["bunchStructure.repetitionRate"].as_single_value()), 1)


def agipd_gain_mode_from_comp(sd: Any) -> int:
    return int(sd["gainModeIndex"].as_single_value(atol=0))


def agipd_integration_time_from_comp(sd: Any) -> int:
    return int(sd["integrationTime"].as_single_value())


def agipd_bias_from_control(sd: Any) -> int:
    np = _numpy()
    values = sd["highVoltage.target"].ndarray()
    return int(np.median(values[values < 1000.0]))  # cut off values the device used to jump to


def agipd_bias_from_mpod(sd: Any, modules: list[int] | None = None) -> int:
    keys = [f"channels.U{n}.voltage" for n in modules] if modules is not None else \
        sd.select_keys("channels.U*.voltage").keys(False)
    for key in keys:
        if (value := sd[key].as_single_value(atol=1, rtol=1)) > 0:
            return int(value)
    return 0  # every module powered off


def agipd_memory_cells_from_xtdf(sd: Any) -> int:
    np = _numpy()
    cell_ids = sd["image.cellId"].drop_empty_trains().ndarray().squeeze()
    options = np.array([4, 32, 64, 76, 128, 176, 202, 250, 352])
    return int(options[np.flatnonzero(options > np.max(cell_ids)).min()])


def agipd_rate_from_xtdf(sd: Any) -> float:
    np = _numpy()
    pulse_ids = sd["image.pulseId"].drop_empty_trains().ndarray().squeeze()
    return round(float(np.floor(45 / np.diff(pulse_ids).min()) / 10), 1)


def agipd_gain_setting_from_comp(sd: Any) -> int:
    if "gain" in sd:
        return int(sd["gain"].as_single_value(atol=0))
    setupr = sd["setupr"].as_single_value()  # older composite devices
    pattern = sd["patternTypeIndex"].as_single_value()
    if (setupr == 0 and pattern < 4) or (setupr == 32 and pattern == 4):
        return 0
    if (setupr == 8 and pattern < 4) or (setupr == 40 and pattern == 4):
        return 1
    raise ValueError("unexpected setupr and patternTypeIndex values to determine CDS mode")


def lpd_from_data(cls: Any, data: Any, detector: Any, fem_comp: str | None = None, xtdf: list[str] | None = None,
                  validate_memcell_order: bool = False, use_memcell_order: str = "auto", client: Any = None,
                  **params: Any) -> Any:
    """``LPDConditions.from_data`` (EXtra's rules)."""
    np = _numpy()
    if fem_comp is None or xtdf is None:
        det = detector_of(data, detector, client)
        fem_comp = fem_comp or f"{det.karabo_control_domain}/COMP/FEM_MDL_COMP"
        xtdf = sorted(data.instrument_sources.intersection(det.source_names)) if xtdf is None else xtdf
    fem_comp, xtdf = purge_missing_sources(data, fem_comp, xtdf)
    if fem_comp is not None and "parallel_gain" not in params:
        try:
            params["parallel_gain"] = lpd_parallel_gain_from_fem_comp(data[fem_comp])
        except _property_error():
            params["parallel_gain"] = False  # came with parallel gain support
    if xtdf and "memory_cell_order" not in params:
        order, previous = None, None
        for src in xtdf:
            order = lpd_memory_cell_order_from_xtdf(data[src])
            if order.size:
                if not validate_memcell_order:
                    break
                if previous is not None and (previous != order).any():
                    raise ValueError("inconsistent memory order across modules")
                previous = order
        assert order is not None
        use = (len(order) > 2 and bool((np.diff(order.astype(np.int32)) < 0).any())) if use_memcell_order == "auto" \
            else use_memcell_order == "always"
        params["memory_cell_order"] = "{},".format(",".join(str(c) for c in order)) if use else None
    return build(cls, params, fem_comp=fem_comp, xtdf=xtdf)


def lpd_gain_mode_from_fem_comp(sd: Any) -> int:
    return int(sd.run_value("femAsicGain"))  # not in the condition (yet)


def lpd_parallel_gain_from_fem_comp(sd: Any) -> bool:
    return bool(sd.run_value("femAsicGainOverride"))


def lpd_memory_cell_order_from_xtdf(sd: Any) -> Any:
    return sd["image.cellId"].drop_empty_trains()[0].ndarray().flatten()


JUNGFRAU_LEGACY_SETTINGS = {  # before 2022 'settings' held gain mode and setting: old → (settings, gainMode)
    "dynamicgain": ("gain0", "dynamic"), "dynamichg0": ("highgain0", "dynamic"), "fixgain1": ("gain0", "fixg1"),
    "fixgain2": ("gain0", "fixg2"), "forceswitchg1": ("gain0", "forceswitchg1"),
    "forceswitchg2": ("gain0", "forceswitchg2"),
}
JUNGFRAU_GAIN_MODES = {"dynamic": 0, "fixg0": 1, "fixg1": 2, "fixg2": 3}


def jungfrau_from_data(cls: Any, data: Any, detector: Any, control: str | None = None, client: Any = None,
                       **params: Any) -> Any:
    """``JUNGFRAUConditions.from_data`` (EXtra's rules)."""
    if control is None:
        control = f"{detector_of(data, detector, client).karabo_control_domain}/DET/CONTROL"
    (control,) = purge_missing_sources(data, control)
    if control is not None:
        sd = data[control]
        readers: dict[str, Callable[[Any], Any]] = {
            "sensor_bias_voltage": jungfrau_bias_from_control, "memory_cells": jungfrau_memory_cells_from_control,
            "integration_time": jungfrau_integration_time_from_control,
            "exposure_timeout": jungfrau_exposure_timeout_from_control,
            "gain_setting": jungfrau_gain_setting_from_control, "gain_mode": jungfrau_gain_mode_from_control,
        }
        for name, read in readers.items():
            if name not in params:
                params[name] = read(sd)
    return build(cls, params, control=control)


def jungfrau_bias_from_control(sd: Any) -> int:
    for key in ("highVoltage", "vHighVoltage"):
        if key in sd:
            return int(sd.run_value(key)[0])
    raise _property_error()("highVoltage or vHighVoltage", sd.source)


def jungfrau_memory_cells_from_control(sd: Any) -> int:
    return int(sd.run_value("storageCells")) + 1


def jungfrau_memory_cell_start_from_control(sd: Any) -> int:
    return int(sd.run_value("storageCellStart"))  # not in the condition; for dark characterisation


def jungfrau_integration_time_from_control(sd: Any) -> float:
    return 1e6 * float(sd.run_value("exposureTime"))


def jungfrau_exposure_timeout_from_control(sd: Any) -> int:
    return int(sd.run_value("exposureTimeout"))


def jungfrau_gain_setting_from_control(sd: Any, raw: bool = False) -> Any:
    value = sd.run_value("settings")
    if "gainMode" not in sd:
        value = JUNGFRAU_LEGACY_SETTINGS[value][0]
    return value if raw else int(value == "highgain0")


def jungfrau_gain_mode_from_control(sd: Any, raw: bool = False) -> Any:
    try:
        value = sd.run_value("gainMode")
    except _property_error():
        value = JUNGFRAU_LEGACY_SETTINGS[sd.run_value("settings")][1]
    if raw:
        return value
    if value not in JUNGFRAU_GAIN_MODES:
        raise ValueError(f"invalid gain mode {value!s} encountered")
    return JUNGFRAU_GAIN_MODES[value]
