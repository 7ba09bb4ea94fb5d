"""Training in the browser: a trainer starts an exercise, trainees join with its code and answer.

The exercises come through the `TrainingPort` that `simlab serve --scenarios` gives the
app (`app.state.training`; without it these pages say how to turn training on). Staff
pages (`/training`: the scenarios, and the runs with their join codes) are the console's,
behind its sign-in; starting one is a write, with the session's CSRF token. Trainee pages
(`/training/join`, `/training/runs/{id}`) need no sign-in: the run's code, in the link or
the form, lets a trainee see that run's briefing (never its causes) and answer it, and
nothing else. A run still running refreshes itself until it is ready.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from diagnostics.web.render import page
from diagnostics.web.sessions import session_of
from diagnostics.web.signin import console_access

if TYPE_CHECKING:
    from diagnostics.training_port import RunCard, TrainingPort

__all__ = ["trainee_router", "training_router"]

training_router = APIRouter(
    dependencies=[Depends(console_access)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
trainee_router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
OFF = "Training is off on this service: start it with `simlab serve --scenarios`."


def _port(request: Request) -> TrainingPort | None:
    return getattr(request.app.state, "training", None)


@training_router.get("/training")
def training(request: Request) -> HTMLResponse:
    """The trainer's page: the scenarios to start, and the exercises with their join codes."""
    port = _port(request)
    if port is None:
        return page(request, "missing.html", 404, what=OFF)
    return page(
        request,
        "training.html",
        scenarios=port.scenarios(),
        runs=port.runs(),
        session=session_of(request),
        problem=None,
    )


@training_router.post("/training/start", response_model=None)
def start(
    request: Request,
    scenario: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse | RedirectResponse:
    """Start an exercise of a bundled scenario (signed in, with the form's CSRF token)."""
    port = _port(request)
    session = session_of(request)
    if port is None:
        return page(request, "missing.html", 404, what=OFF)
    if session is None or not session.allows(csrf):
        what = "Sign in to start an exercise (or open the training page again)."
        return page(request, "missing.html", 403, what=what)
    try:
        port.start(scenario)
    except (KeyError, RuntimeError) as error:
        problem = str(error).strip("'\"")
        return page(
            request,
            "training.html",
            409 if isinstance(error, RuntimeError) else 404,
            scenarios=port.scenarios(),
            runs=port.runs(),
            session=session,
            problem=problem,
        )
    return RedirectResponse("/training", status.HTTP_303_SEE_OTHER)


def _joined(port: TrainingPort, run_id: str, code: str) -> RunCard | None:
    """The run, when `code` is its join code (compared in constant time)."""
    run = port.run(run_id)
    if run is None or not secrets.compare_digest(code.strip().upper(), run.code):
        return None
    return run


@trainee_router.get("/training/join", response_model=None)
def join(
    request: Request, code: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse | RedirectResponse:
    """The trainee's way in: the run's code."""
    port = _port(request)
    if port is None:
        return page(request, "missing.html", 404, what=OFF)
    wanted = code.strip().upper()
    if wanted:
        for run in port.runs():
            if secrets.compare_digest(wanted, run.code):
                target = f"/training/runs/{run.id}?code={run.code}"
                return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    problem = "No exercise has that code." if wanted else None
    return page(request, "join.html", 404 if wanted else 200, problem=problem)


@trainee_router.get("/training/runs/{run_id}")
def exercise(
    request: Request, run_id: str, code: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    """The exercise as the trainee sees it: the story, the devices, the answer form."""
    port = _port(request)
    if port is None:
        return page(request, "missing.html", 404, what=OFF)
    run = _joined(port, run_id, code)
    if run is None:
        return page(request, "join.html", 403, problem="That code does not open this exercise.")
    return page(request, "exercise.html", run=run, causes=port.causes(), problem=None)


@trainee_router.post("/training/runs/{run_id}/answers")
async def answers(request: Request, run_id: str) -> HTMLResponse:
    """Mark the trainee's answers; the score with an explanation per device."""
    port = _port(request)
    if port is None:
        return page(request, "missing.html", 404, what=OFF)
    form = await request.form(max_fields=10_000)
    code = str(form.get("code") or "")
    run = _joined(port, run_id, code)
    if run is None:
        return page(request, "join.html", 403, problem="That code does not open this exercise.")
    trainee = str(form.get("trainee") or "").strip()[:100]
    given = {d.device_id: str(form.get(f"answer-{d.device_id}") or "") for d in run.devices}
    if not trainee:
        problem = "Write your name, so your score is yours."
    elif any(not v for v in given.values()):
        problem = "Answer every device: a cause, or healthy."
    else:
        problem = None
    if problem is not None:
        return page(request, "exercise.html", 422, run=run, causes=port.causes(), problem=problem)
    chosen = {d: (None if v == "healthy" else v) for d, v in given.items()}
    try:
        score = port.answer(run_id, trainee, chosen)
    except ValueError as error:
        return page(
            request, "exercise.html", 422, run=run, causes=port.causes(), problem=str(error)
        )
    return page(request, "score.html", run=run, score=score)
