"""A live CALCAT read over HTTP(S), as carefully as a recorded file is read.

The server is input like a cassette: a reply larger than a cassette may be
(:data:`~calcat_git.calcat_import.replies.MAX_CASSETTE_BYTES`) is refused while it
streams in (never read whole), a header that is not what CALCAT sends is a one-line
error, and the bearer token goes only to the origin (scheme, host, port) it was given
for: a redirect to another origin is followed without it.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.client import HTTPException, HTTPMessage
from typing import IO, Any

from calcat_git.calcat_import.replies import MAX_CASSETTE_BYTES, Reply, header, parse_json, runtime_of
from calcat_git.errors import CalcatReplyError, InvalidInputError
from calcat_git.timeutil import now_utc

ACCEPT = "application/json; version=2"
MAX_REPLY_BYTES = MAX_CASSETTE_BYTES      # one limit for recorded and live replies
MAX_ERROR_BYTES = 64 * 1024               # an error reply's body is read only this far
MAX_PAGES = 10_000
CHUNK = 64 * 1024
PAGES = re.compile(r"[0-9]{1,9}")

Fetch = Callable[[str, dict[str, str], Any], tuple[int, dict[str, str], Any]]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _TokenStaysHome(urllib.request.HTTPRedirectHandler):
    """Redirects within the token's origin keep it; any other redirect is followed without
    it (the token is an unredirected header, so urllib never copies it); only http(s)."""

    def __init__(self, home: tuple[str, str, int | None], token: str | None) -> None:
        self.home, self.token = home, token

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise CalcatReplyError(f"CALCAT redirected {req.full_url} to {newurl!r}: only http(s) is followed", req.full_url)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and self.token and _origin(newurl) == self.home:
            new.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return new


def _read_bounded(answer: Any, url: str, limit: int, deadline: float) -> bytes:
    """The body, read in chunks; refused as soon as it passes ``limit`` bytes (or says it will)."""
    length = answer.headers.get("Content-Length")
    if length and length.strip().isdigit() and int(length) > limit:
        raise CalcatReplyError(f"{url}: the reply announces {int(length)} bytes, more than the {limit >> 20} MiB "
                               "a CALCAT reply may have here (the limit for recorded replies too); refused unread", url)
    chunks, total = [], 0
    while chunk := answer.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise CalcatReplyError(f"{url}: the reply is larger than the {limit >> 20} MiB a CALCAT reply may have "
                                   "here (the limit for recorded replies too); refused after that much", url)
        if time.monotonic() > deadline:
            raise CalcatReplyError(f"{url}: the reply took too long to arrive; refused", url)
        chunks.append(chunk)
    return b"".join(chunks)


def _text(raw: bytes, url: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalcatReplyError(f"{url}: the reply is not UTF-8 text ({exc.reason} at byte {exc.start})", url) from None


def http_fetch(base: str, token: str | None = None, timeout: float = 60.0) -> Fetch:
    """A function GETting ``base/api/<path>?<query>`` (with an optional JSON body)."""
    if not base.startswith(("http://", "https://")):
        raise InvalidInputError(f"--url {base!r} must start with http:// or https://")
    opener = urllib.request.build_opener(_TokenStaysHome(_origin(base), token))

    def fetch(path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        url = f"{base.rstrip('/')}/api/{path}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                         headers={"Accept": ACCEPT, "Content-Type": "application/json"}, method="GET")
        if token:
            request.add_unredirected_header("Authorization", f"Bearer {token}")
        deadline = time.monotonic() + 10 * timeout
        try:
            with opener.open(request, timeout=timeout) as answer:  # http(s) only, checked above
                raw = _read_bounded(answer, url, MAX_REPLY_BYTES, deadline)
                return answer.status, dict(answer.headers), parse_json(_text(raw, url), url)
        except urllib.error.HTTPError as exc:
            if exc.code < 400:   # a redirect urllib would not follow further (a loop, or more than 10)
                raise CalcatReplyError(f"{url}: CALCAT redirects in a loop or more than 10 times (last answer "
                                       f"{exc.code}); not followed further; nothing was imported", url) from None
            raw = _read_bounded(exc, url, MAX_ERROR_BYTES, deadline) if exc.fp is not None else b""
            try:
                data = json.loads(raw.decode("utf-8")) if raw else None
            except ValueError:
                data = None
            return exc.code, dict(exc.headers or {}), data
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            raise CalcatReplyError(f"cannot read CALCAT at {base}: {exc}", url) from None
    return fetch


def total_pages(text: str | None, origin: str) -> int:
    """CALCAT's ``X-Total-Pages`` as a number of pages (1 when absent)."""
    if text is None or text.strip() == "":
        return 1
    if not PAGES.fullmatch(text.strip()):
        raise CalcatReplyError(f"{origin}: X-Total-Pages {text[:40]!r} is not a number of pages (CALCAT sends a "
                               "whole number); nothing was imported", origin)
    pages = int(text)
    if pages > MAX_PAGES:
        raise CalcatReplyError(f"{origin}: X-Total-Pages {pages} is more than the {MAX_PAGES} pages read here; "
                               "import fewer detectors or reports at once; nothing was imported", origin)
    return pages


def get_pages(fetch: Fetch, path: str, query: dict[str, str], body: Any = None,
              page_size: int = 500) -> Iterator[Reply]:
    """One :class:`Reply` per page of a listing (``page``, ``page_size``, ``X-Total-Pages``)."""
    page, pages = 1, 1
    while page <= pages:
        asked = {**query, "page": str(page), "page_size": str(page_size)}
        at = now_utc()
        status, headers, data = fetch(path, asked, body)
        origin = f"/api/{path} page {page}"
        yield Reply(path=path, query=asked, body=body, status=status, data=data,
                    runtime=runtime_of(header(headers, "X-Runtime"), origin), origin=origin, recorded_at=at)
        if status >= 400:
            return
        pages = total_pages(header(headers, "X-Total-Pages"), origin)
        page += 1


def get_one(fetch: Fetch, path: str, query: dict[str, str], origin: str) -> Reply:
    at = now_utc()
    status, _, data = fetch(path, query, None)
    return Reply(path=path, query=query, body=None, status=status, data=data, runtime=None, origin=origin,
                 recorded_at=at)


def token_from_env(name: str | None) -> str | None:
    if name is None:
        return None
    token = os.environ.get(name)
    if not token:
        raise InvalidInputError(f"--token-env {name}: the environment variable is not set or empty")
    return token
