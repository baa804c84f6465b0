"""Constants a correction used (``CalibrationData.from_correction``: the pipeline's
``calibration_metadata*.yml``), as EXtra reads them."""

from __future__ import annotations

from operator import index
from pathlib import Path
from typing import Any

import yaml

from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.lookup.ccv_metadata import ccv_metadata, row_by_int_id
from calcat_git.lookup.detector_data import DetectorData, detector_row, full_catalog, module_row
from calcat_git.lookup.extra_api import get_catalog
from calcat_git.lookup.results import SingleConstant
from calcat_git.timeutil import from_micros


def metadata_path(metadata_file_or_proposal: str | Path | int, run: int | None, detector_name: str | None) -> Path:
    """The metadata file: given, or ``proc/rNNNN/calibration_metadata_<detector>.yml`` of a proposal."""
    if run is None:
        if detector_name is not None:
            raise TypeError("detector_name was passed but run was not")
        path = Path(metadata_file_or_proposal)  # type: ignore[arg-type]
        return path / "calibration_metadata.yml" if path.is_dir() else path
    if detector_name is None:
        raise TypeError("detector_name required with proposal/run numbers")
    proposal = metadata_file_or_proposal
    if isinstance(proposal, str):
        if "/" not in proposal and not proposal.startswith("p"):
            proposal = "p" + proposal.rjust(6, "0")
    else:
        proposal = f"p{index(proposal):06d}"  # type: ignore[arg-type]
    from extra_data.read_machinery import find_proposal  # the xfel extra (optional): proposals live on GPFS

    return Path(find_proposal(proposal)) / "proc" / f"r{run:04d}" / f"calibration_metadata_{detector_name}.yml"


def read_correction_file(path: Path) -> tuple[dict[str, dict[str, SingleConstant]], dict[str, str], str]:
    """(constants by calibration and aggregator, PDU by aggregator, detector) of a metadata file."""
    try:
        metadata = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no correction metadata file {path}: pass the path of a calibration_metadata*.yml "
                            "written by the correction") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not YAML: {exc}") from None
    try:
        detector = metadata["calibration-configurations"]["karabo-id"]
        groups: dict[str, dict[str, SingleConstant]] = {}
        pdus: dict[str, str] = {}
        for aggregator, entry in metadata["retrieved-constants"].items():
            if "constants" not in entry:  # e.g. 'time-summary'
                continue
            pdus[aggregator] = entry["physical-name"]
            for calibration, details in entry["constants"].items():
                groups.setdefault(calibration, {})[aggregator] = SingleConstant(
                    path=Path(details["path"]), dataset=details["dataset"], ccv_id=details["ccv_id"],
                    pdu_name=entry["physical-name"], _metadata={"begin_validity_at": details["creation-time"]},
                    calibration=calibration, aggregator=aggregator)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"{path}: not a correction's calibration metadata (missing {exc})") from None
    return groups, pdus, str(detector)


def from_correction(cls: Any, metadata_file_or_proposal: str | Path | int, run: int | None = None,
                    detector_name: str | None = None, *, client: Any = None, use_calcat: bool = True) -> Any:
    """``CalibrationData.from_correction`` (see there)."""
    groups, pdus, det_name = read_correction_file(metadata_path(metadata_file_or_proposal, run, detector_name))
    if not use_calcat:
        row = {"id": None, "identifier": det_name, "karabo_id_control": None, "number_of_modules": None,
               "source_name_pattern": None, "first_module_index": None}
        modules = [{"id": None, "physical_name": p, "karabo_da": a, "virtual_device_name": None, "module_number": None,
                    "detector_type": {"name": None}, "uuid": None} for a, p in sorted(pdus.items())]
        return cls(groups, DetectorData(row, modules))
    catalog = full_catalog(get_catalog(client))
    det = catalog.detector(det_name)
    by_aggregator = {m.aggregator: m for m in det.modules}
    for group in groups.values():
        for aggregator, constant in group.items():
            found = row_by_int_id(catalog, int(constant.ccv_id))  # type: ignore[arg-type]
            module = by_aggregator.get(aggregator)
            constant._metadata = ccv_metadata(catalog, found, (aggregator, module)) | constant._metadata
            constant._have_calcat_metadata = True
            constant._catalog, constant._row, constant.ccv_hash = catalog, found, found.ccv_id
            constant.begin_at, constant.sha256, constant.commit = from_micros(found.begin_at), found.sha256, catalog.commit
            constant.report_path, constant.catalog_root = found.report_path, catalog.root
            if module is not None:
                constant.module_number, constant.virtual_device_name = module.module_number, module.virtual_device_name
    missing = sorted(a for a in pdus if a not in by_aggregator)
    if missing:
        raise NotFoundError(f"{det_name} has no module {', '.join(missing)} in the catalog: read a catalog that has "
                            "them, or pass use_calcat=False")
    rows = [module_row(catalog, det, by_aggregator[a], p) for a, p in pdus.items()]
    return cls(groups, DetectorData(detector_row(det), rows), commit=catalog.commit, committed_at=catalog.committed_at)
