"""Registration over HTTP with the whole stack on PostgreSQL (API, projections, the
registration worker) and the sandbox CLI acting as the provider: submit → pending →
approved with outbound replies permitted; a campaign rejected with 30892, edited and
submitted again; two numbers sharing brand and campaign; the refusals."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.service.commands import ConnectNumber
from projections.registry import PROJECTIONS
from providers.sandbox import SandboxWebhook
from sms_channels.bootstrap import build_application
from sms_channels.cli import app as cli
from sms_channels.settings import Settings
from tests.e2e.provider_support import Service, running_service
from tests.e2e.test_webhooks_cli import cli_env
from tests.support.common import auth, if_match, unique_account, unique_us_number, wait_for
from tests.support.compliance_payloads import GOOD
from workers.projector import ProjectionThreads
from workers.registration import RegistrationWorker

runner = CliRunner()
AGENT = {
    "workspaceId": "ws_1",
    "workspaceName": "Support",
    "name": "Ava",
    "knowledgeBaseId": "kb_1",
    "knowledgeBaseName": "Help center",
}


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    """The API, the projections and the registration worker (its own application, as the
    ``sms-channels worker registration`` process has)."""
    stop = threading.Event()
    workers = build_application(Settings(database_url=database_url))
    threads = ProjectionThreads(workers, database_url, list(PROJECTIONS), stop).start()
    registration = RegistrationWorker(workers, poll_interval_seconds=3600)
    thread = threading.Thread(target=registration.run_forever, args=(stop, 0.05), daemon=True)
    thread.start()
    with running_service(database_url) as running:
        yield running
    stop.set()
    thread.join(10)
    threads.join()
    workers.close()
    assert threads.errors == []


def connected(service: Service, account: str, number: str, compliance: dict[str, Any]) -> str:
    """A connected, active number whose agent resolves a knowledge base, with ``compliance``."""
    service.http.put("/directory/agents/agent_1", json=AGENT, headers=auth(account))
    created = service.connect(account, number)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    service.http.patch(location, json={"active": True}, headers=auth(account))
    saved = service.http.put(
        location + "/compliance",
        json=compliance,
        headers={**auth(account), **if_match(service.http, location, account)},
    )
    assert saved.status_code == 200, saved.text
    return location


def submit(service: Service, account: str, location: str) -> Any:
    headers = {**auth(account), **if_match(service.http, location, account)}
    return service.http.post(location + "/registration", json={}, headers=headers)


def registration(service: Service, account: str, location: str) -> dict[str, Any]:
    response = service.http.get(location + "/registration", headers=auth(account))
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def at_the_provider(service: Service, account: str, location: str) -> dict[str, Any]:
    """The registration once the worker has taken every step (number registered)."""
    wait_for(lambda: registration(service, account, location)["number"]["providerRef"] is not None)
    return registration(service, account, location)


def provider_decides(database_url: str, tmp_path: Path, service: Service, *args: str) -> str:
    result = runner.invoke(
        cli,
        ["sandbox", "registration", *args, "--url", str(service.http.base_url)],
        env=cli_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_submit_then_the_provider_approves_and_replies_are_permitted(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    location = connected(service, account, number, GOOD)
    no_precondition = service.http.post(location + "/registration", json={}, headers=auth(account))
    assert no_precondition.status_code == 428
    accepted = submit(service, account, location)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["registration"]["status"] == "submitted"
    pending = at_the_provider(service, account, location)
    assert pending["status"] == "pending"
    assert pending["brand"]["providerRef"].startswith("BN")
    assert pending["campaign"]["providerRef"].startswith("CM")
    assert pending["number"]["providerRef"].startswith("MG")
    not_yet = service.http.get(location, headers=auth(account)).json()
    assert not_yet["capabilities"]["outboundReplies"]["reason"] == "campaign_pending"

    output = provider_decides(database_url, tmp_path, service, number, "--status", "approved")
    assert output.count("registration.level_changed") == 3
    approved = registration(service, account, location)
    assert approved["status"] == "approved"
    assert approved["brand"]["identityStatus"] == "VERIFIED"
    assert [e["level"] for e in approved["timeline"]][:1] == ["submission"]
    single = service.http.get(location, headers=auth(account)).json()
    assert single["registrationStatus"] == "approved"
    assert single["capabilities"]["outboundReplies"] == {
        "permitted": True,
        "reason": None,
        "notPermittedOn": [],
    }


def test_a_campaign_rejected_with_30892_is_edited_and_submitted_again(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    location = connected(service, account, number, GOOD)
    assert submit(service, account, location).status_code == 202
    first = at_the_provider(service, account, location)
    provider_decides(
        database_url, tmp_path, service, number,
        "--status", "rejected", "--level", "campaign", "--code", "30892",
        "--reason", "A sample message contains a shortened URL.",
    )  # fmt: skip
    rejected = registration(service, account, location)
    assert rejected["status"] == "rejected"
    assert [r["code"] for r in rejected["campaign"]["reasons"]] == ["30892"]
    assert rejected["timeline"][-1]["level"] == "campaign"
    unchanged = submit(service, account, location)
    assert (unchanged.status_code, unchanged.json()["code"]) == (409, "registration_unchanged")

    assert rejected["resubmission"]["mode"] == "in_place"  # 30892: samples, flow, links
    fixed = copy.deepcopy(GOOD)
    fixed["campaign"]["campaignDescription"] = "Appointment reminders for Acme Dental patients."
    headers = {**auth(account), **if_match(service.http, location, account)}
    assert service.http.put(location + "/compliance", json=fixed, headers=headers).is_success
    edited = registration(service, account, location)
    assert edited["changedSinceSubmission"] is True
    assert (edited["resubmission"]["mode"], edited["resubmission"]["attempts"]) == ("in_place", 1)
    assert submit(service, account, location).status_code == 202
    second = at_the_provider(service, account, location)
    # Resubmitted in place (the sandbox's campaign update): the same campaign, reviewed again.
    wait_for(lambda: registration(service, account, location)["campaign"]["status"] == "pending")
    second = registration(service, account, location)
    assert second["campaign"]["providerRef"] == first["campaign"]["providerRef"]
    assert second["brand"]["providerRef"] == first["brand"]["providerRef"]
    assert second["status"] == "pending"
    assert second["resubmission"]["attempts"] == 2

    audit = service.http.get(location + "/compliance/history", headers=auth(account)).json()
    facts = audit["registration"]
    assert [f["type"] for f in facts].count("registration.submitted") == 2
    assert ["30892"] in [f["providerCodes"] for f in facts]
    assert all(f["submittedVersion"] is not None for f in facts)


def test_two_numbers_with_the_same_brand_and_campaign_share_both_references(
    service: Service,
) -> None:
    account = unique_account()
    locations = [connected(service, account, unique_us_number(), GOOD) for _ in range(2)]
    for location in locations:
        assert submit(service, account, location).status_code == 202
    one, two = (at_the_provider(service, account, location) for location in locations)
    assert one["brand"]["providerRef"] == two["brand"]["providerRef"]
    assert one["campaign"]["providerRef"] == two["campaign"]["providerRef"]
    assert one["number"]["providerRef"] != two["number"]["providerRef"]


def test_refusals_name_their_code(service: Service) -> None:
    account = unique_account()
    draft = copy.deepcopy(GOOD)
    draft["campaign"]["messageSamples"] = ["hi", None, "", "", ""]
    location = connected(service, account, unique_us_number(), draft)
    refused = submit(service, account, location)
    assert (refused.status_code, refused.json()["code"]) == (422, "preflight_failed")
    assert all(e["field"].startswith("smsCompliance.") for e in refused.json()["errors"])
    assert "hi" not in refused.text

    location = connected(service, account, unique_us_number(), GOOD)
    assert submit(service, account, location).status_code == 202
    at_the_provider(service, account, location)  # the worker's facts move the version
    again = submit(service, account, location)
    assert (again.status_code, again.json()["code"]) == (409, "registration_in_progress")


def test_a_webhook_about_an_unknown_registration_is_acknowledged_and_ignored(
    service: Service,
) -> None:
    event = SandboxWebhook.new(
        "registration.level_changed",
        {"level": "campaign", "ref": "CMnotours", "status": "approved", "reasons": []},
    )
    delivered = service.deliver(event)
    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "ignored")


def test_the_openapi_document_describes_registration(service: Service) -> None:
    document = service.http.get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    operations = paths["/channels/sms/connections/{connection_id}/registration"]
    assert {"202", "409", "412", "422", "428"} <= set(operations["post"]["responses"])
    assert "get" in operations
    fields = {"status", "submittedVersion", "submittedBy", "changedSinceSubmission", "brand",
              "campaign", "number", "timeline"}  # fmt: skip
    assert fields <= set(schemas["RegistrationOut"]["properties"])
    assert "identityStatus" in schemas["BrandLevelOut"]["properties"]
    assert "registration" in schemas["ComplianceHistoryOut"]["properties"]


def sandbox(database_url: str, tmp_path: Path, service: Service, *args: str) -> str:
    result = runner.invoke(
        cli,
        ["sandbox", *args, "--url", str(service.http.base_url)],
        env=cli_env(database_url, tmp_path),
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_approved_by_att_and_verizon_refused_by_tmobile(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    """Per carrier (issue 31): status, outboundReplies, the channels table's badge and the
    compliance history all name T-Mobile."""
    account, number = unique_account(), unique_us_number()
    location = connected(service, account, number, GOOD)
    assert submit(service, account, location).status_code == 202
    at_the_provider(service, account, location)
    for level in ("brand", "number"):
        provider_decides(
            database_url, tmp_path, service, number, "--status", "approved", "--level", level
        )
    for carrier in ("att", "verizon"):
        provider_decides(
            database_url, tmp_path, service, number,
            "--level", "campaign", "--carrier", carrier, "--status", "approved",
        )  # fmt: skip
    provider_decides(
        database_url, tmp_path, service, number,
        "--level", "campaign", "--carrier", "tmobile", "--status", "rejected", "--code", "30892",
    )  # fmt: skip
    answer = registration(service, account, location)
    assert answer["status"] == "rejected"
    assert {c["carrier"]: c["status"] for c in answer["campaign"]["carriers"]} == {
        "att": "approved", "tmobile": "rejected", "verizon": "approved",
    }  # fmt: skip
    reason = next(r for r in answer["campaign"]["reasons"] if r["carrier"] == "tmobile")
    assert reason["code"] == "30892"
    assert reason["fix"]
    assert reason["fields"]
    assert answer["notPermittedOn"] == ["tmobile"]
    single = service.http.get(location, headers=auth(account)).json()
    outbound = single["capabilities"]["outboundReplies"]
    assert (outbound["permitted"], outbound["notPermittedOn"]) == (False, ["tmobile"])
    assert single["registrationCarriers"] == [
        {"carrier": "att", "status": "approved"},
        {"carrier": "tmobile", "status": "rejected"},
        {"carrier": "verizon", "status": "approved"},
    ]

    def badge() -> Any:
        rows = service.http.get("/channels/sms/connections", headers=auth(account)).json()["items"]
        return next((r for r in rows if r["phoneNumber"] == number), {}).get("registrationCarriers")

    wait_for(lambda: badge() == single["registrationCarriers"])
    history = service.http.get(location + "/compliance/history", headers=auth(account)).json()
    assert ["30892"] in [f["providerCodes"] for f in history["registration"]]


def test_the_sandboxs_throughput_settings_reach_the_registration(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    location = connected(service, account, number, GOOD)
    assert submit(service, account, location).status_code == 202
    at_the_provider(service, account, location)
    sandbox(
        database_url, tmp_path, service, "throughput", number,
        "--brand-score", "42", "--tmobile-tier", "LOW", "--att-message-class", "T",
        "--att-tpm", "240",
    )  # fmt: skip
    expected = {
        "brandScore": 42, "tmobileTier": "LOW", "tmobileDailyCap": 2000,
        "attMessageClass": "T", "attTpm": 240,
    }  # fmt: skip
    assert registration(service, account, location)["throughput"] == expected
    single = service.http.get(location, headers=auth(account)).json()
    assert single["registration"]["throughput"] == expected


TOKEN = "cv|1.0|tcr|10dlc|9957c339-d46f-49b7-a399-2e6d5ebac66d|E2Ecanary"


def test_a_political_brand_needs_a_campaign_verify_token_sent_as_a_vetting(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    political = copy.deepcopy(GOOD)
    political["brand"]["vertical"] = "POLITICAL"
    location = connected(service, account, number, political)
    refused = submit(service, account, location)
    assert (refused.status_code, refused.json()["code"]) == (422, "preflight_failed")
    assert [e["field"] for e in refused.json()["errors"]] == [
        "smsCompliance.brand.campaignVerifyToken"
    ]

    political["brand"]["campaignVerifyToken"] = TOKEN
    headers = {**auth(account), **if_match(service.http, location, account)}
    assert service.http.put(location + "/compliance", json=political, headers=headers).is_success
    assert submit(service, account, location).status_code == 202
    wait_for(lambda: registration(service, account, location)["brand"]["providerRef"] is not None)
    brand_ref = registration(service, account, location)["brand"]["providerRef"]
    assert registration(service, account, location)["campaign"]["providerRef"] is None
    sandbox(
        database_url, tmp_path, service, "registration", number,
        "--ref", brand_ref, "--status", "approved",
    )  # fmt: skip
    answer = at_the_provider(service, account, location)  # the campaign follows the vetting
    assert [(v["kind"], v["status"], v["vettingClass"]) for v in answer["brand"]["vettings"]] == [
        ("campaign_verify", "approved", "POLITICAL")
    ]
    assert TOKEN not in json.dumps(answer)


def test_secondary_vetting_raises_the_brand_score(
    service: Service, database_url: str, tmp_path: Path
) -> None:
    account, number = unique_account(), unique_us_number()
    location = connected(service, account, number, GOOD)
    assert submit(service, account, location).status_code == 202
    at_the_provider(service, account, location)
    early = service.http.post(
        location + "/registration/vetting",
        json={},
        headers={**auth(account), **if_match(service.http, location, account)},
    )
    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
    provider_decides(database_url, tmp_path, service, number, "--status", "approved")
    sandbox(database_url, tmp_path, service, "throughput", number, "--brand-score", "20")
    asked = service.http.post(
        location + "/registration/vetting",
        json={},
        headers={**auth(account), **if_match(service.http, location, account)},
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["registration"]["brand"]["secondaryVettingRequested"] is True

    def vetted() -> bool:
        return registration(service, account, location)["throughput"]["brandScore"] == 75

    wait_for(vetted)
    answer = registration(service, account, location)
    assert [(v["kind"], v["status"]) for v in answer["brand"]["vettings"]] == [
        ("secondary", "approved")
    ]
    trail = service.http.get(location + "/compliance/history", headers=auth(account)).json()
    assert "registration.vetting_requested" in [f["type"] for f in trail["registration"]]


def test_the_50th_number_of_a_campaign_without_pooling_waits_for_number_pooling(
    service: Service, database_url: str
) -> None:
    """T-Mobile takes 49 numbers on a campaign without number pooling: 49 connections of
    the account registered on one campaign (made through the application: the API's connect
    rate limit would take minutes), then the 50th over HTTP waits, ``action_required`` with
    ``number_pool_required`` (the provider never asked), and the preflight warned."""
    account = unique_account()
    payload = copy.deepcopy(GOOD)
    payload["campaign"]["numberPooling"] = False
    application = build_application(Settings(database_url=database_url))
    try:
        for _ in range(49):
            made = application.connect(
                ConnectNumber(
                    account, "ws_1", "agent_1", "new", "US", None, unique_us_number(), "u1"
                )
            ).connection
            application.update_compliance(account, made.id, payload, by="u1")
            application.submit_registration(account, made.id, by="u1", expected_version=None)
            while application.advance_registration(made.id).step is not None:
                pass
    finally:
        application.close()
    location = connected(service, account, unique_us_number(), payload)
    preflight = service.http.get(location + "/compliance/preflight", headers=auth(account))
    assert "account.number_pool_limit" in [f["rule"] for f in preflight.json()["findings"]]
    assert submit(service, account, location).status_code == 202

    def waiting() -> bool:
        return bool(registration(service, account, location)["number"]["reasons"])

    wait_for(waiting, timeout=30)
    number = registration(service, account, location)["number"]
    assert (number["status"], number["providerRef"]) == ("action_required", None)
    assert [(r["code"], r["fields"]) for r in number["reasons"]] == [
        ("number_pool_required", ["campaign.numberPooling"])
    ]
    assert registration(service, account, location)["status"] == "action_required"
