"""The lag probe's stamp: the service's own nonce beside the wall time, or no lag figure.

The ingest publishes each probe to `simlab-probe/{client id}` and reads it back
(`diagnostics.ingest`); anyone the broker lets publish there could forge lag
figures (a stamp from 1970 reads as a lag of decades, one from the future as no
lag at all). So a probe carries a random nonce of this process
(`secrets.token_hex`, new at every start) before its wall time,
`{nonce} {wall time}`, and a probe read back is believed only with that very
nonce: one without it (another process's, a forger's, garbage) is counted
(`IngestStats.forged_probes`), acknowledged like any probe, and gives no figure.
A probe sent before a restart comes back with the old nonce and is counted too;
that is a figure lost, never a wrong one.
"""

from __future__ import annotations

import hmac
import math
import secrets

__all__ = ["ProbeStamp"]


class ProbeStamp:
    """Writes this process's probe payloads and reads back the wall time of its own only."""

    def __init__(self, nonce: str | None = None) -> None:
        self.nonce = nonce or secrets.token_hex(16)
        self._head = f"{self.nonce} ".encode()

    def payload(self, now: float) -> bytes:
        """The probe published at wall time `now`."""
        return self._head + f"{now:.6f}".encode()

    def sent_at(self, payload: bytes) -> float | None:
        """The wall time a probe of ours was sent at; None: not ours (see the module)."""
        head, sent = payload[: len(self._head)], payload[len(self._head) :]
        if not hmac.compare_digest(head, self._head):
            return None
        try:
            found = float(sent)
        except ValueError:
            return None
        return found if math.isfinite(found) else None
