"""import-calcat: recorded CALCAT replies → catalog, parity with CALCAT's own answers."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from calcat_git import Catalog
from calcat_git.calcat_import.facts import collect
from calcat_git.calcat_import.replies import Reply, read_cassettes
from calcat_git.calcat_import.write import import_replies
from calcat_git.errors import CatalogInvalidError
from calcat_git.timeutil import parse_facility_time
from tests.parity import parity

from ..benchmarks.bench_serve import start_server
from ..helpers import HERE, git, run_cli, stop_process
from ..replay_calcat import grouped
from ..replay_calcat import replay as replay_recorded

REPLIES = HERE / "data" / "calcat-replies"
# Cases where parity is impossible from the recorded data alone, and why.
# (SA1_XTD9_HIREX's aggregators 'GH200/1', 'GH200/2' were one: aggregators are slot keys and may hold '/'.)
IMPOSSIBLE: dict[str, str] = {}


def empty_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "empty catalog")
    return root


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = empty_repo(tmp_path_factory.mktemp("import") / "catalog")
    result = run_cli("import-calcat", "--replies", str(REPLIES), "--repo", str(root), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"]["ccv"] == 559
    return root


def test_import_is_one_valid_commit_with_ids(imported: Path) -> None:
    assert git(imported, "rev-list", "--count", "HEAD") == "2"
    assert git(imported, "log", "-1", "--format=%s").startswith("import-calcat: ")
    assert git(imported, "status", "--porcelain") == ""
    catalog = Catalog.open(imported)
    assert catalog.validate() == []
    assert catalog.detector("MID_DET_AGIPD1M-1").calcat_id == 4
    assert catalog.pdu("AGIPD_SIV1_AGIPDV11_M337").calcat_id == 81
    ids = {c.calcat_id for b in catalog.registry.batches.values() for c in b.constants}
    assert len(ids) == 559 and 141880 in ids and 229069 in ids


def test_offsets_are_kept_exact_in_utc(imported: Path) -> None:
    # CCV 141880: "begin_at": "2022-09-02T07:42:33.000+02:00" in CALCAT
    batches = Catalog.open(imported).registry.batches.values()
    ccv = next(c for b in batches for c in b.constants if c.calcat_id == 141880)
    assert ccv.begin_at.isoformat() == "2022-09-02T05:42:33+00:00"
    text = next((imported / p).read_text() for p in Catalog.open(imported).registry.batches if "141880" in
                (imported / p).read_text())
    assert "begin_at: '2022-09-02T05:42:33Z'" in text


def test_changes_between_observations_are_honest(imported: Path) -> None:
    mapping = Catalog.open(imported).registry.mappings["SPB_DET_AGIPD1M-1"]
    bracketed = [c for c in mapping.changes if c.observed_between is not None]
    assert bracketed, "SPB's modules changed between the 2020 and 2026 snapshots"
    for change in bracketed:
        first, last = change.observed_between  # type: ignore[misc]
        assert first < last == change.valid_from
    assert mapping.changes[0].observed_between is None  # nothing claimed before the first observation


@pytest.mark.parametrize("catalog_kind", ["imported", "embedded"])
def test_parity_with_the_real_server(imported: Path, catalog_kind: str) -> None:
    facts = collect(read_cassettes([REPLIES]))
    catalog = Catalog.open(imported) if catalog_kind == "imported" else Catalog.open(HERE.parent, worktree=True)
    cases = parity(catalog, facts)
    assert len([c for c in cases if c.kind == "ccvs"]) == 16
    assert len([c for c in cases if c.kind == "pdus"]) == 18
    failed = {c.origin.split("/")[-1]: c.detail for c in cases if not c.matched}
    expected = dict(IMPOSSIBLE)
    assert set(failed) == set(expected), failed
    for origin, why in failed.items():
        assert expected[origin].split(":")[0] in why or expected[origin] in why
    matched = sum(c.matched for c in cases)
    print(f"parity ({catalog_kind}): {matched}/{len(cases)} cases matched")
    assert matched == len(cases) - len(expected)


def test_importing_again_changes_nothing(imported: Path) -> None:
    head = git(imported, "rev-parse", "HEAD")
    result = import_replies(imported, read_cassettes([REPLIES]))
    assert not result.plan.records and result.commit is None and not result.plan.conflicts
    assert git(imported, "rev-parse", "HEAD") == head


@pytest.mark.slow
def test_new_replies_add_only_what_is_new(tmp_path: Path, imported: Path) -> None:
    root = empty_repo(tmp_path / "catalog")
    first = import_replies(root, read_cassettes([REPLIES / "test_AGIPD_load_data.yaml"]))
    second = import_replies(root, read_cassettes([REPLIES]))
    assert first.plan.added["ccv"] + second.plan.added["ccv"] == 559
    assert not (set(first.written) & {p for p in second.written if p.startswith("constants_index/")})
    assert git(root, "rev-list", "--count", "HEAD") == "3"
    mine = Catalog.open(root).registry
    full = Catalog.open(imported).registry
    assert set(mine.detectors) == set(full.detectors) and set(mine.pdus) == set(full.pdus)
    for name, mapping in full.mappings.items():
        for change in mapping.changes:
            assert mine.mappings[name].state_at(change.valid_from) == mapping.state_at(change.valid_from)


def _altered(tmp_path: Path, old: str, new: str) -> Path:
    source = REPLIES / "test_AGIPD_CalibrationData_metadata.yaml"
    target = tmp_path / "altered.yaml"
    text = source.read_text()
    assert old in text
    target.write_text(text.replace(old, new))
    return target


@pytest.mark.slow
def test_conflicting_ccv_is_reported_not_overwritten(tmp_path: Path, imported: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(imported, root)
    before = {p: (root / p).read_bytes() for p in Catalog.open(root).registry.batches}
    altered = _altered(tmp_path, '/AGIPD_SIV1_AGIPDV11_M337/Offset/0', '/AGIPD_SIV1_AGIPDV11_M337/Offset/9')
    result = run_cli("import-calcat", "--replies", str(altered), "--repo", str(root))
    assert result.returncode == 0, result.stderr
    assert re.search(r"conflicts \(left as they are\): 1\n- CCV 141880 .*content differs", result.stdout)
    assert {p: (root / p).read_bytes() for p in before} == before
    assert git(root, "status", "--porcelain") == ""


def test_a_result_that_does_not_validate_writes_nothing(tmp_path: Path) -> None:
    root = empty_repo(tmp_path / "catalog")
    altered = _altered(tmp_path, '"path_to_file":"xfel/cal/agipd-type/agipd_siv1_agipdv11_m337/"',
                       '"path_to_file":"../../etc/"')
    with pytest.raises(CatalogInvalidError, match=r"store-paths"):
        import_replies(root, read_cassettes([altered]))
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    result = run_cli("import-calcat", "--replies", str(altered), "--repo", str(root))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "'../../etc/cal." in result.stderr


@pytest.mark.slow
def test_bad_replies_get_one_line_errors(tmp_path: Path) -> None:
    root = empty_repo(tmp_path / "catalog")
    (tmp_path / "not-a-cassette.yaml").write_text("just: a map\n")
    for args, message in (([], "give either --replies"),
                          (["--replies", str(tmp_path / "not-a-cassette.yaml")], "no 'interactions' list"),
                          (["--url", "ftp://x", "--detector", "D"], "must start with http"),
                          (["--url", "http://127.0.0.1:9"], "needs at least one --detector")):
        result = run_cli("import-calcat", "--repo", str(root), *args)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr, result


# -- the --url path, against a local server replaying the recorded replies ----------------------

def _normal(query: dict[str, str]) -> tuple[tuple[str, str], ...]:
    out = {}
    for key, value in query.items():
        if key in ("page", "page_size"):
            continue
        if key.endswith("_at"):
            value = parse_facility_time(value).isoformat()
        out[key] = value
    return tuple(sorted(out.items()))


@pytest.fixture
def replay() -> Iterator[str]:
    answers = {(r.path, _normal(r.query)): r for r in read_cassettes([REPLIES])}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            from urllib.parse import parse_qsl, urlsplit

            parts = urlsplit(self.path)
            assert self.headers["Accept"] == "application/json; version=2"
            key = (parts.path.removeprefix("/api/"), _normal(dict(parse_qsl(parts.query))))
            reply = answers.get(key)
            body = json.dumps(reply.data if reply and reply.data is not None else {"info": "Resource not found!"})
            self.send_response(reply.status if reply else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Total-Pages", "1")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.slow
def test_live_path_reads_a_server_page_by_page(tmp_path: Path, replay: str) -> None:
    root = empty_repo(tmp_path / "catalog")
    result = run_cli("import-calcat", "--url", replay, "--detector", "SPB_DET_AGIPD1M-1", "--snapshot-at",
                     "2020-01-07T12:26:48Z", "--snapshot-at", "2026-04-10T11:27:00Z", "--report", "3757", "--repo", str(root),
                     "--json")
    assert result.returncode == 0, result.stderr
    assert "reading the CCVs of report 3757" in result.stderr
    added = json.loads(result.stdout)["added"]
    assert added["ccv"] == 64 and added["detector"] == 1
    catalog = Catalog.open(root)
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at="2026-04-10T11:27:00Z")["AGIPD00"] == "AGIPD_SIV1_AGIPDV11_M517" \
        or catalog.mapping("SPB_DET_AGIPD1M-1", at="2026-04-10T11:27:00Z")["AGIPD00"] is not None
    report = next(b.report for b in catalog.registry.batches.values())
    assert report.id == 3757


@pytest.mark.slow
def test_cassettes_are_what_the_shared_folder_holds() -> None:
    shared = HERE.parent.parent / "shared" / "data" / "calcat-replies"
    if not shared.is_dir():
        pytest.skip("../shared is not present on this machine (the copy in tests/data is used)")
    for path in shared.glob("*.yaml"):
        assert yaml.safe_load((REPLIES / path.name).read_text()) == yaml.safe_load(path.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("catalog_kind", ["imported", "embedded"])
def test_replay_every_recorded_request_against_serve(imported: Path, catalog_kind: str, tmp_path: Path) -> None:
    """Every recorded request sent to ``calcat-git serve`` over the imported catalog and over
    the embedded one: status and JSON field by field; only the guide's explained
    differences may remain."""
    repo = imported
    if catalog_kind == "embedded":
        repo = tmp_path / "embedded"
        for name in ("registry", "constants_index"):
            shutil.copytree(HERE.parent / name, repo / name)
        shutil.copy(HERE.parent / "calcat-git.yaml", repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "the embedded catalog")
    proc, port = start_server(repo)
    try:
        outcome = replay_recorded(f"http://127.0.0.1:{port}", REPLIES)
    finally:
        stop_process(proc)
    print(outcome.summary())
    assert outcome.requests == 158 and outcome.fields > 36_000
    assert outcome.unexplained == [], grouped(outcome.unexplained)


@pytest.mark.slow
def test_a_condition_spans_every_value_calcat_matched_it_with(tmp_path: Path) -> None:
    """The recorded answer for condition 10974 (memory cells 0, 4.5 MHz), and the same answer
    to memory cells 352 at 1.1 MHz: either file order gives one condition that both questions
    find, and one summary line saying what was kept."""
    replies = [r for r in read_cassettes([REPLIES]) if r.path != "calibration_constant_versions/get_by_detector_conditions"
               or r.origin.endswith("test_CalibrationData_from_data.yaml#18")]
    recorded = next(r for r in replies if r.origin.endswith("#18"))
    body = {"parameters_conditions_attributes": [
        {**item, "value": {"Memory cells": 352.0, "Acquisition rate": 1.1}.get(item["parameter_name"], item["value"])}
        for item in recorded.body["parameters_conditions_attributes"]]}
    other = dataclasses.replace(recorded, body=body, origin="made-up#0")
    batches = []
    for n, order in enumerate(([*replies, other], [other, *replies])):
        root = empty_repo(tmp_path / f"catalog{n}")
        result = import_replies(root, order)
        lines = [x for x in result.plan.notes if x.startswith("condition 10974")]
        assert len(lines) == 1 and "Memory cells 0…352" in lines[0] and "Acquisition rate 1.1…4.5" in lines[0], lines
        catalog = Catalog.open(root)
        cases = [c for c in parity(catalog, collect(order)) if c.kind == "ccvs"]
        assert len(cases) == 2 and all(c.matched for c in cases), [c.detail for c in cases]
        batches.append(sorted(b.to_dict()["conditions"].items() for b in catalog.registry.batches.values()
                              if any(c.calcat_id in (155621, 155619) or c.calibration in ("SlopesCS", "BadPixelsCS")
                                     for c in b.constants)))
    assert batches[0] == batches[1]


@pytest.mark.slow
def test_conditions_endpoint_round_trip(imported: Path, tmp_path: Path) -> None:
    """/api/conditions/<CALCAT id> is served for imported CCVs, and a conditions reply read by
    the importer gives the condition exactly (values and deviations), not inferred."""
    proc, port = start_server(imported)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/conditions/10974", timeout=30) as answer:
            served = json.loads(answer.read())
    finally:
        stop_process(proc)
    assert served["id"] == 10974
    values = {p["parameter_name"]: p["value"] for p in served["parameters_conditions"]}
    assert values["Memory cells"] == 0.0 and values["Acquisition rate"] == 4.5
    exact = dict(served, parameters_conditions=[{**p, "upper_deviation_value": 400.0} if p["parameter_name"] ==
                                                "Memory cells" else p for p in served["parameters_conditions"]])
    reply = Reply(path="conditions/10974", query={}, body=None, status=200, data=exact, runtime=None, origin="test")
    root = empty_repo(tmp_path / "catalog")
    import_replies(root, [*read_cassettes([REPLIES]), reply])
    batches = Catalog.open(root).registry.batches.values()
    cs = next(b for b in batches if any(c.calibration == "SlopesCS" for c in b.constants))
    memory = next(c for c in cs.conditions if c.name == "Memory cells")
    assert (memory.value, memory.upper_deviation) == (0.0, 400.0)
