"""How long the `simlab` command takes to start: what every user waits for on every call.

Figures (one `name=value` per line; each the median of the runs, in seconds):
  python_startup_s  bare `python -c pass`, the baseline measured in this run
  cli_help_s        `simlab --help`
  cli_version_s     `simlab version`
  cli_startup_s     the slower of the two (target <= 0.5)
  ratio_vs_python   cli_startup_s / python_startup_s
  target_met        cli_startup_s <= 0.5

Each command runs as its own process, as a user's shell runs it, with the interpreter of
this run, so the figures include the imports the command pulls in and nothing else.

Usage: python benchmarks/cli.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_S = 0.5
PROGRAM = "from simlab.commands import main; main()"


def _median_s(command: list[str], runs: int) -> float:
    """The median wall time of `runs` runs of `command`; a failing run stops the benchmark."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603 - our own interpreter and command
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Time the baseline and both commands, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command")
    parser.add_argument("--quick", action="store_true", help="three runs each, for CI")
    args = parser.parse_args()
    runs = 3 if args.quick else max(1, args.runs)
    python = _median_s([sys.executable, "-c", "pass"], runs)
    help_s = _median_s([sys.executable, "-c", PROGRAM, "--help"], runs)
    version_s = _median_s([sys.executable, "-c", PROGRAM, "version"], runs)
    startup = max(help_s, version_s)
    print(f"runs={runs}")
    print(f"python_startup_s={python:.3f}")
    print(f"cli_help_s={help_s:.3f}")
    print(f"cli_version_s={version_s:.3f}")
    print(f"cli_startup_s={startup:.3f}")
    print(f"ratio_vs_python={startup / python:.1f}")
    print(f"target_met={startup <= TARGET_S}")


if __name__ == "__main__":
    main()
