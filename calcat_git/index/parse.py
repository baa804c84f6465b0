"""Parse catalog blobs into compact rows for the index (runs in worker processes).

Each worker keeps one ``git cat-file --batch`` process open and reads the blobs it
is asked to parse itself, so only small tuples cross process boundaries.
"""

from __future__ import annotations

import json
import subprocess
from typing import IO, Any

from calcat_git.files.loading import REGISTRY_KINDS, classify
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.mapping import Mapping
from calcat_git.model.selection import CCVRow
from calcat_git.timeutil import micros

# parsed forms
#   ("entity", kind, key, json)            a registry record
#   ("mapping", detector, json, slots)     slots: [(aggregator, valid_from_us, pdu|None), ...]
#   ("constants", ccv_rows)                see ccv_rows()
#   ("invalid", message)                   the file is not valid; the index skips it
Parsed = tuple[Any, ...]


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


def batch_rows(batch: ConstantBatch, path: str) -> list[CCVRow]:
    """The CCVs of a batch file as the look-up sees them (conditions merged, id derived)."""
    return [CCVRow(
        ccv_id=ccv.identity(batch), detector=batch.detector, calibration=ccv.calibration, pdu=ccv.pdu,
        begin_at=micros(ccv.begin_at), end_at=micros(ccv.end_at) if ccv.end_at else None, file=ccv.file,
        dataset=ccv.dataset, sha256=ccv.sha256, good_quality=ccv.good_quality, deployed=ccv.deployed,
        conditions={c.name: c.to_item() for c in batch.conditions_for(ccv)}, batch=path,
        report_id=batch.report.id, report_path=batch.report.path, calcat_id=ccv.calcat_id,
    ) for ccv in batch.constants]


def ccv_rows(batch: ConstantBatch, path: str) -> list[tuple[Any, ...]]:
    """The index's ``ccvs`` columns (conditions as JSON text) of a batch file."""
    injected = micros(batch.injected_at)
    return [(r.ccv_id, r.detector, r.calibration, r.pdu, r.begin_at, r.end_at, r.file, r.dataset, r.sha256,
             int(r.good_quality), int(r.deployed), json.dumps(r.conditions, sort_keys=True), r.batch, r.report_id,
             r.report_path, injected, r.calcat_id) for r in batch_rows(batch, path)]


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
