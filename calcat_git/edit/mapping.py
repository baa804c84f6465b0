"""Module swaps and moves (a change appended to mapping files) and new PDUs, written as
the text a person would write."""

from __future__ import annotations

from datetime import datetime

import yaml

from calcat_git.edit.draft import Draft
from calcat_git.errors import InvalidInputError, NotFoundError, closest_names
from calcat_git.files.loading import Registry
from calcat_git.model.records import PDU, Detector
from calcat_git.timeutil import format_timestamp

EMPTY = ("-", "null", "none", "empty")  # a PDU value that empties the slot


def _scalar(key: str, value: str) -> str:
    """``key: value`` as YAML writes it (quoted only where needed), on one line."""
    return yaml.safe_dump({key: value}, width=10**6, allow_unicode=True, sort_keys=False).rstrip("\n")


def dump(record: dict[str, object]) -> bytes:
    """A new registry file's text, keys in the record's order."""
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=120).encode()


def change_text(valid_from: datetime, reason: str, modules: dict[str, str | None]) -> str:
    """One mapping change, indented as the catalog's mapping files are."""
    lines = [f'  - from: "{format_timestamp(valid_from)}"', "    " + _scalar("reason", reason), "    modules:"]
    lines += [f"      {slot}: {pdu or 'null'}" for slot, pdu in modules.items()]
    return "\n".join(lines) + "\n"


def _slot(det: Detector, name: str) -> str:
    for module in det.modules:
        if name in (module.aggregator, module.virtual_device_name):
            return module.aggregator
    names = [m.aggregator for m in det.modules] + [m.virtual_device_name for m in det.modules if m.virtual_device_name]
    raise NotFoundError(f"{det.identifier} has no module {name!r}{closest_names(name, names)} "
                        f"(modules: {', '.join(m.aggregator for m in det.modules)})")


def _where(reg: Registry, pdu: str, at: datetime) -> tuple[str, str] | None:
    """(detector, slot) where ``pdu`` sits at ``at``, if anywhere."""
    for name, mapping in reg.mappings.items():
        for slot, held in mapping.state_at(at).items():
            if held == pdu:
                return name, slot
    return None


def _appended(draft: Draft, rel: str, text: str) -> bytes:
    """The mapping file ``rel`` with ``text`` appended to its ``changes`` list."""
    old = (draft.read(rel) or b"").decode("utf-8")
    top = [line for line in old.splitlines() if line and not line[0].isspace() and not line.startswith("#")]
    if not top or not top[-1].startswith("changes:"):
        raise InvalidInputError(f"{rel}: 'changes:' is not the last key, so a change cannot be appended: edit it by hand")
    return (old + ("" if old.endswith("\n") else "\n") + text).encode()


def _assigned(reg: Registry, det: Detector, assignments: dict[str, str]) -> dict[str, str | None]:
    """Slot → PDU (None: emptied) of ``assignments``, with slot names and PDUs checked, and
    each slot named once."""
    modules: dict[str, str | None] = {}
    named: dict[str, str] = {}
    for name, pdu in assignments.items():
        if pdu.lower() not in EMPTY and pdu not in reg.pdus:
            raise NotFoundError(
                f"unknown PDU {pdu!r}{closest_names(pdu, list(reg.pdus))}: an admin adds it first (`calcat-git add-pdu`)"
            )
        slot = _slot(det, name)
        if slot in named:
            raise InvalidInputError(f"{named[slot]} and {name} both name slot {slot}: give each slot once")
        named[slot] = name
        modules[slot] = None if pdu.lower() in EMPTY else pdu
    return modules


def swap(draft: Draft, detector: str, assignments: dict[str, str], valid_from: datetime, reason: str) -> dict[str, str]:
    """Append a swap or move to the mapping files it changes; returns path → text appended.

    ``assignments`` maps slots (aggregator or ``Q1M2`` name) to PDUs (or ``-`` to empty
    the slot). A PDU that sits elsewhere at ``valid_from`` leaves that slot at the same
    time: in the same change for a slot of this detector, else in a change appended to
    the other detector's mapping."""
    reg = draft.registry()
    if detector not in reg.detectors:
        raise NotFoundError(f"unknown detector {detector!r}{closest_names(detector, list(reg.detectors))}")
    if not assignments:
        raise InvalidInputError("a swap names at least one SLOT=PDU")
    modules = _assigned(reg, reg.detectors[detector], assignments)
    mapping = reg.mappings.get(detector)
    if mapping is None:  # its first change starts the file
        path = f"registry/mappings/{detector}.yaml"
        if draft.exists(path):
            raise InvalidInputError(f"{path} does not load: fix it first (`calcat-git validate`)")
        draft.put(path, f"detector: {detector}\nchanges:\n".encode())
        reg = draft.registry()
        mapping = reg.mappings.get(detector)
    last = max((c.valid_from for c in mapping.changes), default=None) if mapping else None
    if last is not None and valid_from <= last:
        raise InvalidInputError(f"--from {format_timestamp(valid_from)} is not after {detector}'s last change "
                                f"({format_timestamp(last)}): to fix a past change, edit it by hand and add "
                                f"`correction: <why>` to it")
    others: dict[str, dict[str, str | None]] = {}
    for slot, held in list(modules.items()):
        where = _where(reg, held, valid_from) if held else None
        if where is None or where == (detector, slot):
            continue
        if where[0] == detector:
            modules.setdefault(where[1], None)
        else:
            others.setdefault(where[0], {})[where[1]] = None
    added = {f"registry/mappings/{detector}.yaml" if mapping is None else reg.files[("mapping", detector)]:
             change_text(valid_from, reason, modules)}
    for other, emptied in others.items():
        moved = ", ".join(f"{p} to {detector}" for p in modules.values() if p and _where(reg, p, valid_from) in
                          {(other, s) for s in emptied})
        added[reg.files[("mapping", other)]] = change_text(valid_from, f"{moved}: {reason}", emptied)
    for path, text in added.items():
        draft.put(path, _appended(draft, path, text))
    return added


def add_pdu(draft: Draft, name: str, detector_type: str, uuid: int, description: str | None = None) -> str:
    """A new PDU file, from the schema's template for the type; returns its path."""
    reg = draft.registry()
    if detector_type not in reg.detector_types:
        raise NotFoundError(f"unknown detector type {detector_type!r}{closest_names(detector_type, list(reg.detector_types))}")
    if name in reg.pdus:
        raise InvalidInputError(f"PDU {name!r} already exists: {reg.files[('pdu', name)]}")
    taken = [p.physical_name for p in reg.pdus.values() if p.uuid == uuid]
    if taken:
        raise InvalidInputError(f"uuid {uuid} is already {taken[0]}'s: every PDU has its own uuid")
    record = PDU(physical_name=name, detector_type=detector_type, uuid=uuid, status="active", description=description)
    path = f"registry/pdus/{detector_type}/{name}.yaml"
    draft.put(path, dump(record.to_dict()))
    return path
