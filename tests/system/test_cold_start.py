"""A cold look-up with a current index reads no YAML and starts no git: what it imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ..helpers import run_cli

LOOKUP = ["lookup", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-01T00:00:00Z", "--calibration", "Offset",
          "--json"] + [f"--condition={c}" for c in ("Sensor Bias Voltage=300", "Memory cells=202")]  # the mini type's
# Parsers and libraries a look-up through a current index has no use for (each costs start-up time).
NOT_NEEDED = ("yaml", "git", "jsonschema", "fastjsonschema", "h5py", "numpy", "calcat_git.files.parse",
              "calcat_git.index.build", "calcat_git.validation.run", "calcat_git.store.hdf5", "calcat_git.store.paths")
IN_PROCESS = """
import json, sys
from calcat_git.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m in {not_needed})), file=sys.stderr)
"""


def test_cold_lookup_imports_only_what_it_uses(git_mini: Path) -> None:
    first = run_cli(*LOOKUP, cwd=git_mini)  # builds the index
    code = IN_PROCESS.format(not_needed=repr(set(NOT_NEEDED)))
    second = subprocess.run([sys.executable, "-c", code, *LOOKUP], cwd=git_mini, capture_output=True, text=True,
                            check=False)
    assert json.loads(second.stdout) == json.loads(first.stdout)  # the same answer, found through the index
    assert "differs" in json.loads(first.stdout)["missing"]["Offset"]["AGIPD01"]  # the index was searched
    assert json.loads(second.stderr.splitlines()[-1]) == []
