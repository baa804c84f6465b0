"""The selection rules of a constant look-up (the contract; pure functions).

For each calibration and module:

1. The PDU is the one mapped to the module's slot at ``event_at`` (validity time),
   as the chosen snapshot records it. No PDU → nothing found.
2. Candidates are that PDU's CCVs of that calibration (whatever detector they were
   injected for: constants belong to the hardware).
3. A candidate's condition matches when it has exactly the asked parameters, each
   string equal and each number ``v`` asked within the constant's deviation:
   ``value - lower <= v <= value + upper``. Deviations come from the constant's
   condition, else from the parameter's defaults in ``registry/parameters/``.
4. Only good-quality, deployed CCVs count unless asked otherwise; a CCV whose
   ``end_at`` is at or before ``event_at`` is out.
5. ``prior``: the newest ``begin_at`` ≤ ``event_at``. ``closest``: the smallest
   ``|begin_at − event_at|``; a tie goes to the earlier ``begin_at``. Equal
   ``begin_at`` is broken by the CCV id (the larger, i.e. a stable arbitrary order).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from calcat_git.errors import InvalidInputError
from calcat_git.timeutil import format_timestamp, from_micros

Asked = dict[str, float | str]
Deviations = dict[str, tuple[float, float]]  # parameter spelling -> default (lower, upper)
STRATEGIES = ("closest", "prior")


def condition_key(conditions: Any) -> str:
    """One text per condition (JSON, keys sorted): to compare, count or store conditions."""
    return json.dumps(conditions, sort_keys=True)


def check_strategy(strategy: str) -> str:
    """``strategy`` if it is one of ``STRATEGIES`` (the one place it is checked)."""
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"begin_at_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    return strategy


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One question of a look-up: which CCV of ``calibration`` for conditions ``asked``
    at ``event_us`` (microseconds, UTC), by ``strategy`` (rule 5), bad ones included or not
    (rule 4). Checked once when made; storage returns candidates for it, ``choose`` decides."""

    calibration: str
    asked: Asked
    event_us: int
    strategy: str = "closest"
    include_bad: bool = False

    def __post_init__(self) -> None:
        check_strategy(self.strategy)


@dataclass(frozen=True, slots=True, kw_only=True)
class CCVRow:
    """One CCV as the look-up sees it (times in integer microseconds, UTC)."""

    ccv_id: str
    detector: str
    calibration: str
    pdu: str
    begin_at: int
    end_at: int | None
    file: str
    dataset: str
    sha256: str
    good_quality: bool
    deployed: bool
    conditions: dict[str, Any]
    batch: str
    report_id: int | None
    report_path: str
    calcat_id: int | None


class Candidate(Protocol):
    """What rule 5 reads of a candidate: a ``CCVRow``, or a lighter handle of one that
    storage loads in full only if chosen. ``ccv_id`` orders like the CCV id (the hex string,
    or its 32 bytes: the same order)."""

    @property
    def pdu(self) -> str: ...

    @property
    def begin_at(self) -> int: ...

    @property
    def ccv_id(self) -> str | bytes: ...


C = TypeVar("C", bound=Candidate)


def _unpack(raw: Any, default: tuple[float, float]) -> tuple[Any, float, float]:
    if isinstance(raw, dict):
        lower = raw.get("lower_deviation", default[0])
        upper = raw.get("upper_deviation", default[1])
        return raw["value"], float(lower), float(upper)
    return raw, default[0], default[1]


def condition_mismatch(stored: dict[str, Any], asked: Asked, defaults: Deviations) -> str | None:
    """Why ``stored`` does not match ``asked`` (None if it matches)."""
    for name in sorted(set(asked) - set(stored)):
        return f"constant has no {name!r} (asked {asked[name]!r})"
    for name in sorted(set(stored) - set(asked)):
        return f"constant also has {name!r}={_unpack(stored[name], (0, 0))[0]!r}, not asked"
    for name, want in asked.items():
        value, lower, upper = _unpack(stored[name], defaults.get(name, (0.0, 0.0)))
        if isinstance(want, str) or isinstance(value, str):
            if str(value) != str(want):
                return f"{name}: asked {want!r}, constant has {value!r}"
        elif not value - lower <= want <= value + upper:
            return f"{name}: asked {want:g}, constant has {value:g} (-{lower:g}/+{upper:g})"
    return None


