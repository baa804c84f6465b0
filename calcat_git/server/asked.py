"""The conditions a client asks, from a request body: the server's one parser of them.

Two envelopes: EXtra's ``{"parameters_conditions_attributes": [...]}`` and calibration_client's
``{"condition": {"name", "flg_available", "event_at", "parameters_conditions_attributes",
"description"}}``. Each item names its parameter by ``parameter_name`` or ``parameter_id`` (an
integer or its text, as the client sends it) and gives ``value``; the client's other fields
(``lower_deviation_value``, ``upper_deviation_value``, ``flg_available``, ``description``)
are accepted and not used: a look-up matches with the catalog's deviations. Any other field
is refused.

Values: a question that names a detector (a look-up) keeps them as sent, and the detector
type's look-up rules read them (``LookupRules.explicit``, the one normalisation of the Python
API, the command line and the look-up page). Elsewhere (condition searches): a number is that
number; numeric text (``"300"``, as ``NUMERIC_TEXT`` reads it) is that number, except for a
text parameter; text that is no number, for a numeric parameter, is refused naming it.
A parameter is *text* when the catalog stores it as text (LPD's ``Memory cell order``),
*numeric* when it stores numbers; one the catalog never stores keeps text as text.
Names are checked against the catalog's spellings, and against the detector type's
parameters when the question names a detector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from calcat_git.errors import InvalidInputError, closest_names
from calcat_git.lookup.rules import NUMERIC_TEXT
from calcat_git.model.selection import Asked
from calcat_git.server.request import check_conditions

ENVELOPE = '{"parameters_conditions_attributes": [{"parameter_name": NAME, "value": VALUE}, …]}'
CLIENT_FIELDS = {"lower_deviation_value", "upper_deviation_value", "flg_available", "description"}
CONDITION_FIELDS = {"parameters_conditions_attributes", "name", "flg_available", "event_at", "description"}


@dataclass(frozen=True)
class Parameters:
    """What the parser needs of the catalog's parameters."""

    by_id: dict[int, str]  # integer id -> spelling
    text: frozenset[str]  # spellings stored as text
    numeric: frozenset[str]  # spellings stored as numbers
    spellings: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AskedCondition:
    """A parsed body: the asked values, and the client's ``event_at`` text if it sent one."""

    asked: Asked
    event_at: str | None = None


def _items(body: Any) -> tuple[list[Any], str | None]:
    if isinstance(body, dict) and set(body) == {"condition"} and isinstance(body["condition"], dict):
        condition = body["condition"]
        unknown = sorted(set(condition) - CONDITION_FIELDS)
        if unknown:
            raise InvalidInputError(f"unknown field(s) of the condition: {', '.join(unknown)} "
                                    f"(known: {', '.join(sorted(CONDITION_FIELDS))})")
        items, event_at = condition.get("parameters_conditions_attributes"), condition.get("event_at")
        if event_at is not None and not isinstance(event_at, str):
            raise InvalidInputError(f"the condition's event_at must be a time as text, not {event_at!r}")
    elif isinstance(body, dict) and set(body) == {"parameters_conditions_attributes"}:
        items, event_at = body["parameters_conditions_attributes"], None
    else:
        raise InvalidInputError(f'the JSON body must be {ENVELOPE} or {{"condition": {{…, '
                                '"parameters_conditions_attributes": [...]}}')
    if not isinstance(items, list):
        raise InvalidInputError(f"parameters_conditions_attributes must be a list: {ENVELOPE}")
    return items, event_at or None


def _name(item: dict[str, Any], parameters: Parameters) -> str:
    has_name, has_id = "parameter_name" in item, "parameter_id" in item
    if has_name == has_id:
        raise InvalidInputError(f"each condition names its parameter by parameter_name or parameter_id (one of them), "
                                f"got {item!r}")
    if has_name:
        name = item["parameter_name"]
        if not isinstance(name, str):
            raise InvalidInputError(f"condition {item!r}: parameter_name must be a string")
        return name
    raw = item["parameter_id"]
    text = raw if isinstance(raw, str) else None
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else \
        int(text) if text is not None and text.isascii() and text.isdigit() and len(text) <= 19 else None
    if number is None:
        raise InvalidInputError(f"condition {item!r}: parameter_id must be an integer id")
    if number not in parameters.by_id:
        raise InvalidInputError(f"no parameter with id {number} (condition {item!r})")
    return parameters.by_id[number]


def _value(name: str, raw: Any, parameters: Parameters) -> float | str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InvalidInputError(f"parameter {name!r}: the value must be a number or a string, not {raw!r}")
    if not isinstance(raw, str):
        return float(raw)
    if name in parameters.text:
        return raw
    number = float(raw.strip()) if NUMERIC_TEXT.fullmatch(raw.strip()) else math.nan  # the look-up rules' numeric text
    if math.isfinite(number):
        return number
    if name in parameters.numeric:
        shown = raw if len(raw) <= 40 else f"{raw[:40]}… ({len(raw)} characters)"
        raise InvalidInputError(f"parameter {name!r} is numeric: {shown!r} is not a number")
    return raw


def check_names(asked: Asked, known: list[str], what: str) -> None:
    """Every asked parameter is one of ``known`` (``what``: whose parameters they are)."""
    for name in asked:
        if name not in known:
            hint = closest_names(name, known) or f" (it has {', '.join(known)})"
            raise InvalidInputError(f"{what} has no parameter {name!r}{hint}")


def parse_asked(body: Any, parameters: Parameters, type_parameters: list[str] | None = None,
                type_name: str = "") -> AskedCondition:
    """The asked condition of a request body (see the module's text); ``type_parameters``:
    the parameters of the question's detector type, if it names one."""
    items, event_at = _items(body)
    asked: Asked = {}
    for item in items:
        if not isinstance(item, dict) or "value" not in item:
            raise InvalidInputError(f"each condition must be an object with a parameter and a value, got {item!r}")
        unknown = sorted(set(item) - CLIENT_FIELDS - {"parameter_name", "parameter_id", "value"})
        if unknown:
            raise InvalidInputError(f"unknown field(s) {', '.join(unknown)} in condition {item!r}")
        name = _name(item, parameters)
        if name in asked:
            raise InvalidInputError(f"parameter {name!r} is given twice")
        raw = item["value"]
        if type_parameters is not None and isinstance(raw, int | float | str) and not isinstance(raw, bool):
            asked[name] = raw  # the detector type's look-up rules read it (LookupRules.explicit)
        else:
            asked[name] = _value(name, raw, parameters)
    check_conditions(asked)  # the bounds first: a huge question is refused before any work
    check_names(asked, sorted(parameters.spellings), "the catalog")
    if type_parameters is not None:
        check_names(asked, type_parameters, type_name)
    return AskedCondition(asked, event_at)
