"""A tunnel down is the cause only for devices whose session requests reach it.

The network checks a private APN's credentials before its tunnel: a device with wrong
credentials gets ESM #29 whether the tunnel is up or down, so the tunnel's outage puts
nothing of its own on its wire, and its ground truth stays the credentials. A device
whose credentials are put right while the tunnel is still down meets ESM #30 from then:
the tunnel is its cause from that moment.
"""

from __future__ import annotations

from protocol.causes import Cause
from protocol.messages import SessionRejected
from protocol.nas import EsmCause
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world

H = 3600.0


def test_the_tunnel_is_no_cause_for_devices_refused_before_it() -> None:
    spec = world(
        devices=[collars(3, apn_credentials_ok=False)],
        faults=[
            {"fault": "ipsec_tunnel_down", "at": 2 * H, "duration": 4 * H, "tunnel": "hq"},
            # collar 1's credentials fail (again) at 1 h and are put right at 3 h
            {
                "fault": "private_apn_credentials",
                "at": H,
                "duration": 2 * H,
                "devices": ["collar-0001"],
            },
        ],
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=8 * H)
    assert result.error is None, result.error
    causes = {(r.device_id, r.cause) for r in result.truth}
    # the others: their credentials, never the tunnel, all along
    for device in ("collar-0002", "collar-0003"):
        assert (device, Cause.PRIVATE_APN_CREDENTIALS) in causes
        assert (device, Cause.IPSEC_TUNNEL_DOWN) not in causes
    # collar 1 reaches the tunnel when its credentials are right, while it is still down
    tunnel = [
        r
        for r in result.truth
        if r.device_id == "collar-0001" and r.cause is Cause.IPSEC_TUNNEL_DOWN
    ]
    assert len(tunnel) == 1
    assert 3 * H <= tunnel[0].start < 6 * H
    assert tunnel[0].end == 6 * H
    rejects = [m for m in sink.messages if isinstance(m, SessionRejected)]
    assert any(m.esm_cause == EsmCause.REQUEST_REJECTED_BY_GATEWAY for m in rejects)
    assert {m.iccid for m in rejects if m.esm_cause == EsmCause.REQUEST_REJECTED_BY_GATEWAY} == {
        result.world.by_id["collar-0001"].sim
    }
