"""Operations: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ApplicationDep
from api.problems import ProblemError

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(application: ApplicationDep) -> dict[str, str | int]:
    """The event store answers (503 otherwise)."""
    try:
        position = application.current_position()
    except Exception as error:
        raise ProblemError(
            503, "not_ready", "Not ready", "The event store is not reachable."
        ) from error
    return {"status": "ready", "position": position}
