"""``import-calcat``: CALCAT records → catalog files, validated, in one commit.

The import is idempotent (records already in the catalog are compared, not written
again) and incremental (new replies add only what is new). Nothing existing is
overwritten: disagreements are reported as conflicts. The result is built apart: the
catalog's files with the import's files in their place are loaded and validated in
memory, and only a result that validates is written (only under ``registry/`` and
``constants_index/``) and committed; a failed import leaves every file as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from calcat_git.calcat_import.facts import Facts, collect
from calcat_git.calcat_import.plan import Plan
from calcat_git.calcat_import.plan_ccvs import Planner
from calcat_git.calcat_import.replies import Reply
from calcat_git.calcat_import.summary import summary_json, summary_text
from calcat_git.errors import CatalogInvalidError, InvalidInputError
from calcat_git.files.config import load_config
from calcat_git.files.loading import Unread, iter_worktree, load_registry, load_worktree
from calcat_git.files.parse import DATA_ROOTS
from calcat_git.git.repo import GitRepo
from calcat_git.locks import exclusive
from calcat_git.model.problems import Problem
from calcat_git.timeutil import FACILITY_ZONE
from calcat_git.validation.run import run_checks


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


def _confined(root: Path, path: str) -> Path:
    """``root/path`` if it stays a plain file under registry/ or constants_index/ of ``root``."""
    parts = path.split("/")
    if (parts[0] not in DATA_ROOTS or len(parts) < 3 or any(p in ("", ".", "..") for p in parts)
            or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path)):
        raise InvalidInputError(f"import-calcat would write {path!r}: only files under registry/ and "
                                "constants_index/ are written; nothing was written")
    target = root / path
    inside = target.parent.resolve(strict=False)
    if not inside.is_relative_to((root / parts[0]).resolve(strict=False)) or target.is_symlink():
        raise InvalidInputError(f"import-calcat would write {path!r} through a symbolic link out of the catalog; "
                                "nothing was written")
    return target


def _planned_texts(plan: Plan) -> dict[str, bytes]:
    return {path: _text(record).encode() for path, record in sorted(plan.records.items())}


def _write(root: Path, texts: dict[str, bytes]) -> dict[str, bytes | None]:
    """Write the planned files; return what each path held before (None: did not exist)."""
    before: dict[str, bytes | None] = {}
    for path, text in texts.items():
        target = _confined(root, path)
        before[path] = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.import-tmp")
        temp.write_bytes(text)
        temp.replace(target)
    return before


def _restore(root: Path, before: dict[str, bytes | None]) -> None:
    for path, content in before.items():
        if content is None:
            (root / path).unlink(missing_ok=True)
        else:
            (root / path).write_bytes(content)


def _validate_apart(root: Path, texts: dict[str, bytes]) -> None:
    """Validate the catalog as it would be with ``texts`` written, without writing them."""
    def files() -> Iterator[tuple[str, bytes | Problem | Unread]]:
        for path, raw in iter_worktree(root):
            new = texts.get(path)
            yield path, raw if new is None else new
        yield from ((path, text) for path, text in texts.items() if not (root / path).exists())

    reg = load_registry(files())
    problems = [p for p in reg.load_problems + run_checks(reg) if p.severity == "error"]
    if problems:
        shown = "\n".join(str(p) for p in problems[:20])
        raise CatalogInvalidError(f"the imported catalog does not validate ({len(problems)} problem(s)); "
                                  f"nothing was written:\n{shown}", problems)


def _experts(root: Path, experts: tuple[str, ...] | None) -> tuple[str, ...]:
    if experts is not None:
        return experts
    return tuple(load_config(root).get("admins", ()))


def import_facts(root: str | Path, facts: Facts, *, commit: bool = True,
                 experts: tuple[str, ...] | None = None) -> ImportResult:
    """Add what ``facts`` hold and the catalog at ``root`` lacks; validate; commit."""
    root = Path(root)
    lock_dir = GitRepo(root).git_dir / "calcat-git"  # never in the working tree (a worktree's .git is a file)
    with exclusive(lock_dir / "import.lock", "another import is running in this catalog; waiting for it …"):
        reg = load_worktree(root)
        if reg.load_problems:
            raise CatalogInvalidError("the catalog has files that do not load; run `calcat-git validate` and fix "
                                      "them before importing", reg.load_problems)
        result = ImportResult(plan=Planner(facts, reg, _experts(root, experts)).run(), facts=facts)
        if not result.plan.records:
            return result
        texts = _planned_texts(result.plan)
        for path in texts:
            _confined(root, path)
        _validate_apart(root, texts)
        before = _write(root, texts)
        try:
            result.written = sorted(before)
            if commit:
                result.commit = _commit(root, result.written, result.summary())
        except BaseException:
            _restore(root, before)
            raise
    return result


def _commit(root: Path, paths: list[str], message: str) -> str:
    return GitRepo(root).commit_paths(paths, message, what="git commit of the import")


def import_replies(root: str | Path, replies: Iterable[Reply], *, zone: str = FACILITY_ZONE,
                   commit: bool = True, experts: tuple[str, ...] | None = None) -> ImportResult:
    return import_facts(root, collect(replies, zone), commit=commit, experts=experts)
