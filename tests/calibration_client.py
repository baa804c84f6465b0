"""calibration_client (the calibration pipeline's CALCAT client, 11.4.0) in its own
environment: it pins ``requests<2.30`` where EXtra needs a newer one, so ``make test``
creates ``.venv-client`` for it and the tests run its calls there, through
``tests/clients/calibration_client_driver.py``, against a real ``calcat-git serve``.

A missing ``.venv-client`` fails the tests that need it, saying how to make it; with
``CALCAT_GIT_SKIP_CLIENT=1`` they are skipped instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .helpers import HERE, REPO_ROOT

DRIVER = HERE / "clients" / "calibration_client_driver.py"
MAKE_IT = ("make .venv-client/.installed (or: python3 -m venv .venv-client && "
           ".venv-client/bin/python -m pip install calibration-client==11.4.0)")


def client_python() -> Path:
    """The interpreter of calibration_client's environment (``$CALCAT_GIT_CLIENT_PYTHON``, else
    ``.venv-client`` at the repository root)."""
    python = Path(os.environ.get("CALCAT_GIT_CLIENT_PYTHON") or REPO_ROOT / ".venv-client" / "bin" / "python")
    if not python.exists():
        if os.environ.get("CALCAT_GIT_SKIP_CLIENT") == "1":
            pytest.skip(f"calibration_client's environment {python} is absent and CALCAT_GIT_SKIP_CLIENT=1")
        pytest.fail(f"calibration_client's environment {python} is absent: {MAKE_IT}; or set "
                    "CALCAT_GIT_SKIP_CLIENT=1 to skip these tests")
    return python


def run_client(base: str, calls: list[dict[str, Any]], headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Run ``calls`` (see the driver) with a client of ``base`` (``http://host:port``),
    sending ``headers`` too (e.g. a bearer token)."""
    request = {"base": f"{base}/api/", "calls": calls, "headers": headers or {}}
    done = subprocess.run([str(client_python()), str(DRIVER)], input=json.dumps(request),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out: list[dict[str, Any]] = json.loads(done.stdout)
    return out
