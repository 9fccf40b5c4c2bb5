"""Every route declares its permission exactly once (or is on the public allow-list), and
over HTTP each one refuses without a token (401), without its permission (403), and hides
other accounts' objects (404). A route added without a declaration fails here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.auth import IMPLIED_BY, PERMISSIONS, PUBLIC_ROUTES, RequirePermission
from api.main import create_app
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer
from tests.support.common import ALL_PERMISSIONS, JWT_SECRET, unique_account, unique_us_number


def api_routes(routes: list[object], prefix: str = "") -> Iterator[APIRoute]:
    """The real APIRoutes, also those behind this FastAPI version's included-router
    wrappers (which keep the original router and the include's prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner_prefix = prefix + str(getattr(context, "prefix", "") or "")
            yield from api_routes(list(route.original_router.routes), inner_prefix)


def permission_declarations(dependant: Dependant) -> list[RequirePermission]:
    """Distinct RequirePermission instances anywhere in the route's dependency tree (one
    instance reused by several dependencies is one declaration: FastAPI calls it once)."""
    found: dict[int, RequirePermission] = {}
    stack = [dependant]
    while stack:
        current = stack.pop()
        if isinstance(current.call, RequirePermission):
            found[id(current.call)] = current.call
        stack.extend(current.dependencies)
    return list(found.values())


def undeclared(app: FastAPI) -> list[str]:
    """The routes breaking the rule: one declaration, or public and none."""
    wrong = []
    for route in api_routes(list(app.routes)):
        declarations = permission_declarations(route.dependant)
        expected = 0 if route.path in PUBLIC_ROUTES else 1
        if len(declarations) != expected:
            wrong.append(f"{sorted(route.methods)} {route.path}: {len(declarations)}")
    return wrong


def build_app() -> FastAPI:
    return create_app(Settings(persistence="memory", jwt_secret=JWT_SECRET))


def protected_operations() -> list[tuple[str, str, str]]:
    """(method, path, permission) of every non-public operation of the app."""
    operations = []
    for route in api_routes(list(build_app().routes)):
        if route.path in PUBLIC_ROUTES:
            continue
        (declaration,) = permission_declarations(route.dependant)
        operations += [(m, route.path, declaration.permission) for m in sorted(route.methods)]
    return operations


OPERATIONS = protected_operations()
IDS = [f"{m} {p}" for m, p, _ in OPERATIONS]


def concrete(path: str, connection_id: uuid.UUID | str | None = None) -> str:
    return path.format(connection_id=connection_id or uuid.uuid4(), agent_id="agent_x")


def test_every_route_declares_exactly_one_permission_or_is_public() -> None:
    app = build_app()
    assert undeclared(app) == []
    assert len(list(api_routes(list(app.routes)))) >= 15


def test_a_route_without_a_declaration_is_caught() -> None:
    app = build_app()
    extra = APIRouter()

    @extra.get("/channels/sms/leaky")
    def leaky() -> dict[str, str]:
        return {}

    app.include_router(extra)
    assert undeclared(app) == ["['GET'] /channels/sms/leaky: 0"]


def test_every_public_route_exists() -> None:
    paths = {route.path for route in api_routes(list(build_app().routes))}
    paths |= {getattr(r, "path", "") for r in build_app().routes}
    assert PUBLIC_ROUTES - {"/redoc", "/docs/oauth2-redirect"} <= paths


@pytest.mark.parametrize(("method", "path", "permission"), OPERATIONS, ids=IDS)
def test_without_a_token_every_operation_is_401(
    service: Service, method: str, path: str, permission: str
) -> None:
    response = service.http.request(method, concrete(path), json={})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "permission"), OPERATIONS, ids=IDS)
def test_without_its_permission_every_operation_is_403(
    service: Service, method: str, path: str, permission: str
) -> None:
    # Every other permission, but none that the route needs or that implies one it needs
    # (channels.connect and sms.manage grant channels.read).
    needed = set(permission.split(" and "))
    implying = {p for n in needed for p in IMPLIED_BY.get(n, frozenset())}
    others = tuple(sorted(PERMISSIONS - needed - implying))
    headers = bearer(unique_account(), others)
    response = service.http.request(method, concrete(path), json={}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


OBJECT_OPERATIONS = [op for op in OPERATIONS if "{connection_id}" in op[1]]
BODIES = {
    "PATCH": {"active": False},
    "PUT": {"brand": {}, "campaign": {}},
    "POST": {"mode": "new", "countryCode": "US", "phoneNumber": "+14155550100"},
}


@pytest.fixture(scope="module")
def foreign_connection(service: Service) -> str:
    response = service.connect(unique_account(), unique_us_number())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    OBJECT_OPERATIONS,
    ids=[f"{m} {p}" for m, p, _ in OBJECT_OPERATIONS],
)
def test_another_accounts_connection_is_404_on_every_operation(
    service: Service, foreign_connection: str, method: str, path: str, permission: str
) -> None:
    response = service.http.request(
        method,
        concrete(path, foreign_connection),
        json=BODIES.get(method),
        headers={**bearer(unique_account(), ALL_PERMISSIONS), "If-Match": '"1"'},
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "connection_not_found"


def test_list_endpoints_show_no_other_accounts_rows(listing: Service) -> None:
    # Both accounts have a connection and the read models have caught up with both
    # (waitFor), so the list holding exactly our row is the account filter's doing.
    ours, theirs = unique_account(), unique_account()
    mine = listing.connect(ours, unique_us_number())
    other = listing.connect(theirs, unique_us_number())
    assert (mine.status_code, other.status_code) == (201, 201), other.text
    wait = {"waitFor": other.json()["position"]}
    headers = bearer(ours, ALL_PERMISSIONS)
    for path, key in (
        ("/channels/sms/connections", "id"),
        ("/settings/sms-requests", "connectionId"),
    ):
        response = listing.http.get(path, params=wait, headers=headers)
        assert response.status_code == 200, response.text
        assert "X-Projection-Lag" not in response.headers
        assert [row[key] for row in response.json()["items"]] == [mine.json()["id"]]
