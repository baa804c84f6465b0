"""Replay recorded CALCAT requests against ``calcat-git serve`` and compare, field by field.

Every interaction of the cassettes (method, path, query string, JSON body) is sent to the
server as recorded; status and JSON answer are compared with CALCAT's recorded answer:
key sets, nulls and values, recursively. Lists of records with ids are compared by id
(plus one comparison of the order of the ids). A difference whose reply path and field
match an entry of ``ALLOWED`` is *explained* (calcat_git/site/guide/server.md lists the same entries with their
reasons); every other one is *unexplained*.

Run by hand::

    .venv/bin/python -m tests.replay_calcat --repo CATALOG [--replies DIR] [--show N]

starts the server on the catalog, replays, prints the counts and the unexplained
differences grouped by field.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .benchmarks.bench_serve import start_server
from .helpers import stop_process

HERE = Path(__file__).resolve().parent
REPLIES = HERE / "data" / "calcat-replies"
HEADERS = {"Accept": "application/json; version=2", "content-type": "application/json"}

# (reply path pattern, field path pattern) -> reason. Patterns are regular expressions
# matched in full; a reply path has ids replaced by {id}; a field path is dotted, with []
# for list items. The guide's server page (calcat_git/site/guide/server.md) lists the same entries.
ALLOWED: list[tuple[str, str, Callable[[Any, Any], bool], str]] = [
    ("me", ".*", lambda recorded, served: True,
     "/api/me: the user record of the token that made the recording; this server has no user accounts"),
    (".*", r".*physical_detector_unit\.(karabo_da|virtual_device_name|detector_id|module_number)",
     lambda recorded, served: served is None,
     "where a CCV's PDU sits *now*: CALCAT answered where it sat when the recording was made ('' or a "
     "slot); the PDU is in no slot in the catalog's newest mapping, so the server answers null"),
    ("calibration_constant_versions/get_by_detector_conditions", r"\[\]\.\(order\)", lambda recorded, served: True,
     "order of get_by_detector_conditions items: CALCAT's follows its query plan (no documented rule); the "
     "server lists by calibration, then module; clients index the items by calibration and module"),
]


DISPUTED = ("CALCAT itself answered this field of this record (same id) differently in different recordings "
            "(it was edited between them); the catalog keeps one of CALCAT's answers")
KINDS = {"detector": "detectors", "detector_type": "detector_types", "physical_detector_unit": "physical_detector_units",
         "calibration_constant_versions": "calibration_constant_versions", "calibration_constant": "calibration_constants"}


def _kind(reply: str, key: str) -> str:
    return KINDS.get(key) or reply.split("/")[0]


def recorded_values(folder: Path = REPLIES) -> dict[tuple[str, Any, str], set[str]]:
    """Every value CALCAT gave each field of each record: (kind, id, field path below the
    record) → JSON texts. A field with two values was edited between recordings."""
    seen: dict[tuple[str, Any, str], set[str]] = {}

    def walk(node: Any, reply: str, path: str, records: list[tuple[str, Any, str]]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, reply, path + "[]", records)
        elif isinstance(node, dict):
            if "id" in node:
                records = [*records, (_kind(reply, path.rsplit(".", 1)[-1].rstrip("[]")), node["id"], path)]
            for key, value in node.items():
                walk(value, reply, f"{path}.{key}", records)
        else:
            for kind, rid, at in records:
                seen.setdefault((kind, rid, path[len(at):]), set()).add(json.dumps(node))

    for _, item in interactions(folder):
        if int(item["response"]["status"]["code"]) < 400:
            walk(json.loads(item["response"]["body"]["string"]), reply_path(item["request"]["uri"]), "", [])
    return seen


@dataclass
class Outcome:
    requests: int = 0
    fields: int = 0
    explained: Counter[str] = field(default_factory=Counter)
    unexplained: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.requests} requests, {self.fields} fields compared, "
                f"{sum(self.explained.values())} explained differences, {len(self.unexplained)} unexplained")


def interactions(folder: Path = REPLIES) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for file in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(file.read_text())
        out += [(f"{file.name}#{n}", item) for n, item in enumerate(doc["interactions"])]
    return out


def reply_path(uri: str) -> str:
    path = urllib.parse.urlsplit(uri).path.split("/api/", 1)[1]
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def send(base: str, request: dict[str, Any]) -> tuple[int, Any]:
    parts = urllib.parse.urlsplit(request["uri"])
    url = f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    body = request.get("body")
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, headers=HEADERS, method=request["method"])
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text or b"null")
        except ValueError:
            return exc.code, text.decode(errors="replace")


def _by_id(items: list[Any]) -> dict[Any, Any] | None:
    if not items or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    table = {i["id"]: i for i in items}
    return table if len(table) == len(items) else None


class Comparer:
    def __init__(self, where: str, path: str, outcome: Outcome, values: dict[tuple[str, Any, str], set[str]]) -> None:
        self.where, self.path, self.outcome, self.values = where, path, outcome, values
        self.records: list[tuple[str, Any, str]] = []  # records with an id around a field: kind, id, path to it

    def disputed(self, field_path: str, served: Any) -> bool:
        for kind, rid, at in self.records:
            if json.dumps(served) in self.values.get((kind, rid, field_path[len(at):]), set()):
                return True
        return False

    def differ(self, field_path: str, recorded: Any, served: Any) -> None:
        if self.disputed(field_path, served):
            self.outcome.explained["(disputed) " + f"{self.path} {field_path}"] += 1
            return
        for path_re, field_re, applies, reason in ALLOWED:
            if re.fullmatch(path_re, self.path) and re.fullmatch(field_re, field_path) and applies(recorded, served):
                self.outcome.explained[reason] += 1
                return
        self.outcome.unexplained.append(f"{self.where} {self.path} {field_path}: "
                                        f"CALCAT {_short(recorded)} / served {_short(served)}")

    def compare(self, field_path: str, recorded: Any, served: Any) -> None:
        if isinstance(recorded, dict) and isinstance(served, dict):
            if "id" in recorded:
                key = field_path.rsplit(".", 1)[-1].rstrip("[]")
                self.records.append((_kind(self.path, key), recorded["id"], field_path))
            self._dicts(field_path, recorded, served)
            if "id" in recorded:
                self.records.pop()
            return
        if isinstance(recorded, list) and isinstance(served, list):
            self._lists(field_path, recorded, served)
            return
        self.outcome.fields += 1
        if not _same(recorded, served):
            self.differ(field_path, recorded, served)

    def _dicts(self, field_path: str, recorded: dict[str, Any], served: dict[str, Any]) -> None:
        for key in sorted(set(recorded) | set(served)):
            sub = f"{field_path}.{key}"
            if key not in served:
                self.outcome.fields += 1
                self.differ(sub, recorded[key], "<missing>")
            elif key not in recorded:
                self.outcome.fields += 1
                self.differ(sub, "<missing>", served[key])
            else:
                self.compare(sub, recorded[key], served[key])

    def _lists(self, field_path: str, recorded: list[Any], served: list[Any]) -> None:
        mine, theirs = _by_id(recorded), _by_id(served) if served else {}
        if mine is not None and theirs is not None:
            self.outcome.fields += 1
            if [i["id"] for i in recorded] != [i["id"] for i in served] and set(mine) == set(theirs):
                self.differ(f"{field_path}[].(order)", [i["id"] for i in recorded], [i["id"] for i in served])
            for key in sorted(set(mine) | set(theirs), key=str):
                if key not in theirs:
                    self.outcome.fields += 1
                    self.differ(f"{field_path}[]", f"item id {key}", "<missing>")
                elif key not in mine:
                    self.outcome.fields += 1
                    self.differ(f"{field_path}[]", "<missing>", f"item id {key}")
                else:
                    self.compare(f"{field_path}[]", mine[key], theirs[key])
            return
        self.outcome.fields += 1
        if len(recorded) != len(served):
            self.differ(f"{field_path}[].(length)", len(recorded), len(served))
        for a, b in zip(recorded, served, strict=False):
            self.compare(f"{field_path}[]", a, b)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (a == b and type(a) is type(b)) or (isinstance(a, float) and isinstance(b, float) and a == b)
    return bool(a == b)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) or value.startswith("<") is False else value
    return text if len(text) <= 120 else text[:117] + "..."


def replay(base: str, folder: Path = REPLIES) -> Outcome:
    """Send every recorded request to ``base`` (http://host:port) and compare the answers."""
    outcome, values = Outcome(), recorded_values(folder)
    for where, item in interactions(folder):
        request, response = item["request"], item["response"]
        path = reply_path(request["uri"])
        outcome.requests += 1
        status, served = send(base, request)
        comparer = Comparer(where, path, outcome, values)
        recorded_status = int(response["status"]["code"])
        outcome.fields += 1
        if status != recorded_status:
            comparer.differ("(status)", recorded_status, status)
            continue
        if recorded_status < 400:
            comparer.compare("", json.loads(response["body"]["string"]), served)
    return outcome


def explained(outcome: Outcome) -> Counter[str]:
    """Explained differences counted by allow-list entry (disputed fields as one)."""
    out: Counter[str] = Counter()
    for key, n in outcome.explained.items():
        out["disputed: " + DISPUTED if key.startswith("(disputed)") else key] += n
    return out


def grouped(lines: list[str]) -> Counter[str]:
    """Unexplained differences counted by reply path and field."""
    return Counter(" ".join(line.split(" ")[1:3]).rstrip(":") for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--replies", type=Path, default=REPLIES)
    parser.add_argument("--show", type=int, default=3, help="examples shown per field")
    args = parser.parse_args()
    proc, port = start_server(args.repo)
    try:
        outcome = replay(f"http://127.0.0.1:{port}", args.replies)
    finally:
        stop_process(proc)
    print(outcome.summary())
    for key, n in explained(outcome).most_common():
        print(f"{n:6d}  explained: {key}")
    shown: Counter[str] = Counter()
    for key, n in grouped(outcome.unexplained).most_common():
        print(f"{n:6d}  {key}")
    for line in outcome.unexplained:
        key = " ".join(line.split(" ")[1:3]).rstrip(":")
        if shown[key] < args.show:
            shown[key] += 1
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
