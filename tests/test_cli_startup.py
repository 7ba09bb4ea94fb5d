"""The `simlab` command starts fast: its command layer imports no heavy library.

Every call of `simlab`, `--help` and `version` included, imports the command layer
(`simlab.commands`); each command imports what it runs inside its function. These tests
check, in a fresh interpreter, that the command layer and the two quickest calls leave the
web framework, the server, the plotting library, numpy, the HTTP client and SimPy out of
`sys.modules`. How long startup takes is measured by `benchmarks/cli.py`, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("fastapi", "uvicorn", "matplotlib", "numpy", "httpx", "simpy")
"""Libraries only the commands that use them may import."""

REPORT = f"""
import json, sys
{{program}}
heavy = {HEAVY!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
sys.__stdout__.write("\\nLOADED=" + json.dumps(loaded) + "\\n")
"""
"""A fresh interpreter's script: run `program`, then print the heavy modules it loaded."""


def _heavy_modules_after(program: str) -> list[str]:
    script = REPORT.format(program=program)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED="))
    loaded: list[str] = json.loads(line.removeprefix("LOADED="))
    return loaded


def test_the_command_layer_imports_no_heavy_library():
    assert _heavy_modules_after("import simlab.commands") == []


@pytest.mark.parametrize("argv", [["--help"], ["version"]], ids=["help", "version"])
def test_the_quickest_calls_import_no_heavy_library(argv):
    program = (
        "from simlab.commands import app\n"
        f"try:\n    app({argv!r})\nexcept SystemExit as end:\n    assert not end.code, end.code"
    )
    assert _heavy_modules_after(program) == []
