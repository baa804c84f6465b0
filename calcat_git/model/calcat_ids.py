"""CALCAT's integer ids for catalog records: the one place their rules live.

A record imported from CALCAT keeps its ``calcat_id``, so ids that clients and correction
metadata already hold keep working. Any other record gets a stable id derived from its
kind and key (never from row order): ``2**52`` plus 48 bits of a sha256. CALCAT's ids are
small integers, so the two ranges never meet.

A calibration constant (CC) is CALCAT's (calibration, detector type, condition) triple; the
catalog has no CC records, it derives them from its CCVs: an imported CCV names CALCAT's CC
(and condition) in its kept ``calibration_constant`` block, any other gets the stable ids
of its detector type, calibration and condition set.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Protocol

from calcat_git.model.records import Parameter

STABLE_BASE = 2**52


@lru_cache(maxsize=65536)
def stable_id(kind: str, key: str) -> int:
    """The id of a record without ``calcat_id``: ``2**52`` + 48 bits of sha256(kind, key)."""
    return STABLE_BASE + int(hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:12], 16)


def ccv_int_id(ccv_id: str, calcat_id: int | None = None) -> int:
    """A CCV's integer id as CALCAT-style clients see it: CALCAT's own when imported, else
    ``2**52`` + the first 48 bits of its content id (``ccv_id``, hex: ``CCV.identity``), so
    the ranges never meet and the same constant always has it."""
    return calcat_id if calcat_id is not None else STABLE_BASE + int(ccv_id[:12], 16)


def report_int_id(report_id: int | None, report_path: str) -> int:
    """A report's id: its batch's ``report.id`` (CALCAT's, or one the pipeline chose), else
    the stable id of its path in the store."""
    return report_id if report_id is not None else stable_id("report", report_path)


def condition_set_id(conditions_key: str) -> int:
    """A new condition (one CALCAT never gave): the stable id of its condition set."""
    return stable_id("condition", conditions_key)


class Identified(Protocol):
    @property
    def identifier(self) -> str: ...

    @property
    def calcat_id(self) -> int | None: ...


def record_id(kind: str, record: Identified) -> int:
    """A record's id: CALCAT's where it came from CALCAT, else the stable id of its identifier."""
    return record.calcat_id if record.calcat_id is not None else stable_id(kind, record.identifier)


def _kept_int(kept_constant: dict[str, Any] | None, field: str) -> int | None:
    value = (kept_constant or {}).get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def kept_ids(kept_constant: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """CALCAT's calibration constant and condition ids in an imported CCV's kept
    ``calibration_constant`` block (None where it has none): the index keeps them per CCV."""
    return _kept_int(kept_constant, "id"), _kept_int(kept_constant, "condition_id")


def condition_id(conditions_key: str, kept_constant: dict[str, Any] | None = None) -> int:
    """A CCV's condition: CALCAT's (``kept_constant``: the CCV's kept ``calibration_constant``
    block) for an imported CCV, else the stable id of its condition set (``conditions_key``)."""
    found = _kept_int(kept_constant, "condition_id")
    return found if found is not None else condition_set_id(conditions_key)


def calibration_constant_id(detector_type: str, calibration: str, conditions_key: str,
                            kept_constant: dict[str, Any] | None = None) -> int:
    """A CCV's calibration constant: CALCAT's for an imported CCV, else the stable id of
    (detector type, calibration, condition set)."""
    found = _kept_int(kept_constant, "id")
    return found if found is not None else stable_id("calibration_constant", f"{detector_type}/{calibration}/{conditions_key}")


def parameter_condition_id(condition: int, parameter: str) -> int:
    """One parameter's item of a condition (``parameters_conditions``): a stable id."""
    return stable_id("parameter_condition", f"{condition}/{parameter}")


def parameter_id(record: Parameter, spelling: str) -> int:
    """CALCAT has one parameter per spelling: its id, else a stable id of the spelling."""
    known = dict(record.calcat_ids).get(spelling)
    if known is None and len(record.spellings) == 1:
        known = record.calcat_id
    return known if known is not None else stable_id("parameter", spelling)
