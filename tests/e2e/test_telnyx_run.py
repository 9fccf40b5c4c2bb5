"""`sms-channels run` with SMS_PROVIDER=telnyx against the fake Telnyx (a real process, as
an operator starts it): it refuses to start without what Telnyx mode needs, and with it the
README's tour completes to "approved" — connect (a number order with the messaging
profile), the compliance draft, the channel on, the channels table, the complete form, the
submission; then Telnyx (the fake, played by the test) approves the brand, provisions the
campaign and signs a campaign update to the service's webhook, and the connection's
registration is approved with outbound replies permitted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_cli import CLI, clean_env, free_port, healthy, running
from tests.support.common import JWT_SECRET, auth, wait_for
from tests.support.fake_telnyx import API_KEY, MESSAGING_PROFILE_ID, PUBLIC_KEY, fake_telnyx

NUMBER = "+14155550123"
EXAMPLE = Path(__file__).parents[2] / "docs" / "example-compliance.json"
AGENT = {
    "workspaceId": "ws_1",
    "workspaceName": "Support",
    "name": "Ava",
    "knowledgeBaseId": "kb_1",
    "knowledgeBaseName": "Help center",
}


def test_run_and_serve_refuse_telnyx_mode_without_what_it_needs(tmp_path: Path) -> None:
    for command in ("run", "serve"):
        result = subprocess.run(
            [*CLI, command],
            env=clean_env(SMS_PROVIDER="telnyx", DATA_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, (command, result.stderr)
        for name in (
            "TELNYX_API_KEY",
            "TELNYX_PUBLIC_KEY",
            "TELNYX_MESSAGING_PROFILE_ID",
            "PUBLIC_BASE_URL",
        ):
            assert name in result.stderr, (command, name)
    assert list(tmp_path.iterdir()) == []  # run stopped before making anything


def test_run_in_telnyx_mode_completes_the_readme_tour_to_approved(
    isolated_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with fake_telnyx() as fake:
        fake.offer(NUMBER)
        env = clean_env(
            SMS_PROVIDER="telnyx",
            TELNYX_API_KEY=API_KEY,
            TELNYX_PUBLIC_KEY=PUBLIC_KEY,
            TELNYX_MESSAGING_PROFILE_ID=MESSAGING_PROFILE_ID,
            TELNYX_BASE_URL=fake.base_url,
            TELNYX_10DLC_MOCK="true",
            PUBLIC_BASE_URL=base,
            DATABASE_URL=isolated_database_url,
            JWT_SECRET=JWT_SECRET,
            DATA_DIR=str(tmp_path / "data"),
            PORT=str(port),
            REGISTRATION_INTERVAL_SECONDS="0.5",
            RECONCILE_INTERVAL_SECONDS="1",
        )
        with running([*CLI, "run"], env) as lines, httpx.Client(base_url=base, timeout=30) as http:
            wait_for(lambda: healthy(port), timeout=120)
            tour(http, fake, "".join(lines))


def tour(http: httpx.Client, fake: Any, printed: str) -> None:
    account = "acc_demo"
    me = auth(account)
    answers: list[httpx.Response] = []

    def connect() -> bool:
        """The tour's connect; a 503 (a database slow to answer on a loaded machine) is
        retried with the same Idempotency-Key, as a client does."""
        answers.append(
            http.post(
                "/channels/sms/connect",
                headers={**me, "Idempotency-Key": "tour-1"},
                json={
                    "mode": "new",
                    "countryCode": "US",
                    "areaCode": "415",
                    "phoneNumber": NUMBER,
                    "workspaceId": "ws_1",
                    "agentId": "agent_1",
                },
            )
        )
        return answers[-1].status_code != 503

    wait_for(connect, timeout=60, interval=1)
    connected = answers[-1]
    assert connected.status_code == 201, (connected.text, printed)
    assert connected.json()["status"] == "connected"
    location = connected.headers["Location"]
    [bought] = fake.numbers.values()
    assert bought["messaging_profile_id"] == MESSAGING_PROFILE_ID

    draft = {
        "brand": {"displayName": "Acme Dental", "entity": "PRIVATE_PROFIT"},
        "campaign": {
            "messageSamples": ["Acme Dental: see you tomorrow at 9am. Reply STOP to opt out."]
        },
    }
    saved = http.put(location + "/compliance", json=draft, headers={**me, "If-Match": '"2"'})
    assert saved.status_code == 200, saved.text
    assert http.get(location + "/compliance", headers=me).json()["smsCompliance"] == draft
    assert http.patch(location, json={"active": True}, headers=me).status_code == 200

    service = auth(account, ("directory.write",))
    directory = http.put("/directory/agents/agent_1", json=AGENT, headers=service)
    assert directory.status_code == 200, directory.text
    position = directory.json()["position"]
    table = http.get(
        f"/channels/sms/connections?sort=knowledgeBase&waitFor={position}", headers=me
    ).json()
    [row] = table["items"] if "items" in table else table["data"]
    replies = row["capabilities"]["outboundReplies"]
    assert (replies["permitted"], replies["reason"]) == (False, "registration_required")

    version = http.get(location, headers=me).json()["version"]
    complete = json.loads(EXAMPLE.read_text())
    saved = http.put(
        location + "/compliance", json=complete, headers={**me, "If-Match": f'"{version}"'}
    )
    assert saved.status_code == 200, saved.text
    submitted = http.post(
        location + "/registration", headers={**me, "If-Match": f'"{version + 1}"'}
    )
    assert submitted.status_code == 202, submitted.text

    # Telnyx decides: the brand is registered and verified, then the carriers provision
    # the campaign and Telnyx tells the service's webhook.
    wait_for(lambda: len(fake.brands) == 1, timeout=30)
    [brand_id] = fake.brands
    assert fake.brands[brand_id]["webhookURL"].startswith(f"{http.base_url}/providers/telnyx")
    fake.set_brand(brand_id, "OK", "VERIFIED")
    wait_for(lambda: len(fake.campaigns) == 1 and len(fake.assignments) == 1, timeout=60)
    [campaign_id] = fake.campaigns
    fake.set_campaign(campaign_id, "MNO_PROVISIONED")
    body, headers = fake.campaign_event(campaign_id, "VERIFIED", "ACCEPTED")
    delivered = http.post("/providers/telnyx/webhooks", content=body, headers=headers)
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")

    def approved() -> bool:
        found = http.get(location, headers=me).json()
        return bool(found["registrationStatus"] == "approved")

    wait_for(approved, timeout=60)
    replies = http.get(location, headers=me).json()["capabilities"]["outboundReplies"]
    assert (replies["permitted"], replies["reason"]) == (True, None)
    registration = http.get(location + "/registration", headers=me).json()
    assert registration["campaign"]["rawStatus"] == "MNO_PROVISIONED"
    assert registration["number"]["rawStatus"] == "ASSIGNED"
