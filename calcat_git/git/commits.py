"""Making commits, for the one write path (``calcat_git.edit``): a commit onto any branch
built apart from the user's index and working tree, a commit on the checked-out branch
as plain ``git commit`` makes it (hooks included), and the checks that come first (who
commits, which branches are checked out, which remotes a name would shadow).

The functions take a :class:`GitRepo` and run git through it, so every git call of the
package still has one runner and one error type.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from calcat_git.errors import RepositoryError
from calcat_git.git.repo import GitRepo

ZERO = "0" * 40
NO_IDENTITY = ("git does not know who you are (no user.name and user.email in git's config, no GIT_AUTHOR_NAME and "
               "GIT_AUTHOR_EMAIL): run `git config --global user.name \"Your Name\"` and `git config --global "
               "user.email you@example.org`, then the command again; nothing was written")


def check_identity(repo: GitRepo) -> None:
    """Refuse to commit without an identity set in git's config or environment (a guessed
    ``user@host`` would name nobody in the catalog's history)."""
    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        try:
            repo._git("-c", "user.useConfigOnly=true", "var", ident)
        except RepositoryError:
            raise RepositoryError(NO_IDENTITY) from None


def signs_commits(repo: GitRepo) -> bool:
    """Does git's config ask for signed commits (``commit.gpgSign``)?"""
    try:
        return str(repo._git("config", "--bool", "--get", "commit.gpgsign")).strip() == "true"
    except RepositoryError:  # not set
        return False


def checked_out(repo: GitRepo) -> dict[str, Path]:
    """Branch → the working tree it is checked out in, over every worktree of the repository."""
    out, where = {}, None
    for line in str(repo._git("worktree", "list", "--porcelain")).splitlines():
        if line.startswith("worktree "):
            where = Path(line[len("worktree "):])
        elif line.startswith("branch refs/heads/") and where is not None:
            out[line[len("branch refs/heads/"):]] = where
    return out


def remotes(repo: GitRepo) -> list[str]:
    return str(repo._git("remote")).split()


def identity_env(identity: tuple[str, str] | None) -> dict[str, str]:
    """Author and committer of a commit made for someone (name, e-mail), as git's environment."""
    if identity is None:
        return {}
    name, email = identity
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def commit_tree(repo: GitRepo, parent: str | None, files: dict[str, bytes | None], message: str,
                identity: tuple[str, str] | None = None, parents: tuple[str, ...] = ()) -> str:
    """A new commit: ``parent``'s tree with ``files`` written (bytes) or removed (None), built
    in a temporary index (the user's index and working tree are never touched) and signed
    when git's config asks for it; ``identity``: its author and committer (name, e-mail),
    else git's; ``parents``: more parents (a merge). No branch moves: see :func:`move_branch`."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(tmp, "index"), **identity_env(identity)}

        def git(*args: str, data: bytes | None = None, what: str = "") -> str:
            return str(repo._git(*args, env=env, data=data, what=what)).strip()

        if parent is not None:
            git("read-tree", parent)
        written = [(path, content) for path, content in files.items() if content is not None]
        for n, (_, content) in enumerate(written):  # every blob in one git call, every entry in another
            Path(tmp, f"blob{n}").write_bytes(content)
        paths = "".join(f"{tmp}/blob{n}\n" for n in range(len(written)))
        blobs = git("hash-object", "-w", "--stdin-paths", data=paths.encode()).split() if written else []
        entries = [f"100644 {blob}\t{path}\n" for (path, _), blob in zip(written, blobs, strict=True)]
        entries += [f"0 {ZERO}\t{path}\n" for path, content in files.items() if content is None]
        if entries:
            git("update-index", "--index-info", data="".join(entries).encode())
        sign = ["-S"] if signs_commits(repo) else []
        listed = [arg for sha in ((parent,) if parent is not None else ()) + parents for arg in ("-p", sha)]
        return git("commit-tree", *sign, git("write-tree"), *listed, "-F", "-", data=message.encode(),
                   what="git commit-tree (making the commit)")


def move_branch(repo: GitRepo, branch: str, new: str, old: str | None) -> None:
    """Point ``branch`` at ``new`` if it still points at ``old`` (None: it must not exist yet)."""
    repo._git("update-ref", "-m", "calcat-git", f"refs/heads/{branch}", new, old or ZERO,
              what=f"moving branch {branch} (did it change meanwhile? try again)")


def move_branches(repo: GitRepo, moves: list[tuple[str, str, str | None]]) -> None:
    """``move_branch`` for several (branch, new, old) in one transaction: all or none."""
    if moves:
        lines = "".join(f"update refs/heads/{branch} {new} {old or ZERO}\n" for branch, new, old in moves)
        repo._git("update-ref", "-m", "calcat-git", "--stdin", data=lines.encode(),
                  what="moving branches (did one change meanwhile? try again)")


def delete_branch(repo: GitRepo, branch: str, sha: str) -> None:
    """Remove ``branch`` if it still points at ``sha``."""
    repo._git("update-ref", "-d", f"refs/heads/{branch}", sha, what=f"removing branch {branch}")


def commit_checked_out(repo: GitRepo, paths: list[str], message: str) -> str:
    """Commit the working tree's ``paths`` (written, changed or removed) on the checked-out
    branch with ``git commit``, which runs the repository's hooks as it always does; other
    staged changes stay staged and out of the commit."""
    repo._git("add", "-A", "--", *paths, what="git add of the change")
    repo._git("commit", "-q", "-F", "-", "--", *paths, data=message.encode(), what="git commit of the change")
    return repo.rev_parse("HEAD")


def index_file(repo: GitRepo) -> Path:
    """The index of the working tree ``repo`` stands in."""
    return repo.git_dir / "index"


def merge_commit(repo: GitRepo, ours: str, theirs: str, message: str, identity: tuple[str, str] | None = None
                 ) -> str | None:
    """A merge commit of ``theirs`` into ``ours`` (git's merge of the two trees, nothing
    checked out), or None when they conflict. No branch moves."""
    env = {**os.environ, **identity_env(identity)}
    try:
        tree = str(repo._git("merge-tree", "--write-tree", "--no-messages", ours, theirs, env=env)).split()[0]
    except RepositoryError:  # a conflict (exit 1) or a git without --write-tree
        return None
    sign = ["-S"] if signs_commits(repo) else []
    return str(repo._git("commit-tree", *sign, tree, "-p", ours, "-p", theirs, "-F", "-", env=env,
                         data=message.encode(), what="git commit-tree (the merge)")).strip()
