"""The catalog's own settings: ``calcat-git.yaml`` at the catalog root (optional).

    store: .store                      # constant store root, relative to the catalog root
    admins: ["@xfel/calcat-admins"]    # own PDUs, detector types, calibrations, … (CODEOWNERS)
    site_url: https://calibration.example/catalog   # where the static site is published (view_url)
    name: European XFEL calibration catalog     # the site's title and the feeds' name
    time_zone: Europe/Berlin           # the facility's zone: CALCAT clients' naive times are read in it
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from calcat_git.errors import InvalidInputError
from calcat_git.files.schema import schema_text
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.timeutil import facility_zone

CONFIG_FILE = "calcat-git.yaml"
KEYS: dict[str, type] = {"store": str, "admins": list, "site_url": str, "name": str, "time_zone": str}
DEFAULT_NAME = "calcat-git catalog"
DEFAULT_TIME_ZONE = "Europe/Berlin"
SITE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x7e]*)?")  # printable ASCII, no spaces


@cache
def _owner_rule() -> tuple[re.Pattern[str], str]:
    """The forge's owner syntax (a user or a team), as the detector schema states it for experts."""
    item = json.loads(schema_text("detector"))["properties"]["experts"]["items"]
    return re.compile(item["pattern"].removeprefix("^").removesuffix("$")), str(item["x-error"])


def owner_problem(owner: object) -> str | None:
    """Why ``owner`` is not a forge user or team (``@name``, ``@org/team``); None if it is."""
    pattern, why = _owner_rule()
    return None if isinstance(owner, str) and pattern.fullmatch(owner) else f"{owner!r} {why}"


def _check_value(key: str, value: Any, where: str) -> None:
    if key == "admins":
        for i, owner in enumerate(value):
            problem = owner_problem(owner)
            if problem:
                raise InvalidInputError(f"{where}: admins.{i}: {problem}")
    elif key == "site_url" and not SITE_URL.fullmatch(value):
        raise InvalidInputError(f"{where}: site_url {value!r} must be an http:// or https:// address, such as "
                                "https://calibration.example/catalog")


def parse_config(raw: bytes, where: str = CONFIG_FILE) -> dict[str, Any]:
    try:
        data = load_yaml(raw).data
    except YamlError as exc:
        raise InvalidInputError(f"{where}:{exc.line}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}:1: expected a map with keys {', '.join(KEYS)}")
    for key, value in data.items():
        if key not in KEYS:
            raise InvalidInputError(f"{where}: unknown key {key!r} (allowed: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]):
            raise InvalidInputError(f"{where}: {key} must be a {KEYS[key].__name__}")
        _check_value(key, value, where)
    if "time_zone" in data:
        try:
            facility_zone(data["time_zone"])
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: time_zone: {exc}") from None
    return data


def load_config(root: str | Path) -> dict[str, Any]:
    """The settings of the catalog at ``root`` ({} when there is no config file)."""
    path = Path(root) / CONFIG_FILE
    return parse_config(path.read_bytes(), str(path)) if path.is_file() else {}


def catalog_name(root: str | Path) -> str:
    """The catalog's name (``name:``), shown as the site's title."""
    return str(load_config(root).get("name") or DEFAULT_NAME)


def time_zone(root: str | Path) -> str:
    """The facility's IANA time zone (``time_zone:``): where CALCAT's clients' naive times are read."""
    return str(load_config(root).get("time_zone") or DEFAULT_TIME_ZONE)
