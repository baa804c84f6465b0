"""Runs calibration_client calls in the client's own environment (``.venv-client``) and
prints their results as JSON: the tests drive the real client through this script.

Reads one JSON object on standard input::

    {"base": "http://127.0.0.1:PORT/api/", "headers": {…}, "user_email": "…",
     "calls": [{"call": "get_calibration_by_id_api", "args": [1]},
               {"call": "Calibration.get_by_name", "args": ["Offset"]},
               {"call": "Condition.get_possible", "init": ["name", "true", null, [...], ""]}]}

A plain name is a method of ``CalibrationClient``; ``Class.method`` is a static method of
the client's ``modules`` class called with the client first, or, with ``init``, a method of
an instance made with ``Class(client, *init)``. Prints a JSON list, one item per call:
``{"result": …}`` (a ``requests.Response`` as ``{"status", "json"}``) or ``{"error": "Type: text"}``.
"""

import json
import sys

import requests
from calibration_client import CalibrationClient, modules


def _plain(value):
    if isinstance(value, requests.Response):
        try:
            body = value.json()
        except ValueError:
            body = value.text
        return {"status": value.status_code, "json": body}
    return value


def _run(client, spec):
    name = spec["call"]
    args, kwargs = spec.get("args", []), spec.get("kwargs", {})
    if "." not in name:
        return getattr(client, name)(*args, **kwargs)
    owner, method = name.split(".", 1)
    cls = getattr(modules, owner)
    if "init" in spec:
        return getattr(cls(client, *spec["init"]), method)(*args, **kwargs)
    return getattr(cls, method)(client, *args, **kwargs)


def main():
    request = json.load(sys.stdin)
    client = CalibrationClient(use_oauth2=False, base_api_url=request["base"],
                               user_email=request.get("user_email", "pipeline@example.org"))
    client.headers.update(request.get("headers", {}))  # e.g. a bearer token for a writing server
    out = []
    for spec in request["calls"]:
        try:
            out.append({"result": _plain(_run(client, spec))})
        except Exception as exc:  # reported to the test, which decides
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
