"""Records round-trip exactly through to_dict/from_dict, and load from real files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calcat_git import CCV, PDU, Catalog, Condition, ConstantBatch, Detector, Mapping, MappingChange, Module, Report
from calcat_git.files.schema import validate
from calcat_git.timeutil import parse_timestamp

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
opt_text = st.one_of(st.none(), st.text(max_size=20))

modules_st = st.lists(st.builds(Module, aggregator=names, virtual_device_name=st.text(max_size=5),
                                module_number=st.integers(0, 99)), min_size=1, max_size=4).map(tuple)
detector_st = st.builds(
    Detector, identifier=names, detector_type=names, instruments=st.lists(names, min_size=1, max_size=2, unique=True).map(tuple),
    karabo_id_control=st.text(max_size=10), source_name_pattern=st.text(max_size=10),
    experts=st.just(("@xfel/experts",)), modules=modules_st, calcat_id=st.one_of(st.none(), st.integers(1, 10**6)),
    description=opt_text, source=st.sampled_from([None, "illustrative"]),
)
change_st = st.builds(
    MappingChange, valid_from=times, reason=st.text(min_size=1, max_size=10),
    modules=st.dictionaries(names, st.one_of(st.none(), names), min_size=1, max_size=3).map(lambda d: tuple(d.items())),
    correction=opt_text.filter(lambda s: s != ""), source=st.sampled_from([None, "illustrative"]),
)
value_st = st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False), st.text(max_size=8))
cond_st = st.dictionaries(st.text(min_size=1, max_size=10), st.tuples(
    value_st, st.one_of(st.none(), st.floats(0, 100)), st.one_of(st.none(), st.floats(0, 100)),
), max_size=3).map(lambda d: tuple(Condition(name=k, value=v, lower_deviation=lo, upper_deviation=up)
                                   for k, (v, lo, up) in d.items()))
hexes = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
ccv_st = st.builds(
    CCV, calibration=names, pdu=names, begin_at=times, file=st.just("a/b.h5"), dataset=st.just("/P/Offset/0"),
    sha256=hexes, good_quality=st.booleans(), deployed=st.booleans(), end_at=st.one_of(st.none(), times),
    conditions=cond_st, calcat_id=st.one_of(st.none(), st.integers(1, 10**6)), description=opt_text,
)
batch_st = st.builds(
    ConstantBatch, detector=names, report=st.builds(Report, path=st.just("r/x.pdf"),
                                                     id=st.one_of(st.none(), st.integers(1, 9999))),
    injected_at=times, conditions=cond_st, constants=st.lists(ccv_st, min_size=1, max_size=3).map(tuple),
    description=opt_text, source=st.sampled_from([None, "illustrative"]),
)


@given(detector_st)
def test_detector_round_trip(det: Detector) -> None:
    assert Detector.from_dict(det.to_dict()) == det
    assert list(validate("detector", det.to_dict())) == []


@given(st.lists(change_st, min_size=1, max_size=4))
def test_mapping_round_trip(changes: list[MappingChange]) -> None:
    mapping = Mapping(detector="D", changes=tuple(changes))
    assert Mapping.from_dict(mapping.to_dict()) == mapping
    assert list(validate("mapping", mapping.to_dict())) == []


@given(batch_st)
def test_batch_round_trip_and_schema(batch: ConstantBatch) -> None:
    data = batch.to_dict()
    assert ConstantBatch.from_dict(data) == batch
    assert list(validate("constants", data)) == []


def test_real_files_round_trip(mini: Path) -> None:
    import yaml

    catalog = Catalog.open(mini, worktree=True)
    reg = catalog.registry
    assert reg.load_problems == []
    for (kind, key), path in reg.files.items():
        record = reg.table(kind)[key]
        original = yaml.safe_load((mini / path).read_text())
        again = type(record).from_dict(record.to_dict())
        assert again == record
        if kind in ("pdu", "detector", "calibration", "instrument", "parameter", "detector_type"):
            assert record.to_dict() == original  # canonical files come back unchanged


def test_pdu_from_dict() -> None:
    pdu = PDU.from_dict({"physical_name": "X", "detector_type": "T", "uuid": 5, "status": "retired"})
    assert pdu.identifier == "X" and pdu.status == "retired" and pdu.calcat_id is None


def test_ccv_identity_is_content_derived() -> None:
    ccv = CCV(calibration="Offset", pdu="P", begin_at=datetime(2024, 1, 1, tzinfo=UTC), file="a.h5",
              dataset="/P/Offset/0", sha256="0" * 64)
    batch = ConstantBatch(detector="D", report=Report(path="r.pdf"), injected_at=datetime(2024, 1, 2, tzinfo=UTC),
                          conditions=(Condition(name="Memory cells", value=352),), constants=(ccv,))
    flipped = CCV(**{**{f: getattr(ccv, f) for f in CCV.__slots__}, "good_quality": False})
    other = ConstantBatch(detector="D", report=Report(path="r.pdf"), injected_at=batch.injected_at,
                          conditions=(Condition(name="Memory cells", value=202),), constants=(ccv,))
    assert ccv.identity(batch) == flipped.identity(batch)  # flags are not identity
    assert ccv.identity(batch) != ccv.identity(other)  # conditions are


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-05-10T08:00:00+02:00", datetime(2023, 5, 10, 6, tzinfo=UTC)),
    ("2024-02-29T23:30:00-01:30", datetime(2024, 3, 1, 1, tzinfo=UTC)),
    ("2020-01-07 13:26:48.00Z", datetime(2020, 1, 7, 13, 26, 48, tzinfo=UTC)),
    ("2020-01-07T13:26:48.123456789Z", datetime(2020, 1, 7, 13, 26, 48, 123456, tzinfo=UTC)),
])
def test_timestamps_normalise_to_utc(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2020-01-07 13:26:48.00", "naive timestamp"),
    ("2020-01-07", "malformed timestamp"),
    ("2023-02-29T00:00:00Z", "impossible timestamp"),
    ("yesterday", "malformed timestamp"),
    ("2020-01-07T25:00:00Z", "impossible timestamp"),
])
def test_bad_timestamps(text: str, message: str) -> None:
    from calcat_git import InvalidInputError

    with pytest.raises(InvalidInputError, match=message):
        parse_timestamp(text)
