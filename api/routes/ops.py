"""Operations: liveness, readiness, metrics."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.metrics import Metrics
from api.problems import ProblemError
from api.query_pool import ReadModels
from api.schemas.ops import ReadinessOut
from domain.application import SmsChannels
from projections.registry import PROJECTIONS
from sms_channels.worker_set import RUNNING, WorkerHealth

router = APIRouter(tags=["operations"])


# Health checks run on the event loop (liveness) or on threads of their own (readiness):
# they never queue behind the request handlers' thread pool.
_HEALTH_THREADS = anyio.CapacityLimiter(2)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    response_model_exclude_none=True,
    responses={
        503: {
            "description": "Not ready: ``detail`` names each worker not running, each"
            " projection stopped or behind, or the database away; ``workers`` lists every"
            " worker's state as the ready answer does. See ``Retry-After``."
        }
    },
)
async def readyz(request: Request) -> dict[str, object]:
    """Ready when every worker of this process runs (``sms-channels run``: none retrying
    or restarting), the event store answers and every projection runs within its lag bound
    (503 otherwise, naming the workers that are not running — at once, before any database
    is asked —, else the projections that are stopped, with the event they stopped at, or
    behind). Both answers list ``workers`` (name, state, since, last error class) when
    workers run in this process."""
    return await anyio.to_thread.run_sync(_readiness, request, limiter=_HEALTH_THREADS)


def _readiness(request: Request) -> dict[str, object]:
    health: WorkerHealth | None = request.app.state.worker_health
    worker_states = health.states() if health is not None else []
    workers: dict[str, object] = (
        {} if health is None else {"workers": [s.as_json() for s in worker_states]}
    )
    problems = [
        f"worker {s.name}: {s.state} since {s.since:%H:%M:%S}Z ({s.last_error})"
        for s in worker_states
        if s.state != RUNNING
    ]
    if problems:
        # At once, without asking a database that is likely the reason (no probe piles up).
        raise _not_ready(problems, workers)
    application: SmsChannels = request.app.state.application
    try:
        position = application.current_position()
    except Exception as error:
        raise _not_ready(["The event store is not reachable."], workers) from error
    read_models: ReadModels | None = request.app.state.read_models
    if read_models is None:
        return {"status": "ready", "position": position, **workers, **_notes(request)}
    max_lag = request.app.state.settings.projection_max_lag
    try:
        head, states = read_models.tracking_states()
    except Exception as error:
        raise _not_ready(["The read-model database is not reachable."], workers) from error
    by_name = {state.name: state for state in states}
    for name in PROJECTIONS:
        state = by_name.get(name)
        if state is None:
            problems.append(f"{name}: never ran")
        elif state.error is not None:
            problems.append(
                f"{name}: stopped at position {state.error_position}"
                f" (event {state.error_event_id}, {state.error_topic}, {state.error})"
            )
        elif head - state.position > max_lag:
            problems.append(f"{name}: {head - state.position} events behind")
    if problems:
        raise _not_ready(problems, workers)
    return {"status": "ready", "position": position, **workers, **_notes(request)}


INBOUND_UNSET = (
    "INBOUND_SMS_WEBHOOK_URL is unset: numbers bought or hosted are left as the provider"
    " set them (inbound messages do not reach the conversation system through us)."
)


CREDENTIALS_REFUSED = (
    "The SMS provider refuses this service's credentials (TWILIO_ACCOUNT_SID /"
    " TWILIO_AUTH_TOKEN, or TELNYX_API_KEY): calls to it fail until they are corrected."
)


def _notes(request: Request) -> dict[str, object]:
    """What a ready service still wants an operator to know (absent when nothing)."""
    settings = request.app.state.settings
    notes = [] if settings.inbound_sms_webhook_url else [INBOUND_UNSET]
    application = getattr(request.app.state, "application", None)
    if getattr(getattr(application, "provider", None), "credentials_refused", False) is True:
        notes.append(CREDENTIALS_REFUSED)
    return {"notes": notes} if notes else {}


def _not_ready(problems: list[str], extensions: dict[str, object]) -> ProblemError:
    return ProblemError(
        503,
        "not_ready",
        "Not ready",
        "; ".join(problems),
        headers={"Retry-After": "5"},
        extensions=extensions,
    )


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
