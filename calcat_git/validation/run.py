"""Run every registered check over a loaded registry and report all problems at once."""

from __future__ import annotations

from calcat_git.errors import NotFoundError, closest_names
from calcat_git.files.loading import Registry
from calcat_git.model.problems import Problem
from calcat_git.validation import constants, semantic  # noqa: F401  (they register checks)
from calcat_git.validation.registry import CHECKS, all_check_names

__all__ = ["all_check_names", "check_names", "run_checks"]


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
        if registered.name not in skip:
            problems.extend(registered.func(reg))
    return sorted(problems, key=Problem.sort_key)
