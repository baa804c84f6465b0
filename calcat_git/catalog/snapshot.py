"""The two back ends of a catalog snapshot: its index, or its records loaded into memory.

:class:`Catalog` picks one once (``Catalog.backend``); the look-up, the site, the store
check and the server ask it and never branch on "index or not" themselves. Both answer
the same questions with the same results (``tests/lookup/test_lookup_property.py`` compares
them): records by name, the mapping at a time, and candidate CCVs. Storage returns
candidates; which one wins (``selection.choose``) is decided by the caller.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from calcat_git.errors import NotFoundError, closest_names
from calcat_git.index.reader import Index
from calcat_git.index.schema import Group
from calcat_git.index.seeks import Seek

if TYPE_CHECKING:
    from calcat_git.files.loading import Registry

from calcat_git.model.selection import CCVRow, ConditionSet, Deviations, Question, condition_mismatch, usable

R = TypeVar("R")


class SnapshotBackend(Protocol):
    """What a snapshot answers, whatever holds it."""

    def record(self, kind: str, name: str, cls: type[R]) -> R: ...

    def names(self, kind: str) -> list[str]: ...

    def mapping(self, detector: str, at: datetime, slots: tuple[str, ...]) -> dict[str, str | None]: ...

    def ccvs_of(self, pdu: str, calibration: str) -> list[CCVRow]: ...

    def candidates(self, question: Question, pdus: list[str], defaults: Deviations) -> Sequence[CCVRow | Seek]: ...

    def load(self, chosen: list[CCVRow | Seek]) -> list[CCVRow]: ...

    def matching(self, pdu: str, question: Question, defaults: Deviations) -> list[CCVRow]: ...

    def condition_summary(self, pdu: str, calibration: str) -> list[ConditionSet]: ...

    def report_ccvs(self, report: int | str) -> list[CCVRow]: ...

    def all_ccvs(self) -> list[CCVRow]: ...

    def ccvs_by_detector(self) -> Iterator[tuple[str, list[CCVRow]]]: ...

    def files(self) -> dict[str, str]: ...


class IndexedSnapshot:
    """Snapshot ``seq`` of an index: SQL (or the in-memory seek table) answers."""

    def __init__(self, index: Index, seq: int) -> None:
        self.index, self.seq = index, seq

    def record(self, kind: str, name: str, cls: type[R]) -> R:
        record = self.index.record(kind, name, self.seq, cls)
        if record is None:
            raise NotFoundError(f"unknown {kind.replace('_', ' ')} {name!r}{closest_names(name, self.names(kind))}")
        return record

    def names(self, kind: str) -> list[str]:
        return self.index.names(kind, self.seq)

    def mapping(self, detector: str, at: datetime, slots: tuple[str, ...]) -> dict[str, str | None]:
        return self.index.mapping(detector, at, self.seq, slots)

    def ccvs_of(self, pdu: str, calibration: str) -> list[CCVRow]:
        return self.index.ccvs_of(pdu, calibration, self.seq)

    def candidates(self, question: Question, pdus: list[str], defaults: Deviations) -> Sequence[CCVRow | Seek]:
        """The eligible, matching seek results of ``pdus`` (the winner of each is among them)
        as light handles: :meth:`load` reads the rows of those chosen."""
        ids = self.index.matching_conditions(question.asked, defaults)
        return self.index.seek_candidates(question, pdus, ids, self.seq)

    def load(self, chosen: list[CCVRow | Seek]) -> list[CCVRow]:
        return self.index.load(chosen)

    def matching(self, pdu: str, question: Question, defaults: Deviations) -> list[CCVRow]:
        ids = self.index.matching_conditions(question.asked, defaults)
        return self.index.ccvs_of(pdu, question.calibration, self.seq, ids)

    def condition_summary(self, pdu: str, calibration: str) -> list[ConditionSet]:
        return self.index.condition_summary(pdu, calibration, self.seq)

    def report_ccvs(self, report: int | str) -> list[CCVRow]:
        return self.index.report_ccvs(report, self.seq)

    def all_ccvs(self) -> list[CCVRow]:
        return self.index.snapshot_ccvs(self.seq)

    def ccvs_by_detector(self) -> Iterator[tuple[str, list[CCVRow]]]:
        """One detector's CCVs at a time, by begin_at: streamed, never all in memory."""
        return self.index.snapshot_ccvs_by_detector(self.seq)

    def files(self) -> dict[str, str]:
        return self.index.snapshot_files(self.seq)

    # --- what only an index answers (the server reads through it) ------------------------
    def preload_seeks(self, background: bool = False) -> None:
        self.index.preload_seeks(self.seq, background)

    def injected_at(self, batch: str) -> int | None:
        return self.index.injected_at(batch)

    def ccvs_by_int_id(self, int_id: int) -> list[CCVRow]:
        return self.index.ccvs_by_int_id(int_id, self.seq)

    def constant_groups(self, pdu: str | None = None, constant_id: int | None = None) -> Iterator[Group]:
        return self.index.constant_groups(self.seq, pdu, constant_id)

    def group_ccvs(self, group: Group, first: bool = False) -> list[CCVRow]:
        return self.index.group_ccvs(group, self.seq, first)

    def named_ccvs(self, name: str) -> list[CCVRow]:
        return self.index.named_ccvs(name, self.seq)

    def report_firsts(self) -> list[CCVRow]:
        return self.index.report_firsts(self.seq)

    def report_paths(self) -> list[str]:
        return self.index.report_paths(self.seq)


