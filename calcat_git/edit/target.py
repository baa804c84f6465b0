"""Where a change goes: the working tree only, a commit on the checked-out branch, or a
commit onto a named branch (new, from HEAD, or an existing one that is not checked out).
Branch names are checked before anything is read or written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from calcat_git.errors import InvalidInputError, RepositoryError
from calcat_git.git import commits
from calcat_git.git.repo import GitRepo

_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
_SHELL = re.compile(r"[$`;|&<>()'\"!#{}]")


def check_branch_name(name: str) -> None:
    """Refuse a branch name that ``git check-ref-format --branch`` would refuse, that starts
    with ``-`` (it would read as an option), or that holds a character a shell reads
    (``$(id)``, ``x;id``: the name is printed in commands to copy)."""
    parts = name.split("/")
    bad = (not name or name.startswith("-") or name == "@" or name == "HEAD" or name.endswith(".")
           or _REF_FORBIDDEN.search(name) is not None
           or any(not part or part.startswith(".") or part.endswith(".lock") for part in parts))
    if bad:
        raise InvalidInputError(f"--branch {name!r} is not a valid branch name (see `git check-ref-format`: no "
                                "leading '-', no spaces, '..', '~^:?*[\\', '@{' or control characters, no "
                                "component starting with '.' or ending in '.lock')")
    if _SHELL.search(name):
        raise InvalidInputError(f"--branch {name!r}: a branch name here has no shell characters ($`;|&<>()'\"!#{{}}): "
                                "use letters, digits and . _ - /")


@dataclass(frozen=True, slots=True)
class Target:
    """``mode``: "worktree" (write the files, commit nothing), "checked-out" (commit on the
    branch HEAD names) or "branch" (commit onto ``branch``, checkout untouched). ``parent``:
    the commit the change builds on (None: the working tree, or a branch with no commit yet)."""

    mode: str
    branch: str | None
    parent: str | None


def commits_to(branch: str | None, commit: bool) -> bool:
    """A command's --branch and --commit as a change's ``commit`` flag (one of them at most)."""
    if branch is not None and commit:
        raise InvalidInputError("give --commit or --branch, not both")
    return commit or branch is not None


def resolve_target(repo: GitRepo | None, branch: str | None, commit: bool) -> Target:
    """The target of a change, or why it cannot be one (one line with what to do)."""
    if branch is None and not commit:
        return Target("worktree", None, None)
    if repo is None:
        raise RepositoryError("committing needs a git repository: run `git init` and commit the catalog first")
    if branch is None:
        current = repo.current_branch()
        if current is None:
            raise RepositoryError("HEAD is detached (no branch is checked out), so --commit has no branch to commit "
                                  "on: `git switch BRANCH` first, or give --branch NAME")
        return Target("checked-out", current, repo.head_ref(current))
    return Target("branch", branch, _branch_parent(repo, branch))


def _branch_parent(repo: GitRepo, branch: str) -> str:
    check_branch_name(branch)
    if branch.startswith("refs/"):
        raise InvalidInputError(f"--branch {branch!r}: give the branch's short name (without refs/...)")
    shadowed = [r for r in commits.remotes(repo) if branch.startswith(f"{r}/")]
    if shadowed:
        raise InvalidInputError(f"--branch {branch!r} would shadow the remote-tracking branches of {shadowed[0]!r}: "
                                f"give a name that does not start with '{shadowed[0]}/'")
    where = commits.checked_out(repo).get(branch)
    if where is not None:
        here = repo.current_branch() == branch
        raise RepositoryError(f"branch {branch!r} is checked out {'here' if here else f'in {where}'}: a commit onto it "
                              + ("is a --commit (the files and git's index move with it)" if here else
                                 "belongs in that working tree (--commit there)") + "; nothing was written")
    existing = repo.head_ref(branch)
    if existing is not None:
        return existing
    head = repo.head_ref("HEAD")
    if head is None:
        raise RepositoryError("HEAD has no commit yet, so a new branch has nothing to start from: commit the "
                              "catalog first")
    return head
