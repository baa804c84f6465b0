"""CALCAT REST replies as plain records: from recorded interaction files or a live server.

A :class:`Reply` is one GET of CALCAT's API (``/api/<path>?<query>``, an optional JSON
request body, the JSON answer). Recorded replies are vcrpy cassettes (YAML with
``interactions: [{request, response}]``); a live server is read page by page with
``Accept: application/json; version=2``. Nothing here interprets the answers: that is
:mod:`calcat_git.calcat_import.facts`.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calcat_git.calcat_import.checks import MAX_DEPTH, json_depth_ok
from calcat_git.errors import InvalidInputError
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.strict_yaml import YamlError, load_yaml

ACCEPT = "application/json; version=2"
MAX_CASSETTE_BYTES = MAX_BYTES   # what is read, not what stat says (a link to /dev/zero is "0 bytes")
MAX_PAGES = 10_000


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


def _api_path(uri: str) -> tuple[str, dict[str, str]]:
    parts = urllib.parse.urlsplit(uri)
    if "/api/" not in parts.path:
        raise InvalidInputError(f"{uri!r} is not a CALCAT API address (no /api/ in its path)")
    path = parts.path.split("/api/", 1)[1].strip("/")
    return path, dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _json(text: Any, origin: str) -> Any:
    if text is None or text == "":
        return None
    if isinstance(text, str | bytes) and not json_depth_ok(text if isinstance(text, str) else text.decode("latin-1")):
        raise InvalidInputError(f"{origin}: body is JSON nested deeper than {MAX_DEPTH} levels; not a CALCAT reply")
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(f"{origin}: body is not JSON ({exc})") from None


def _runtime(text: str | None, origin: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise InvalidInputError(f"{origin}: X-Runtime {text!r} is not a number of seconds")
    return value


def _interaction(item: Any, origin: str) -> Reply | None:
    try:
        request, response = item["request"], item["response"]
        method, uri = request["method"], request["uri"]
        status = int(response["status"]["code"])
        text = response["body"]["string"]
    except (KeyError, TypeError, ValueError):
        raise InvalidInputError(f"{origin}: not a recorded HTTP interaction "
                                "(needs request.method/uri and response.status/body)") from None
    if method != "GET" or "/api/" not in uri:
        return None
    path, query = _api_path(uri)
    runtime = _runtime(_header(response.get("headers") or {}, "X-Runtime"), origin)
    return Reply(path=path, query=query, body=_json(request.get("body"), origin), status=status,
                 data=_json(text, origin) if status < 400 else None, runtime=runtime, origin=origin)


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
            raise InvalidInputError(f"{file}: more than {MAX_CASSETTE_BYTES >> 20} MiB; not a cassette")
        try:
            doc = load_yaml(raw).data   # strict: no anchors/aliases, tags, deep nesting, odd characters
        except YamlError as exc:
            raise InvalidInputError(f"{file}:{exc.line}: not a readable cassette: {exc}") from None
        items = doc.get("interactions") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise InvalidInputError(f"{file}: no 'interactions' list; is this a vcrpy cassette?")
        for number, item in enumerate(items):
            reply = _interaction(item, f"{file}#{number}")
            if reply is not None:
                replies.append(reply)
    return replies


Fetch = Callable[[str, dict[str, str], Any], tuple[int, dict[str, str], Any]]


def http_fetch(base: str, token: str | None = None, timeout: float = 60.0) -> Fetch:
    """A function GETting ``base/api/<path>?<query>`` (with an optional JSON body)."""
    def fetch(path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        url = f"{base.rstrip('/')}/api/{path}?{urllib.parse.urlencode(query)}"
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # http(s) only, checked above
                return answer.status, dict(answer.headers), _json(answer.read().decode(), url)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), None
        except (urllib.error.URLError, OSError) as exc:
            raise InvalidInputError(f"cannot reach CALCAT at {base}: {exc}") from None
    if not base.startswith(("http://", "https://")):
        raise InvalidInputError(f"--url {base!r} must start with http:// or https://")
    return fetch


def get_pages(fetch: Fetch, path: str, query: dict[str, str], body: Any = None,
              page_size: int = 500) -> Iterator[Reply]:
    """One :class:`Reply` per page of a listing (``page``, ``page_size``, ``X-Total-Pages``)."""
    page, pages = 1, 1
    while page <= min(pages, MAX_PAGES):
        asked = {**query, "page": str(page), "page_size": str(page_size)}
        status, headers, data = fetch(path, asked, body)
        origin = f"/api/{path} page {page}"
        yield Reply(path=path, query=asked, body=body, status=status, data=data,
                    runtime=_runtime(_header(headers, "X-Runtime"), origin), origin=origin)
        if status >= 400:
            return
        pages = int(_header(headers, "X-Total-Pages") or 1)
        page += 1


def token_from_env(name: str | None) -> str | None:
    if name is None:
        return None
    token = os.environ.get(name)
    if not token:
        raise InvalidInputError(f"--token-env {name}: the environment variable is not set or empty")
    return token
