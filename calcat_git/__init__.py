"""calcat-git: a calibration catalog kept as validated YAML in git.

The public names below are imported on first use (PEP 562), so that the command line
starts fast; ``from calcat_git import Catalog`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.edit.change import Change
    from calcat_git.edit.draft import Verdict
    from calcat_git.errors import (
        CalcatGitError,
        CalcatReplyError,
        CatalogInvalidError,
        ConstantFileError,
        InvalidInputError,
        NotFoundError,
        RepositoryError,
        SiteBuildError,
        StoreDamagedError,
    )
    from calcat_git.lookup.badpixels import BadPixels
    from calcat_git.lookup.caldata import CalibrationData
    from calcat_git.lookup.conditions import (
        AGIPDConditions,
        DSSCConditions,
        Epix10KConditions,
        Epix100Conditions,
        Gotthard2Conditions,
        JUNGFRAUConditions,
        LPDConditions,
        PnCCDConditions,
        ShimadzuHPVX2Conditions,
    )
    from calcat_git.lookup.conditions_base import Conditions, ConditionsBase
    from calcat_git.lookup.conditions_data import AutoConditionsError
    from calcat_git.lookup.detector_data import DetectorData, DetectorModule, SourceNameFormatter
    from calcat_git.lookup.extra_api import (
        CatalogNotSetError,
        NaiveTimeWarning,
        StoreFileError,
        get_catalog,
        get_default_caldb_root,
        set_default_caldb_root,
        setup_catalog,
    )
    from calcat_git.lookup.lpd import lpd_dark_consts_with_fallback
    from calcat_git.lookup.results import MultiModuleConstant, NoDimensionLabelsError, SingleConstant
    from calcat_git.lookup.rules import ConditionError, LookupRules
    from calcat_git.model.batch import CCV, Condition, ConstantBatch, Report
    from calcat_git.model.interval import Interval
    from calcat_git.model.mapping import Mapping, MappingChange, SlotPeriod
    from calcat_git.model.problems import Problem
    from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Module, Parameter

_WHERE = {
    "AGIPDConditions": "calcat_git.lookup.conditions",
    "AutoConditionsError": "calcat_git.lookup.conditions_data",
    "BadPixels": "calcat_git.lookup.badpixels",
    "CCV": "calcat_git.model.batch",
    "CalcatGitError": "calcat_git.errors",
    "CalcatReplyError": "calcat_git.errors",
    "Calibration": "calcat_git.model.records",
    "CalibrationData": "calcat_git.lookup.caldata",
    "Catalog": "calcat_git.catalog.catalog",
    "Change": "calcat_git.edit.change",
    "CatalogInvalidError": "calcat_git.errors",
    "CatalogNotSetError": "calcat_git.lookup.extra_api",
    "Condition": "calcat_git.model.batch",
    "ConditionError": "calcat_git.lookup.rules",
    "Conditions": "calcat_git.lookup.conditions_base",
    "ConditionsBase": "calcat_git.lookup.conditions_base",
    "ConstantBatch": "calcat_git.model.batch",
    "ConstantFileError": "calcat_git.errors",
    "DSSCConditions": "calcat_git.lookup.conditions",
    "Detector": "calcat_git.model.records",
    "DetectorData": "calcat_git.lookup.detector_data",
    "DetectorModule": "calcat_git.lookup.detector_data",
    "DetectorType": "calcat_git.model.records",
    "Epix100Conditions": "calcat_git.lookup.conditions",
    "Epix10KConditions": "calcat_git.lookup.conditions",
    "Gotthard2Conditions": "calcat_git.lookup.conditions",
    "Instrument": "calcat_git.model.records",
    "Interval": "calcat_git.model.interval",
    "InvalidInputError": "calcat_git.errors",
    "JUNGFRAUConditions": "calcat_git.lookup.conditions",
    "LPDConditions": "calcat_git.lookup.conditions",
    "LookupRules": "calcat_git.lookup.rules",
    "Mapping": "calcat_git.model.mapping",
    "MappingChange": "calcat_git.model.mapping",
    "Module": "calcat_git.model.records",
    "MultiModuleConstant": "calcat_git.lookup.results",
    "NaiveTimeWarning": "calcat_git.lookup.extra_api",
    "NoDimensionLabelsError": "calcat_git.lookup.results",
    "NotFoundError": "calcat_git.errors",
    "PDU": "calcat_git.model.records",
    "Parameter": "calcat_git.model.records",
    "PnCCDConditions": "calcat_git.lookup.conditions",
    "Problem": "calcat_git.model.problems",
    "Report": "calcat_git.model.batch",
    "RepositoryError": "calcat_git.errors",
    "ShimadzuHPVX2Conditions": "calcat_git.lookup.conditions",
    "SingleConstant": "calcat_git.lookup.results",
    "SiteBuildError": "calcat_git.errors",
    "SlotPeriod": "calcat_git.model.mapping",
    "SourceNameFormatter": "calcat_git.lookup.detector_data",
    "StoreDamagedError": "calcat_git.errors",
    "StoreFileError": "calcat_git.lookup.extra_api",
    "get_catalog": "calcat_git.lookup.extra_api",
    "get_default_caldb_root": "calcat_git.lookup.extra_api",
    "lpd_dark_consts_with_fallback": "calcat_git.lookup.lpd",
    "set_default_caldb_root": "calcat_git.lookup.extra_api",
    "setup_catalog": "calcat_git.lookup.extra_api",
    "Verdict": "calcat_git.edit.draft",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'calcat_git' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CCV",
    "PDU",
    "AGIPDConditions",
    "AutoConditionsError",
    "BadPixels",
    "CalcatGitError",
    "CalcatReplyError",
    "Calibration",
    "CalibrationData",
    "Catalog",
    "CatalogInvalidError",
    "CatalogNotSetError",
    "Change",
    "Condition",
    "ConditionError",
    "Conditions",
    "ConditionsBase",
    "ConstantBatch",
    "ConstantFileError",
    "DSSCConditions",
    "Detector",
    "DetectorData",
    "DetectorModule",
    "DetectorType",
    "Epix10KConditions",
    "Epix100Conditions",
    "Gotthard2Conditions",
    "Instrument",
    "Interval",
    "InvalidInputError",
    "JUNGFRAUConditions",
    "LPDConditions",
    "LookupRules",
    "Mapping",
    "MappingChange",
    "Module",
    "MultiModuleConstant",
    "NaiveTimeWarning",
    "NoDimensionLabelsError",
    "NotFoundError",
    "Parameter",
    "PnCCDConditions",
    "Problem",
    "Report",
    "RepositoryError",
    "ShimadzuHPVX2Conditions",
    "SingleConstant",
    "SiteBuildError",
    "SlotPeriod",
    "SourceNameFormatter",
    "StoreDamagedError",
    "StoreFileError",
    "Verdict",
    "get_catalog",
    "get_default_caldb_root",
    "lpd_dark_consts_with_fallback",
    "set_default_caldb_root",
    "setup_catalog",
]
