"""New registry records in one step: a calibration, a parameter, a detector. Each writes
the record's file and adds its name to the detector types it belongs to (their files keep
their layout), and joins the types' look-up rules where they have them (:mod:`.rules`)."""

from __future__ import annotations

import copy
import re
from typing import Any

from calcat_git.edit import rules
from calcat_git.edit.draft import Draft
from calcat_git.edit.yamltext import appended, checked, data_of, dump
from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.files.config import load_config
from calcat_git.files.loading import Registry
from calcat_git.model.records import Calibration, Detector, DetectorType, Module, Parameter


def _type(reg: Registry, name: str) -> DetectorType:
    if name not in reg.detector_types:
        raise NotFoundError(f"unknown detector type {name!r}{closest_names(name, list(reg.detector_types))}")
    return reg.detector_types[name]


def _type_file(draft: Draft, name: str) -> tuple[str, str, dict[str, Any]]:
    path = draft.registry().files[("detector_type", name)]
    text = (draft.read(path) or b"").decode("utf-8")
    return path, text, data_of(text)


def add_calibration(draft: Draft, name: str, types: list[str], parameters: list[str],
                    description: str | None = None) -> list[str]:
    """Calibration ``name`` for each of ``types``, looked up with ``parameters`` (each one of
    the type's); returns the files written."""
    reg = draft.registry()
    if not types or not parameters:
        raise InvalidInputError("a calibration needs at least one --type and one --parameter")
    for type_name in types:
        dtype = _type(reg, type_name)
        if name in dtype.calibrations:
            raise InvalidInputError(f"{type_name} has calibration {name!r} already")
        for parameter in parameters:
            if parameter not in dtype.parameters:
                close = closest_names(parameter, list(dtype.parameters))
                raise NotFoundError(f"{type_name} has no parameter {parameter!r}{close}: add it first "
                                    f"(`calcat-git add-parameter '{parameter}' --type {type_name}`)")
    written = []
    if name in reg.calibrations:
        if description is not None:
            raise InvalidInputError(f"calibration {name!r} exists ({reg.files[('calibration', name)]}): its description "
                                    "is edited there; leave --description out to add it to more types")
    else:
        path = f"registry/calibrations/{name}.yaml"
        draft.put(path, dump(Calibration(identifier=name, description=description).to_dict()).encode())
        written.append(path)
    for type_name in types:
        path, text, data = _type_file(draft, type_name)
        wanted = {**data, "calibrations": [*data["calibrations"], name]}
        new = appended(text, "calibrations", name)
        if rules.has_rules(data):
            wanted = rules.wire_calibration(wanted, name, parameters)
            new = new and rules.entry_added(new, ("conditions", "calibrations"), name, list(parameters))
        draft.put(path, checked(new, wanted).encode())
        written.append(path)
    return written


def _number(value: Any, what: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(f"{what} {value!r} is not a number (give --text for a text parameter)") from None
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", value.strip()) else number


def add_parameter(draft: Draft, name: str, types: list[str], *, calibrations: tuple[str, ...] = (),
                  default: Any = None, legacy: Any = None, lower_deviation: float | None = None,
                  upper_deviation: float | None = None, unit: str | None = None, text: bool = False) -> list[str]:
    """Parameter ``name`` (a CALCAT spelling) for each of ``types``; returns the files written.
    A spelling the catalog knows reuses its parameter file; ``calibrations``, ``default`` and
    ``legacy`` go into the types' look-up rules (a parameter without a default is left out
    of a look-up unless given)."""
    reg = draft.registry()
    if not types:
        raise InvalidInputError("a parameter needs at least one --type")
    if not text:
        default, legacy = _number(default, "--default"), _number(legacy, "--legacy")
    written = _parameter_file(draft, reg, name, unit, lower_deviation, upper_deviation)
    for type_name in types:
        dtype = _type(reg, type_name)
        if name in dtype.parameters:
            raise InvalidInputError(f"{type_name} has parameter {name!r} already")
        unknown = [c for c in calibrations if c not in dtype.calibrations]
        if unknown:
            raise NotFoundError(f"{type_name} has no calibration {unknown[0]!r}"
                                f"{closest_names(unknown[0], list(dtype.calibrations))}")
        path, old, data = _type_file(draft, type_name)
        wanted = {**copy.deepcopy(data), "parameters": [*data["parameters"], name]}
        new = appended(old, "parameters", name)
        if rules.has_rules(data):
            rule = rules.rule_of("text" if text else "number", default, legacy)
            wanted = rules.wire_parameter(wanted, name, rule, list(calibrations))
            new = new and rules.entry_added(new, ("conditions", "parameters"), name, rule)
            for calibration in calibrations:
                new = new and rules.item_appended(new, ("conditions", "calibrations"), calibration, name)
        elif calibrations or default is not None or legacy is not None:
            raise rules.no_rules(type_name, "--calibration, --default or --legacy")
        draft.put(path, checked(new, wanted).encode())
        written.append(path)
    return written


def _parameter_file(draft: Draft, reg: Registry, name: str, unit: str | None, lower: float | None,
                    upper: float | None) -> list[str]:
    existing = reg.parameter_by_spelling().get(name)
    if existing is not None:
        given = {"unit": unit, "lower_deviation": lower, "upper_deviation": upper}
        differ = [k for k, v in given.items() if v is not None and v != getattr(existing, k)]
        if differ:
            raise InvalidInputError(f"parameter {name!r} exists ({reg.files[('parameter', existing.identifier)]}) with "
                                    f"another {differ[0]}: every type shares that file, so edit it there")
        return []
    identifier = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "parameter"
    path = f"registry/parameters/{identifier}.yaml"
    if draft.exists(path):
        raise InvalidInputError(f"{path} exists (spellings {', '.join(reg.parameters[identifier].spellings)}): if "
                                f"{name!r} is another spelling of it, add it to its spellings by hand")
    record = Parameter(identifier=identifier, spellings=(name,), unit=unit or "", lower_deviation=lower or 0.0,
                       upper_deviation=upper or 0.0)
    draft.put(path, dump(record.to_dict()).encode())
    return [path]


def add_detector(draft: Draft, identifier: str, detector_type: str, instrument: str, modules: int,
                 first_module_index: int = 0, source_name_pattern: str | None = None) -> str:
    """A detector of ``modules`` slots named after the type's aggregator prefix (``AGIPD00``
    …), numbered from ``first_module_index``; experts: the catalog's admins. Returns its file."""
    reg = draft.registry()
    dtype = _type(reg, detector_type)
    if instrument not in reg.instruments:
        raise NotFoundError(f"unknown instrument {instrument!r}{closest_names(instrument, list(reg.instruments))}")
    if identifier in reg.detectors:
        raise InvalidInputError(f"detector {identifier!r} exists already: {reg.files[('detector', identifier)]}")
    if modules < 1 or first_module_index < 0:
        raise InvalidInputError("--modules is at least 1 and --first-module-index at least 0")
    numbers = range(first_module_index, first_module_index + modules)
    record = Detector(
        identifier=identifier, detector_type=detector_type, instruments=(instrument,), karabo_id_control=identifier,
        source_name_pattern=source_name_pattern or f"{identifier}/DET/{{modno}}CH0:xtdf",
        experts=tuple(load_config(draft.root).get("admins", ())),
        modules=tuple(Module(aggregator=f"{dtype.aggregator_prefix}{n:02d}", virtual_device_name="", module_number=n)
                      for n in numbers))
    path = f"registry/detectors/{identifier}.yaml"
    draft.put(path, dump(record.to_dict()).encode())
    return path
