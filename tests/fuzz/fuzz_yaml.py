"""atheris (libFuzzer) target: the strict YAML loader, the schema and every check.

Each input replaces one file of the mini test catalog (the first byte picks which) and
the whole catalog is loaded and validated. Problems are the expected outcome; any
exception is a crash, except the project's own errors from the loader.

    python tests/fuzz/fuzz_yaml.py -max_total_time=20 CORPUS_DIR [SEED_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["calcat_git"]):
    from calcat_git.files.loading import load_registry
    from calcat_git.files.strict_yaml import YamlError, load_yaml
    from calcat_git.validation.run import run_checks

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
FILES = sorted((p.relative_to(MINI).as_posix(), p.read_bytes()) for p in MINI.rglob("*.yaml"))


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target = FILES[data[0] % len(FILES)][0]
    raw = data[1:]
    try:
        loaded = load_yaml(raw)
        assert loaded.line_of("") >= 1
    except YamlError as exc:
        assert exc.line >= 1 and "\n" not in exc.message, (exc.line, exc.message)
    reg = load_registry((path, raw if path == target else content) for path, content in FILES)
    for problem in run_checks(reg):
        assert problem.line >= 1 and "\n" not in str(problem), str(problem)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
