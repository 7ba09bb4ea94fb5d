"""Polling for a condition that another thread or process makes true, and a child's end."""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def wait(predicate: Callable[[], object], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll `predicate` every `step` seconds; True as soon as it holds, False after `timeout`.

    The predicate is asked once more at the deadline, so a condition that became true
    during the last sleep is not reported as a timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def ended(process: subprocess.Popen[bytes] | None) -> None:
    """Ask a child process to end (SIGTERM), and kill it if it has not within 20 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
