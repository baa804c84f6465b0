"""calcat-git: a calibration catalog kept as validated YAML in git.

The public names below are imported on first use (PEP 562), so that the command line
starts fast; ``from calcat_git import Catalog`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calibration import CalibrationData, MultiModuleConstant, SingleConstant
    from .catalog import Catalog
    from .conditions import (
        AGIPDConditions,
        ConditionsBase,
        DSSCConditions,
        Epix10KConditions,
        Epix100Conditions,
        Gotthard2Conditions,
        JUNGFRAUConditions,
        LPDConditions,
        PnCCDConditions,
        ShimadzuHPVX2Conditions,
    )
    from .constants import CCV, Condition, ConstantBatch, Report
    from .errors import (
        CalcatGitError,
        CatalogInvalidError,
        InvalidInputError,
        NotFoundError,
        RepositoryError,
    )
    from .interval import Interval
    from .mapping import Mapping, MappingChange, SlotPeriod
    from .model import PDU, Calibration, Detector, DetectorType, Instrument, Module, Parameter
    from .problems import Problem

_WHERE = {
    "AGIPDConditions": ".conditions",
    "CCV": ".constants",
    "CalcatGitError": ".errors",
    "Calibration": ".model",
    "CalibrationData": ".calibration",
    "Catalog": ".catalog",
    "CatalogInvalidError": ".errors",
    "Condition": ".constants",
    "ConditionsBase": ".conditions",
    "ConstantBatch": ".constants",
    "DSSCConditions": ".conditions",
    "Detector": ".model",
    "DetectorType": ".model",
    "Epix100Conditions": ".conditions",
    "Epix10KConditions": ".conditions",
    "Gotthard2Conditions": ".conditions",
    "Instrument": ".model",
    "Interval": ".interval",
    "InvalidInputError": ".errors",
    "JUNGFRAUConditions": ".conditions",
    "LPDConditions": ".conditions",
    "Mapping": ".mapping",
    "MappingChange": ".mapping",
    "Module": ".model",
    "MultiModuleConstant": ".calibration",
    "NotFoundError": ".errors",
    "PDU": ".model",
    "Parameter": ".model",
    "PnCCDConditions": ".conditions",
    "Problem": ".problems",
    "Report": ".constants",
    "RepositoryError": ".errors",
    "ShimadzuHPVX2Conditions": ".conditions",
    "SingleConstant": ".calibration",
    "SlotPeriod": ".mapping",
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
    "CalcatGitError",
    "Calibration",
    "CalibrationData",
    "Catalog",
    "CatalogInvalidError",
    "Condition",
    "ConditionsBase",
    "ConstantBatch",
    "DSSCConditions",
    "Detector",
    "DetectorType",
    "Epix10KConditions",
    "Epix100Conditions",
    "Gotthard2Conditions",
    "Instrument",
    "Interval",
    "InvalidInputError",
    "JUNGFRAUConditions",
    "LPDConditions",
    "Mapping",
    "MappingChange",
    "Module",
    "MultiModuleConstant",
    "NotFoundError",
    "Parameter",
    "PnCCDConditions",
    "Problem",
    "Report",
    "RepositoryError",
    "ShimadzuHPVX2Conditions",
    "SingleConstant",
    "SlotPeriod",
]
