"""CALCAT REST replies as plain records: from recorded interaction files or a live server.

A :class:`Reply` is one GET of CALCAT's API (``/api/<path>?<query>``, an optional JSON
request body, the JSON answer). Recorded replies are vcrpy cassettes (YAML with
``interactions: [{request, response}]``); a live server is read by
:mod:`calcat_git.calcat_import.live`. Nothing here interprets the answers: that is
:mod:`calcat_git.calcat_import.facts`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from calcat_git.calcat_import.checks import MAX_DEPTH, json_depth_ok
from calcat_git.errors import CalcatReplyError, InvalidInputError
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.timeutil import format_timestamp, parse_timestamp

MAX_CASSETTE_BYTES = MAX_BYTES   # what is read, not what stat says (a link to /dev/zero is "0 bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One answered GET of CALCAT's API."""

    path: str                      # after /api/, e.g. "physical_detector_units/get_all_by_detector"
    query: dict[str, str]
    body: Any                      # the request's JSON body (get_by_detector_conditions), or None
    status: int
    data: Any                      # the JSON answer
    runtime: float | None          # X-Runtime: the server's own processing time (s)
    origin: str                    # cassette file (and interaction number) or URL
    recorded_at: datetime | None = None   # when CALCAT gave this answer (None: unknown)
    as_of: datetime | None = None         # the earlier time its records show, if not their state when recorded

    @property
    def source(self) -> str:
        """The reply named for a reader: cassette file name and interaction (or what was asked
        of a live CALCAT) and when it was recorded."""
        where = self.origin.rsplit("/", 1)[-1] if "#" in self.origin else self.origin
        return where if self.recorded_at is None else f"{where}, recorded {format_timestamp(self.recorded_at)}"

    @property
    def recording(self) -> str:
        """:attr:`source` and, if earlier than the recording, the time its records show."""
        return self.source if self.as_of is None else f"{self.source}, showing {format_timestamp(self.as_of)}"


def _api_path(uri: str) -> tuple[str, dict[str, str]]:
    parts = urllib.parse.urlsplit(uri)
    if "/api/" not in parts.path:
        raise CalcatReplyError(f"{uri!r} is not a CALCAT API address (no /api/ in its path)", uri)
    path = parts.path.split("/api/", 1)[1].strip("/")
    return path, dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))


def header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def parse_json(text: Any, origin: str) -> Any:
    if text is None or text == "":
        return None
    if isinstance(text, str | bytes) and not json_depth_ok(text if isinstance(text, str) else text.decode("latin-1")):
        raise CalcatReplyError(f"{origin}: body is JSON nested deeper than {MAX_DEPTH} levels; not a CALCAT reply", origin)
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CalcatReplyError(f"{origin}: body is not JSON ({exc})", origin) from None


def runtime_of(text: str | None, origin: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise CalcatReplyError(f"{origin}: X-Runtime {text!r} is not a number of seconds", origin)
    return value


def _error_body(text: Any) -> Any:
    """The JSON of an error reply (CALCAT's ``{"info": …}``), None if it is not JSON."""
    try:
        return parse_json(text, "")
    except InvalidInputError:
        return None


def _recorded_at(item: dict[str, Any], response: dict[str, Any], origin: str) -> datetime | None:
    """When the interaction was recorded: its ``recorded_at`` (ISO 8601 with an offset), else
    the response's ``Date`` header (which vcrpy keeps), else unknown."""
    stamp = item.get("recorded_at")
    if stamp is not None:
        try:
            return parse_timestamp(str(stamp), f"{origin}: recorded_at")
        except InvalidInputError as exc:  # a time in the cassette, not one the user gave
            raise CalcatReplyError(str(exc), origin) from None
    date = header(response.get("headers") or {}, "Date")
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise CalcatReplyError(f"{origin}: response header Date {date!r} is not an HTTP date", origin) from None
    if when.tzinfo is None:
        raise CalcatReplyError(f"{origin}: response header Date {date!r} has no zone (HTTP dates are GMT)", origin)
    return parse_timestamp(when.isoformat(), f"{origin}: Date")


def _interaction(item: Any, origin: str) -> Reply | None:
    try:
        request, response = item["request"], item["response"]
        method, uri = request["method"], request["uri"]
        status = int(response["status"]["code"])
        text = response["body"]["string"]
    except (KeyError, TypeError, ValueError):
        raise CalcatReplyError(f"{origin}: not a recorded HTTP interaction "
                               "(needs request.method/uri and response.status/body)", origin) from None
    if method != "GET" or "/api/" not in uri:
        return None
    path, query = _api_path(uri)
    runtime = runtime_of(header(response.get("headers") or {}, "X-Runtime"), origin)
    return Reply(path=path, query=query, body=parse_json(request.get("body"), origin), status=status,
                 data=parse_json(text, origin) if status < 400 else _error_body(text), runtime=runtime, origin=origin,
                 recorded_at=_recorded_at(item, response, origin))


def _cassette_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError(f"{path}: no such file or folder of recorded replies")
    return files


def read_cassettes(paths: Iterable[Path]) -> list[Reply]:
    """Every GET of ``/api/…`` in the given cassette files (folders: their *.yaml files)."""
    replies: list[Reply] = []
    for file in _cassette_files(paths):
        with open(file, "rb") as handle:
            raw = handle.read(MAX_CASSETTE_BYTES + 1)
        if len(raw) > MAX_CASSETTE_BYTES:
            raise CalcatReplyError(f"{file}: more than {MAX_CASSETTE_BYTES >> 20} MiB; not a cassette", str(file))
        try:
            doc = load_yaml(raw).data   # strict: no anchors/aliases, tags, deep nesting, odd characters
        except YamlError as exc:
            raise CalcatReplyError(f"{file}:{exc.line}: not a readable cassette: {exc}", str(file)) from None
        items = doc.get("interactions") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise CalcatReplyError(f"{file}: no 'interactions' list; is this a vcrpy cassette?", str(file))
        for number, item in enumerate(items):
            reply = _interaction(item, f"{file}#{number}")
            if reply is not None:
                replies.append(reply)
    return replies
