"""The one parser of catalog files: a file's path and bytes → its record, or its problems.

Loading a working tree or a commit (``validate``), building the index and reading
mapping history all call :func:`parse_file`, so they never disagree about a file: strict
YAML, then the kind's JSON Schema, then the record's ``from_dict``. It never raises on
bad content; each problem names file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calcat_git.files import schema
from calcat_git.files.strict_yaml import LoadedYaml, YamlError, load_yaml
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.mapping import Mapping
from calcat_git.model.problems import Problem
from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Parameter

DATA_ROOTS = ("registry", "constants_index")
# registry sub-folder -> (kind, record class, key field)
REGISTRY_KINDS: dict[str, tuple[str, Any, str]] = {
    "detector_types": ("detector_type", DetectorType, "identifier"),
    "calibrations": ("calibration", Calibration, "identifier"),
    "parameters": ("parameter", Parameter, "identifier"),
    "instruments": ("instrument", Instrument, "identifier"),
    "pdus": ("pdu", PDU, "physical_name"),
    "detectors": ("detector", Detector, "identifier"),
    "mappings": ("mapping", Mapping, "detector"),
}
LAYOUT = ("not a catalog file here: the layout is "
          "registry/<kind>/<identifier>.yaml and constants_index/<detector>/<YYYY>/<stamp>-<slug>.yaml")
NOT_REGULAR = "symbolic link or submodule: catalog files must be regular files"


def classify(path: str) -> str | None:
    """The kind of the catalog file at repo-relative ``path``, or None if none."""
    parts = path.split("/")
    if not parts[-1].endswith(".yaml"):
        return None
    if parts[0] == "registry" and len(parts) >= 3 and parts[1] in REGISTRY_KINDS:
        depth = 4 if parts[1] == "pdus" else 3
        return REGISTRY_KINDS[parts[1]][0] if len(parts) == depth else None
    if parts[0] == "constants_index" and len(parts) == 4:
        return "constants"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    """One catalog file: its record (``key`` is the identifier; a batch's is its path), or
    the problems that kept it from loading (``record`` None)."""

    path: str
    kind: str | None
    key: str | None = None
    record: Any = None
    loaded: LoadedYaml | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.record is not None


def not_regular(path: str) -> ParsedFile:
    """An entry that is not a regular file (a symbolic link or a git submodule)."""
    return ParsedFile(path=path, kind=classify(path), problems=(
        Problem(file=path, line=1, field="", check="layout", message=NOT_REGULAR),))


def parse_file(path: str, raw: bytes) -> ParsedFile:
    """Strict YAML, the kind's JSON Schema, then the record: never raises on bad content."""
    kind = classify(path)
    if kind is None:
        return ParsedFile(path=path, kind=None, problems=(
            Problem(file=path, line=1, field="", check="layout", message=LAYOUT),))
    try:
        loaded = load_yaml(raw)
    except YamlError as exc:
        return ParsedFile(path=path, kind=kind, problems=(
            Problem(file=path, line=exc.line, field=exc.path, message=exc.message, check="yaml"),))
    errors = [Problem(file=path, line=loaded.line_of(field), field=field, message=message, check="schema")
              for field, message in schema.validate(kind, loaded.data)]
    if errors:
        return ParsedFile(path=path, kind=kind, loaded=loaded, problems=tuple(errors))
    cls, key = (ConstantBatch, path) if kind == "constants" else (REGISTRY_KINDS[path.split("/")[1]][1], None)
    try:
        record = cls.from_dict(loaded.data)
    except (KeyError, TypeError, ValueError) as exc:  # the schema should have caught it: say so, never crash
        return ParsedFile(path=path, kind=kind, loaded=loaded, problems=(
            Problem(file=path, line=1, field="", message=f"cannot be read: {exc}", check="schema"),))
    key = key or loaded.data[REGISTRY_KINDS[path.split("/")[1]][2]]
    return ParsedFile(path=path, kind=kind, key=key, record=record, loaded=loaded)