def eligibility(row: CCVRow, event_us: int, include_bad: bool) -> str | None:
    """Why ``row`` may not be used at all (None if it may)."""
    if not row.good_quality and not include_bad:
        return "bad quality"
    if not row.deployed and not include_bad:
        return "not deployed"
    if row.end_at is not None and row.end_at <= event_us:
        return "validity ended before event_at"
    return None


def rank(begin_at: int, event_us: int, closest: bool) -> tuple[int, int]:
    """Rule 5's order of candidates: the least rank wins, a tie goes to the highest
    ``ccv_id``. 'closest': the least distance to the event, then the earlier ``begin_at``;
    'prior' (among those begun by the event): the latest ``begin_at``."""
    return (abs(begin_at - event_us), begin_at) if closest else (0, -begin_at)


def choose(rows: Iterable[C], event_us: int, strategy: str) -> C | None:
    """The winner among eligible, matching ``rows`` by ``strategy``."""
    rows = list(rows)
    if len(rows) == 1 and (strategy == "closest" or (strategy == "prior" and rows[0].begin_at <= event_us)):
        return rows[0]  # e.g. the in-memory seeks' one winner per PDU
    closest = check_strategy(strategy) == "closest"
    rows = rows if closest else [r for r in rows if r.begin_at <= event_us]
    if not rows:
        return None
    best = min(rank(r.begin_at, event_us, closest) for r in rows)
    return max((r for r in rows if rank(r.begin_at, event_us, closest) == best), key=lambda r: r.ccv_id)


def usable(rows: Iterable[CCVRow], question: Question, defaults: Deviations) -> list[CCVRow]:
    """Rules 3–4: the ``rows`` whose condition matches and that may be used."""
    return [r for r in rows if condition_mismatch(r.conditions, question.asked, defaults) is None
            and eligibility(r, question.event_us, question.include_bad) is None]


def select(rows: Iterable[CCVRow], asked: Asked, defaults: Deviations, event_us: int, strategy: str,
           include_bad: bool = False) -> CCVRow | None:
    """Rules 3–5 over the candidates of one PDU and calibration: the CCV chosen, or None."""
    question = Question(calibration="", asked=asked, event_us=event_us, strategy=strategy, include_bad=include_bad)
    return choose(usable(rows, question, defaults), event_us, strategy)


def _differing(stored: dict[str, Any], asked: Asked, defaults: Deviations) -> int:
    """How many parameters differ (missing on either side, or out of deviation)."""
    return sum(1 for name in set(stored) | set(asked)
               if name not in stored or name not in asked
               or condition_mismatch({name: stored[name]}, {name: asked[name]}, defaults) is not None)


ConditionSet = tuple[dict[str, Any], int]  # a stored condition set and the newest begin_at using it


def why_missing(condition_sets: list[ConditionSet], matching: list[CCVRow], question: Question,
                defaults: Deviations) -> str:
    """A one-line reason why no CCV was chosen for a PDU and ``question``.

    ``condition_sets``: every distinct condition of its CCVs; ``matching``: its CCVs
    whose condition matches the asked one."""
    asked, event_us, include_bad = question.asked, question.event_us, question.include_bad
    if not condition_sets:
        return "no constant of this calibration for this PDU"
    if not matching:
        conditions, newest = min(condition_sets, key=lambda cs: (
            _differing(cs[0], asked, defaults), -cs[1], condition_key(cs[0])))
        return (f"no constant for these conditions; the nearest condition (used until "
                f"{format_timestamp(from_micros(newest))}) differs: {condition_mismatch(conditions, asked, defaults)}")
    usable = [r for r in matching if eligibility(r, event_us, include_bad) is None]
    if not usable:
        reasons = sorted({eligibility(r, event_us, include_bad) or "" for r in matching})
        return f"{len(matching)} constant(s) match but none may be used: {', '.join(reasons)}"
    if question.strategy == "prior":
        return "only constants after event_at under 'prior'"
    return "no constant chosen"
