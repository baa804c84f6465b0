"""Property: the index-backed look-up equals a brute-force selection over all CCVs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcat_git import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.lookup.engine import Engine

from ..helpers import examples


@pytest.fixture(scope="module")
def catalogs(synthetic: Path) -> tuple[Catalog, Catalog, list[dict[str, float | str]]]:
    fast = Catalog.open(synthetic)
    backend = fast.backend
    assert isinstance(backend, IndexedSnapshot)
    asked = [{k: (v["value"] if isinstance(v, dict) else v) for k, v in cond.items()}
             for cond in backend.index.condition_sets().values()]
    return fast, Catalog.open(synthetic, index=False), asked


moments = st.datetimes(min_value=datetime(2018, 1, 1), max_value=datetime(2026, 3, 1), timezones=st.just(UTC))


@settings(max_examples=examples(80))
@given(event=moments, snapshot=moments, which=st.integers(0, 10_000), shift=st.sampled_from([0.0, 0.0, 3.0, 50.0]),
       strategy=st.sampled_from(["closest", "prior"]), include_bad=st.booleans(), in_memory=st.booleans())
@pytest.mark.slow
def test_index_lookup_equals_brute_force(catalogs: tuple[Catalog, Catalog, list[dict[str, float | str]]],
                                         event: datetime, snapshot: datetime, which: int, shift: float,
                                         strategy: str, include_bad: bool, in_memory: bool) -> None:
    """Through SQL seeks, or through the in-memory seek table the server builds."""
    fast, naive, condition_sets = catalogs
    backend = fast.at(snapshot).backend
    assert isinstance(backend, IndexedSnapshot)
    if in_memory:
        backend.preload_seeks()
    else:
        backend.index._seek_table = None
    detectors = fast.names("detector")
    detector = detectors[which % len(detectors)]
    dtype = fast.detector_type(fast.detector(detector).detector_type)
    calibrations = dtype.calibrations
    of_type = [c for c in condition_sets if set(c) <= set(dtype.parameters)] or condition_sets
    base = of_type[which % len(of_type)]
    asked = {cal: {k: (v + shift if isinstance(v, float | int) and k == "Sensor Bias Voltage" else v)
                   for k, v in base.items()} for cal in calibrations}
    a = Engine(fast.at(snapshot)).run(detector, asked, event, strategy, include_bad)
    b = Engine(naive.at(snapshot)).run(detector, asked, event, strategy, include_bad)
    assert {c: {m: r.ccv_id for m, r in mods.items()} for c, mods in a.found.items()} == \
           {c: {m: r.ccv_id for m, r in mods.items()} for c, mods in b.found.items()}
    assert a.missing == b.missing


def test_in_memory_seeks_with_a_tiny_row_cache_equal_brute_force(
        catalogs: tuple[Catalog, Catalog, list[dict[str, float | str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Chosen rows are kept per index; when the cache overflows it starts again, also when
    a look-up finds some of its rows kept and needs others."""
    from calcat_git.index import reader

    monkeypatch.setattr(reader, "ROW_CACHE", 40)
    fast, naive, condition_sets = catalogs
    backend = fast.backend
    assert isinstance(backend, IndexedSnapshot)
    backend.preload_seeks()
    backend.index._loaded.clear()
    compared = 0
    for n, detector in enumerate(fast.names("detector")[:8]):
        dtype = fast.detector_type(fast.detector(detector).detector_type)
        base = [c for c in condition_sets if set(c) <= set(dtype.parameters)] or condition_sets
        asked = dict.fromkeys(dtype.calibrations, base[n % len(base)])
        for days in range(0, 120, 10):  # neighbouring events: some winners shared, some new
            event = datetime(2019 + n % 7, 1 + n % 12, 1, tzinfo=UTC) + timedelta(days=days)
            a, b = Engine(fast).run(detector, asked, event), Engine(naive).run(detector, asked, event)
            assert {c: {m: r.ccv_id for m, r in mods.items()} for c, mods in a.found.items()} == \
                   {c: {m: r.ccv_id for m, r in mods.items()} for c, mods in b.found.items()}
            compared += sum(len(m) for m in a.found.values())
    assert compared > 50
    backend.index._seek_table = None
