"""JSON Schemas (draft 2020-12) of the catalog's file kinds, shipped in the package.

A file is checked first by its schema compiled to Python (fastjsonschema: the schemas use
only keywords that draft 7 shares with 2020-12); only a file that fails is checked again
by jsonschema, whose errors make the messages. Compiled, a batch file's check costs a
small fraction of its YAML parse instead of more than the parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.timeutil import parse_timestamp

KINDS = (
    "detector_type", "calibration", "parameter", "instrument", "pdu", "detector",
    "mapping", "constants",
)


def schema_text(kind: str) -> str:
    """The JSON text of the schema of ``kind`` (as shipped)."""
    if kind not in KINDS:
        raise NotFoundError(
            f"no schema kind {kind!r}{closest_names(kind, list(KINDS))}; "
            f"kinds: {', '.join(KINDS)}"
        )
    return resources.files("calcat_git").joinpath(f"files/schemas/{kind}.json").read_text("utf-8")


@cache
def _validator(kind: str) -> Any:
    import jsonschema  # imported on use (about 0.1 s): only validation checks a schema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("utc-timestamp", raises=InvalidInputError)(_is_timestamp)
    schema = json.loads(schema_text(kind))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


@cache
def _compiled(kind: str) -> Any:
    import fastjsonschema  # imported on use, as above

    schema = {k: v for k, v in json.loads(schema_text(kind)).items() if k != "$schema"}
    return fastjsonschema.compile(schema, formats={"utc-timestamp": _is_valid_timestamp})


def compile_all() -> None:
    """Compile every kind's schema now (before worker processes fork: they inherit them)."""
    for kind in KINDS:
        _compiled(kind)


def _is_valid_timestamp(value: object) -> bool:
    try:
        return _is_timestamp(value)
    except InvalidInputError:
        return False


def _is_timestamp(value: object) -> bool:
    if isinstance(value, str):
        parse_timestamp(value)
    return True


def _message(error: Any) -> str:
    if error.validator == "format" and error.cause is not None:
        return str(error.cause)
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"unknown key {', '.join(map(repr, extra))} (allowed: {allowed})"
    if isinstance(error.schema, dict) and "x-error" in error.schema:
        return f"{error.instance!r} {error.schema['x-error']}"
    if error.validator == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__}"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is missing (required)")
    return str(error.message)


def _best(error: Any) -> Any:
    """For anyOf/oneOf keep our own message or the deepest sub-error."""
    if error.validator in ("anyOf", "oneOf") and "x-error" not in error.schema and error.context:
        return _best(max(error.context, key=lambda e: len(e.absolute_path)))
    return error


def validate(kind: str, data: Any) -> Iterator[tuple[str, str]]:
    """Yield ``(dotted path, message)`` for every schema violation of ``data``."""
    try:
        _compiled(kind)(data)
        return
    except Exception:
        pass
    for error in sorted(_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.path))):
        error = _best(error)
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path = f"{path}.{extra[0]}" if path else extra[0]
        yield path, _message(error)
