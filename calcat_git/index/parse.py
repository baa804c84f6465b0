"""Parse catalog blobs into compact rows for the index (runs in worker processes).

Each worker opens the repository once (one ``git cat-file --batch`` behind GitPython's
object database) and reads the blobs it is asked to parse itself, so only small tuples
cross process boundaries. A blob larger than a catalog file may be is refused from its
size, never held in memory; an entry that is not a regular file is never read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.parse import NOT_REGULAR, ParsedFile, parse_file
from calcat_git.git.runner import BlobReader
from calcat_git.model.batch import CCV, ConstantBatch
from calcat_git.model.calcat_ids import kept_ids
from calcat_git.model.mapping import Mapping
from calcat_git.model.selection import CCVRow, condition_key
from calcat_git.timeutil import micros


@dataclass(frozen=True, slots=True)
class EntityRow:
    """A registry record, as JSON."""

    kind: str
    key: str
    data: str


@dataclass(frozen=True, slots=True)
class MappingRows:
    """A mapping file: the record as JSON and its slot entries (aggregator, valid_from µs, PDU)."""

    detector: str
    data: str
    slots: list[tuple[str, int, str | None]]


@dataclass(frozen=True, slots=True)
class ConstantRows:
    """A batch file's CCVs as the ``ccvs`` columns (see :func:`ccv_rows`)."""

    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Invalid:
    """A file version ``validate`` refuses: the index skips it and records why."""

    message: str


Parsed = EntityRow | MappingRows | ConstantRows | Invalid


def batch_rows(batch: ConstantBatch, path: str) -> list[CCVRow]:
    """The CCVs of a batch file as the look-up sees them (conditions merged, id derived)."""
    return [_row(batch, path, ccv, _merged(batch, ccv)) for ccv in batch.constants]


def _merged(batch: ConstantBatch, ccv: CCV) -> dict[str, Any]:
    """A CCV's conditions merged with its batch's, as items."""
    return {c.name: c.to_item() for c in batch.conditions_for(ccv)}


def _row(batch: ConstantBatch, path: str, ccv: CCV, conditions: dict[str, Any]) -> CCVRow:
    return CCVRow(
        ccv_id=ccv.identity(batch, conditions), detector=batch.detector, calibration=ccv.calibration, pdu=ccv.pdu,
        begin_at=micros(ccv.begin_at), end_at=micros(ccv.end_at) if ccv.end_at else None, file=ccv.file,
        dataset=ccv.dataset, sha256=ccv.sha256, good_quality=ccv.good_quality, deployed=ccv.deployed,
        conditions=conditions, batch=path, report_id=batch.report.id, report_path=batch.report.path,
        calcat_id=ccv.calcat_id,
    )


def ccv_rows(batch: ConstantBatch, path: str) -> list[tuple[Any, ...]]:
    """The index's ``ccvs`` columns (conditions as JSON text) of a batch file. The CCVs
    without conditions of their own share the batch's, merged and encoded once. An imported
    CCV also gets CALCAT's calibration constant and condition ids and its name from its kept
    fields, so the server finds a CC's versions or a CCV by name without reading batch files."""
    injected = micros(batch.injected_at)
    shared = {c.name: c.to_item() for c in batch.conditions}
    shared_key = condition_key(shared)
    out = []
    for ccv in batch.constants:
        own = bool(ccv.conditions)
        r = _row(batch, path, ccv, _merged(batch, ccv) if own else shared)
        out.append((r.ccv_id, r.detector, r.calibration, r.pdu, r.begin_at, r.end_at, r.file, r.dataset, r.sha256,
                    int(r.good_quality), int(r.deployed), condition_key(r.conditions) if own else shared_key,
                    r.batch, r.report_id, r.report_path, injected, r.calcat_id, *_kept_columns(ccv)))
    return out


def _kept_columns(ccv: CCV) -> tuple[int | None, int | None, str | None]:
    """An imported CCV's kept CALCAT calibration constant id, condition id and name."""
    kept = ccv.calcat.data() if ccv.calcat_id is not None and ccv.calcat else {}
    block, name = kept.get("calibration_constant"), kept.get("name")
    return (*kept_ids(block if isinstance(block, dict) else None), name if isinstance(name, str) else None)


def parse_blob(path: str, raw: bytes) -> Parsed:
    """Turn one file version into index rows with the one parser of catalog files."""
    return rows_of(parse_file(path, raw))


def rows_of(parsed: ParsedFile) -> Parsed:
    if not parsed.ok:
        first = parsed.problems[0]
        return Invalid(f"line {first.line}: {first.message}" if first.line > 1 else first.message)
    record = parsed.record
    if isinstance(record, ConstantBatch):
        return ConstantRows(ccv_rows(record, parsed.path))
    if isinstance(record, Mapping):
        slots = [(agg, micros(c.valid_from), pdu) for c in record.changes for agg, pdu in c.modules]
        return MappingRows(record.detector, json.dumps(record.to_dict()), slots)
    assert parsed.kind is not None and parsed.key is not None
    return EntityRow(parsed.kind, parsed.key, json.dumps(record.to_dict()))


_reader: BlobReader | None = None


def init_worker(repo_path: str) -> None:
    global _reader
    _reader = BlobReader(repo_path)


def read_and_parse(reader: BlobReader, path: str, blob: str | None) -> Parsed:
    """One file version: ``blob`` None for an entry that is not a regular file."""
    if blob is None:
        return Invalid(NOT_REGULAR)
    return parse_blob(path, reader.read(blob, MAX_BYTES))  # a larger file is cut: the parser says so


def parse_many(items: list[tuple[str, str | None]]) -> list[Parsed]:
    """Worker entry point: read and parse ``(path, blob)`` pairs."""
    assert _reader is not None, "init_worker was not called"
    return [read_and_parse(_reader, path, blob) for path, blob in items]
