"""Property tests: the mapping fold and the one-slot-at-a-time rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from calcat_git import Interval, Mapping, MappingChange
from calcat_git.files.loading import Registry
from calcat_git.validation.semantic import check_one_slot

T0 = datetime(2017, 1, 1, tzinfo=UTC)
SLOTS = ["M00", "M01", "M02"]
PDUS = ["P1", "P2", "P3", "P4"]

change_st = st.tuples(
    st.integers(0, 300),  # days after T0
    st.dictionaries(st.sampled_from(SLOTS), st.one_of(st.none(), st.sampled_from(PDUS)), min_size=1),
)


def _mapping(detector: str, raw: list[tuple[int, dict[str, str | None]]]) -> Mapping:
    days = sorted({d for d, _ in raw})
    by_day = {d: m for d, m in raw}
    return Mapping(detector=detector, changes=tuple(
        MappingChange(valid_from=T0 + timedelta(days=d), reason="r", modules=tuple(by_day[d].items()))
        for d in days
    ))


@given(st.lists(change_st, max_size=12), st.integers(-10, 310))
def test_state_equals_replay_of_changes(raw: list[tuple[int, dict[str, str | None]]], day: int) -> None:
    mapping = _mapping("D", raw)
    moment = T0 + timedelta(days=day)
    expected: dict[str, str | None] = {}
    for change in mapping.changes:  # naive replay, in file order (which is time order here)
        if change.valid_from <= moment:
            expected.update(change.modules)
    assert mapping.state_at(moment) == expected


@given(st.lists(change_st, max_size=12), st.integers(-10, 310))
def test_periods_agree_with_state(raw: list[tuple[int, dict[str, str | None]]], day: int) -> None:
    mapping = _mapping("D", raw)
    moment = T0 + timedelta(days=day)
    from_periods = {p.aggregator: p.pdu for p in mapping.periods() if moment in p.interval}
    assert from_periods == mapping.state_at(moment)


@given(st.lists(change_st, max_size=8), st.lists(change_st, max_size=8))
def test_one_slot_rule_matches_sampling(raw_a: list, raw_b: list) -> None:  # type: ignore[type-arg]
    reg = Registry()
    reg.mappings = {"A": _mapping("A", raw_a), "B": _mapping("B", raw_b)}
    reg.files = {("mapping", "A"): "a.yaml", ("mapping", "B"): "b.yaml"}
    reported = bool(list(check_one_slot(reg)))
    # every state change happens on a whole day, so checking each day finds any overlap
    double = False
    for day in range(-1, 302):
        moment = T0 + timedelta(days=day)
        held = [p for m in reg.mappings.values() for p in m.state_at(moment).values() if p]
        double = double or len(held) != len(set(held))
    assert reported == double


@given(st.integers(0, 100), st.integers(1, 100), st.integers(0, 100), st.integers(1, 100), st.integers(-5, 205))
def test_interval_overlap_and_membership(a: int, la: int, b: int, lb: int, t: int) -> None:
    day = timedelta(days=1)
    one = Interval(since=T0 + a * day, until=T0 + (a + la) * day)
    two = Interval(since=T0 + b * day, until=T0 + (b + lb) * day)
    moment = T0 + t * day
    both = moment in one and moment in two
    inter = one.intersection(two)
    assert (inter is not None and moment in inter) == both
    assert one.overlaps(two) == (max(a, b) < min(a + la, b + lb))
    assert Interval(since=T0).overlaps(one) == (a + la > 0)
