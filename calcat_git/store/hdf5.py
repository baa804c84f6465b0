"""Constant files in the layout European XFEL's calibration pipeline writes:

    /<PDU physical name>            attrs: uuid, detector_type
      /<calibration>
        /<n>                        attrs: begin_at (ISO-8601 with zone)
          /operating_condition/<key>  scalar value; attrs: database_name,
                                      lower_deviation, upper_deviation
          /data                     the constant

``write_constant`` writes it (deterministically: no timestamps, so the same input
gives the same bytes and checksum); ``read_constant_file`` reads every CCV in a file
and turns anything unexpected into one clear error naming the file and HDF5 path.

A constant file must hold all of its data, so that its sha256 covers everything a
constant reads: external links, external raw storage, virtual datasets and objects
reached by two links are refused (``check_self_contained``) before any value is read.
Sizes are checked from what the file declares, before reading: a constant's data at
most ``MAX_DATA_BYTES``, a condition value or attribute a scalar of at most
``MAX_VALUE_BYTES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from calcat_git.errors import ConstantFileError, InvalidInputError
from calcat_git.files.limits import INT_RANGE
from calcat_git.timeutil import format_timestamp, parse_timestamp

MAX_DATA_BYTES = 8 << 30  # declared size of one constant's data (8 GiB; AGIPD offsets are ~0.3 GiB)
MAX_VALUE_BYTES = 4096  # declared size of one condition value or attribute
ConditionSpec = float | int | str | tuple[float, float, float]  # value, or (value, lower, upper)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileCCV:
    """One CCV found in a constant file."""

    pdu: str
    uuid: int
    detector_type: str
    calibration: str
    dataset: str  # the CCV group, e.g. /Jungfrau_M035/Offset10Hz/0
    begin_at: datetime
    conditions: dict[str, Any]  # name -> value, or {value, lower_deviation, upper_deviation}
    file: str = ""  # the file it was read from, for messages


def write_constant(path: str | Path, *, pdu: str, uuid: int, detector_type: str, calibration: str, data: Any,
                   conditions: dict[str, ConditionSpec], begin_at: datetime | str, number: int = 0) -> str:
    """Add one CCV to the file at ``path`` (created if missing); returns its dataset path."""
    begin = parse_timestamp(begin_at) if isinstance(begin_at, str) else begin_at
    with h5py.File(path, "a", libver=("v110", "v110")) as handle:  # fixed format: same bytes, smaller
        unit = handle.require_group(pdu)
        unit.attrs["uuid"] = np.int64(uuid)
        unit.attrs["detector_type"] = detector_type
        ccv = unit.require_group(calibration).create_group(str(number))
        ccv.attrs["begin_at"] = format_timestamp(begin)
        cond = ccv.create_group("operating_condition")
        for name, spec in conditions.items():
            value, lower, upper = spec if isinstance(spec, tuple) else (spec, 0.0, 0.0)
            item = cond.create_dataset(name.lower().replace(" ", "_"), data=value, track_times=False)
            item.attrs["database_name"] = name
            item.attrs["lower_deviation"] = float(lower)
            item.attrs["upper_deviation"] = float(upper)
        ccv.create_dataset("data", data=np.asarray(data), track_times=False)
    return f"/{pdu}/{calibration}/{number}"


def _fail(path: Path, where: str, message: str) -> ConstantFileError:
    return ConstantFileError(f"{path}: {where}: {message}", path)


def _check_scalar(path: Path, where: str, what: str, shape: Any, dtype: Any) -> None:
    """A condition value or attribute must be one small scalar, judged before it is read."""
    if shape != () or dtype.subdtype is not None or dtype.itemsize > MAX_VALUE_BYTES:
        size = dtype.itemsize * (1 if shape is None else math.prod(shape))
        raise _fail(path, where, f"{what} must be a scalar of at most {MAX_VALUE_BYTES} bytes, "
                                 f"found shape {shape} of dtype {dtype} ({size} bytes declared)")


def _attr(path: Path, obj: Any, name: str, kind: type) -> Any:
    if name not in obj.attrs:
        raise _fail(path, obj.name, f"missing attribute {name!r}")
    declared = obj.attrs.get_id(name)
    _check_scalar(path, obj.name, f"attribute {name!r}", declared.shape, declared.dtype)
    value = obj.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if kind is int and hasattr(value, "dtype") and value.dtype.kind in "iu":
        return int(value)
    if kind is float and hasattr(value, "dtype") and value.dtype.kind in "iuf":
        return float(value)
    if not isinstance(value, kind):
        raise _fail(path, obj.name, f"attribute {name!r} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _conditions(path: Path, group: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in group.items():
        if not isinstance(item, h5py.Dataset) or item.shape != ():
            raise _fail(path, f"{group.name}/{key}", "a condition must be a scalar dataset")
        _check_scalar(path, item.name, "a condition value", item.shape, item.dtype)
        value = item[()]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif hasattr(value, "dtype") and value.dtype.kind in "iufb":
            value = value.item()
        else:
            raise _fail(path, item.name, f"condition value of type {type(value).__name__} is not a number or string")
        if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, int) and not INT_RANGE[0] <= value <= INT_RANGE[1]):
            raise _fail(path, item.name, f"condition value {value} is not a finite number in the 64-bit range")
        name = _attr(path, item, "database_name", str)
        lower, upper = _attr(path, item, "lower_deviation", float), _attr(path, item, "upper_deviation", float)
        out[name] = value if lower == upper == 0 else {"value": value, "lower_deviation": lower,
                                                       "upper_deviation": upper}
    return out


def _ccv(path: Path, unit: Any, calibration: str, group: Any) -> FileCCV:
    if "data" not in group or not isinstance(group["data"], h5py.Dataset):
        raise _fail(path, group.name, "missing the 'data' dataset")
    data = group["data"]
    if data.dtype.kind not in "iufb":
        raise _fail(path, data.name, f"data of dtype {data.dtype} is not numeric")
    declared = data.dtype.itemsize * math.prod(data.shape or ())
    if declared > MAX_DATA_BYTES:
        raise _fail(path, data.name, f"declares {declared} bytes of data ({declared / 2**30:.1f} GiB), more than "
                                     f"the {MAX_DATA_BYTES >> 30} GiB limit of a constant")
    if "operating_condition" not in group:
        raise _fail(path, group.name, "missing the 'operating_condition' group")
    text = _attr(path, group, "begin_at", str)
    try:
        begin_at = parse_timestamp(text, "begin_at")
    except InvalidInputError as exc:
        raise _fail(path, group.name, str(exc)) from None
    return FileCCV(pdu=unit.name.strip("/"), uuid=_attr(path, unit, "uuid", int), file=str(path),
                   detector_type=_attr(path, unit, "detector_type", str), calibration=calibration,
                   dataset=group.name, begin_at=begin_at, conditions=_conditions(path, group["operating_condition"]))


def _groups(path: Path, group: Any) -> list[tuple[str, Any]]:
    """The members of ``group``, which must be an HDF5 group of groups."""
    if not isinstance(group, h5py.Group):
        raise _fail(path, group.name, "expected a group (layout /<PDU>/<calibration>/<n>/), found a dataset")
    return list(group.items())


def _link_problem(link: Any, name: str) -> str | None:
    if isinstance(link, h5py.ExternalLink):
        return f"external link to {link.filename}:{link.path}: a constant file must hold all of its data"
    if isinstance(link, h5py.SoftLink):
        return f"soft link to {link.path}: each object must be reached by one path only"
    if not isinstance(link, h5py.HardLink):
        return f"link of unknown class {type(link).__name__} at {name}"
    return None


def _dataset_problem(obj: Any) -> str | None:
    if obj.is_virtual:
        return "virtual dataset (its data lives in other files): a constant file must hold all of its data"
    if obj.external:
        files = ", ".join(str(entry[0]) for entry in obj.external)
        return f"dataset stored in external files ({files}): a constant file must hold all of its data"
    return None


def check_self_contained(path: Path, handle: Any) -> None:
    """Refuse links and storage that reach outside the file or share one object (see above)."""
    seen: dict[Any, str] = {}
    pending = [handle["/"]]
    while pending:
        group = pending.pop()
        for key in group:  # link names only: nothing is followed yet
            name = f"{group.name.rstrip('/')}/{key}"
            why = _link_problem(group.get(key, getlink=True), name)
            if why:
                raise _fail(path, name, why)
            obj = group[key]
            address = h5py.h5o.get_info(obj.id).addr
            if address in seen:
                raise _fail(path, name, f"is the same object as {seen[address]} (a hard link): each object must "
                                        "be reached by one path only")
            seen[address] = name
            why = _dataset_problem(obj) if isinstance(obj, h5py.Dataset) else None
            if why:
                raise _fail(path, name, why)
            if isinstance(obj, h5py.Group):
                pending.append(obj)


def read_data(path: str | Path, dataset: str) -> Any:
    """``<dataset>/data`` of a constant file as a numpy array, checked like an injected file first."""
    path = Path(path)
    with h5py.File(path, "r") as handle:
        check_self_contained(path, handle)
        data = handle[dataset]["data"]
        declared = data.dtype.itemsize * math.prod(data.shape or ())
        if declared > MAX_DATA_BYTES:
            raise _fail(path, data.name, f"declares {declared} bytes of data, more than the {MAX_DATA_BYTES >> 30} "
                                         "GiB limit of a constant")
        return data[()]


def read_constant_file(path: str | Path) -> list[FileCCV]:
    """Every CCV in a constant file; :class:`ConstantFileError` naming file and HDF5 path otherwise."""
    path = Path(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ConstantFileError(f"{path}: not a readable HDF5 file (truncated or not HDF5?): {exc}", path) from None
    with handle:
        found = []
        try:
            check_self_contained(path, handle)
            for unit in handle.values():
                for calibration, cal_group in _groups(path, unit):
                    for _, group in _groups(path, cal_group):
                        found.append(_ccv(path, unit, calibration, group))
        except (OSError, KeyError, AttributeError) as exc:
            raise ConstantFileError(f"{path}: damaged or unexpected HDF5 layout: {exc}", path) from None
    if not found:
        raise ConstantFileError(f"{path}: no constants found (expected /<PDU>/<calibration>/<n>/data)", path)
    return found
