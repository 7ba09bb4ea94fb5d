"""SIM swap tests run in simulated worlds: each verdict, and the swap that cannot be done.

Each world swaps the SIMs of a suspect collar and a working one at a known
moment (a world `swaps:` entry does the physical swap); support registers the
test with the service, which follows both pairings and gives its verdict.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from diagnostics.diagnosis.swap import MIN_WAIT_S, SwapOutcome
from simlab.direct import serve
from tests.diagnosis_worlds import T0
from tests.test_faults import AT
from tests.world_fixtures import CUSTOMER, collars, world

if TYPE_CHECKING:
    from pathlib import Path


H = 3600.0
SWAP_AT = AT + 2 * H
SUSPECT, GOOD = "collar-0001", "collar-0002"


def unlocked_customer() -> dict:
    """The sample customer without the IMEI lock, so SIMs may move between devices."""
    customer = copy.deepcopy(CUSTOMER)
    for sim_range in customer["sim_ranges"]:
        sim_range["imei_lock"] = False
    return customer


def swap_world(fault: dict, *, locked: bool = False, swap: bool = True):
    return world(
        devices=[collars(5)],
        faults=[{"at": AT, "devices": [SUSPECT], **fault}],
        swaps=[{"at": SWAP_AT, "device": SUSPECT, "into": GOOD}] if swap else [],
        customer=None if locked else unlocked_customer(),
        seed=5,
    )


def verdict(spec, look_at: float, path: Path, **register: object):
    support, _, _ = serve(spec, look_at, path)
    test = support.register_swap(
        suspect_device=SUSPECT,
        good_device=register.pop("good_device", GOOD),  # type: ignore[arg-type]
        at=T0 + SWAP_AT,
        **register,  # type: ignore[arg-type]
    )
    result = support.swap_result(test.id)
    # staff read the next step as it is: a whole sentence, never a fragment
    assert result.next_step is None or result.next_step.endswith("."), result.next_step
    return support, test, result


def test_a_damaged_sim_follows_the_sim(tmp_path: Path) -> None:
    spec = swap_world({"fault": "damaged_sim"})
    support, test, result = verdict(spec, SWAP_AT + 2 * H, tmp_path)
    assert test.suspect_iccid != test.good_iccid
    assert test.suspect_iccid is not None
    assert result.outcome is SwapOutcome.FOLLOWS_SIM, result.summary
    assert "follows the SIM" in result.summary
    texts = [e.text for e in result.evidence]
    assert any(t.startswith("good SIM in suspect device: collar-0001 reported") for t in texts)
    # kept by the service: listed, and the same verdict when asked again by id
    assert [t.id for t in support.swap_tests()] == [test.id]
    assert support.swap_result(test.id).outcome is SwapOutcome.FOLLOWS_SIM


def test_a_wrong_apn_on_the_device_stays_with_the_device(tmp_path: Path) -> None:
    spec = swap_world({"fault": "wrong_apn", "value": "iot.savana"})
    _, _, result = verdict(spec, SWAP_AT + 2 * H, tmp_path)
    assert result.outcome is SwapOutcome.STAYS_WITH_DEVICE, result.summary
    assert any(t.text.startswith("suspect SIM in good device") for t in result.evidence)


def test_a_cleared_transient_fault_makes_both_work(tmp_path: Path) -> None:
    # the SIM is reactivated just before the swap; the collar would wait for its next modem
    # reset (about an hour), but the swap restarts both devices at once
    spec = swap_world({"fault": "sim_deactivated", "duration": 2 * H - 60})
    _, _, result = verdict(spec, SWAP_AT + 1 * H, tmp_path)
    assert result.outcome is SwapOutcome.BOTH_WORK, result.summary
    assert "re-test the original pairing" in result.summary.lower() or "original pairing" in (
        result.next_step or ""
    )


def test_an_imei_lock_makes_the_test_inconclusive(tmp_path: Path) -> None:
    spec = swap_world({"fault": "damaged_sim"}, locked=True)
    _, _, result = verdict(spec, SWAP_AT + 2 * H, tmp_path)
    assert result.outcome is SwapOutcome.INCONCLUSIVE, result.summary
    assert "IMEI lock" in result.summary
    assert "Lift the IMEI lock" in (result.next_step or "")


def test_too_soon_after_the_swap_the_test_is_pending(tmp_path: Path) -> None:
    spec = swap_world({"fault": "damaged_sim"})
    _, test, result = verdict(spec, SWAP_AT + 600, tmp_path)
    assert result.outcome is SwapOutcome.PENDING
    assert result.check_after is not None
    assert result.check_after >= test.at + MIN_WAIT_S


def test_a_swap_that_cannot_be_done_says_what_the_network_shows(tmp_path: Path) -> None:
    # the otter's collar roams onto a French network the plan does not allow
    spec = swap_world({"fault": "roaming_not_allowed", "operator": "20801"}, swap=False)
    _, test, result = verdict(
        spec,
        AT + 3 * H,
        tmp_path,
        good_device=None,
        impossible="the SIM is on a sea otter in France",
    )
    assert test.impossible == "the SIM is on a sea otter in France"
    assert result.outcome is SwapOutcome.IMPOSSIBLE
    assert "sea otter" in result.summary
    assert any("Network not in the plan" in c for c in result.conclusions)
    assert any("a swap would not change the answer" in c for c in result.conclusions)
    assert result.evidence, "the reject that shows it"
    assert result.next_step is not None


@pytest.mark.parametrize("missing", ["collar-0099"])
def test_a_swap_test_with_an_unknown_device_is_refused(tmp_path: Path, missing: str) -> None:
    from diagnostics.support import UnknownError  # noqa: PLC0415

    support, _, _ = serve(swap_world({"fault": "damaged_sim"}), AT, tmp_path)
    with pytest.raises(UnknownError, match=missing):
        support.register_swap(suspect_device=missing, good_device=GOOD)
