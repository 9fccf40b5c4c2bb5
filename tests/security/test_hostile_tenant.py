"""A hostile tenant cannot stop or slow the service for the others (issue: poison input,
unbounded metrics, waitFor starvation, workspace leaks). Real HTTP, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import random
import re
import string
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from api.main import create_app
from domain.service.directory import find_agent
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service
from tests.security.conftest import bearer, projections_running
from tests.support.common import (
    JWT_SECRET,
    auth,
    live_server,
    unique_account,
    unique_us_number,
    wait_for,
)

# Strings that must never reach the event log (or that pose as another id).
HOSTILE = {
    "nul": "evil\u0000name",
    "lone_surrogate": "evil\ud800name",
    "bell": "evil\u0007name",
    "bidi_override": "evil\u202ename",
    "line_break_in_id": "agent\r\n1",
    "over_long": "x" * 5000,
}
LOOK_ALIKE_IDS = {"fullwidth": "\uff41gent_1", "nbsp": "agent\u00a01"}
CONTENT_TYPES = (
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/vnd.sms+json",
    None,  # FastAPI parses a body without Content-Type as JSON too
)


def connect_body(number: str, **fields: Any) -> dict[str, Any]:
    body = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": number,
        "workspaceId": "ws_1",
        "agentId": "agent_1",
    }
    return {**body, **fields}


def directory_body(**fields: Any) -> dict[str, Any]:
    body = {"workspaceId": "ws_1", "workspaceName": "Support", "name": "Ava"}
    return {**body, **fields}


def send(
    service: Service,
    method: str,
    path: str,
    body: dict[str, Any],
    content_type: str | None,
    headers: dict[str, str],
) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \\ud800: the bytes are what a client would send.
    content = json.dumps(body).encode()
    sent = dict(headers)
    if content_type is not None:
        sent["Content-Type"] = content_type
    return service.http.request(method, path, content=content, headers=sent)


def connect_with(field: str) -> Any:
    return lambda value: connect_body(unique_us_number(), **{field: value})


def directory_with(field: str) -> Any:
    return lambda value: directory_body(**{field: value})


def write_cases(connection_id: str) -> list[tuple[str, str, str, Any]]:
    """(method, path, field, make body from a value) for every string field of every write
    route (the connect's number is the phone rule's, tested elsewhere)."""
    base = f"/channels/sms/connections/{connection_id}"
    agent = "/directory/agents/agent_h"
    return [
        ("POST", "/channels/sms/connect", "workspaceId", connect_with("workspaceId")),
        ("POST", "/channels/sms/connect", "agentId", connect_with("agentId")),
        ("PATCH", base, "agentId", lambda v: {"agentId": v}),
        ("PUT", agent, "workspaceId", directory_with("workspaceId")),
        ("PUT", agent, "workspaceName", directory_with("workspaceName")),
        ("PUT", agent, "name", directory_with("name")),
        ("PUT", agent, "knowledgeBaseId", directory_with("knowledgeBaseId")),
        ("PUT", agent, "knowledgeBaseName", directory_with("knowledgeBaseName")),
        ("PUT", base + "/compliance", "brand", lambda v: {"brand": {"displayName": v}}),
        ("PUT", base + "/compliance", "campaign", lambda v: {"campaign": {"messageSamples": [v]}}),
    ]


def hostile_values(path: str) -> dict[str, str]:
    """Line breaks are allowed in compliance answers (message samples have them)."""
    if path.endswith("/compliance"):
        return {k: v for k, v in HOSTILE.items() if k != "line_break_in_id"}
    return HOSTILE


def test_hostile_strings_in_every_write_field_and_content_type_are_refused_and_stop_nothing(
    service: Service, database_url: str
) -> None:
    account = unique_account()
    headers = auth(account)
    created = service.http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=headers
    )
    assert created.status_code == 201, created.text
    connection = created.json()
    headers["If-Match"] = f'"{connection["version"]}"'
    outcomes: Counter[int] = Counter()
    for method, path, field, make in write_cases(connection["id"]):
        for name, value in hostile_values(path).items():
            for content_type in CONTENT_TYPES:
                response = send(service, method, path, make(value), content_type, headers)
                outcomes[response.status_code] += 1
                case = (method, path, field, name, content_type, response.text)
                assert 400 <= response.status_code < 500, case
                assert "evil" not in response.text, "an error body echoed the value"
    assert sum(outcomes.values()) == 58 * len(CONTENT_TYPES)  # 10 fields x 6 values, less 2
    # Nothing was recorded: the connection is as it was, and the read models keep running
    # for everyone: another account's write reaches the channels table.
    again = service.http.get(f"/channels/sms/connections/{connection['id']}", headers=auth(account))
    assert again.json()["version"] == connection["version"]
    with projections_running(database_url):
        other = unique_account()
        answer = service.http.post(
            "/channels/sms/connect", json=connect_body(unique_us_number()), headers=auth(other)
        )
        assert answer.status_code == 201, answer.text

        def listed() -> list[str]:
            page = service.http.get("/channels/sms/connections", headers=auth(other))
            return [row["id"] for row in page.json()["items"]]

        wait_for(lambda: listed() == [answer.json()["id"]], timeout=60)
        wait_for(lambda: service.http.get("/readyz").status_code == 200, timeout=30)


@pytest.mark.parametrize(("name", "value"), list(LOOK_ALIKE_IDS.items()))
def test_look_alike_agent_ids_are_refused_in_the_path_and_the_body(
    service: Service, name: str, value: str
) -> None:
    headers = auth(unique_account())
    in_path = service.http.put(f"/directory/agents/{value}", json=directory_body(), headers=headers)
    in_body = service.http.post(
        "/channels/sms/connect",
        json=connect_body(unique_us_number(), agentId=value),
        headers=headers,
    )
    assert (in_path.status_code, in_body.status_code) == (422, 422), name
    assert in_body.json()["errors"][0]["field"] == "agentId"


def test_several_content_type_headers_are_refused(service: Service) -> None:
    headers = [
        *auth(unique_account()).items(),
        ("Content-Type", "text/plain"),
        ("Content-Type", "application/json"),
    ]
    response = service.http.put(
        "/directory/agents/agent_1", content=json.dumps(directory_body()).encode(), headers=headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "multiple_content_types"


@pytest.mark.parametrize(
    "claims",
    [
        {"acc": "acc\u0000x"},
        {"acc": "a" * 3000},
        {"acc": "\uff41cc"},
        {"sub": "user\u202e1"},
        {"workspaces": ["ws\u00001"]},
    ],
    ids=["nul_acc", "long_acc", "fullwidth_acc", "bidi_sub", "nul_workspace"],
)
def test_tokens_whose_claims_break_the_id_rule_are_refused_with_401(
    service: Service, claims: dict[str, Any]
) -> None:
    response = service.http.get("/channels/sms/connections", headers=bearer("acc_x", **claims))
    assert response.status_code == 401, response.text


def test_a_token_valid_for_longer_than_the_maximum_is_refused(service: Service) -> None:
    now = int(time.time())
    too_long = bearer("acc_x", iat=now, exp=now + 2 * 24 * 3600)
    fine = bearer("acc_x", iat=now, exp=now + 3600)
    assert service.http.get("/channels/sms/countries", headers=too_long).status_code == 401
    assert service.http.get("/channels/sms/countries", headers=fine).status_code == 200


def metric_series(service: Service) -> set[str]:
    text = service.http.get("/metrics").text
    return {line.split(" ")[0] for line in text.splitlines() if line.startswith("sms_http_")}


def test_random_methods_and_paths_do_not_grow_the_metrics(service: Service) -> None:
    rng = random.Random(20261201)

    def token() -> str:
        return "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 40)))

    service.http.request("WARMUP", "/warm/up")  # the OTHER/unmatched series exist from here
    metric_series(service)  # and the scrape's own series
    before = metric_series(service)
    statuses = Counter(
        service.http.request(token(), "/" + token().lower()).status_code for _ in range(200)
    )
    assert sum(statuses.values()) == 200
    assert metric_series(service) == before
    assert not any(
        re.search(r'method="(?!GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|OTHER)', s) for s in before
    )


async def _waits_and_health(
    base_url: str, accounts: list[str], position: int
) -> tuple[list[httpx.Response], float]:
    limits = httpx.Limits(max_connections=len(accounts) + 10)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client,
        httpx.AsyncClient(base_url=base_url, timeout=30) as prober,
    ):
        waits = [
            asyncio.create_task(
                client.get(f"/channels/sms/connections?waitFor={position}", headers=auth(account))
            )
            for account in accounts
        ]
        await asyncio.sleep(1.0)  # every wait is in flight now (each waits its 2 s bound)
        probes = []
        for _ in range(5):
            started = time.perf_counter()
            health = await prober.get("/healthz")
            probes.append(time.perf_counter() - started)
            assert health.status_code == 200
        assert not any(wait.done() for wait in waits), "the waits ended before the probes"
        return list(await asyncio.gather(*waits)), sorted(probes)[len(probes) // 2]


def test_two_hundred_waiting_reads_leave_healthz_fast_and_reveal_no_head(service: Service) -> None:
    # No projection runs here, so a position just written is one the table has not read:
    # every request with it waits its full bound. 10 accounts x 20 = 200 real waits.
    accounts = [unique_account() for _ in range(10)]
    written = service.http.put(
        "/directory/agents/agent_w", json=directory_body(), headers=auth(accounts[0])
    ).json()["position"]
    base_url = str(service.http.base_url)
    responses, healthz_median_seconds = asyncio.run(
        _waits_and_health(base_url, [a for a in accounts for _ in range(20)], written)
    )
    assert healthz_median_seconds < 0.1
    assert Counter(r.status_code for r in responses) == Counter({200: 200})
    # A position far past the head answers at once, with a lag no larger than a real one.
    huge = service.http.get(
        "/channels/sms/connections?waitFor=1000000000000000", headers=auth(accounts[0])
    )
    real_lag = max(int(r.headers.get("X-Projection-Lag", 0)) for r in responses)
    assert huge.elapsed.total_seconds() < 1.0
    assert int(huge.headers.get("X-Projection-Lag", 0)) <= real_lag + 1


def test_waits_beyond_the_per_account_cap_answer_at_once(service: Service) -> None:
    account = unique_account()
    written = service.http.put(
        "/directory/agents/agent_w", json=directory_body(), headers=auth(account)
    ).json()["position"]
    base_url = str(service.http.base_url)

    async def burst() -> list[float]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

            async def timed() -> float:
                started = time.perf_counter()
                await client.get(
                    f"/channels/sms/connections?waitFor={written}", headers=auth(account)
                )
                return time.perf_counter() - started

            return list(await asyncio.gather(*(timed() for _ in range(30))))

    durations = sorted(asyncio.run(burst()))
    # 20 wait out their 2 s bound; the 10 beyond the cap answered without waiting.
    assert sum(1 for d in durations if d < 1.0) == 10
    assert sum(1 for d in durations if d >= 1.5) == 20


def test_another_workspaces_idempotency_key_finds_nothing(service: Service) -> None:
    account = unique_account()
    number = unique_us_number()
    first = service.http.post(
        "/channels/sms/connect",
        json=connect_body(number, workspaceId="ws_2"),
        headers={**auth(account), "Idempotency-Key": "key-ws2"},
    )
    assert first.status_code == 201
    ws1_only = {**bearer(account, workspaces=["ws_1"]), "Idempotency-Key": "key-ws2"}
    # The same key and number from ws_1: not ws_2's connection (the number is taken).
    replay = service.http.post("/channels/sms/connect", json=connect_body(number), headers=ws1_only)
    assert replay.status_code == 409, replay.text
    assert first.json()["id"] not in replay.text
    # The same key with another number: no "key already used" oracle, a connection of ws_1.
    other = service.http.post(
        "/channels/sms/connect", json=connect_body(unique_us_number()), headers=ws1_only
    )
    assert other.status_code == 201, other.text
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["workspace"]["id"] == "ws_1"


def test_another_workspaces_idempotency_key_with_the_same_body_finds_nothing(
    service: Service,
) -> None:
    """The sibling of the test above with identical bodies: the two tokens differ only in
    their workspaces, so only the fingerprint's workspaces keep the replay of ws_2's
    connection from a token that does not cover ws_2."""
    account = unique_account()
    body = connect_body(unique_us_number(), workspaceId="ws_2")
    both = {**bearer(account, workspaces=["ws_1", "ws_2"]), "Idempotency-Key": "key-same"}
    first = service.http.post("/channels/sms/connect", json=body, headers=both)
    assert first.status_code == 201, first.text
    for workspaces in (["ws_1"], []):
        narrower = {**bearer(account, workspaces=workspaces), "Idempotency-Key": "key-same"}
        replay = service.http.post("/channels/sms/connect", json=body, headers=narrower)
        assert replay.status_code == 403, (workspaces, replay.text)
        assert replay.json()["code"] == "workspace_forbidden"
        assert "Idempotent-Replayed" not in replay.headers
        assert first.json()["id"] not in replay.text
    # The token that made it still gets its replay.
    again = service.http.post("/channels/sms/connect", json=body, headers=both)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_a_restricted_token_pages_sms_requests_of_its_workspace_only(
    service: Service, database_url: str
) -> None:
    account = unique_account()
    for workspace in ("ws_1", "ws_1", "ws_2", "ws_2", "ws_2"):
        service.http.post(
            "/channels/sms/connect",
            json=connect_body(unique_us_number(), workspaceId=workspace, mode="byon"),
            headers=auth(account),
        )
    position = service.http.put(
        "/directory/agents/agent_p", json=directory_body(), headers=auth(account)
    ).json()["position"]
    ws1_only = bearer(account, workspaces=["ws_1"])

    def page(cursor: str | None = None) -> dict[str, Any]:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        answer: dict[str, Any] = service.http.get(
            "/settings/sms-requests" + query, headers=ws1_only
        ).json()
        return answer

    with projections_running(database_url):
        # The projection catches up on the whole session's log first: wait for its position.
        wait_for(lambda: "X-Projection-Lag" not in service.http.get(
            f"/settings/sms-requests?waitFor={position}", headers=ws1_only
        ).headers, timeout=60)  # fmt: skip
        first = page()
        second = page(first["nextCursor"])
    # Filtered before the limit: full pages of ws_1's two requests, then the end.
    assert (len(first["items"]), len(second["items"])) == (1, 1)
    assert second["nextCursor"] is None


def test_concurrent_puts_of_one_agent_never_answer_500(service: Service) -> None:
    account = unique_account()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                body = directory_body(name=f"Ava {n}-{i}")
                code = service.http.put(
                    "/directory/agents/agent_race", json=body, headers=auth(account)
                ).status_code
                with lock:
                    statuses[code] += 1
        except BaseException as error:  # a dead thread must fail the test, not vanish
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sum(statuses.values()) == 160
    assert set(statuses) <= {200, 409}, statuses


def test_deleting_another_workspaces_agent_answers_like_an_unknown_one_and_keeps_it(
    service: Service,
) -> None:
    account = unique_account()
    service.http.put(
        "/directory/agents/agent_ws2",
        json=directory_body(workspaceId="ws_2"),
        headers=auth(account),
    )
    ws1_only = bearer(account, workspaces=["ws_1"])
    other = service.http.delete("/directory/agents/agent_ws2", headers=ws1_only)
    unknown = service.http.delete("/directory/agents/agent_never", headers=ws1_only)
    assert (other.status_code, unknown.status_code) == (204, 204)
    assert find_agent(service.application, account, "agent_ws2") is not None


def test_workspace_forbidden_does_not_echo_the_workspace_id(service: Service) -> None:
    account = unique_account()
    response = service.http.post(
        "/channels/sms/connect",
        json=connect_body(unique_us_number(), workspaceId="ws_secretname"),
        headers=bearer(account, workspaces=["ws_1"]),
    )
    assert response.status_code == 403
    assert "ws_secretname" not in response.text


def test_the_docs_page_loads_no_third_party_script(service: Service) -> None:
    page = service.http.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(source.startswith("/") for source in sources), sources
    for source in sources:
        assert service.http.get(source).status_code == 200, source


def test_docs_can_be_turned_off(database_url: str) -> None:
    settings = Settings(database_url=database_url, jwt_secret=JWT_SECRET, docs_enabled=False)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200
