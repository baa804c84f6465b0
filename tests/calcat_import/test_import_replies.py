"""import-calcat and replies it was not built against: unknown fields and endpoints are
listed, text conditions come from ``txt_value``, the most recent recording wins and a
recorded "no PDU" ends the slots seen before it. The replies are a cassette constructed
from CALCAT's own LPD records (tests/data/calcat-constructed), changed per test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from calcat_git import Catalog
from calcat_git.calcat_import.facts import collect
from calcat_git.calcat_import.replies import read_cassettes
from calcat_git.calcat_import.write import import_replies
from calcat_git.errors import CalcatReplyError

from ..helpers import HERE, fast_sample, git, run_cli

LPD = HERE / "data" / "calcat-constructed" / "lpd_memory_cell_order.yaml"
ORDER = ",".join(str(cell) for cell in range(1, 201))      # the condition's txt_value
CONDITIONS = {"Sensor Bias Voltage": "250", "Memory cells": "200", "Pixels X": "256", "Pixels Y": "256",
              "Feedback capacitor": "5"}


def _interactions() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(LPD.read_text())["interactions"]
    return items


def _body(item: dict[str, Any]) -> Any:
    return json.loads(item["response"]["body"]["string"])


def _set_body(item: dict[str, Any], data: Any, status: int = 200) -> dict[str, Any]:
    item["response"]["body"]["string"] = json.dumps(data)
    item["response"]["status"] = {"code": status, "message": "OK" if status == 200 else "Not Found"}
    return item


def _cassette(path: Path, items: list[dict[str, Any]], date: str | None = None) -> Path:
    for item in items:
        if date is not None:
            item["response"]["headers"]["Date"] = [date]
    path.write_text(yaml.safe_dump({"interactions": items, "version": 1}, sort_keys=False))
    return path


def _catalog(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "empty catalog")
    return root


def _import(root: Path, *replies: Path, as_json: bool = False) -> str:
    run = run_cli("import-calcat", *(a for r in replies for a in
                          ("--replies", str(r))), "--repo", str(root), *(["--json"] if as_json else []))
    assert run.returncode == 0, run.stderr
    return run.stdout


def _lookup(root: Path, order: str) -> dict[str, Any]:
    args = [a for name, value in {**CONDITIONS, "Memory cell order": order}.items()
            for a in ("--condition", f"{name}={value}")]
    run = run_cli("lookup", "FXE_DET_LPD1M-1", "--repo", str(root), "--event-at", "2022-05-23T00:00:00Z", "--calibration",
                  "Offset", *args, "--json")
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_every_field_and_endpoint_of_the_recordings_is_known() -> None:
    facts = collect(read_cassettes([HERE / "data" / "calcat-replies", LPD]))
    report = facts.fields.to_json()
    assert report["unknown_fields"] == {} and report["unknown_endpoints"] == {}
    assert report["mapped"] > 20_000 and report["kept"] > 5_000
    assert report["ignored_replies"]["/api/me"]["count"] == 17
    assert report["ignored_fields"]["ccv_pdu.float_uuid"]["reason"] == "the uuid as a float: derived from uuid"


@pytest.mark.slow
def test_an_unknown_field_or_endpoint_is_listed_never_skipped(tmp_path: Path) -> None:
    items = _interactions()
    ccv = _body(items[4])
    ccv["flg_made_up"] = True                                   # a field CALCAT might add one day
    ccv["calibration_constant"]["made_up_note"] = "kept"        # inside a block that is kept whole
    _set_body(items[4], ccv)
    listed = _body(items[3])
    _set_body(items[3], [*listed, 7])                           # a list item that is no record
    made_up = json.loads(json.dumps(items[1]))
    made_up["request"]["uri"] = "http://exflcalproxy.desy.de:8080/api/made_up_things/3/odd?x=1"
    replies = _cassette(tmp_path / "made_up.yaml", [*items, made_up])
    stamp = "recorded 2024-11-08T14:31:53Z"
    text = _import(_catalog(tmp_path / "text"), replies)
    assert ("unknown endpoints (not read; update calcat-git to import them): 1\n"
            f"- /api/made_up_things/{{id}}/odd ×1 (first in made_up.yaml#6, {stamp})") in text
    assert ("unknown fields (not imported; update calcat-git to import them): 3\n"
            f"- calibration (an item that is not a record: int) ×1 (first in made_up.yaml#3, {stamp})\n"
            f"- calibration_constant.made_up_note (kept verbatim with its block) ×1 (first in made_up.yaml#4, {stamp})\n"
            f"- ccv.flg_made_up ×1 (first in made_up.yaml#4, {stamp})") in text
    root = _catalog(tmp_path / "json")
    fields = json.loads(_import(root, replies, as_json=True))["fields"]
    assert fields["unknown_fields"]["ccv.flg_made_up"] == {"count": 1, "first": f"made_up.yaml#4, {stamp}"}
    assert fields["unknown_endpoints"] == {"/api/made_up_things/{id}/odd": {"count": 1,
                                                                             "first": f"made_up.yaml#6, {stamp}"}}
    ccvs = [c for b in Catalog.open(root).registry.batches.values() for c in b.constants]
    assert ccvs[0].calcat is not None and ccvs[0].calcat.data()["calibration_constant"]["made_up_note"] == "kept"


def test_a_text_condition_is_imported_as_its_text(tmp_path: Path) -> None:
    """CALCAT gives LPD's 'Memory cell order' in txt_value with value 0.0: the look-up with
    the real order finds the constant (reading value alone imported 0.0 and found nothing)."""
    root = _catalog(tmp_path / "catalog")
    import_replies(root, read_cassettes([LPD]))
    batch = next(iter(Catalog.open(root).registry.batches.values()))
    assert {c.name: c.value for c in batch.conditions}["Memory cell order"] == ORDER
    found = _lookup(root, ORDER)
    assert found["constants"]["Offset"]["LPD00"]["int_id"] == 135686
    assert "LPD00" in _lookup(root, "0.0")["missing"]["Offset"]


@pytest.mark.parametrize(("bad", "why"), fast_sample([
    ({"value": 3.0, "txt_value": "1,2"}, "both a number (value 3.0) and a text (txt_value '1,2'): which one CALCAT "
                                         "matches is not known"),
    ({"value": 0.0, "txt_value": 5}, "txt_value must be text or null, not 5"),
    ({"value": None, "txt_value": None}, "needs a number in value or a text in txt_value, not value None")], keep=1))
def test_a_condition_value_that_is_neither_is_refused(tmp_path: Path, bad: dict[str, Any], why: str) -> None:
    items = _interactions()
    condition = _body(items[5])
    condition["parameters_conditions"][5].update(bad)
    replies = _cassette(tmp_path / "odd.yaml", [*items[:5], _set_body(items[5], condition)])
    root = _catalog(tmp_path / "catalog")
    run = run_cli("import-calcat", "--replies", str(replies), "--repo", str(root))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr == (f"error: {replies}#5: /api/conditions/6177: parameters_conditions[5] "
                          f"('Memory cell order'): {why}\n")
    with pytest.raises(CalcatReplyError) as refused:
        collect(read_cassettes([replies]))
    assert (refused.value.origin, refused.value.record) == (f"{replies}#5", "/api/conditions/6177")


@pytest.mark.slow
def test_the_most_recent_recording_wins_and_changes_are_listed(tmp_path: Path) -> None:
    older, newer = _interactions()[:3], _interactions()[:1]
    detector, snapshot = _body(older[0]), _body(older[2])
    for record in [*detector, *(pdu["detector"] for pdu in snapshot)]:   # the detector, and its copies in the PDUs
        record.update(number_of_modules=None, description="as recorded first")
    _set_body(older[0], detector)
    _set_body(older[2], snapshot)
    detector[0].update(number_of_modules=16, description="as recorded later")
    _set_body(newer[0], detector)
    first = _cassette(tmp_path / "older.yaml", older, "Fri, 08 Nov 2024 14:31:53 GMT")
    later = _cassette(tmp_path / "newer.yaml", newer, "Thu, 02 Apr 2026 08:35:05 GMT")
    for name, order in (("given-newest-first", (later, first)), ("given-oldest-first", (first, later))):
        root = _catalog(tmp_path / name)
        text = _import(root, *order)
        det = Catalog.open(root).detector("FXE_DET_LPD1M-1")
        assert det.description == "as recorded later"
        assert "number_of_modules" not in (det.calcat.data() if det.calcat else {})   # 16 = its modules
        assert ("changed between recordings (the most recent recording was imported): 2\n"
                "- detector 7 (FXE_DET_LPD1M-1): number_of_modules null (older.yaml#0, recorded 2024-11-08T14:31:53Z)"
                " → 16 (newer.yaml#0, recorded 2026-04-02T08:35:05Z)\n"
                "- detector 7 (FXE_DET_LPD1M-1): description \"as recorded first\" (older.yaml#0, recorded "
                "2024-11-08T14:31:53Z) → \"as recorded later\" (newer.yaml#0, recorded 2026-04-02T08:35:05Z)") in text


def test_a_pdu_snapshot_counts_as_of_the_time_it_shows() -> None:
    """In the recordings, a snapshot of SPB's PDUs at 2025-10-27 (recorded 2026-04-02T08:35:09Z)
    shows PDU M427 without description; CCV replies recorded five seconds earlier show its
    current one. The snapshot shows the PDU as it was at 2025-10-27: the current state wins."""
    facts = collect(read_cassettes([HERE / "data" / "calcat-replies"]))
    assert str(facts.pdus["AGIPD_SIV1_AGIPDV12_M427"]["description"]).startswith("The module was removed from AGIPD1M")
    assert any(line.startswith("PDU AGIPD_SIV1_AGIPDV12_M427: description null (test_DetectorData_from_identifier.yaml"
                               "#2, recorded 2026-04-02T08:35:09Z, showing 2025-10-27T14:50:13Z) → ")
               for line in facts.changed)

def test_a_recorded_no_pdu_ends_the_slots_seen_before(tmp_path: Path) -> None:
    """PDUs listed at 2022-05-22, then CALCAT's 404 "no PDU" at 2023-01-01: every slot ends then,
    and the change names the recording; EXtra's DetectorData would be empty there too."""
    snapshot = _interactions()[2]
    snapshot["request"]["uri"] = snapshot["request"]["uri"].replace("2022-05-22T02%3A00%3A00", "2023-01-01T00%3A00%3A00Z")
    none = _cassette(tmp_path / "no_pdu.yaml", [_set_body(snapshot, {"info": "Resource not found!"}, 404)],
                     "Mon, 02 Jan 2023 10:00:00 GMT")
    root = _catalog(tmp_path / "catalog")
    _import(root, LPD, none)
    catalog = Catalog.open(root)
    assert catalog.mapping("FXE_DET_LPD1M-1", at="2022-12-31T00:00:00Z")["LPD00"] == "LPD_SIV1_LPDV2_SM015"
    assert set(catalog.mapping("FXE_DET_LPD1M-1", at="2023-01-01T00:00:00Z").values()) == {None}
    last = catalog.registry.mappings["FXE_DET_LPD1M-1"].changes[-1]
    assert last.reason == ("CALCAT answered 'no PDU' for this detector at 2023-01-01T00:00:00Z (no_pdu.yaml#0, "
                           "recorded 2023-01-02T10:00:00Z): the slots seen at 2022-05-22T00:00:00Z end by then")
    assert last.observed_between is not None


