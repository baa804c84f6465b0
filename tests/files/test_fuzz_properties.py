"""Property tests (hypothesis): the strict loader, the validator and the mapping fold on
generated input. Any exception other than the loader's own YamlError is a bug."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcat_git import Catalog
from calcat_git.files import strict_yaml
from calcat_git.files.loading import load_registry
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.validation.run import run_checks

from ..helpers import HERE, MINI, examples

FILES = sorted((p.relative_to(MINI).as_posix(), p.read_bytes()) for p in MINI.rglob("*.yaml"))
# text a catalog may hold: no control, format, separator or non-characters (the loader refuses them)
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp"),
                              exclude_characters="\ufffe\uffff"), min_size=1, max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), names)
documents = st.dictionaries(names, st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                                                | st.dictionaries(names, inner, max_size=4), max_leaves=20),
                            min_size=1, max_size=6)


@pytest.mark.slow
@settings(max_examples=examples(300))
@given(documents)
def test_loader_reads_back_what_a_safe_dumper_wrote(data: dict[str, object]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    loaded = load_yaml(text.encode("utf-8"))
    assert loaded.data == data
    lines = text.count("\n")
    assert all(1 <= line <= lines for line in loaded.lines.values())


@settings(max_examples=examples(500))
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_loader_on_anything_fails_only_with_one_line_yaml_errors(raw: bytes) -> None:
    try:
        load_yaml(raw)
    except YamlError as exc:
        assert "\n" not in exc.message and 1 <= exc.line <= raw.count(b"\n") + 2, (exc.line, exc.message)


def fast_agrees_with_careful(text: str) -> bool:
    """The fast builder gives up, or gives the data the careful one gives; True if it gave data."""
    try:
        fast = strict_yaml._fast(text)
    except (strict_yaml._GiveUp, YamlError, yaml.YAMLError):
        return False
    assert strict_yaml._careful(text).data == fast, text  # the careful builder accepts it alike
    return True


yaml_ish = st.lists(st.sampled_from(list("ab1.:-[]{},&*!<~#'\"\n ")) | st.sampled_from(
    ["true", "no", "null", "0x1F", "1e400", "9223372036854775808", ".nan", "<<", "!!str", "!x", "&a", "*a", "---",
     "2024-01-01", "  ", "\n  - ", "? "]), max_size=60).map("".join)


@pytest.mark.slow
@settings(max_examples=examples(1000))
@given(yaml_ish | documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True, sort_keys=False)))
def test_fast_builder_accepts_nothing_the_careful_one_refuses(text: str) -> None:
    fast_agrees_with_careful(text)


def test_fast_builder_on_the_corpus_the_mini_catalog_and_the_limits() -> None:
    """Every sound catalog file takes the fast way; every corpus file gets the same data or goes careful."""
    assert all(fast_agrees_with_careful(raw.decode()) for _, raw in FILES)
    texts = [path.read_bytes() for path in (HERE / "data" / "bad").glob("*.yaml")]
    for raw in texts:
        try:
            text = strict_yaml._decode(raw)
        except YamlError:
            continue  # refused before any builder runs (encoding, odd characters)
        fast_agrees_with_careful(text)
    depth = strict_yaml.MAX_DEPTH
    for n in range(depth - 1, depth + 2):
        fast_agrees_with_careful("[" * n + "]" * n)
        fast_agrees_with_careful("".join(f"{'  ' * i}k:\n" for i in range(n)) + "  " * n + "k: 1\n")
    for text in ("a: 1\na: 2\n", "a: {b: 1, b: 1}\n", "- {1: x}\n", "{[a]: 1}\n", "a: 1\n---\nb: 2\n", "", "# c\n"):
        fast_agrees_with_careful(text)


@settings(max_examples=examples(150), suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(FILES) - 1), st.integers(0, 10_000), st.binary(min_size=0, max_size=12),
       st.integers(0, 12))
def test_validator_on_a_mutated_catalog_reports_problems_never_raises(which: int, at: int, insert: bytes,
                                                                     cut: int) -> None:
    path, content = FILES[which]
    pos = at % (len(content) + 1)
    broken = content[:pos] + insert + content[pos + cut:]
    reg = load_registry((p, broken if p == path else c) for p, c in FILES)
    for problem in run_checks(reg):
        assert problem.file in reg.paths and problem.line >= 1 and "\n" not in str(problem)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
changes = st.lists(st.tuples(st.integers(0, 3000 * 24 * 60),  # minutes after T0
                             st.dictionaries(st.sampled_from(["AGIPD00", "AGIPD01"]),
                                             st.sampled_from([None, "AGIPD_M1", "AGIPD_M2", "AGIPD_M3"]), min_size=1),
                             offsets), min_size=1, max_size=8, unique_by=lambda c: c[0])
T0 = datetime(2016, 2, 29, tzinfo=UTC)  # a leap day


@settings(max_examples=examples(100))
@given(changes, st.integers(-60, 3001 * 24 * 60))
def test_mapping_fold_through_yaml_with_any_offset(raw: list[tuple[int, dict[str, str | None], timezone]],
                                                   minute: int) -> None:
    """A mapping file written with arbitrary UTC offsets folds to the same state as a replay in UTC."""
    raw = sorted(raw)
    text = yaml.safe_dump({"detector": "MID_DET_AGIPD1M-1", "changes": [
        {"from": (T0 + timedelta(minutes=m)).astimezone(tz).isoformat(), "reason": "r", "modules": mods}
        for m, mods, tz in raw]}, sort_keys=False)
    files = [(p, text.encode() if p == "registry/mappings/MID_DET_AGIPD1M-1.yaml" else c) for p, c in FILES]
    reg = load_registry(files)
    assert not [p for p in reg.load_problems if "MID_DET_AGIPD1M-1" in p.file]
    moment = T0 + timedelta(minutes=minute)
    expected: dict[str, str | None] = {"AGIPD00": None, "AGIPD01": None}
    for m, mods, _ in raw:
        if m <= minute:
            expected.update(mods)
    assert Catalog(MINI, registry=reg).mapping("MID_DET_AGIPD1M-1", at=moment) == expected
