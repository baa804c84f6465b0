"""One imported condition from every set of values CALCAT matched it with.

CALCAT's CCV records name a condition by id only; its parameter values are known from
the bodies of the ``get_by_detector_conditions`` requests that returned its CCVs. CALCAT
matches within deviations, so one condition can answer requests with different values
(e.g. memory cells 352 and 0). The imported condition must match every one of them and
must not depend on the order the replies are read in: each number is the smallest value
asked, with an upper deviation reaching the largest (plus the parameter's default
tolerance); a string must be the same in every request.
"""

from __future__ import annotations

from collections.abc import Iterable

from calcat_git.calcat_import.conditions import ConditionValues
from calcat_git.model.batch import Condition

Deviations = dict[str, tuple[float, float]]  # spelling -> default (lower, upper)


def span(condition_id: int, observed: Iterable[ConditionValues], defaults: Deviations
         ) -> tuple[tuple[Condition, ...], str | None]:
    """The condition matching every observed value set, and a summary line when there was
    more than one set (None otherwise). Sets with other parameters than the largest one are
    left out of the span and named in the line."""
    sets = sorted(set(observed), key=lambda s: (-len(s), repr(s)))
    names = [n for n, _ in sets[0]]
    same = [dict(s) for s in sets if [n for n, _ in s] == names]
    other = [s for s in sets if [n for n, _ in s] != names]
    out, spans = [], []
    for name in names:
        values = {v for s in same for v in [s[name]]}
        numbers = sorted(float(v) for v in values if not isinstance(v, str))
        if len(values) == 1 or len(numbers) != len(values):
            value = sorted(values, key=repr)[0]
            out.append(Condition(name=name, value=value))
            if len(values) > 1:
                spans.append(f"{name} {' / '.join(sorted(map(str, values)))} (kept {value!r}: text cannot span)")
            continue
        low, high = numbers[0], numbers[-1]
        lower, upper = defaults.get(name, (0.0, 0.0))
        out.append(Condition(name=name, value=low, lower_deviation=lower, upper_deviation=high - low + upper))
        spans.append(f"{name} {low:g}…{high:g}")
    if len(sets) == 1:
        return tuple(out), None
    note = (f"condition {condition_id}: CALCAT matched it with {len(sets)} value sets; imported to match all of "
            f"them: {', '.join(spans) or 'the same values'}")
    if other:
        note += f"; {len(other)} set(s) with other parameters left out of the span ({', '.join(map(str, other))})"
    return tuple(out), note
