"""The EXtra-named API beyond EXtra's own tests: times, which catalog, the store, ids,
conditions as dicts, data with dimension labels, tables. Reads the catalog imported from the
recorded CALCAT replies (conftest.py)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import pytest

import calcat_git
from calcat_git import (
    AGIPDConditions,
    BadPixels,
    CalibrationData,
    Catalog,
    CatalogNotSetError,
    DetectorData,
    LPDConditions,
    NaiveTimeWarning,
    StoreFileError,
    lpd_dark_consts_with_fallback,
)
from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.lookup import extra_api

MID = "MID_DET_AGIPD1M-1"
COND = AGIPDConditions(sensor_bias_voltage=300, memory_cells=352, acquisition_rate=2.2, gain_mode=0, gain_setting=1,
                       integration_time=12, source_energy=9.2)
AT = "2022-09-01T13:26:48+02:00"


def offsets(**kwargs: object) -> CalibrationData:
    return CalibrationData.from_condition(COND, MID, calibrations=["Offset"], **kwargs)  # type: ignore[arg-type]


def test_naive_times_are_read_in_the_facility_zone_with_a_warning(catalog_of_recordings: Path) -> None:
    with pytest.warns(NaiveTimeWarning, match="facility's zone Europe/Berlin"):
        naive = offsets(event_at="2022-09-01 13:26:48.00")
    with pytest.warns(NaiveTimeWarning):
        naive_dt = offsets(event_at=datetime(2022, 9, 1, 13, 26, 48))
    aware = offsets(event_at=AT)
    assert naive.event_at == aware.event_at == naive_dt.event_at
    assert naive["Offset", "AGIPD00"].ccv_id == aware["Offset", "AGIPD00"].ccv_id
    # calcat-git's own Catalog keeps refusing them
    with pytest.raises(InvalidInputError, match="naive"):
        Catalog.open(catalog_of_recordings).mapping(MID, at="2022-09-01 13:26:48")


def test_which_catalog(catalog_of_recordings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra_api.reset_catalog()
    monkeypatch.delenv("CALCAT_GIT_CATALOG", raising=False)
    monkeypatch.chdir(tmp_path)  # not inside a catalog either
    with pytest.raises(CatalogNotSetError, match=re.escape("calcat_git.setup_catalog('/path/to/catalog')")):
        offsets(event_at=AT)
    monkeypatch.setenv("CALCAT_GIT_CATALOG", str(catalog_of_recordings))
    assert len(offsets(event_at=AT)["Offset"]) == 16
    with pytest.raises(NotFoundError, match=r"no registry/ folder there\): pass setup_catalog\(\)"):
        calcat_git.setup_catalog(tmp_path)
    with pytest.raises(InvalidInputError, match="cannot read a catalog from int 42: pass a catalog's folder"):
        calcat_git.setup_catalog(42)  # type: ignore[arg-type]
    other = Catalog.open(catalog_of_recordings)
    assert offsets(event_at=AT, client=other).commit == other.commit


def test_ccv_id_is_calcats_integer_and_metadata_is_calcats(catalog_of_recordings: Path) -> None:
    constant = offsets(event_at=AT)["Offset", "AGIPD00"]
    assert isinstance(constant.ccv_id, int) and constant.ccv_id < 2**52  # imported: CALCAT's own id
    assert re.fullmatch(r"[0-9a-f]{64}", constant.ccv_hash)
    meta = constant.metadata_dict()
    assert meta["id"] == constant.ccv_id and meta["data_set_name"] == constant.dataset
    assert meta["physical_detector_unit"]["physical_name"] == constant.pdu_name
    assert meta["view_url"] == f"https://in.xfel.eu/calibration/calibration_constant_versions/{constant.ccv_id}"


def test_conditions_as_a_dict_or_anything_else(catalog_of_recordings: Path) -> None:
    asked = COND.make_dict(COND.calibration_types["Offset"])
    by_dict = CalibrationData.from_condition(asked, MID, calibrations=["Offset"], event_at=AT)
    assert {a: c.ccv_id for a, c in by_dict["Offset"].items()} == \
        {a: c.ccv_id for a, c in offsets(event_at=AT)["Offset"].items()}
    with pytest.raises(InvalidInputError, match=r"conditions object .* or a dict"):
        CalibrationData.from_condition(["Memory cells"], MID, event_at=AT)


def test_a_file_missing_from_the_store_is_named_with_why(catalog_of_recordings: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    constant = offsets(event_at=AT)["Offset", "AGIPD00"]
    with pytest.raises(StoreFileError, match=rf"{re.escape(str(tmp_path / constant.path))} does not exist; it was "
                                             "imported from CALCAT.*pass caldb_root="):
        constant.ndarray(caldb_root=tmp_path)
    monkeypatch.delenv("CALCAT_GIT_STORE", raising=False)
    monkeypatch.setattr(extra_api, "EXTRA_STORES", ())
    with pytest.raises(StoreFileError, match=r"pass caldb_root='/path/to/store'.*set_default_caldb_root"):
        constant.ndarray()


def test_data_dimensions_and_xarray(catalog_of_recordings: Path, tmp_path: Path) -> None:
    group = offsets(event_at=AT)["Offset"].select_modules([0, 1])
    for number, constant in enumerate(group.values()):
        path = tmp_path / constant.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(path, "w") as f:
            f[f"{constant.dataset}/data"] = np.full((2, 3), number, dtype=np.float32)
            f[f"{constant.dataset}/data"].attrs["dims"] = ["fast_scan", "slow_scan"]
    calcat_git.set_default_caldb_root(tmp_path)
    try:
        assert calcat_git.get_default_caldb_root() == tmp_path
        assert group["Q1M2"].dimensions == ("fast_scan", "slow_scan")
        assert group.dimensions == ("module", "fast_scan", "slow_scan")
        array = group.xarray(module_naming="qm", parallel=2)
        assert array.dims == ("module", "fast_scan", "slow_scan") and list(array.coords["module"]) == ["Q1M1", "Q1M2"]
        assert array.sel(module="Q1M2").values.max() == 1
    finally:
        calcat_git.set_default_caldb_root(None)
    assert np.array_equal(group.ndarray(caldb_root=tmp_path), array.values)


def test_tables_and_selections(catalog_of_recordings: Path) -> None:
    found = CalibrationData.from_condition(COND, MID, calibrations=["Offset", "SlopesFF"], event_at=AT)
    assert "[2022-09-02 07:42](https://in.xfel.eu/calibration/calibration_constant_versions/" in found.markdown_table()
    assert found.summary_table(module_naming="qm").tables[0][1][0] == "Q1M1"
    assert "\\href{" in found.reports_info()._repr_latex_()
    q1 = found.select_modules(qm_names=["Q1M1", "Q1M2"])
    assert q1.aggregator_names == ["AGIPD00", "AGIPD01"] and q1.commit == found.commit
    assert q1.require_calibrations(["Offset", "NoSuchCalibration"]).aggregator_names == []
    with pytest.raises(TypeError, match="only one of"):
        found.select_modules([0], qm_names=["Q1M1"])


def test_detector_data_by_id_and_the_markdown_of_conditions(catalog_of_recordings: Path) -> None:
    by_name = DetectorData.from_identifier(MID, pdu_snapshot_at=AT)
    by_id = DetectorData.from_numeric_id(by_name.id, pdu_snapshot_at=AT)
    assert by_id.identifier == MID and list(by_id) == list(by_name) and by_name.id == 4
    assert "- Memory cells: 352" in COND._repr_markdown_().splitlines()
    assert BadPixels.NO_DARK_DATA | BadPixels.USER2 == (1 << 3) | (1 << 31)


def test_lpd_fallback_keeps_the_preferred_when_the_fallback_has_nothing(catalog_of_recordings: Path) -> None:
    condition = LPDConditions(memory_cells=200, sensor_bias_voltage=250)
    plain = CalibrationData.from_condition(condition, "FXE_DET_LPD1M-1", calibrations=["Offset", "Noise", "BadPixelsDark"],
                                           event_at="2022-05-22T02:00:00+02:00")
    chosen = lpd_dark_consts_with_fallback(condition, "FXE_DET_LPD1M-1", event_at="2022-05-22T02:00:00+02:00")
    assert {a: c.ccv_id for a, c in chosen["Offset"].items()} == {a: c.ccv_id for a, c in plain["Offset"].items()}


def test_jungfrau_conditions_from_raw_data(catalog_of_recordings: Path, tmp_path: Path) -> None:
    from extra_data import RunDirectory
    from extra_data.tests.make_examples import make_fxe_jungfrau_run

    from calcat_git import AutoConditionsError, JUNGFRAUConditions

    make_fxe_jungfrau_run(str(tmp_path))
    run = RunDirectory(str(tmp_path))
    detector = DetectorData.from_identifier("FXE_XAD_JF1M", pdu_snapshot_at="2024-03-04T17:56:05Z")
    assert detector.karabo_control_domain == "CONTROL"  # as CALCAT has it: name the control device
    cond = JUNGFRAUConditions.from_data(run, detector, control="FXE_XAD_JF1M/DET/CONTROL", gain_setting=1, gain_mode=0)
    assert (cond.memory_cells, cond.gain_setting, cond.gain_mode) == (1, 1, 0)  # storageCells 0 (+1); as given
    assert isinstance(cond.sensor_bias_voltage, int) and isinstance(cond.integration_time, float)
    with pytest.raises(AutoConditionsError, match="required parameters could not be inferred from data: "
                                                  "gain_setting, integration_time, memory_cells, sensor_bias_voltage"):
        JUNGFRAUConditions.from_data(run, detector, control="NO/SUCH/DEVICE")


def test_a_detector_without_pdus_has_no_constants(catalog_of_recordings: Path) -> None:
    from calcat_git import DSSCConditions

    found = CalibrationData.from_condition(DSSCConditions(sensor_bias_voltage=100, memory_cells=600), "SQS_DET_DSSC1M-1",
                                           event_at="2023-11-29T00:00:00Z")
    assert not found and found.aggregator_names == [] and found.detector_name == "SQS_DET_DSSC1M-1"


@pytest.mark.slow
def test_a_published_site_answers_look_ups(catalog_of_recordings: Path, tmp_path: Path) -> None:
    from ..helpers import build_site

    site = build_site(catalog_of_recordings, tmp_path / "site")
    from_clone = offsets(event_at=AT)
    calcat_git.setup_catalog(site)
    from_site = offsets(event_at=AT)
    assert {a: c.ccv_hash for a, c in from_site["Offset"].items()} == \
        {a: c.ccv_hash for a, c in from_clone["Offset"].items()}
    assert DetectorData.from_identifier(MID, pdu_snapshot_at=AT).pdus == from_clone.detector.pdus
    with pytest.raises(NotFoundError, match=r"a published site .*setup_catalog\('/path/to/catalog'\) \(a clone\)"):
        from_site["Offset", "AGIPD00"].metadata("begin_validity_at")
