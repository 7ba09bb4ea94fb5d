"""The same fault, diagnosed the same, whichever cause table the core answers with.

Cores send different EMM causes for one subscription problem (`simulator.world.core_causes`):
the `simple` core says #2 for a subscriber its HSS does not know, a core following
TS 29.272 Annex A as Open5GS does says #8, which is also what a deactivated SIM gets.
For every fault of the SIM and its subscription (the catalogue's SIM faults, and the
plan refusing a network or a radio type), the same seeded world runs under both
profiles through the diagnostics service; the wire differs where the tables differ,
and each victim's diagnosis is the same and names the injected cause first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from protocol.nas import EmmCause
from simulator.world.faults import CATALOGUE
from simulator.world.spec import CoreProfile, FaultId
from tests.diagnosis_worlds import WORLDS, serve

if TYPE_CHECKING:
    from pathlib import Path

SUBSCRIPTION_FAULTS = [
    *(f for f in FaultId if CATALOGUE[f].scope == "sim"),
    FaultId.ROAMING_NOT_ALLOWED,
    FaultId.RADIO_TYPE_NOT_ALLOWED,
]
E = EmmCause
REJECTS: dict[FaultId, dict[CoreProfile, set[int]]] = {
    FaultId.SIM_NOT_PROVISIONED: {
        CoreProfile.SIMPLE: {E.IMSI_UNKNOWN_IN_HSS},
        CoreProfile.ANNEX_A: {E.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED},
    },
    FaultId.SIM_PURGED: {
        CoreProfile.SIMPLE: {E.IMSI_UNKNOWN_IN_HSS},
        CoreProfile.ANNEX_A: {E.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED},
    },
    FaultId.RADIO_TYPE_NOT_ALLOWED: {
        CoreProfile.SIMPLE: {E.NO_SUITABLE_CELLS_IN_TRACKING_AREA},
        CoreProfile.ANNEX_A: {E.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA},
    },
    FaultId.ROAMING_NOT_ALLOWED: {p: {E.PLMN_NOT_ALLOWED} for p in CoreProfile},
    FaultId.SIM_DEACTIVATED: {p: {E.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED} for p in CoreProfile},
    FaultId.TEST_QUOTA_USED: {p: {E.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED} for p in CoreProfile},
}
"""The attach rejects each profile sends for the faults that get one."""


def _diagnoses(fault: FaultId, profile: CoreProfile, folder: Path) -> tuple[dict, set[int]]:
    cause_world = WORLDS[fault]
    spec = cause_world.spec().model_copy(update={"core": profile})
    folder.mkdir()
    support, truth, messages = serve(spec, cause_world.look, folder)
    now = support.service.clock
    victims = sorted(
        r.device_id for r in truth if r.start <= now and (r.end is None or r.end > now)
    )
    found = {}
    for device_id in victims:
        diagnosis = support.diagnose_device(device_id)
        found[device_id] = (diagnosis.cause, [c.cause for c in diagnosis.candidates])
    rejects = {m.emm_cause for m in messages if m.kind == "attach_reject"}
    return found, rejects


@pytest.mark.parametrize("fault", SUBSCRIPTION_FAULTS, ids=str)
def test_the_same_fault_is_diagnosed_the_same_under_either_core(
    fault: FaultId, tmp_path: Path
) -> None:
    simple, simple_rejects = _diagnoses(fault, CoreProfile.SIMPLE, tmp_path / "simple")
    annex_a, annex_a_rejects = _diagnoses(fault, CoreProfile.ANNEX_A, tmp_path / "annex-a")
    expected = REJECTS.get(fault, {p: set() for p in CoreProfile})
    assert (simple_rejects, annex_a_rejects) == (
        expected[CoreProfile.SIMPLE],
        expected[CoreProfile.ANNEX_A],
    )
    assert simple, "the fault must be on when support looks"
    assert annex_a == simple
    for cause, candidates in simple.values():  # first, or a look-alike with its test
        assert cause is fault.cause or fault.cause in candidates[1:], simple
