"""What a CALCAT reply must look like before any of it is believed.

Replies are input: a malformed one is refused with one line naming the reply and the
field (``file#interaction: /api/path: [3].physical_detector_unit.uuid: …``), never
coerced (``"12"``, ``12.0`` or ``true`` is not an id) and never a traceback.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from calcat_git.errors import CalcatReplyError

MAX_DEPTH = 32
TIMES = ("begin_at", "end_at", "begin_validity_at", "end_validity_at", "created_at", "updated_at")  # with offsets
# the name every record of a kind has (by the reply's first path part or the nesting key)
NAME_OF = {"calibrations": "name", "detector_types": "name", "detector_type": "name", "instruments": "identifier",
           "detectors": "identifier", "detector": "identifier", "physical_detector_units": "physical_name",
           "physical_detector_unit": "physical_name"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return f"a time must be a string, not {value!r}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 time"
    return None if parsed.tzinfo is not None else f"{value!r} has no UTC offset (CALCAT's record times have one)"


def _field_problem(key: str, value: Any) -> str | None:
    if key == "id" or key == "uuid":
        return None if _is_int(value) else f"must be an integer, not {value!r}"
    if key.endswith(("_id", "_id_at_ccv_begin_at")):
        return None if value is None or _is_int(value) else f"must be an integer or null, not {value!r}"
    if key in TIMES:
        return _time_problem(value)
    return None


def _record_problem(kind: str, record: dict[str, Any]) -> tuple[str, str] | None:
    name = NAME_OF.get(kind)
    if name is not None and "id" in record and not (isinstance(record.get(name), str) and record[name]):
        return name, f"the record has no {name!r} (a non-empty string)"
    for key, value in record.items():
        problem = _field_problem(key, value)
        if problem:
            return key, problem
    return None


def check_reply(path: str, data: Any) -> None:
    """Raise :class:`CalcatReplyError` (``where: problem``) for the first malformed field."""
    stack: list[tuple[Any, str, str, int]] = [(data, path.split("/")[0], "", 0)]
    while stack:
        node, kind, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CalcatReplyError(f"{where or 'the reply'}: JSON nested deeper than {MAX_DEPTH} levels", record=where)
        if isinstance(node, list):
            stack.extend((item, kind, f"{where}[{i}]", depth + 1) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, dict):
            found = _record_problem(kind, node)
            if found:
                raise CalcatReplyError(f"{where}.{found[0]}: {found[1]}".lstrip("."), record=where)
            stack.extend((value, key, f"{where}.{key}", depth + 1) for key, value in node.items()
                         if isinstance(value, dict | list))


def json_depth_ok(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests at most ``limit`` levels (checked before parsing it)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (not escaped and char == "\\"), in_string and (escaped or char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
MAX_NAME = 100


def file_name_problem(name: Any) -> str | None:
    """Why a name from a reply cannot become a catalog file name (None if it can)."""
    if not isinstance(name, str) or not name:
        return "it is not a non-empty string"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains a control character"
    if name.startswith("/"):
        return "it is an absolute path"
    if ".." in name.split("/"):
        return "it climbs out of its folder (..)"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if len(name) > MAX_NAME:
        return f"it is longer than {MAX_NAME} characters"
    if not NAME.match(name):
        return "only letters, digits and _ . + - are allowed (starting with a letter or digit)"
    return None


def check_file_name(kind: str, calcat_id: Any, name: Any) -> str:
    """``name`` if it can be a file name, else :class:`CalcatReplyError` naming the record."""
    problem = file_name_problem(name)
    if problem:
        raise CalcatReplyError(f"CALCAT {kind} id {calcat_id}: name {name!r} cannot be a file name here: {problem}; "
                               "nothing was written", record=f"{kind} id {calcat_id}")
    return str(name)
