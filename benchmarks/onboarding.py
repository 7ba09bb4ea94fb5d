"""Onboard a generated 1,000,000-SIM customer and print wall time and memory per SIM.

Figures (one `name=value` per line):
  wall_s                      load + validate + onboard the customer file
  bytes_per_sim               peak RSS of this process / SIMs (interpreter, audit trail included)
  bytes_per_sim_above_start   (peak RSS - RSS before onboarding) / SIMs
  baseline_bytes_per_sim      the same SIM fields as one slotted dataclass per SIM in a dict,
                              measured in a child process of this run
  ratio_bytes_vs_baseline     bytes_per_sim_above_start / baseline_bytes_per_sim
Targets for 1M SIMs on a 2-core machine: wall_s < 60, bytes_per_sim < 1000.

Usage: python benchmarks/onboarding.py [--sims N] [--ranges K] [--quick]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from protocol.identifiers import Iccid, Imsi, iccid_range_last, imsi_range_last
from simulator.platform.onboarding import load_customer
from simulator.platform.platform import Platform

BASELINE = """
import os, sys
from dataclasses import dataclass
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
@dataclass(slots=True)
class Sim:
    iccid: str; imsi: str; msisdn: str; state: int; account: int; comm_plan: int; rate_plan: int
    imei: str; usage: int; test_usage: int; data_blocked: bool; last_connection: float
n = int(sys.argv[1])
before = rss()
sims = {}
for i in range(n):
    iccid = str(8946200000000000000 + i)
    sims[iccid] = Sim(iccid, str(240070000000000 + i), "", 0, 0, 0, 0, "", 0, 0, False, 0.0)
print((rss() - before) / n)
"""


def customer_yaml(sims: int, ranges: int) -> str:
    """A customer file with `sims` SIMs in `ranges` ranges over four business units."""
    lines = [
        "customer: Benchmark Utilities plc",
        "accounts:",
        "  - {id: bench, name: Benchmark Utilities plc, kind: enterprise}",
        *(
            f"  - {{id: bu{u}, name: Unit {u}, kind: business_unit, parent: bench}}"
            for u in range(4)
        ),
        "communication_plans:",
        "  - name: meters",
        "    apns: [{name: meters.bench, private: true, tunnel: bench-dc}]",
        "    networks: [{mcc_mnc: '23410'}, {country: IE}]",
        "    radio_types: [NB-IoT, LTE-M]",
        "rate_plans:",
        "  - {name: m1, allowance: 1 MB, pooled: true, overage_limit: 1 MB}",
        "tunnels:",
        "  - {name: bench-dc, peer: 203.0.113.9, subnets: [10.9.0.0/16]}",
        "sim_ranges:",
    ]
    per, extra = divmod(sims, ranges)
    iccid = Iccid.from_body("894410000000000000")
    imsi = Imsi.parse("234100000000000")
    for r in range(ranges):
        count = per + (1 if r < extra else 0)
        lines += [
            f"  - first_iccid: '{iccid}'",
            f"    count: {count}",
            f"    account: bu{r % 4}",
            "    communication_plan: meters",
            "    rate_plan: m1",
            f"    first_imsi: '{imsi}'",
        ]
        iccid = Iccid.from_body_int(iccid_range_last(iccid, count).body_int + 1)
        imsi = Imsi.parse(str(int(str(imsi_range_last(imsi, count))) + 1))
    return "\n".join(lines) + "\n"


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--ranges", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="a 20,000-SIM smoke run")
    args = parser.parse_args()
    sims = 20_000 if args.quick else args.sims
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customer.yaml"
        path.write_text(customer_yaml(sims, min(args.ranges, sims)), encoding="utf-8")
        start_rss = peak_rss()
        began = time.perf_counter()
        platform = Platform()
        summary = platform.onboard(load_customer(path))
        wall = time.perf_counter() - began
    peak = peak_rss()
    baseline_n = min(sims, 200_000)
    child = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", BASELINE, str(baseline_n)],
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = float(child.stdout)
    above = (peak - start_rss) / sims
    print(f"sims={summary.sims}")
    print(f"ranges={len(summary.ranges)}")
    print(f"audit_entries={len(platform.audit)}")
    print(f"wall_s={wall:.3f}")
    print(f"sims_per_s={sims / wall:.0f}")
    print(f"bytes_per_sim={peak / sims:.1f}")
    print(f"bytes_per_sim_above_start={above:.1f}")
    print(f"column_bytes_per_sim={platform.sims.columns.nbytes / sims:.1f}")
    print(f"baseline_bytes_per_sim={baseline:.1f}")
    print(f"ratio_bytes_vs_baseline={above / baseline:.3f}")
    if not args.quick:
        print(f"target_wall_s_met={wall < 60}")
        print(f"target_bytes_per_sim_met={peak / sims < 1000}")


if __name__ == "__main__":
    main()
