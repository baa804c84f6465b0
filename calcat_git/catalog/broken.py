"""Files of a snapshot that do not load, and which look-ups they can change.

A commit whose catalog does not load is never answered from silently. A look-up that a
broken file can change is refused, naming the file; one it cannot change answers and
says the catalog has problems. What a file can change follows from where it lives (file
name = identifier): a batch under ``constants_index/<detector>/``, and a detector's own
detector or mapping file, change look-ups of that detector; a PDU file under
``registry/pdus/<type>/`` and a detector type's file, those of detectors of that type;
any other file (a calibration, a parameter, an instrument, a file out of place) may
change every look-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from calcat_git.errors import BrokenCatalogError


def shown(text: str) -> str:
    """``text`` as it is when it is printable, else quoted with escapes (JSON's), so that a
    file name with a line break or a control character cannot forge output lines."""
    return text if text.isprintable() else json.dumps(text)


@dataclass(frozen=True, slots=True)
class BrokenFile:
    """A file of a snapshot that does not load: its path, why, and the commit that
    brought this version of it (None when unknown, e.g. read from a working tree)."""

    path: str
    message: str
    commit: str | None = None

    def __str__(self) -> str:
        since = f" (since commit {self.commit[:12]})" if self.commit else ""
        return f"{shown(self.path)}{since}: {shown(self.message)}"

    def to_dict(self, severity: str) -> dict[str, Any]:
        return {"file": self.path, "commit": self.commit, "message": self.message, "severity": severity}


def subject(path: str) -> tuple[str, str] | None:
    """What a broken file can change: ``("detector", name)``, ``("detector_type", name)``,
    or None for the whole catalog."""
    parts = path.split("/")
    stem = parts[-1].removesuffix(".yaml")
    if parts[0] == "constants_index" and len(parts) >= 3:
        return "detector", parts[1]
    if parts[0] == "registry" and len(parts) == 3 and parts[1] in ("detectors", "mappings"):
        return "detector", stem
    if parts[0] == "registry" and len(parts) == 3 and parts[1] == "detector_types":
        return "detector_type", stem
    if parts[0] == "registry" and len(parts) == 4 and parts[1] == "pdus":
        return "detector_type", parts[2]
    return None


def touches(broken: BrokenFile, detector: str | None, detector_type: str | None) -> bool:
    """Can ``broken`` change a look-up of ``detector`` (of ``detector_type``, None if
    unknown)? A look-up of no particular detector (None) is changed by any file."""
    what = subject(broken.path)
    if what is None or detector is None:
        return True
    kind, name = what
    if kind == "detector":
        return name == detector
    return detector_type is None or name == detector_type


def summary(broken: list[BrokenFile], limit: int = 3) -> str:
    """The first few broken files, one after another, and how many more."""
    text = "; ".join(str(b) for b in broken[:limit])
    return text + (f"; and {len(broken) - limit} more" if len(broken) > limit else "")


def check(broken: list[BrokenFile], where: str, detector: str | None, detector_type: str | None) -> list[str]:
    """Refuse a look-up of ``detector`` that a file of ``broken`` can change
    (:class:`BrokenCatalogError` naming it); else what the answer must say about them."""
    touching = [b for b in broken if touches(b, detector, detector_type)]
    if touching:
        asked = f"a look-up of {shown(detector)}" if detector else "this command"
        raise BrokenCatalogError(
            f"the catalog at {where} does not load: {summary(touching)}; {asked} depends on it: fix or revert the "
            "file (`calcat-git validate` lists every problem), or read an earlier snapshot (--snapshot-at)")
    return [f"the catalog at {where} has {len(broken)} file(s) that do not load, not used by this look-up: "
            f"{summary(broken)}"] if broken else []
