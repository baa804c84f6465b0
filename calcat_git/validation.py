"""Run every registered check over a loaded registry and report all problems at once."""

from __future__ import annotations

from . import constant_checks, semantic_checks  # noqa: F401  (they register checks)
from .checks import CHECKS, all_check_names
from .errors import NotFoundError, closest_names
from .loading import Registry
from .problems import Problem

__all__ = ["all_check_names", "run_checks"]


def run_checks(reg: Registry, skip: tuple[str, ...] = ()) -> list[Problem]:
    """Run every check not in ``skip``; return all problems sorted by file and line."""
    names = all_check_names()
    for name in skip:
        if name not in names:
            raise NotFoundError(
                f"no check named {name!r}{closest_names(name, list(names))}; "
                "see `calcat-git validate --list`"
            )
    problems = [p for p in reg.load_problems if p.check not in skip]
    for registered in CHECKS.values():
        if registered.name not in skip:
            problems.extend(registered.func(reg))
    return sorted(problems, key=Problem.sort_key)
