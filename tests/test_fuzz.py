"""Generated worlds: drawn the same from the same seed, written as scenario files that load,
scored the same through Mosquitto as directly, and the benchmark's smoke run byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from simlab.fuzz.campaign import campaign, write_failing
from simlab.fuzz.draw import draw
from simlab.fuzz.runner import run_mqtt, scenario_file
from simlab.fuzz.score import WorldCard, score_world
from simlab.fuzz.scorecard import Scorecard
from simlab.scenario import load_scenario, until_of, world_of
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink

ROOT = Path(__file__).resolve().parents[1]
SMALL = 4
"""The first of three small worlds the generator draws from this seed on: quick enough for
the suite."""
FIGURES = (
    "worlds",
    "devices_affected",
    "cause_first_rate",
    "cause_right_rate",
    "inseparable_pairs",
    "false_alarms_per_10k_device_days",
    "spurious_incidents_per_world",
    "missed_incidents",
    "swap_verdicts_right",
    "message_fact_errors",
    "messages_missing_facts",
)


@pytest.mark.unit
def test_the_same_seed_draws_the_same_world_and_another_seed_another() -> None:
    assert draw(7).world() == draw(7).world()
    assert draw(7).world() != draw(8).world()


@pytest.mark.unit
def test_a_drawn_world_is_a_scenario_file_that_loads(tmp_path: Path) -> None:
    path = scenario_file(draw(SMALL + 1), tmp_path / "world.yaml")
    spec = load_scenario(path)
    assert spec.world.seed == SMALL + 1
    truth = simulate(world_of(spec), MemorySink(), until=until_of(spec)).truth
    keyed = {(d.device, d.cause.value) for d in spec.answer_key.devices}
    assert keyed
    assert keyed <= {(r.device_id, r.cause.value) for r in truth}


@pytest.fixture(scope="module")
def small_campaign() -> Scorecard:
    """The campaign of the three small worlds, run once in this process for the tests here."""
    return campaign(SMALL, 3)


def test_the_benchmark_smoke_run_gives_the_same_scorecard_as_the_campaign(
    small_campaign: Scorecard,
) -> None:
    began = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "benchmarks/diagnosis.py",
            "--quick",
            "--worlds",
            "3",
            "--seed",
            str(SMALL),
            "--workers",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert time.perf_counter() - began <= 20
    lines = run.stdout.splitlines()
    assert [line.split("=")[0] for line in lines if line.split("=")[0] in FIGURES] == list(FIGURES)
    assert "worlds=3" in lines
    assert lines == small_campaign.lines(), "the same seed must give the same scorecard"


def test_a_world_through_mosquitto_scores_as_it_does_directly(
    tmp_path: Path, small_campaign: Scorecard
) -> None:
    assert SMALL + 1 not in small_campaign.broken, small_campaign.broken
    direct = next(c for c in small_campaign.cards if c.seed == SMALL + 1)
    assert direct.affected > 0
    through = score_world(run_mqtt(draw(SMALL + 1), tmp_path))
    assert through.as_dict() == direct.as_dict()


def test_simlab_fuzz_keeps_each_failing_world_as_a_scenario_that_loads(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from simlab.commands.app import app  # noqa: PLC0415
    from simlab.commands.exits import EXIT_BAD_INPUT, EXIT_KEY_NOT_MET, EXIT_OK  # noqa: PLC0415

    assert CliRunner().invoke(app, ["fuzz", "--worlds", "0"]).exit_code == EXIT_BAD_INPUT
    out = tmp_path / "fuzz"
    result = CliRunner().invoke(
        app, ["fuzz", "--seed", str(SMALL + 2), "--worlds", "1", "--out", str(out)]
    )
    card = json.loads((out / "scorecard.json").read_text())
    failing = [w["seed"] for w in card["worlds"] if w["failures"]]
    assert result.exit_code == (EXIT_KEY_NOT_MET if failing else EXIT_OK), result.output
    assert sorted(p.name for p in out.glob("world-*.yaml")) == [f"world-{s}.yaml" for s in failing]
    for path in out.glob("world-*.yaml"):
        assert load_scenario(path).world.seed in failing


def test_a_failing_world_is_written_as_a_scenario_that_loads(tmp_path: Path) -> None:
    card = Scorecard()
    card.add(WorldCard(seed=SMALL + 1, failures=Counter({"message: stop time": 1})))
    card.add(WorldCard(seed=SMALL))
    assert write_failing(card, tmp_path) == [tmp_path / f"world-{SMALL + 1}.yaml"]
    assert load_scenario(tmp_path / f"world-{SMALL + 1}.yaml").world.seed == SMALL + 1


@pytest.mark.unit
def test_a_tunnel_fault_strikes_the_tunnel_as_the_bank_keys_it() -> None:
    # the service groups a tunnel's devices by the tunnel (ESM #30 names it before the APN)
    drafts = (draw(seed) for seed in range(1, 400))
    draft = next(d for d in drafts if any(g["fault"] == "ipsec_tunnel_down" for g in d.incidents))
    struck = next(g for g in draft.incidents if g["fault"] == "ipsec_tunnel_down")
    tunnels = {t["name"] for t in draft.tunnels}
    assert struck["dimension"] == "tunnel"
    assert struck["value"] in tunnels


@pytest.mark.unit
def test_the_failure_table_names_the_worlds_of_each_class_worst_first() -> None:
    card = Scorecard()
    card.add(WorldCard(seed=7, failures=Counter({"cell_outage for coverage_loss": 1})))
    card.add(WorldCard(seed=3, failures=Counter({"cell_outage for coverage_loss": 4, "x": 1})))
    card.add(WorldCard(seed=5))
    card.broken[9] = "boom"
    assert card.seeds("cell_outage for coverage_loss") == [3, 7]
    assert card.seeds("world failed to run") == [9]
    lines = card.lines()
    assert "       5    2  cell_outage for coverage_loss  [3,7]" in lines
    assert "       1    1  world failed to run  [9]" in lines
    table = {row["class"]: row["seeds"] for row in card.as_dict()["failures"]}
    assert table == {"cell_outage for coverage_loss": [3, 7], "x": [3], "world failed to run": [9]}
