"""Parse catalog blobs into compact rows for the index (runs in worker processes).

Each worker keeps one ``git cat-file --batch`` process open and reads the blobs it
is asked to parse itself, so only small tuples cross process boundaries.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from .constants import ConstantBatch
from .loading import REGISTRY_KINDS, classify
from .mapping import Mapping
from .yamlload import YamlError, load_yaml

# parsed forms
#   ("entity", kind, key, json)            a registry record
#   ("mapping", detector, json, slots)     slots: [(aggregator, valid_from_us, pdu|None), ...]
#   ("constants", ccv_rows)                see ccv_rows()
#   ("invalid", message)                   the file is not valid; the index skips it
Parsed = tuple[Any, ...]


def micros(moment: datetime) -> int:
    """A UTC datetime as integer microseconds since the epoch (exact, sortable)."""
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_micros(value: int) -> datetime:
    """Inverse of :func:`micros`."""
    return EPOCH + timedelta(microseconds=value)


class BlobReader:
    """A persistent ``git cat-file --batch`` process."""

    def __init__(self, repo_path: str) -> None:
        self.proc = subprocess.Popen(["git", "-C", repo_path, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        assert self.proc.stdin and self.proc.stdout
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def read(self, blob: str) -> bytes:
        self.stdin.write(blob.encode() + b"\n")
        self.stdin.flush()
        header = self.stdout.readline().split()
        if len(header) < 3:
            raise KeyError(f"object {blob} is missing from the repository")
        data = self.stdout.read(int(header[2]) + 1)
        return data[:-1]

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait()


def ccv_rows(batch: ConstantBatch, path: str) -> list[tuple[Any, ...]]:
    rows = []
    for ccv in batch.constants:
        conditions = {c.name: c.to_item() for c in batch.conditions_for(ccv)}
        rows.append((
            ccv.identity(batch), batch.detector, ccv.calibration, ccv.pdu, micros(ccv.begin_at),
            micros(ccv.end_at) if ccv.end_at else None, ccv.file, ccv.dataset, ccv.sha256,
            int(ccv.good_quality), int(ccv.deployed), json.dumps(conditions, sort_keys=True), path,
            batch.report.id, batch.report.path, micros(batch.injected_at), ccv.calcat_id,
        ))
    return rows


def parse_blob(path: str, raw: bytes) -> Parsed:
    """Turn one file version into index rows. Never raises on bad content."""
    kind = classify(path)
    if kind is None:
        return ("invalid", "not a catalog file")
    try:
        data = load_yaml(raw).data
        if kind == "constants":
            return ("constants", ccv_rows(ConstantBatch.from_dict(data), path))
        if kind == "mapping":
            mapping = Mapping.from_dict(data)
            slots = [(agg, micros(c.valid_from), pdu) for c in mapping.changes for agg, pdu in c.modules]
            return ("mapping", mapping.detector, json.dumps(mapping.to_dict()), slots)
        _, cls, key_field = REGISTRY_KINDS[path.split("/")[1]]
        record = cls.from_dict(data)
        return ("entity", kind, data[key_field], json.dumps(record.to_dict()))
    except YamlError as exc:
        return ("invalid", f"line {exc.line}: {exc}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # schema-invalid content
        return ("invalid", f"{type(exc).__name__}: {exc}")


_reader: BlobReader | None = None


def init_worker(repo_path: str) -> None:
    global _reader
    _reader = BlobReader(repo_path)


def parse_many(items: list[tuple[str, str]]) -> list[Parsed]:
    """Worker entry point: read and parse ``(path, blob)`` pairs."""
    assert _reader is not None, "init_worker was not called"
    return [parse_blob(path, _reader.read(blob)) for path, blob in items]
