"""Review or auto-approve: where a branch the gateway wrote goes next.

A branch is merged into the served branch only when every CCV on it belongs to a
calibration constant with ``flg_auto_approve`` (as CALCAT applies such a CCV at once)
and ``calcat-git check`` of the branch against the served branch finds no error: as a
fast-forward when the served branch has not moved, else as a merge commit (none when
git cannot merge the two cleanly). Otherwise the branch is left for review: a pull
request (push it to the forge, as after ``inject --branch``) or ``git merge``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from calcat_git.edit.change import Change
from calcat_git.gateway.auth import Writer
from calcat_git.gateway.context import Gateway
from calcat_git.git import commits
from calcat_git.git.repo import GitRepo
from calcat_git.model.problems import Problem
from calcat_git.review.rules import prepare, prepare_files, review

log = logging.getLogger("calcat_git.gateway")


@dataclass(frozen=True)
class Approval:
    """What became of a branch: ``merged`` (the served branch's new head) or why not."""

    branch: str
    merged: str | None
    why: str

    def headers(self) -> dict[str, str]:
        return {"X-Calcat-Git-Branch": self.branch, "X-Calcat-Git-Review": self.why if self.merged is None else "merged"}


def approve(gateway: Gateway, branch: str, head: str, auto: bool, writer: Writer,
            validated: tuple[Problem, ...] | None = None, written: Change | None = None,
            along: dict[str, str | None] | None = None) -> Approval:
    """Merge ``branch`` (at ``head``) into the served branch if ``auto`` and ``check`` is
    clean; ``validated``: the head's validation problems as the write path found them
    (its commit was refused if it brought an error of its own), so only the change rules run;
    ``written``: the change that made ``head`` on the served branch's head, whose files the
    review reads instead of asking git for them again; ``along``: branches (→ where they
    point now) moved to the merged commit with the served branch, all or none."""
    if not auto:
        return Approval(branch, None, "left for review: its calibration constant is not auto-approved")
    repo = gateway.repo
    served = repo.rev_parse(gateway.branch)
    grace = timedelta(hours=gateway.grace_hours)
    if written is not None and written.draft.target.parent == served:
        draft = written.draft
        head_files = {**draft.base(), **draft.files}
        paths = [("A" if draft.read_base(p) is None else "D" if new is None else "M", p) for p, new in draft.files.items()]
        reviewed = prepare_files(repo, draft.base(), {p: raw for p, raw in head_files.items() if raw is not None},
                                 paths, head, grace, gateway.cache)
    else:
        reviewed = prepare(repo, served, head, grace, gateway.cache)
    errors = [p for p in review(reviewed, validated) if p.severity == "error"]
    if errors:
        log.warning("%s left for review: check finds %s", branch, errors[0])
        return Approval(branch, None, f"left for review: check finds {len(errors)} error(s), e.g. {errors[0]}")
    made_on_served = (written is not None and written.written is not None and written.written.commit == head
                      and written.draft.target.parent == served)  # its parent: no need to ask git
    if made_on_served or repo.is_ancestor(served, head):
        _move(repo, gateway.branch, head, served, along)
        return Approval(branch, head, "merged")
    merged = commits.merge_commit(repo, served, head, f"Merge branch '{branch}' (auto-approved)", writer.identity())
    if merged is None:
        return Approval(branch, None, f"left for review: it does not merge cleanly into {gateway.branch}")
    _move(repo, gateway.branch, merged, served, along)
    return Approval(branch, merged, "merged")


def _move(repo: GitRepo, served_branch: str, new: str, served: str, along: dict[str, str | None] | None) -> None:
    """The served branch (and ``along``) to ``new``, in one transaction."""
    others = [(name, new, old) for name, old in (along or {}).items() if old != new]
    commits.move_branches(repo, [(served_branch, new, served), *others])


def validated(change: Change) -> tuple[Problem, ...] | None:
    """The validation problems of a written change's commit: its own new ones were only
    warnings (an error refuses it), so those and the catalog's old ones."""
    if change.written is None:
        return None
    verdict_new = tuple(p for p in change.written.new_problems if p.severity != "error")
    return change.written.old_problems + verdict_new