def test_when_a_reply_was_recorded(tmp_path: Path) -> None:
    """An interaction's own recorded_at (ISO 8601 with an offset) wins over its Date header;
    a time without a zone or a Date that is not an HTTP date is refused with the reply named."""
    items = _interactions()[:2]
    items[0]["recorded_at"] = "2025-01-02T03:04:05+01:00"
    del items[1]["response"]["headers"]["Date"]
    replies = read_cassettes([_cassette(tmp_path / "times.yaml", items)])
    assert [r.recording for r in replies] == ["times.yaml#0, recorded 2025-01-02T02:04:05Z", "times.yaml#1"]
    for key, value, message in (("recorded_at", "2025-01-02T03:04:05", "times.yaml#0: recorded_at '2025-01-02T03:04:05' "
                                                                       "has no time zone"),
                                ("Date", ["yesterday"], "response header Date 'yesterday' is not an HTTP date")):
        items = _interactions()[:1]
        if key == "Date":
            items[0]["response"]["headers"]["Date"] = value
        else:
            items[0][key] = value
        with pytest.raises(CalcatReplyError, match=re.escape(message)) as refused:
            read_cassettes([_cassette(tmp_path / "times.yaml", items)])
        assert refused.value.origin == f"{tmp_path / 'times.yaml'}#0"


def test_help_names_no_folder_a_user_lacks() -> None:
    run = subprocess.run([sys.executable, "-m", "calcat_git", "import-calcat", "--help"], capture_output=True,
                         text=True, check=True)
    assert "--replies recordings/" in run.stdout and "shared" not in run.stdout and "calcat-replies" not in run.stdout
