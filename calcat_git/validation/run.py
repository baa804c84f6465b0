"""Run every registered check over a loaded registry and report all problems at once."""

from __future__ import annotations

from calcat_git.errors import NotFoundError, closest_names
from calcat_git.files.loading import Registry
from calcat_git.files.parse import ParsedFile
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.problems import Problem
from calcat_git.validation import conditions, constants, semantic  # noqa: F401  (they register checks)
from calcat_git.validation.registry import CHECKS, all_check_names

__all__ = ["all_check_names", "batch_file_problems", "check_names", "run_checks"]


def check_names(skip: tuple[str, ...]) -> None:
    """Every name in ``skip`` must be a check."""
    names = all_check_names()
    for name in skip:
        if name not in names:
            raise NotFoundError(
                f"no check named {name!r}{closest_names(name, list(names))}; "
                "see `calcat-git validate --list`"
            )


def run_checks(reg: Registry, skip: tuple[str, ...] = ()) -> list[Problem]:
    """Run every check not in ``skip``; return all problems sorted by file and line."""
    check_names(skip)
    problems = [p for p in reg.load_problems if p.check not in skip]
    for registered in CHECKS.values():
        if registered.name in skip:
            continue
        if registered.func is not None:
            problems.extend(registered.func(reg))
        if registered.per_batch is not None:
            for path, batch in reg.batches.items():
                problems.extend(registered.per_batch(reg, path, batch))
    return sorted(problems, key=Problem.sort_key)


def batch_file_problems(reg: Registry, parsed: ParsedFile) -> list[Problem]:
    """Every problem of one constants batch file (loaded or not) against the registry
    ``reg``, which need not hold it: what :func:`run_checks` reports for that file, apart
    from the checks of names (case collisions), in the same order."""
    if not parsed.ok:
        return list(parsed.problems)
    assert isinstance(parsed.record, ConstantBatch) and parsed.loaded is not None
    reg.sources[parsed.path] = parsed.loaded  # for the lines of its problems
    try:
        return [problem for registered in CHECKS.values() if registered.per_batch is not None
                for problem in registered.per_batch(reg, parsed.path, parsed.record)]
    finally:
        del reg.sources[parsed.path]
