"""Every endpoint and field of CALCAT's replies the importer knows, and what becomes of it.

A field is *mapped* (read into a catalog field; where the catalog would answer it
differently, CALCAT's value is kept verbatim in the record's ``calcat`` block), *kept*
(always verbatim in the ``calcat`` block) or *ignored* with the reason. Whatever is not
in these tables — a field, an endpoint — is *unknown*: the import summary lists it with
a count and the first reply it was seen in, never skipping it silently.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAPPED, KEPT = "mapped", "kept"
SLOT_NOW = ("where the PDU sat when the reply was recorded; the mapping is read from PDU snapshots and the "
            "*_at_ccv_begin_at fields")
BOOKKEEPING = "CALCAT's bookkeeping of the condition record; the catalog keeps its parameters' names, values and deviations"
FLOAT_UUID = "the uuid as a float: derived from uuid"

_REGISTRY = {"id": MAPPED, "description": MAPPED, "flg_available": MAPPED}
_PDU = {**_REGISTRY, "physical_name": MAPPED, "uuid": MAPPED, "detector_type_id": MAPPED, "float_uuid": FLOAT_UUID}
_CCV_SLOT = {f"{k}_at_ccv_begin_at": MAPPED for k in ("detector_id", "karabo_da", "virtual_device_name", "module_number")}

FIELDS: dict[str, dict[str, str]] = {
    "detector_type": {**_REGISTRY, "name": MAPPED},
    "instrument": {**_REGISTRY, "identifier": MAPPED, "name": MAPPED, "url": MAPPED},
    "calibration": {**_REGISTRY, "name": MAPPED, "unit_id": MAPPED, "max_value": MAPPED, "min_value": MAPPED,
                    "allowed_deviation": MAPPED},
    "detector": {**_REGISTRY, **dict.fromkeys(("name", "identifier", "karabo_name", "karabo_id_control",
                                               "source_name_pattern", "number_of_modules", "first_module_index",
                                               "detectors_instruments"), MAPPED)},
    "detector_instrument": {"detector_id": MAPPED, "instrument_id": MAPPED},
    "snapshot_pdu": {**_PDU, "detector_id": "the same as the request's detector_id", "karabo_da": MAPPED,
                     "virtual_device_name": MAPPED, "module_number": MAPPED, "detector": MAPPED,
                     "detector_type": MAPPED},
    "ccv_pdu": {**_PDU, "created_at": KEPT, "updated_at": KEPT, **dict.fromkeys(
        ("detector_id", "karabo_da", "virtual_device_name", "module_number"), SLOT_NOW), **_CCV_SLOT},
    "ccv": {**dict.fromkeys(("id", "file_name", "path_to_file", "data_set_name", "flg_deployed", "flg_good_quality",
                             "begin_at", "end_validity_at", "report_id", "description", "physical_detector_unit"),
                            MAPPED),
            **dict.fromkeys(("name", "begin_validity_at", "start_idx", "end_idx", "raw_data_location", "created_at",
                             "view_url", "calibration_constant"), KEPT)},
    "calibration_constant": dict.fromkeys(("id", "name", "detector_type_id", "calibration_id", "condition_id",
                                           "flg_auto_approve", "flg_available", "description", "created_at",
                                           "updated_at"), KEPT),
    "report": {"id": MAPPED, "file_path": MAPPED, "calibration_constant_versions": MAPPED,
               **dict.fromkeys(("name", "flg_available", "description", "user_id", "view_url"), KEPT)},
    "condition": {"id": MAPPED, "parameters_conditions": MAPPED,
                  **dict.fromkeys(("name", "flg_available", "description", "event_at", "created_at", "updated_at"),
                                  BOOKKEEPING)},
    "parameter_condition": {**dict.fromkeys(("parameter_name", "value", "txt_value", "lower_deviation_value",
                                             "upper_deviation_value"), MAPPED),
                            **dict.fromkeys(("id", "parameter_id", "condition_id", "flg_available", "description",
                                             "created_at", "updated_at"), BOOKKEEPING)},
}
# (kind, field) -> the kind of the record(s) nested there
NESTED = {("detector", "detectors_instruments"): "detector_instrument", ("snapshot_pdu", "detector"): "detector",
          ("snapshot_pdu", "detector_type"): "detector_type", ("ccv", "physical_detector_unit"): "ccv_pdu",
          ("ccv", "calibration_constant"): "calibration_constant", ("report", "calibration_constant_versions"): "ccv",
          ("condition", "parameters_conditions"): "parameter_condition"}
_ID = r"/[0-9]+"
# endpoint (path after /api/, ids as [0-9]+) -> the kind of its records
ENDPOINTS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), kind) for p, kind in (
    (f"detector_types(?:{_ID})?", "detector_type"), (f"instruments(?:{_ID})?", "instrument"),
    (f"calibrations(?:{_ID})?", "calibration"), (f"detectors(?:{_ID}|/get_all_by_instrument)?", "detector"),
    ("physical_detector_units/get_all_by_detector", "snapshot_pdu"),
    (f"calibration_constant_versions(?:{_ID}|/get_by_detector_conditions)?", "ccv"),
    (f"reports{_ID}", "report"), (f"conditions{_ID}", "condition"))]
IGNORED_ENDPOINTS = {"me": "the user record of the token that made the recording; not catalog data"}


def endpoint_kind(path: str) -> str | None:
    """The kind of record an endpoint answers, None for one the importer does not read."""
    return next((kind for pattern, kind in ENDPOINTS if pattern.fullmatch(path)), None)


def endpoint_name(path: str) -> str:
    """The endpoint with its ids as ``{id}`` (how the summary names it)."""
    return re.sub(r"/[0-9]+(?=/|$)", "/{id}", path)


@dataclass
class Seen:
    count: int = 0
    first: str = ""      # the first reply it was seen in
    reason: str = ""


@dataclass
class FieldReport:
    """What became of the fields and endpoints of the replies read."""

    fates: Counter[str] = field(default_factory=Counter)                 # mapped / kept: occurrences
    ignored_fields: dict[str, Seen] = field(default_factory=dict)        # "kind.field"
    unknown_fields: dict[str, Seen] = field(default_factory=dict)
    ignored_replies: dict[str, Seen] = field(default_factory=dict)       # endpoint (and status)
    unknown_endpoints: dict[str, Seen] = field(default_factory=dict)

    @staticmethod
    def _note(table: dict[str, Seen], key: str, where: str, reason: str = "") -> None:
        seen = table.setdefault(key, Seen(first=where, reason=reason))
        seen.count += 1

    def reply(self, path: str, status: int, data: Any, where: str, understood: bool) -> None:
        """Account for one reply; ``understood``: its status and body are ones the importer reads."""
        name, kind = endpoint_name(path), endpoint_kind(path)
        if kind is None:
            if path in IGNORED_ENDPOINTS:
                self._note(self.ignored_replies, f"/api/{name}", where, IGNORED_ENDPOINTS[path])
            else:
                self._note(self.unknown_endpoints, f"/api/{name}", where)
            return
        if not understood:
            self._note(self.ignored_replies, f"/api/{name} (status {status})", where,
                       "an error reply, or no body: nothing to import")
            return
        self._walk(kind, data, where)

    def _walk(self, kind: str, node: Any, where: str) -> None:
        for record in node if isinstance(node, list) else [node]:
            if not isinstance(record, dict):
                self._note(self.unknown_fields, f"{kind} (an item that is not a record: {type(record).__name__})", where)
                continue
            for key, value in record.items():
                fate = FIELDS[kind].get(key)
                if fate is None:
                    self._note(self.unknown_fields, f"{kind}.{key}", where)
                elif fate in (MAPPED, KEPT):
                    self.fates[fate] += 1
                else:
                    self._note(self.ignored_fields, f"{kind}.{key}", where, fate)
                nested = NESTED.get((kind, key))
                if nested is not None and fate != KEPT and isinstance(value, dict | list):
                    self._walk(nested, value, where)
                elif nested is not None and isinstance(value, dict):
                    self._unknown_inside(nested, value, where)

    def _unknown_inside(self, kind: str, record: dict[str, Any], where: str) -> None:
        """A block kept whole: its fields are kept, and a field the tables do not name is still listed."""
        for key in record:
            if key in FIELDS[kind]:
                self.fates[KEPT] += 1
            else:
                self._note(self.unknown_fields, f"{kind}.{key} (kept verbatim with its block)", where)

    def lines(self) -> list[tuple[str, list[str]]]:
        """Sections of the import summary: (title, lines)."""
        def listed(table: dict[str, Seen], why: bool) -> list[str]:
            if not why:
                return [f"{key} ×{s.count} (first in {s.first})" for key, s in sorted(table.items())]
            reasons: dict[str, list[str]] = {}
            for key, s in sorted(table.items()):
                reasons.setdefault(s.reason, []).append(f"{key} ×{s.count}")
            return [f"{', '.join(keys)}: {reason}" for reason, keys in reasons.items()]
        return [("unknown endpoints (not read; update calcat-git to import them)", listed(self.unknown_endpoints, False)),
                ("unknown fields (not imported; update calcat-git to import them)", listed(self.unknown_fields, False)),
                ("replies not imported, by reason", listed(self.ignored_replies, True)),
                ("fields not imported, by reason", listed(self.ignored_fields, True))]

    def to_json(self) -> dict[str, Any]:
        def table(t: dict[str, Seen]) -> dict[str, Any]:
            return {k: {"count": s.count, "first": s.first, **({"reason": s.reason} if s.reason else {})}
                    for k, s in sorted(t.items())}
        return {"mapped": self.fates[MAPPED], "kept": self.fates[KEPT],
                "ignored_fields": table(self.ignored_fields), "unknown_fields": table(self.unknown_fields),
                "ignored_replies": table(self.ignored_replies), "unknown_endpoints": table(self.unknown_endpoints)}
