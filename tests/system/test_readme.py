"""Every example of the README and of each guide page (``calcat_git/site/guide/*.md``) runs, in order,
each file in a fresh copy of this repository (guide, "Development"): ```sh blocks must exit
0, ```console blocks (`$ command` then its output) must print what is shown (`...` stands
for any text), ```python blocks run (with their `>>>` outputs checked) by Sybil. A block
that cannot run is marked just above it with ``<!-- skip: next "why" -->``. Any other
language a runnable block could hide behind fails.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

from ..helpers import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCUMENTS = [README, *sorted((REPO_ROOT / "calcat_git" / "site" / "guide").glob("*.md"))]
NOT_RUN = {"text", "yaml", "json", "markdown"}  # data, never commands
RUN = {"sh", "console", "python"}
WORKSPACE: dict[str, Path] = {}  # "root": the copy the examples of the current file run in
COPIES: dict[str, Path] = {}  # file of the examples → its fresh copy of the repository


def _env() -> dict[str, str]:
    """As after `source .venv/bin/activate`, with a fixed git identity."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": sys.prefix, "COLUMNS": "200", "GIT_AUTHOR_NAME": "Ada Expert",
            "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada Expert",
            "GIT_COMMITTER_EMAIL": "ada@example.org"}


def _run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-ec", command], cwd=WORKSPACE["root"], env=_env(),
                          capture_output=True, text=True, check=False, timeout=300)


def where(example: Example) -> str:
    return f"{Path(example.path).relative_to(REPO_ROOT)} line {example.line}"


def run_sh(example: Example) -> None:
    done = _run(example.parsed)
    assert done.returncode == 0, f"{where(example)}: exit {done.returncode}\n{done.stdout}{done.stderr}"


def matches(expected: str, got: str) -> bool:
    """``got`` is ``expected`` where each ``...`` stands for any text (trailing spaces ignored)."""
    clean = [line.rstrip() for line in got.strip("\n").splitlines()]
    pattern = ".*?".join(re.escape(part) for part in "\n".join(line.rstrip() for line in
                                                             expected.strip("\n").splitlines()).split("..."))
    return re.fullmatch(pattern, "\n".join(clean), re.DOTALL) is not None


def console_steps(source: str) -> list[tuple[str, int, str]]:
    """(command, expected exit code, expected output) of each ``$ `` line of a console block;
    a command continues on lines ending in ``\\``; ``# exits N`` at its end expects N."""
    steps: list[tuple[str, int, str]] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(f"console block: output {lines[i]!r} before any '$ ' command")
        command = lines[i][2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command += "\n" + lines[i]
        exits = re.search(r"#\s*exits (\d+)\s*$", command)
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        steps.append((command, int(exits.group(1)) if exits else 0, "\n".join(output)))
    return steps


def run_console(example: Example) -> None:
    for command, code, expected in console_steps(example.parsed):
        done = _run(command)
        got = done.stdout + done.stderr
        assert done.returncode == code, f"{where(example)}: `{command}` exit {done.returncode}\n{got}"
        assert matches(expected, got), f"{where(example)}: `{command}` printed\n{got}\nnot\n{expected}"


def _examples() -> list[Any]:
    sybil = Sybil(parsers=[SkipParser(), CodeBlockParser("sh", run_sh), CodeBlockParser("console", run_console),
                           PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS)], path=str(REPO_ROOT))
    return [example for document in DOCUMENTS for example in sybil.parse(document)]


EXAMPLES = _examples()


def _fenced_blocks(document: Path) -> list[tuple[int, str]]:
    """(line, language) of every fenced block of ``document``."""
    out, fence = [], None
    for number, line in enumerate(document.read_text("utf-8").splitlines(), 1):
        opened = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
        if fence is None and opened:
            fence = opened.group(1)
            out.append((number, opened.group(2)))
        elif fence is not None and line.strip().startswith(fence):
            fence = None
    return out


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(REPO_ROOT)) for d in DOCUMENTS])
def test_every_block_is_run_or_marked(document: Path) -> None:
    name = document.relative_to(REPO_ROOT)
    for line, language in _fenced_blocks(document):
        assert language in RUN | NOT_RUN, (
            f"{name} line {line}: a ```{language or '(no language)'} block: write sh, console or python so it runs "
            f"(or mark it <!-- skip: next \"why\" -->), or text/yaml/json if it is not a command")
    for match in re.finditer(r"<!--\s*skip:\s*(\w+)(.*?)-->", document.read_text("utf-8")):
        assert match.group(1) == "next" and re.fullmatch(r'\s*"[^"]{10,}"\s*', match.group(2)), (
            f"{name}: {match.group(0)}: write <!-- skip: next \"the reason it cannot run here\" -->")


def test_the_examples_are_found() -> None:
    """A parser that stopped finding blocks would pass every example vacuously."""
    run = [e for e in EXAMPLES if e.region.evaluator in (run_sh, run_console)]
    assert sum(1 for e in run if Path(e.path) == README) >= 3 and len(run) >= 10


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Path:
    """A fresh clone of this working tree, as after `make demo`: .venv, .store, .demo/catalog
    (never run in: each file's examples get a copy of it)."""
    from calcat_git.demo.replay import DEFAULT_OUT, ensure_replay

    root = tmp_path_factory.mktemp("readme") / "calcat-git"
    listed = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        source = REPO_ROOT / rel
        if source.is_file() and rel != "Makefile":  # `make` here would reinstall the shared .venv from this copy
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / rel)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "the catalog"]):
        subprocess.run(["git", *args], cwd=root, env=_env(), check=True, capture_output=True)
    (root / ".venv").symlink_to(sys.prefix)  # the environment running the tests
    (root / ".store").symlink_to(demo_store)
    ensure_replay(root, root / DEFAULT_OUT)
    return root


def workspace(example: Example, prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh copy of ``prepared`` the examples of ``example``'s file run in, in order."""
    if example.path not in COPIES:
        root = tmp_path_factory.mktemp("examples") / "calcat-git"
        shutil.copytree(prepared, root, symlinks=True)
        COPIES[example.path] = root
    WORKSPACE["root"] = COPIES[example.path]
    return WORKSPACE["root"]


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{Path(e.path).relative_to(REPO_ROOT)}:line{e.line}" for e in EXAMPLES])
def test_example(example: Example, prepared: Path, tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace(example, prepared, tmp_path_factory))
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    example.evaluate()
