"""calcat-git: a calibration catalog kept as validated YAML in git."""

from .catalog import Catalog
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

__all__ = [
    "CCV",
    "PDU",
    "CalcatGitError",
    "Calibration",
    "Catalog",
    "CatalogInvalidError",
    "Condition",
    "ConstantBatch",
    "Detector",
    "DetectorType",
    "Instrument",
    "Interval",
    "InvalidInputError",
    "Mapping",
    "MappingChange",
    "Module",
    "NotFoundError",
    "Parameter",
    "Problem",
    "Report",
    "RepositoryError",
    "SlotPeriod",
]
