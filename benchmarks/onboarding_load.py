"""QA's onboarding load test: the first hour of onboarding-day, end to end through Mosquitto.

The bundled onboarding-day (meters going live, the Bergen batch the home network
refuses) at `--sims` meters, cut to its first simulated hour and run as
`simlab run` runs it: the world (its meters as columns), an embedded Mosquitto,
the diagnostics service on its own SQLite file (in a process of its own, unless
--service-thread: then a thread of the run's, as `simlab run` has it), then the
diagnoses scored against the answer key. The ramp is the scenario's own: each meter wakes at a
keyed moment within its first report interval, as TS.34 asks of a fleet.

Figures (`name=value`):
  sims                      meters in the fleet (besides the eight in Bergen)
  wall_s                    the whole run, scoring included
  msgs_total                messages the world sent (records, attaches, sessions, reports, usage)
  simulate_s                until the world's last message went to the publisher
  ingest_msgs_per_s         msgs_total over the wall time until the service committed the last
  final_watermark_lag_s     wall time from the world's last message to the service's last commit
  peak_rss_mb_run           the run's process: world and publisher (and the service's thread)
  peak_rss_mb_service       the largest child process: the service's (or Mosquitto's)
  peak_rss_mb_broker        Mosquitto
  run_dir_mb                the run directory: recording, database, results
  answer_key_met            1 when the run met its answer key
  unprovisioned_diagnosed   Bergen meters diagnosed with their cause first
  false_alarms              healthy meters the service called offline

Usage: python benchmarks/onboarding_load.py [--sims N] [--hours H] [--out DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Self

from simlab.run import RunOptions, run_scenario
from simlab.scenario import load_scenario

H = 3600.0


class BrokerPeak:
    """The peak resident set of this process's Mosquitto children, sampled twice a second."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.5):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(
                        line.split(":", 1)
                        for line in status.read_text().splitlines()
                        if ":" in line
                    )
                except OSError:
                    continue
                if fields.get("PPid", "").strip() == me and "mosquitto" in fields.get("Name", ""):
                    kb = int(fields.get("VmHWM", "0 kB").split()[0])
                    self.peak_kb = max(self.peak_kb, kb)


def size_mb(folder: Path) -> float:
    """Bytes under `folder`, in MB."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None, help="keep the run directory here")
    parser.add_argument(
        "--service-thread",
        action="store_true",
        help="the service in the run's process, as simlab run",
    )
    parser.add_argument("--quick", action="store_true", help="10,000 meters for 15 minutes")
    args = parser.parse_args()
    if args.quick:
        args.sims, args.hours = 10_000, 0.25
    spec = load_scenario("scenarios/onboarding-day.yaml", size=args.sims)
    spec = spec.model_copy(update={"run": spec.run.model_copy(update={"duration": args.hours * H})})
    scratch = None if args.out is not None else Path(tempfile.mkdtemp(prefix="simlab-load-"))
    out = args.out or scratch / "run"  # type: ignore[operator]
    try:
        with BrokerPeak() as broker:
            options = RunOptions(
                out=out, embedded="mosquitto", service_process=not args.service_thread
            )
            report = run_scenario(spec, "onboarding-day", options)
        stages = report.stages
        messages = report.result.messages
        committed = stages["catching up"]
        card = report.scorecard
        bergen = [d for d in card.devices if d.device_id.startswith("vest-")]
        print(f"sims={args.sims}")
        print(f"hours={args.hours:g}")
        print(f"wall_s={report.wall_s:.1f}")
        print(f"msgs_total={messages}")
        print(f"simulate_s={stages['simulating']:.1f}")
        print(f"ingest_msgs_per_s={messages / committed:.0f}")
        print(f"final_watermark_lag_s={committed - stages['simulating']:.1f}")
        print(f"peak_rss_mb_run={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak_rss_mb_service={children:.0f}")
        print(f"peak_rss_mb_broker={broker.peak_kb / 1024:.0f}")
        print(f"run_dir_mb={size_mb(out):.0f}")
        print(f"answer_key_met={int(card.passed)}")
        print(f"unprovisioned_diagnosed={sum(d.grade == 'first' for d in bergen)}")
        print(f"false_alarms={len(card.false_alarms)}")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