class LoadedSnapshot:
    """The records of a snapshot (or working tree) in memory: every answer by brute force,
    the naive way the index is checked against."""

    def __init__(self, load: Callable[[], Registry]) -> None:
        self._load = load
        self._by_key: dict[tuple[str, str], list[CCVRow]] | None = None

    @property
    def registry(self) -> Registry:
        return self._load()

    def record(self, kind: str, name: str, cls: type[R]) -> R:
        table = self.registry.table(kind)
        try:
            return table[name]  # type: ignore[no-any-return]
        except KeyError:
            raise NotFoundError(
                f"unknown {kind.replace('_', ' ')} {name!r}{closest_names(name, list(table))}; "
                "`calcat-git validate` lists problems that may hide it"
            ) from None

    def names(self, kind: str) -> list[str]:
        return sorted(self.registry.table(kind))

    def mapping(self, detector: str, at: datetime, slots: tuple[str, ...]) -> dict[str, str | None]:
        mapping = self.registry.mappings.get(detector)
        return mapping.state_at(at) if mapping else {}

    def _rows(self) -> dict[tuple[str, str], list[CCVRow]]:
        if self._by_key is None:
            from calcat_git.index.parse import batch_rows  # imported on use: cold look-ups parse no YAML

            rows: dict[tuple[str, str], list[CCVRow]] = defaultdict(list)
            for path, batch in self.registry.batches.items():
                for row in batch_rows(batch, path):
                    rows[(row.pdu, row.calibration)].append(row)
            self._by_key = rows
        return self._by_key

    def ccvs_of(self, pdu: str, calibration: str) -> list[CCVRow]:
        return self._rows().get((pdu, calibration), [])

    def candidates(self, question: Question, pdus: list[str], defaults: Deviations) -> Sequence[CCVRow | Seek]:
        """Every eligible, matching CCV of ``pdus`` (rules 3–4)."""
        return [r for pdu in pdus for r in usable(self.ccvs_of(pdu, question.calibration), question, defaults)]

    def load(self, chosen: list[CCVRow | Seek]) -> list[CCVRow]:
        return [c for c in chosen if isinstance(c, CCVRow)]  # always rows here

    def matching(self, pdu: str, question: Question, defaults: Deviations) -> list[CCVRow]:
        return [r for r in self.ccvs_of(pdu, question.calibration)
                if condition_mismatch(r.conditions, question.asked, defaults) is None]

    def condition_summary(self, pdu: str, calibration: str) -> list[ConditionSet]:
        newest: dict[str, tuple[dict[str, Any], int]] = {}
        for r in self.ccvs_of(pdu, calibration):
            key = json.dumps(r.conditions, sort_keys=True)
            newest[key] = (r.conditions, max(r.begin_at, newest.get(key, ({}, r.begin_at))[1]))
        return list(newest.values())

    def report_ccvs(self, report: int | str) -> list[CCVRow]:
        return [r for rows in self._rows().values() for r in rows if report in (r.report_id, r.report_path)]

    def all_ccvs(self) -> list[CCVRow]:
        return [r for rows in self._rows().values() for r in rows]

    def ccvs_by_detector(self) -> Iterator[tuple[str, list[CCVRow]]]:
        out: dict[str, list[CCVRow]] = {}
        for row in self.all_ccvs():
            out.setdefault(row.detector, []).append(row)
        for name in sorted(out):
            yield name, sorted(out[name], key=lambda r: (r.begin_at, r.ccv_id))

    def files(self) -> dict[str, str]:
        return {c.file: c.sha256 for batch in self.registry.batches.values() for c in batch.constants}
