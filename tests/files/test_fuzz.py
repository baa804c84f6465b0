"""Run the atheris fuzz target for a bounded time (20 s) and report what it did."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import HERE

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)

FUZZ_SECONDS = 20


def _seeds(folder: Path) -> None:
    """Seed inputs: every mini file and every YAML corpus file, behind each target byte."""
    mini = sorted((HERE / "data" / "mini").rglob("*.yaml"))
    bad = sorted((HERE / "data" / "bad").glob("*.yaml"))
    for n, path in enumerate(mini + bad):
        (folder / f"seed-{n}").write_bytes(bytes([n % len(mini)]) + path.read_bytes())


def test_fuzz_loader_and_checks(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _seeds(corpus)
    run = subprocess.run([sys.executable, str(HERE / "fuzz" / "fuzz_yaml.py"), f"-max_total_time={FUZZ_SECONDS}",
                          "-rss_limit_mb=2048", "-max_len=65536", "-timeout=10", f"-artifact_prefix={tmp_path}/",
                          str(corpus)], capture_output=True, text=True, check=False, cwd=tmp_path)
    done = re.search(r"Done (\d+) runs in (\d+) second", run.stderr)
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    print(f"\nfuzz: {done.group(1) if done else '?'} executions, {len(crashes)} crashes {crashes}")
    assert run.returncode == 0 and not crashes, run.stderr[-3000:]
    assert done and int(done.group(1)) > 100
