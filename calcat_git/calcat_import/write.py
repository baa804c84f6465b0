"""``import-calcat``: CALCAT records → catalog files, validated, in one commit.

The import is idempotent (records already in the catalog are compared, not written
again) and incremental (new replies add only what is new). Nothing existing is
overwritten: disagreements are reported as conflicts. The result is built apart: the
catalog's files with the import's files in their place are loaded and validated in
memory, and only a result that validates is written (only under ``registry/`` and
``constants_index/``) and committed; a failed import leaves every file as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from calcat_git.calcat_import.facts import Facts, collect
from calcat_git.calcat_import.plan import Plan
from calcat_git.calcat_import.plan_ccvs import Planner
from calcat_git.calcat_import.replies import Reply
from calcat_git.calcat_import.summary import summary_json, summary_text
from calcat_git.edit.change import Change
from calcat_git.errors import CatalogInvalidError
from calcat_git.files.config import load_config
from calcat_git.timeutil import FACILITY_ZONE


@dataclass
class ImportResult:
    plan: Plan
    facts: Facts
    commit: str | None = None
    written: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The commit message: what was added, extended, left out, in conflict, changed between
        recordings, and every reply and field that was not imported."""
        return summary_text(self.plan, self.facts)

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, **summary_json(self.plan, self.facts), "written": self.written}


def _text(record: Any) -> str:
    return yaml.safe_dump(record.to_dict(), sort_keys=False, allow_unicode=True, width=120)


def _experts(root: Path, experts: tuple[str, ...] | None) -> tuple[str, ...]:
    if experts is not None:
        return experts
    return tuple(load_config(root).get("admins", ()))


def import_facts(root: str | Path, facts: Facts, *, commit: bool = True,
                 experts: tuple[str, ...] | None = None) -> ImportResult:
    """Add what ``facts`` hold and the catalog at ``root`` lacks; validate; commit (through
    the one write path: the catalog as it would be committed is validated, and written
    with the commit or not at all)."""
    root = Path(root)
    with Change(root, commit=commit) as change:
        reg = change.registry()
        if reg.load_problems:
            raise CatalogInvalidError("the catalog has files that do not load; run `calcat-git validate` and fix "
                                      "them before importing", reg.load_problems)
        result = ImportResult(plan=Planner(facts, reg, _experts(root, experts)).run(), facts=facts)
        for path, record in sorted(result.plan.records.items()):
            change.put(path, _text(record))
        change.message = result.summary()
    if change.written is not None:
        result.written, result.commit = sorted(change.written.files), change.written.commit
    return result


def import_replies(root: str | Path, replies: Iterable[Reply], *, zone: str = FACILITY_ZONE,
                   commit: bool = True, experts: tuple[str, ...] | None = None) -> ImportResult:
    return import_facts(root, collect(replies, zone), commit=commit, experts=experts)
