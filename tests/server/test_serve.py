"""``calcat-git serve``: the real server as a subprocess on a loopback port, asked over
HTTP — by hand and through EXtra's own ``CalCatAPIClient``."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from calcat_git import Catalog
from calcat_git.cli.main import main
from calcat_git.errors import InvalidInputError
from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.conditions import AGIPDConditions, JUNGFRAUConditions, LPDConditions
from calcat_git.server.request import client_time
from calcat_git.server.shapes import STABLE_BASE, stable_id

from ..benchmarks.bench_serve import start_server
from ..helpers import HERE, REPO_ROOT, commit_all, edit, git, stop_process

SHAPES = json.loads((HERE / "data" / "calcat_reply_shapes.json").read_text())["shapes"]
V2 = {"Accept": "application/json; version=2", "content-type": "application/json"}


class Server:
    def __init__(self, repo: Path, *args: str) -> None:
        self.proc, self.port = start_server(repo, extra=args)
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, params: dict[str, Any] | None = None, body: Any = None,
            method: str = "GET") -> tuple[int, dict[str, str], Any]:
        url = f"{self.base}/api/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=V2, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")

    def ok(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        status, _, data = self.get(path, params, body)
        assert status == 200, data
        return data


def catalog_repo(target: Path) -> Path:
    """The embedded catalog copied into a fresh git repository (branch main, one commit)."""
    for name in ("registry", "constants_index"):
        shutil.copytree(REPO_ROOT / name, target / name)
    shutil.copy(REPO_ROOT / "calcat-git.yaml", target)
    git(target, "init", "-q", "-b", "main")
    commit_all(target, "the embedded catalog", "2026-11-01T00:00:00Z")
    return target


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Iterator[tuple[Server, Path]]:
    repo = catalog_repo(tmp_path_factory.mktemp("serve") / "catalog")
    server = Server(repo, "--store", str(demo_store))
    yield server, repo
    stop_process(server.proc)


@pytest.fixture
def mini_server(repo: dict[str, str], mini: Path) -> Iterator[Server]:
    server = Server(mini)
    yield server
    stop_process(server.proc)


AGIPD_BODY = {"parameters_conditions_attributes": [
    {"parameter_name": k, "value": v} for k, v in AGIPDConditions(
        sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0, gain_mode=0,
    ).make_dict(AGIPDConditions.calibration_types["Offset"]).items()]}
AGIPD_QUERY = {"detector_identifier": "MID_DET_AGIPD1M-1", "calibration_id": "[1, 2, 14]", "karabo_da": "",
               "event_at": "2024-03-01T00:00:00Z", "pdu_snapshot_at": "2024-03-01T00:00:00Z",
               "begin_at_strategy": "closest"}


def keys(tree: Any) -> Any:
    """The field names of a reply (first item of lists), nested."""
    if isinstance(tree, dict):
        return {k: keys(v) for k, v in tree.items()}
    if isinstance(tree, list) and tree and isinstance(tree[0], dict):
        return [keys(tree[0])]
    return None


def _replies(server: Server) -> dict[str, Any]:
    ccvs = server.ok("calibration_constant_versions/get_by_detector_conditions", AGIPD_QUERY, AGIPD_BODY)
    report = ccvs[0]["report_id"]
    return {
        "detectors": server.ok("detectors", {"identifier": "SPB_DET_AGIPD1M-1"}),
        "detectors/{id}": server.ok("detectors/2"),
        "detectors/get_all_by_instrument": server.ok("detectors/get_all_by_instrument", {"instrument_id": 3}),
        "instruments": server.ok("instruments", {"identifier": "SPB"}),
        "detector_types": server.ok("detector_types"),
        "calibrations": server.ok("calibrations", {"name": "Offset"}),
        "calibrations/{id}": server.ok("calibrations/1"),
        "physical_detector_units/get_all_by_detector": server.ok(
            "physical_detector_units/get_all_by_detector", {"detector_id": 2, "pdu_snapshot_at": "2020-01-07 13:26:48.00"}),
        "calibration_constant_versions/get_by_detector_conditions": ccvs,
        "calibration_constant_versions/{id}": server.ok(f"calibration_constant_versions/{ccvs[0]['id']}"),
        "calibration_constant_versions": server.ok("calibration_constant_versions",
                                                   {"report_id": report, "page_size": 500}),
        "reports/{id}": server.ok(f"reports/{report}"),
    }


@pytest.mark.slow
def test_every_reply_has_the_recorded_fields(embedded: tuple[Server, Path]) -> None:
    replies = _replies(embedded[0])
    assert set(replies) == set(SHAPES)
    for path, reply in replies.items():
        assert keys(reply) == SHAPES[path], path


@pytest.mark.slow
def test_ids_are_calcats_for_imported_records_else_stable(embedded: tuple[Server, Path]) -> None:
    server, _repo = embedded
    assert server.ok("detectors", {"identifier": "SPB_DET_AGIPD1M-1"})[0]["id"] == 2  # calcat_id in the registry
    assert server.ok("calibrations", {"name": "Offset"})[0]["id"] == 1
    spelled = server.ok("parameters", {"name": "Memory cells"})
    assert [p["id"] for p in spelled] == [stable_id("parameter", "Memory cells")] and spelled[0]["id"] >= STABLE_BASE
    assert server.ok(f"parameters/{spelled[0]['id']}")["name"] == "Memory cells"
    ccv = server.ok("calibration_constant_versions/get_by_detector_conditions", AGIPD_QUERY, AGIPD_BODY)[0]
    assert ccv["id"] >= STABLE_BASE
    again = server.ok(f"calibration_constant_versions/{ccv['id']}")
    assert (again["path_to_file"], again["file_name"], again["data_set_name"]) == \
           (ccv["path_to_file"], ccv["file_name"], ccv["data_set_name"])
    report = server.ok(f"reports/{ccv['report_id']}")
    assert ccv["id"] in {c["id"] for c in report["calibration_constant_versions"]}
    assert report["file_path"].endswith(".pdf") and Path(report["file_path"]).is_absolute()  # under --store
    one = server.ok("calibration_constant_versions/get_by_detector_conditions", {**AGIPD_QUERY, "karabo_da": "AGIPD01"},
                    AGIPD_BODY)
    assert {c["physical_detector_unit"]["karabo_da"] for c in one} == {"AGIPD01"} and len(one) == 3


@pytest.mark.slow
def test_pagination_headers(embedded: tuple[Server, Path]) -> None:
    server, _ = embedded
    everything = server.ok("calibrations", {"page_size": 500})
    status, headers, page = server.get("calibrations", {"page": 2, "page_size": 5})
    assert status == 200 and page == everything[5:10]
    assert (headers["x-total-count"], headers["x-total-pages"], headers["x-current-page"], headers["x-count-per-page"]) \
        == (str(len(everything)), str(-(-len(everything) // 5)), "2", "5")


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "params", "status", "says"), [
    ("GET", "no_such_thing", None, 404, "Resource not found"),
    ("GET", "detectors/999999", None, 404, "no detector with id 999999"),
    ("GET", "detectors/abc", None, 404, "Resource not found"),
    ("GET", "physical_detector_units/get_all_by_detector", {"detector_id": "two"}, 400, "detector_id must be an integer"),
    ("GET", "physical_detector_units/get_all_by_detector", {"detector_id": 2, "pdu_snapshot_at": "yesterday"}, 400,
     "malformed pdu_snapshot_at"),
    ("GET", "detectors", {"identifer": "x"}, 400, "unknown query parameter 'identifer'"),
    ("GET", "physical_detector_units/get_all_by_detector", {"detector_id": 2, "pdu_snapshot_at": "2010-01-01T00:00:00Z"},
     404, "no PDU is mapped to SPB_DET_AGIPD1M-1"),  # as CALCAT answers; EXtra reads it as no modules
    ("GET", "calibrations", {"page": 0}, 400, "page and page_size must be at least 1"),
    ("GET", "detectors/get_all_by_instrument", None, 400, "query parameter 'instrument_id' is required"),
    ("GET", "detectors/get_all_by_instrument", {"instrument_id": "SPB"}, 400, "instrument_id must be an integer"),
    ("GET", "calibration_constant_versions/get_by_detector_conditions",
     {**AGIPD_QUERY, "calibration_id": "[1,"}, 400, "calibration_id must be"),
    ("GET", "calibration_constant_versions/get_by_detector_conditions",
     {**AGIPD_QUERY, "detector_identifier": "MID_DET_AGIPD1M"}, 404, "did you mean MID_DET_AGIPD1M-1"),
    ("GET", "calibration_constant_versions/get_by_detector_conditions",
     {**AGIPD_QUERY, "begin_at_strategy": "nearest"}, 400, "begin_at_strategy must be one of"),
    ("POST", "detectors", None, 405, "read-only"),
    ("PUT", "detectors/2", None, 405, "read-only"),
    ("DELETE", "detectors/2", None, 405, "read-only"),
    ("HEAD", "detectors", None, 405, None),
])
def test_errors_are_json_without_tracebacks(embedded: tuple[Server, Path], method: str, path: str,
                                            params: dict[str, Any] | None, status: int, says: str | None) -> None:
    server, _ = embedded
    body = AGIPD_BODY if "conditions" in path else None
    got, headers, data = server.get(path, params, body, method)
    assert got == status
    if method == "HEAD":
        return
    assert headers["content-type"].startswith("application/json") and says in data["info"], data
    assert "Traceback" not in data["info"]
    if status == 405:
        assert headers["allow"] == "GET"


@pytest.mark.slow
def test_bad_condition_bodies_get_400(embedded: tuple[Server, Path]) -> None:
    server, _ = embedded
    path = "calibration_constant_versions/get_by_detector_conditions"
    for body, says in [(None, "send the conditions as a JSON body"), ({"conditions": []}, "the JSON body must be"),
                       ({"parameters_conditions_attributes": [{"parameter_name": "Memory cells"}]}, "a parameter and a value"),
                       ({"parameters_conditions_attributes": [{"parameter_name": "x", "value": True}]}, "a number"),
                       ({"parameters_conditions_attributes": [{"parameter_name": "Memory cels", "value": 1}]},
                        "no parameter 'Memory cels' (did you mean Memory cells"),
                       ({"parameters_conditions_attributes": [{"parameter_name": "Memory cells", "value": "many"}]},
                        "AGIPD-Type conditions: Memory cells: 'many' is not a number"),  # the type's look-up rules
                       ({"parameters_conditions_attributes": [{"parameter_name": "Integration Time", "value": 1}]},
                        "AGIPD-Type has no parameter 'Integration Time'"),
                       ({"parameters_conditions_attributes": [{"parameter_id": "123456789", "value": 1}]},
                        "no parameter with id 123456789"),
                       ({"parameters_conditions_attributes": [{"parameter_name": "Memory cells", "value": 1, "unit": "x"}]},
                        "unknown field(s) unit")]:
        status, _, data = server.get(path, AGIPD_QUERY, body)
        assert (status, says in data["info"]) == (400, True), data


@pytest.mark.slow
def test_naive_time_is_read_in_the_facility_zone(embedded: tuple[Server, Path]) -> None:
    server, _ = embedded  # SPB's AGIPD00 changed at 2023-07-29T17:34:53Z = 19:34:53 in Berlin (summer time)

    def agipd00(when: str) -> str:
        pdus = server.ok("physical_detector_units/get_all_by_detector", {"detector_id": 2, "pdu_snapshot_at": when})
        return next(p["physical_name"] for p in pdus if p["karabo_da"] == "AGIPD00")

    assert agipd00("2023-07-29 19:00:00") == agipd00("2023-07-29T19:00:00+02:00") != agipd00("2023-07-29T19:00:00Z")
    assert agipd00("2023-07-29 19:40:00.00") == agipd00("2023-07-29T17:40:00Z")


def test_client_time_is_the_one_place_naive_times_are_read() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert client_time("2020-01-07 13:26:48.00", berlin, "t").isoformat() == "2020-01-07T12:26:48+00:00"  # type: ignore[union-attr]
    assert client_time("2024-07-01T12:00:00", berlin, "t").isoformat() == "2024-07-01T10:00:00+00:00"  # type: ignore[union-attr]
    assert client_time("2024-07-01T12:00:00+00:00", berlin, "t").isoformat() == "2024-07-01T12:00:00+00:00"  # type: ignore[union-attr]
    assert client_time("", berlin, "t") is None and client_time(None, berlin, "t") is None
    with pytest.raises(InvalidInputError, match="impossible t"):
        client_time("2023-02-30 10:00:00", berlin, "t")
    with pytest.raises(InvalidInputError, match="naive"):
        Catalog.open(REPO_ROOT, worktree=True).mapping("MID_DET_AGIPD1M-1", at="2024-07-01T12:00:00")  # API stays strict


@pytest.mark.slow
def test_every_reply_names_its_commit(embedded: tuple[Server, Path]) -> None:
    server, repo = embedded
    head = git(repo, "rev-parse", "main")
    for path in ("detectors", "detectors/2", "detectors/999999", "calibration_constant_versions/1"):
        _, headers, _ = server.get(path)
        assert headers["x-calcat-git-commit"] == head, path


def test_serve_follows_main_without_restart(mini_server: Server, mini: Path) -> None:
    det_id = mini_server.ok("detectors", {"identifier": "SPB_DET_AGIPD1M-1"})[0]["id"]
    ask = {"detector_id": det_id, "pdu_snapshot_at": "2024-07-01T00:00:00Z"}

    def slot01() -> tuple[str, str]:
        _, headers, pdus = mini_server.get("physical_detector_units/get_all_by_detector", ask)
        return headers["x-calcat-git-commit"], next(p["physical_name"] for p in pdus if p["karabo_da"] == "AGIPD01")

    before = slot01()
    edit(mini, "registry/mappings/SPB_DET_AGIPD1M-1.yaml", "      AGIPD00: AGIPD_M1\n",
         '      AGIPD00: AGIPD_M1\n  - from: "2024-06-01T00:00:00Z"\n    reason: swap\n    modules:\n'
         '      AGIPD01: null\n')
    sha = commit_all(mini, "empty SPB AGIPD01", "2024-06-02T00:00:00Z")
    _status, headers, pdus = mini_server.get("physical_detector_units/get_all_by_detector", ask)
    assert before == (git(mini, "rev-parse", "HEAD~1"), "AGIPD_M5")
    assert headers["x-calcat-git-commit"] == sha and "AGIPD01" not in {p["karabo_da"] for p in pdus}


def test_strict_snapshots_read_the_mapping_as_committed_then(repo: dict[str, str], mini: Path,
                                                             mini_server: Server) -> None:
    strict = Server(mini, "--strict-snapshots")
    try:
        det_id = strict.ok("detectors", {"identifier": "SPB_DET_AGIPD1M-1"})[0]["id"]
        ask = {"detector_id": det_id, "pdu_snapshot_at": "2024-02-15T00:00:00Z"}  # the M1 move was recorded 2024-03-01
        answers = {}
        for name, server in (("default", mini_server), ("strict", strict)):
            _, headers, pdus = server.get("physical_detector_units/get_all_by_detector", ask)
            answers[name] = next(p["physical_name"] for p in pdus if p["karabo_da"] == "AGIPD00")
            assert headers["x-calcat-git-commit"] == repo["late"]
            assert headers.get("x-calcat-git-mapping-commit") == (repo["swap"] if name == "strict" else None)
        assert answers == {"default": "AGIPD_M1", "strict": "AGIPD_M4"}
    finally:
        stop_process(strict.proc)


EXTRA_CASES = [
    ("MID_DET_AGIPD1M-1", "2024-03-01T00:00:00Z", ["Offset", "Noise", "BadPixelsDark"],
     dict(sensor_bias_voltage=300, memory_cells=202, acquisition_rate=1.1, gain_setting=0, gain_mode=0)),
    ("FXE_DET_LPD1M-1", "2024-09-01T00:00:00Z", ["Offset", "Noise", "BadPixelsDark"], {}),
    ("FXE_XAD_JF1M", "2023-03-01 12:00:00", ["Offset10Hz", "Noise10Hz", "BadPixelsDark10Hz"],
     dict(sensor_bias_voltage=180, memory_cells=1, integration_time=10, gain_setting=0)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("detector", "event_at", "calibrations", "fields"), EXTRA_CASES,
                         ids=["AGIPD", "LPD", "JUNGFRAU"])
def test_extra_client_gets_what_calcat_git_finds(embedded: tuple[Server, Path], demo_store: Path, detector: str,
                                                 event_at: str, calibrations: list[str], fields: dict[str, Any]) -> None:
    """EXtra's own from_condition through CalCatAPIClient equals calcat-git's own look-up."""
    import extra.calibration as extra  # euxfel-extra is in the test extra: a missing one must fail, not skip

    server, repo = embedded
    ours_cls = {"MID": AGIPDConditions, "FXE_DET": LPDConditions, "FXE_XAD": JUNGFRAUConditions}
    cls_name = next(v for k, v in ours_cls.items() if detector.startswith(k))
    theirs_cls = getattr(extra, cls_name.__name__)
    extra.setup_client(server.base, None, None, None)
    theirs = extra.CalibrationData.from_condition(theirs_cls(**fields), detector, calibrations=calibrations,
                                                  event_at=event_at)
    utc_event = client_time(event_at, __import__("zoneinfo").ZoneInfo("Europe/Berlin"), "event_at")
    ours = CalibrationData.from_condition(cls_name(**fields), detector, calibrations=calibrations,
                                          catalog=Catalog.open(repo), event_at=utc_event)
    assert set(theirs) == set(ours) == set(calibrations)
    for cal in calibrations:
        mine = {agg: (c.path, c.dataset, c.pdu_name, c.int_id) for agg, c in ours[cal].items()}
        got = {agg: (c.path, c.dataset, c.pdu_name, c.ccv_id) for agg, c in theirs[cal].constants.items()}
        assert got == mine and len(mine) >= 1, cal
        assert np.array_equal(theirs[cal].ndarray(caldb_root=demo_store), ours[cal].ndarray(demo_store))
    mapped = {a: p for a, p in Catalog.open(repo).mapping(detector, at=utc_event).items() if p}
    assert {m.aggregator: m.physical_name for m in theirs.detector.pdus} == mapped


def test_serve_refuses_an_unknown_zone() -> None:
    result = CliRunner().invoke(main, ["serve", "--facility-tz", "Mars/Olympus_Mons"])
    assert result.exit_code == 1 and "unknown time zone 'Mars/Olympus_Mons'" in result.output


@pytest.mark.slow
def test_serve_benchmark_runs_tiny(synthetic: Path) -> None:
    from ..benchmarks.bench_serve import run

    result = run(synthetic, clients=2, seconds=0.5, repeated=4, cli_queries=1)
    for load in ("distinct", "repeated", "single_client"):
        assert result[load]["failures"] == 0 and result[load]["requests"] > 0, result
    assert result["cli_lookup_median_s"] > 0


def test_serve_binds_to_localhost_by_default() -> None:
    from calcat_git.cli.serve import serve

    option = next(p for p in serve.params if p.name == "host")
    assert option.default == "127.0.0.1"


@pytest.mark.slow
def test_round_trip_serve_then_import(embedded: tuple[Server, Path], tmp_path: Path) -> None:
    """serve → import-calcat --url into an empty repository → the same records, ids and mapping."""
    server, repo = embedded
    target = tmp_path / "copy"
    target.mkdir()
    git(target, "init", "-q", "-b", "main")
    git(target, "commit", "-q", "--allow-empty", "-m", "empty")
    times = ["2020-01-07T12:26:48Z", "2026-04-10T11:27:00Z"]
    args = ["import-calcat", "--url", server.base, "--repo", str(target), "--json",
            "--detector", "SPB_DET_AGIPD1M-1", "--report", "3757", "--report", "6512"]
    for at in times:
        args += ["--snapshot-at", at]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    source, copy = Catalog.open(repo), Catalog.open(target)
    for at in times:
        assert copy.mapping("SPB_DET_AGIPD1M-1", at=at) == {
            a: p for a, p in source.mapping("SPB_DET_AGIPD1M-1", at=at).items()
            if a in copy.detector("SPB_DET_AGIPD1M-1").aggregators}
    assert copy.detector("SPB_DET_AGIPD1M-1").calcat_id == source.detector("SPB_DET_AGIPD1M-1").calcat_id
    for name in copy.names("pdu"):
        assert (copy.pdu(name).uuid, copy.pdu(name).calcat_id) == (source.pdu(name).uuid, source.pdu(name).calcat_id)

    def ccvs(catalog: Catalog) -> set[tuple[Any, ...]]:
        return {(c.calcat_id, c.calibration, c.pdu, c.begin_at, c.end_at, c.file, c.dataset, c.good_quality)
                for b in catalog.registry.batches.values() if b.report.id in (3757, 6512) for c in b.constants}

    assert len(ccvs(copy)) == 128 and ccvs(copy) == ccvs(source)


@pytest.mark.slow
def test_view_url_and_condition_of_every_served_ccv(embedded: tuple[Server, Path]) -> None:
    """view_url is never null (a made-up CCV: its path on this server, no site_url being set);
    /api/conditions/<condition_id> gives the parameters the CCV was found with."""
    server = embedded[0]
    ccvs = server.ok("calibration_constant_versions/get_by_detector_conditions", AGIPD_QUERY, AGIPD_BODY)
    assert ccvs and all(isinstance(c["view_url"], str) and c["view_url"] for c in ccvs)
    assert ccvs[0]["view_url"] == f"/api/calibration_constant_versions/{ccvs[0]['id']}"
    condition = server.ok(f"conditions/{ccvs[0]['calibration_constant']['condition_id']}")
    asked = {i["parameter_name"]: i["value"] for i in AGIPD_BODY["parameters_conditions_attributes"]}
    served = {p["parameter_name"]: p for p in condition["parameters_conditions"]}
    assert set(served) == set(asked)
    for name, value in asked.items():
        item = served[name]
        assert item["value"] - item["lower_deviation_value"] <= value <= item["value"] + item["upper_deviation_value"]
    assert server.get("conditions/1")[0] == 404
