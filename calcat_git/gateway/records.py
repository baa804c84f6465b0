"""What the gateway remembers between the steps of an injection, beside the repository.

calibration-client makes a condition, a calibration constant (CC) and a report before
the CCV that needs them; only the CCV becomes catalog data (its batch file carries the
condition, calibration and report). The records in between are kept as JSON files in the
git directory (``calcat-git/gateway/<kind>/<id>.json``, written atomically), named by
their ids, which are stable functions of their content: a retried step finds its record
and answers the same id. Losing them loses nothing of the catalog (a CCV naming a CC
that is gone is refused with what to do).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from calcat_git.git.repo import GitRepo

KINDS = ("condition", "constant", "report", "ccv")


class Records:
    def __init__(self, repo: GitRepo) -> None:
        self.folder = repo.common_dir() / "calcat-git" / "gateway"

    def _path(self, kind: str, int_id: int) -> Path:
        assert kind in KINDS
        return self.folder / kind / f"{int(int_id)}.json"

    def get(self, kind: str, int_id: int) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads(self._path(kind, int_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return found

    def put(self, kind: str, int_id: int, data: dict[str, Any]) -> None:
        path = self._path(kind, int_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(temp, path)
