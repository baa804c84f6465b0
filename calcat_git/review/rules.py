"""``check``: a change (pull request) against its base.

Everything ``validate`` checks, on the head, plus rules on the change itself. Only
registry files and the batch files the change touches are read, so a check costs
the same on a catalog of any size. Base = the merge base of BASE and HEAD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from calcat_git.catalog.history import in_the_future
from calcat_git.errors import InvalidInputError
from calcat_git.files.codeowners import render
from calcat_git.files.config import CONFIG_FILE, parse_config
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.loading import ParseCache, Registry, load_registry
from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo
from calcat_git.model.mapping import Mapping, MappingChange
from calcat_git.model.problems import Problem
from calcat_git.timeutil import format_span, format_timestamp, now_utc
from calcat_git.validation.run import run_checks

CATALOG_PREFIXES = ("registry/", "constants_index/")


@dataclass
class Change:
    repo: GitRepo
    base: Registry
    head: Registry
    paths: list[tuple[str, str]]  # (git status letter, path) changed since the merge base
    head_commit: Commit
    grace: timedelta


Rule = Callable[[Change], Iterator[Problem]]
RULES: list[Rule] = []


def rule(func: Rule) -> Rule:
    RULES.append(func)
    return func


def _partial_registry(repo: GitRepo, sha: str, batches: list[str], cache: ParseCache | None) -> Registry:
    return load_registry(repo.tree_files(sha, ["registry", *batches], MAX_BYTES), cache)


def prepare(
    repo: GitRepo, base: str, head: str = "HEAD", grace: timedelta = timedelta(days=1), cache: ParseCache | None = None
) -> Change:
    """The change from the merge base of ``base`` and ``head`` to ``head``; ``cache`` lets
    consecutive changes share the parsing of the files they have in common."""
    head_sha = repo.rev_parse(head)
    merge_base = repo.merge_base(repo.rev_parse(base), head_sha, what=f"{base} and {head} share no history")
    paths = repo.changed_between(merge_base, head_sha)
    batches = reviewed_batches(paths)
    return Change(
        repo=repo,
        base=_partial_registry(repo, merge_base, batches, cache),
        head=_partial_registry(repo, head_sha, batches, cache),
        paths=paths,
        head_commit=repo.commit_info(head_sha),
        grace=grace,
    )


def reviewed_batches(paths: list[tuple[str, str]]) -> list[str]:
    """The batch files a change's review loads beside the registry: the ones it changes."""
    return [p for _, p in paths if p.startswith("constants_index/")]


def prepare_files(repo: GitRepo, base: dict[str, Any], head: dict[str, Any], paths: list[tuple[str, str]],
                  head_sha: str, grace: timedelta, cache: ParseCache | None = None) -> Change:
    """``prepare`` from files already read (path → content at the merge base and at the
    head, e.g. a change the write path just committed): only the head's header is asked of git."""
    batches = set(reviewed_batches(paths))

    def partial(files: dict[str, Any]) -> Registry:
        return load_registry(sorted((p, raw) for p, raw in files.items()
                                    if p.startswith("registry/") or p in batches), cache)

    return Change(repo=repo, base=partial(base), head=partial(head), paths=paths,
                  head_commit=repo.commit_info(head_sha), grace=grace)


def review(change: Change, validated: tuple[Problem, ...] | None = None) -> list[Problem]:
    """Validation problems of the head plus every change rule's findings, sorted;
    ``validated``: the head's validation problems, when the write path found them already."""
    problems = run_checks(change.head) if validated is None else list(validated)
    for check in RULES:
        problems.extend(check(change))
    return sorted(problems, key=lambda p: (p.severity != "error", *p.sort_key()))


@rule
def batches_are_append_only(ch: Change) -> Iterator[Problem]:
    """A CCV on the base is never edited or removed (flags may flip); batch files are only added."""
    for path, old in ch.base.batches.items():
        new = ch.head.batches.get(path)
        if new is None:
            if ("constants", path) not in ch.head.broken:
                yield Problem(file=path, line=1, field="", check="append-only", message="constants batch removed: "
                              "batches are never removed; flag a bad constant with good_quality: false instead")
            continue
        if (old.detector, old.report, old.injected_at, old.conditions) != (new.detector, new.report, new.injected_at,
                                                                            new.conditions):
            yield ch.head.problem(path, "", "batch header rewritten: only good_quality and deployed of its CCVs may "
                                  "change", "append-only")
        new_ids = [c.identity(new) for c in new.constants]
        old_ids = [c.identity(old) for c in old.constants]
        gone = [i for i, ccv_id in enumerate(old_ids) if ccv_id not in new_ids]
        for i in gone:
            yield ch.head.problem(path, f"constants.{i}", f"CCV {old_ids[i][:12]} ({old.constants[i].calibration}, "
                                  f"{old.constants[i].pdu}) edited or removed: only good_quality and deployed "
                                  "may change", "append-only")
        for j, ccv_id in enumerate(new_ids):
            if ccv_id not in old_ids and j not in gone:  # at a removed one's place it is that one, edited
                yield ch.head.problem(path, f"constants.{j}", "CCV added to an existing batch: inject new constants "
                                      "as a new batch file", "append-only")


def _ever_mapped(reg: Registry, pdu: str) -> str | None:
    for name, mapping in reg.mappings.items():
        for change in mapping.changes:
            for aggregator, held in change.modules:
                if held == pdu:
                    return f"{name}/{aggregator} from {format_timestamp(change.valid_from)}"
    return None


