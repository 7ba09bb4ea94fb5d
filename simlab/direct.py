"""A world fed to the diagnostics service directly, without a broker: the fast path.

`feed` hands a recorded stream to `Service.handle` in batches, as the MQTT
ingest would (same topics, same encoding, same decode and detection), with a
watermark at the moment the stream is cut. `serve` simulates a world, feeds a
fresh service on a real SQLite file up to a moment, and returns support's
view of it with the ground truth in Unix seconds. `in_process_api` puts the
service's REST API in front of it without a server, so the scorer of
`simlab run` (`simlab.findings.collect`) can ask it exactly as it asks a
running service (with a token of its own, in memory, that the client sends).
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from diagnostics.access import Access, new_token
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.support import Support
from protocol.messages import Clock
from protocol.wire import Topics, encode
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx
    from pydantic import BaseModel

    from simulator.world.spec import WorldSpec
    from simulator.world.truth import TruthRecord

__all__ = ["feed", "in_process_api", "serve"]


def feed(
    service: Service,
    topics: Topics,
    sink: MemorySink,
    until: float,
    batch: int = 10_000,
    *,
    since: float | None = None,
) -> None:
    """Hand the stream up to `until` (Unix seconds) to the service, as the ingest would.

    In batches of up to `batch` messages, the ingest's largest (`Settings.batch_max`): each
    is one transaction. Where a batch ends changes nothing the service concludes (it sweeps
    at each watermark, wherever that falls), only how often it commits.
    With `since`, only what is stamped after it (the part not handed over yet).
    """
    items = []
    for i, (message, account) in enumerate(zip(sink.messages, sink.accounts, strict=True)):
        t = message.t  # type: ignore[attr-defined]
        if t > until or (since is not None and t <= since):
            continue
        topic = topics.for_message(message, account) if account else topics.clock()
        items.append(Received(topic, encode(message), 1, i + 1, 0.0))
    items.append(Received(topics.clock(), encode(Clock(t=until)), 1, len(items) + 1, 0.0))
    for start in range(0, len(items), batch):
        service.handle(items[start : start + batch])


def serve(
    spec: WorldSpec, look_at: float, path: Path
) -> tuple[Support, list[TruthRecord], list[BaseModel]]:
    """Simulate `spec` past `look_at` (seconds from its start) and feed a service up to it.

    Raises:
        RuntimeError: the world failed, or the service's clock did not reach the moment.
    """
    sink = MemorySink()
    result = simulate(spec, sink, until=look_at + 600)
    if result.error is not None:
        raise RuntimeError(f"the world failed: {result.error}")
    t0 = spec.start.timestamp()
    topics = Topics("diag/simlab")
    service = Service(store=SQLiteStore(path / "diagnosis.sqlite"), topics=topics)
    now = t0 + look_at
    feed(service, topics, sink, now)
    if not math.isclose(service.clock or 0.0, now):
        raise RuntimeError(f"the service's clock is {service.clock}, not {now}")
    truth = [
        replace(r, start=t0 + r.start, end=None if r.end is None else t0 + r.end)
        for r in result.truth
    ]
    return Support(service), truth, list(sink.messages)


@contextmanager
def in_process_api(service: Service) -> Iterator[httpx.Client]:
    """The service's REST API as an HTTP client that calls the app in this process."""
    from fastapi import FastAPI  # noqa: PLC0415 - FastAPI is heavy; only the fast path needs it

    with warnings.catch_warnings():
        # Starlette's notice that its test client will move to httpx2; httpx is what we have
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient  # noqa: PLC0415

    from diagnostics.api import api_router, exception_handlers  # noqa: PLC0415

    app = FastAPI(exception_handlers=exception_handlers)
    app.include_router(api_router)
    app.state.service = service
    app.state.access = access = Access(new_token(), source="in memory")
    token = {"Authorization": f"Bearer {access.token}"}
    with TestClient(app, raise_server_exceptions=False, headers=token) as client:
        yield client
