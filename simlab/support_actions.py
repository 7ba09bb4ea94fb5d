"""Support actions of a scenario's timeline, done through the service's API at their moment.

A scenario's timeline may register a SIM swap test or a maintenance silence at a
simulated moment. `ActionTimeline` is a sink in front of the publisher: when the
world's watermark passes that moment, it waits until the service has ingested it,
then calls the API (`POST /api/swap-tests`, `POST /api/silences`), as a person
would. The ids of the swap tests registered are kept, for the scorer to ask about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocol.messages import Clock
from simlab.scenario import SilenceAction, SwapTestAction
from simlab.service_thread import RunError

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx
    from pydantic import BaseModel

    from simlab.scenario import ScenarioSpec
    from simulator.world.sinks import Sink

__all__ = ["ActionTimeline", "support_actions"]


class ActionTimeline:
    """A sink in front of the publisher: performs support actions as their watermarks pass."""

    def __init__(
        self,
        inner: Sink,
        actions: list[tuple[float, Callable[[], None]]],
        catch_up: Callable[[float], None],
        progress: Callable[[float], None] | None,
    ) -> None:
        self.inner = inner
        self.pending = sorted(actions, key=lambda pair: pair[0])
        self.catch_up = catch_up
        self.progress = progress

    def write(self, message: BaseModel, account: str | None) -> None:
        """Pass the message on; at a watermark, do the actions whose moment it has passed."""
        self.inner.write(message, account)
        if not isinstance(message, Clock):
            return
        if self.progress is not None:
            self.progress(message.t)
        while self.pending and self.pending[0][0] <= message.t:
            _, act = self.pending.pop(0)
            self.catch_up(message.t)
            act()


def support_actions(
    spec: ScenarioSpec, t0: float, client: httpx.Client, swap_ids: list[str]
) -> list[tuple[float, Callable[[], None]]]:
    """The scenario's actions as calls of the API at their moments (`t0` + at).

    Each swap test registered appends its id to `swap_ids`.
    """
    out: list[tuple[float, Callable[[], None]]] = []
    for action in spec.actions:
        at = t0 + action.at
        if isinstance(action, SwapTestAction):
            test = action.swap_test
            body = {"suspect_device": test.sim_of, "good_device": test.into, "at": at}
            if test.impossible is not None:
                body["impossible"] = test.impossible
            out.append((at, _post(client, "/api/swap-tests", body, swap_ids)))
        elif isinstance(action, SilenceAction):
            body = {
                "dimension": action.silence.dimension.value,
                "value": str(action.silence.value),
                "seconds": action.silence.duration,
                "reason": action.note or "maintenance",
            }
            out.append((at, _post(client, "/api/silences", body, None)))
    return out


def _post(
    client: httpx.Client, path: str, body: dict[str, Any], ids: list[str] | None
) -> Callable[[], None]:
    def act() -> None:
        answer = client.post(path, json=body)
        if answer.status_code >= 400:
            raise RunError(f"POST {path} {body}: {answer.status_code} {answer.text}")
        if ids is not None:
            ids.append(answer.json()["id"])

    return act
