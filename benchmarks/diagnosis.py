"""Diagnosis on unseen worlds: generated worlds run through the service, scored strictly.

Each world is drawn by `simlab.fuzz` from its seed (an industry, a country and its
networks, a fleet of 1 to a few thousand devices, schedules, loss, movement,
faults of the catalogue at random moments and scopes, swap tests, silences),
simulated, fed to a real `diagnostics.service.Service` on a real SQLite file
(no broker), asked through its REST API about each affected device while its
fault is on, and scored against its ground truth (`simlab.fuzz.score`, the words
by `simlab.fuzz.words`). --mqtt N also runs the first N worlds end to end
through Mosquitto and checks that they give the same card.

Figures (`name=value`): worlds, devices_affected (scored: in the sample and seen
long enough), cause_first_rate (the cause named first is the truth),
cause_right_rate (or, for a pair of `protocol.inseparable`, a candidate with
the pair's test), inseparable_pairs, false_alarms_per_10k_device_days (OFFLINE
for devices that were fine), spurious_incidents_per_world, missed_incidents,
swap_verdicts_right, message_fact_errors, messages_missing_facts; then the
failures by class. The same seed gives the same lines, byte for byte (wall
time goes to stderr).

    python benchmarks/diagnosis.py              # 300 worlds
    python benchmarks/diagnosis.py --quick --worlds 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from simlab.fuzz.campaign import campaign, mqtt_check

QUICK_WORLDS = 20


def main() -> None:
    """Run the worlds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worlds", type=int, default=None, help="default 300 (--quick: 20)")
    parser.add_argument("--quick", action="store_true", help="a short run, for CI")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--mqtt", type=int, default=0, help="worlds also run through Mosquitto")
    parser.add_argument("--json", default=None, help="write the scorecard here as JSON")
    args = parser.parse_args()
    worlds = args.worlds or (QUICK_WORLDS if args.quick else 300)
    began = time.perf_counter()
    card = campaign(args.seed, worlds, workers=args.workers)
    for line in card.lines():
        print(line)
    if args.mqtt:
        same = mqtt_check(range(args.seed, args.seed + args.mqtt))
        print(f"mqtt_sample_worlds={len(same)}")
        print(f"mqtt_sample_same_card={sum(same.values())}")
    if args.json:
        import json  # noqa: PLC0415
        from pathlib import Path  # noqa: PLC0415

        Path(args.json).write_text(json.dumps(card.as_dict(), indent=1, sort_keys=True))
    print(f"wall_s={time.perf_counter() - began:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