@rule
def pdus_are_kept(ch: Change) -> Iterator[Problem]:
    """A PDU that was ever mapped is retired, never deleted; its identity never changes."""
    for name, old in ch.base.pdus.items():
        new = ch.head.pdus.get(name)
        path = ch.base.where("pdu", name)
        if new is None:
            where = _ever_mapped(ch.base, name) or _ever_mapped(ch.head, name)
            if where and ("pdu", name) not in ch.head.broken:
                yield Problem(file=path, line=1, field="", check="pdu-kept", message=f"PDU {name} was mapped "
                              f"({where}): set status: retired instead of deleting it")
            continue
        for field in ("detector_type", "uuid", "calcat_id"):
            if getattr(old, field) != getattr(new, field):
                yield ch.head.problem(ch.head.where("pdu", name), field, f"identity field {field} changed from "
                                      f"{getattr(old, field)!r} to {getattr(new, field)!r}: PDU identity never "
                                      "changes", "pdu-kept")


def _window(new: Mapping, change: MappingChange, commit_time: datetime) -> str:
    later = [c.valid_from for c in new.changes if c.valid_from > change.valid_from]
    until = min([*later, commit_time])
    return f"RAW data taken from {format_timestamp(change.valid_from)} until {format_timestamp(until)}"


@rule
def mapping_history_is_kept(ch: Change) -> Iterator[Problem]:
    """Past mapping changes are never rewritten silently; backdated changes are reported."""
    committed = ch.head_commit.committed_at
    for name, new in ch.head.mappings.items():
        old = ch.base.mappings.get(name)
        path = ch.head.where("mapping", name)
        old_by_time = {c.valid_from: c for c in old.changes} if old else {}
        newest_old = max(old_by_time, default=None)
        for j, change in enumerate(new.changes):
            before = old_by_time.get(change.valid_from)
            edited = before is not None and before != change
            added = before is None and old is not None  # a past change's `from` moved, or a new change
            if change.correction is not None and (edited or added):
                yield ch.head.problem(
                    path,
                    f"changes.{j}.correction",
                    f"past change corrected ({change.correction}): re-maps {_window(new, change, committed)}",
                    "mapping-history",
                    "warning",
                )
            elif edited:
                yield ch.head.problem(
                    path,
                    f"changes.{j}",
                    "past change edited without a reason: add `correction: <why>` to it, or add a new change instead",
                    "mapping-history",
                )
            elif added:
                late = (newest_old is not None and change.valid_from < newest_old) or change.valid_from < committed - ch.grace
                if late:
                    yield ch.head.problem(
                        path,
                        f"changes.{j}.from",
                        f"backdated by {format_span(committed - change.valid_from)}: re-maps {_window(new, change, committed)}",
                        "backdated",
                        "warning",
                    )
        kept = {c.valid_from for c in new.changes}
        moved = sum(1 for c in new.changes if c.correction is not None and c.valid_from not in old_by_time)
        removed = [(i, c) for i, c in enumerate(old.changes if old else ()) if c.valid_from not in kept]
        if len(removed) > moved:  # each corrected change at a new time accounts for one whose `from` moved
            for i, change in removed:
                yield ch.head.problem(path, "changes", f"past change from {format_timestamp(change.valid_from)} "
                                      f"(base changes.{i}) removed or its `from` moved: add a new change instead; to "
                                      "fix a wrong `from`, edit it and add `correction: <why>` to it", "mapping-history")


@rule
def not_catalog_data(ch: Change) -> Iterator[Problem]:
    """Files outside registry/ and constants_index/ are flagged for reviewers."""
    for _, path in ch.paths:
        if not path.startswith(CATALOG_PREFIXES) and path != "CODEOWNERS":
            yield Problem(file=path, line=1, field="", check="not-catalog-data", severity="warning",
                          message="not catalog data: review it as code or configuration, not as a catalog change")


@rule
def head_time(ch: Change) -> Iterator[Problem]:
    """The change's commit is not dated in the future (``verify-history``'s rule): snapshots
    taken before that time would not see it once merged."""
    why = in_the_future(ch.head_commit, now_utc())
    if why:
        yield Problem(file=f"commit {ch.head_commit.sha[:12]}", line=1, field="", check="commit-time", message=why)


@rule
def codeowners_current(ch: Change) -> Iterator[Problem]:
    """CODEOWNERS is what `calcat-git codeowners` writes for the head."""
    sha = ch.head_commit.sha
    raw_config = ch.repo.show_file(sha, CONFIG_FILE)
    try:
        config = parse_config(raw_config, CONFIG_FILE) if raw_config is not None else {}
    except InvalidInputError as exc:
        yield Problem(file=CONFIG_FILE, line=1, field="", check="codeowners", message=str(exc))
        return
    expected = render(ch.head, list(config.get("admins", [])))
    found = ch.repo.show_file(sha, "CODEOWNERS")
    if found is None:
        yield Problem(file="CODEOWNERS", line=1, field="", check="codeowners", severity="warning",
                      message="no CODEOWNERS: run `calcat-git codeowners` so experts review their detectors")
    elif found.decode("utf-8", "replace") != expected:
        yield Problem(file="CODEOWNERS", line=1, field="", check="codeowners",
                      message="CODEOWNERS is out of date: run `calcat-git codeowners` and commit it")
