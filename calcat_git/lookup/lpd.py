"""LPD's dark constants with a fallback memory cell order, as EXtra's
``lpd_dark_consts_with_fallback`` finds them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.extra_api import extra_time
from calcat_git.timeutil import now_utc

LPD_FALLBACK_CELL_ORDER = ",".join(str(i) for i in range(510)) + ","


def lpd_dark_consts_with_fallback(condition: Any, detector_name: str, event_at: Any = None,
                                  preference_time: timedelta = timedelta(days=7), **kwargs: Any) -> Any:
    """LPD dark constants (Offset, Noise, BadPixelsDark) for ``condition``, per module
    falling back to those of the all-cells order when they are closer in time to
    ``event_at`` by more than ``preference_time``. Other arguments as ``from_condition``."""
    moment = extra_time(event_at, "event_at") or now_utc()
    darks = ["Offset", "Noise", "BadPixelsDark"]
    preferred = CalibrationData.from_condition(condition, detector_name, calibrations=darks, event_at=moment, **kwargs)
    if condition.memory_cell_order == LPD_FALLBACK_CELL_ORDER:
        return preferred
    fallback = CalibrationData.from_condition(replace(condition, memory_cell_order=LPD_FALLBACK_CELL_ORDER),
                                              detector_name, calibrations=darks, event_at=moment, **kwargs)

    def distance(cd: Any, aggregator: str) -> timedelta:
        return abs(datetime.fromisoformat(cd["Offset", aggregator].metadata("begin_validity_at")) - moment)

    chosen = []
    for aggregator in set(preferred.aggregator_names) | set(fallback.aggregator_names):
        if aggregator not in fallback.get("Offset", {}):
            continue
        if aggregator not in preferred.get("Offset", {}) or \
                distance(preferred, aggregator) - distance(fallback, aggregator) > preference_time:
            chosen.append(aggregator)
    return preferred.merge(fallback.select_modules(aggregator_names=chosen))
