"""The catalog's own settings: ``calcat-git.yaml`` at the catalog root (optional).

    store: .store                      # constant store root, relative to the catalog root
    admins: ["@xfel/calcat-admins"]    # own PDUs, detector types, calibrations, … (CODEOWNERS)
    site_url: https://calibration.example/catalog   # where the static site is published (view_url)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calcat_git.errors import InvalidInputError

CONFIG_FILE = "calcat-git.yaml"
KEYS = {"store": str, "admins": list, "site_url": str}


def parse_config(raw: bytes, where: str = CONFIG_FILE) -> dict[str, Any]:
    from calcat_git.files.strict_yaml import YamlError, load_yaml  # imported on use: cold look-ups parse no YAML

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
    return data


def load_config(root: str | Path) -> dict[str, Any]:
    """The settings of the catalog at ``root`` ({} when there is no config file)."""
    path = Path(root) / CONFIG_FILE
    return parse_config(path.read_bytes(), str(path)) if path.is_file() else {}
