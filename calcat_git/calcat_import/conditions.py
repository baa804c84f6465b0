"""A condition's parameter values as CALCAT gives them.

Two sources: the body of a recorded ``get_by_detector_conditions`` request (what a client
asked: ``{"parameter_name", "value"}``, text as text), and CALCAT's own
``/api/conditions/<id>`` record, whose ``parameters_conditions`` carry a number in
``value`` and a text parameter's text (LPD's ``Memory cell order``) in ``txt_value``,
with ``value: 0.0``. A text parameter is imported as its text: reading ``value`` alone
would import ``0.0`` and no look-up with the real text would find the constant.
"""

from __future__ import annotations

from typing import Any

from calcat_git.errors import CalcatReplyError

ConditionValues = tuple[tuple[str, float | str], ...]
Exact = tuple[tuple[str, float | str, float | None, float | None], ...]   # name, value, lower, upper


def asked(body: Any) -> ConditionValues:
    """The parameter values of a ``get_by_detector_conditions`` request body."""
    items = (body or {}).get("parameters_conditions_attributes")
    if not isinstance(items, list):
        raise CalcatReplyError("get_by_detector_conditions without parameters_conditions_attributes")
    return tuple(sorted((str(i["parameter_name"]), i["value"]) for i in items))


def _value(item: dict[str, Any]) -> float | str:
    """``txt_value`` when it holds text (then ``value`` is CALCAT's 0.0), else the number in
    ``value`` (text there too, as earlier versions of this project served it)."""
    value, text = item.get("value"), item.get("txt_value")
    if text is not None and not isinstance(text, str):
        raise CalcatReplyError(f"txt_value must be text or null, not {text!r}")
    if text:
        if value not in (None, 0, 0.0) or isinstance(value, bool):
            raise CalcatReplyError(f"both a number (value {value!r}) and a text (txt_value {text!r}): which one "
                                   "CALCAT matches is not known")
        return text
    if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
        raise CalcatReplyError(f"needs a number in value or a text in txt_value, not value {value!r}")
    return value


def _deviation(item: dict[str, Any], key: str) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalcatReplyError(f"{key} must be a number, not {value!r}")
    return float(value)


def exact(record: dict[str, Any]) -> Exact:
    """The values and deviations of a ``/api/conditions/<id>`` record (text has no deviations)."""
    items: list[tuple[str, float | str, float | None, float | None]] = []
    for n, item in enumerate(record["parameters_conditions"]):
        name = item.get("parameter_name") or (item.get("parameter") or {}).get("name")
        try:
            if not isinstance(name, str) or not name:
                raise CalcatReplyError("needs a parameter_name")
            value = _value(item)
            if isinstance(value, str):
                items.append((name, value, None, None))
            else:
                items.append((name, value, _deviation(item, "lower_deviation_value"),
                              _deviation(item, "upper_deviation_value")))
        except CalcatReplyError as exc:
            raise CalcatReplyError(f"parameters_conditions[{n}] ({name!r}): {exc}",
                                   record=f"parameters_conditions[{n}]") from None
    return tuple(sorted(items, key=lambda i: i[0]))
