"""The compliance endpoints over HTTP on PostgreSQL: payload with progress, preflight,
audit history and points in time."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.common import auth, if_match, unique_account, unique_us_number
from tests.support.compliance_payloads import GOOD, good_with, marked_payload

SECTIONS = 8


def connect(http: httpx.Client, account: str, compliance: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {
        "mode": "new",
        "countryCode": "US",
        "phoneNumber": unique_us_number(),
        "workspaceId": "ws",
        "agentId": "agent",
    }
    if compliance is not None:
        body["smsCompliance"] = compliance
    created = http.post("/channels/sms/connect", json=body, headers=auth(account))
    assert created.status_code == 201, created.text
    return str(created.headers["Location"])


def test_put_answers_with_the_payload_progress_registration_version_and_position(
    http: httpx.Client,
) -> None:
    account = unique_account()
    url = connect(http, account)
    draft = {"brand": {"displayName": "Acme Dental"}}
    response = http.put(url + "/compliance", json=draft, headers=if_match(http, url, account))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() == {
        "smsCompliance",
        "complianceProgress",
        "registration",
        "version",
        "position",
    }
    assert body["smsCompliance"] == draft
    assert body["registration"] == {
        "status": "not_submitted",
        "rawStatus": None,
        "reason": None,
        "changedSinceSubmission": False,
        "throughput": dict.fromkeys(
            ("brandScore", "tmobileTier", "tmobileDailyCap", "attMessageClass", "attTpm")
        ),
    }
    assert response.headers["ETag"].startswith(f'"{body["version"]}-')
    assert body["position"] > 0


def test_progress_reports_each_section_with_its_missing_fields(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, good_with(brand_city="", campaign_helpMessage=None))
    progress = http.get(url + "/compliance", headers=auth(account)).json()["complianceProgress"]
    assert (progress["completeSections"], progress["totalSections"]) == (SECTIONS - 2, SECTIONS)
    incomplete = {s["name"]: s["missing"] for s in progress["sections"] if not s["complete"]}
    assert incomplete == {
        "brand_contact": ["brand.city"],
        "help": ["campaign.helpMessage"],
    }


def test_a_connection_never_given_compliance_reads_as_empty_defaults_with_no_progress(
    http: httpx.Client,
) -> None:
    account = unique_account()
    body = http.get(connect(http, account) + "/compliance", headers=auth(account)).json()
    assert body["smsCompliance"]["campaign"]["messageSamples"] == ["", "", "", "", ""]
    assert body["complianceProgress"]["completeSections"] == 0
    assert body["position"] is None


def test_the_connection_carries_progress_by_section_even_for_readers(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, GOOD)
    reader = http.get(url, headers=auth(account, ("channels.read",))).json()
    assert reader["complianceProgress"]["completeSections"] == SECTIONS
    assert len(reader["complianceProgress"]["sections"]) == SECTIONS
    assert reader["smsCompliance"] is None


def test_compliance_responses_are_not_cached(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, GOOD)
    response = http.get(url + "/compliance", headers=auth(account))
    assert response.headers["Cache-Control"] == "no-store"


def test_preflight_reports_findings_by_field_and_rule_without_values(http: httpx.Client) -> None:
    account = unique_account()
    payload, markers = marked_payload()
    url = connect(http, account, payload)
    response = http.get(url + "/compliance/preflight", headers=auth(account))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is False
    assert body["ruleset"] == "us_10dlc"
    assert {"field": "brand.contactPhone", "rule": "format.e164"}.items() <= (
        next(f for f in body["findings"] if f["rule"] == "format.e164").items()
    )
    assert not [m for m in markers if m in response.text]


def test_preflight_of_a_complete_payload_is_ready(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, GOOD)
    body = http.get(url + "/compliance/preflight", headers=auth(account)).json()
    assert body == {"ready": True, "ruleset": "us_10dlc", "findings": []}


def test_every_preflight_finding_carries_the_provider_codes_it_predicts(
    http: httpx.Client,
) -> None:
    account = unique_account()
    sample = "Acme Dental: book at http://acmedental.com/book. Reply STOP to opt out."
    payload = good_with(
        campaign_messageSamples=[sample, GOOD["campaign"]["messageSamples"][1]],
        campaign_embeddedLink=True,
    )
    url = connect(http, account, payload)
    body = http.get(url + "/compliance/preflight", headers=auth(account)).json()
    assert [(f["rule"], f["providerCodes"]) for f in body["findings"]] == [
        ("link.unsecured", ["30892"])
    ]


def test_preflight_needs_sms_manage(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    response = http.get(
        url + "/compliance/preflight", headers=auth(account, ("channels.read", "compliance.audit"))
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def save(http: httpx.Client, url: str, account: str, payload: dict[str, Any]) -> int:
    response = http.put(url + "/compliance", json=payload, headers=if_match(http, url, account))
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def test_history_lists_each_save_with_actor_and_changed_fields(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    first = save(http, url, account, {"brand": {"city": "SF"}})
    second = save(http, url, account, {"brand": {"city": "LA", "state": "CA"}})
    response = http.get(url + "/compliance/history", headers=auth(account))
    assert response.status_code == 200, response.text
    versions = response.json()["versions"]
    assert [
        (v["version"], v["actor"], v["changedFields"], v["smsCompliance"]) for v in versions
    ] == [
        (first, "u1", ["brand.city"], {"brand": {"city": "SF"}}),
        (second, "u1", ["brand.city", "brand.state"], {"brand": {"city": "LA", "state": "CA"}}),
    ]
    assert versions[0]["recordedAt"] <= versions[1]["recordedAt"]


def test_history_as_of_a_version_gives_the_payload_then(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    first = save(http, url, account, {"brand": {"city": "SF"}})
    assert http.patch(url, json={"active": True}, headers=auth(account)).status_code == 200
    second = save(http, url, account, {"brand": {"city": "LA"}})
    response = http.get(
        url + "/compliance/history", params={"asOfVersion": second - 1}, headers=auth(account)
    )
    assert [(v["version"], v["smsCompliance"]) for v in response.json()["versions"]] == [
        (first, {"brand": {"city": "SF"}})
    ]


def test_history_as_of_a_time_gives_the_payload_then(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, {"brand": {"city": "SF"}})
    save(http, url, account, {"brand": {"city": "LA"}})
    first = http.get(url + "/compliance/history", headers=auth(account)).json()["versions"][0]
    response = http.get(
        url + "/compliance/history", params={"asOf": first["recordedAt"]}, headers=auth(account)
    )
    assert response.json()["versions"] == [first]


def test_history_as_of_before_any_save_is_empty(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, {"brand": {"city": "SF"}})
    response = http.get(url + "/compliance/history?asOfVersion=1", headers=auth(account))
    assert (response.status_code, response.json()["versions"]) == (200, [])


def test_history_refuses_a_time_without_a_zone(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    response = http.get(
        url + "/compliance/history", params={"asOf": "2025-01-31T09:30:00"}, headers=auth(account)
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_point_in_time")
    assert response.json()["errors"][0]["field"] == "asOf"


def test_history_refuses_both_points_at_once(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    response = http.get(
        url + "/compliance/history",
        params={"asOf": "2025-01-31T09:30:00Z", "asOfVersion": "2"},
        headers=auth(account),
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_point_in_time")


def test_history_needs_compliance_audit(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account)
    response = http.get(url + "/compliance/history", headers=auth(account, ("sms.manage",)))
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_history_of_another_accounts_connection_is_404(http: httpx.Client) -> None:
    url = connect(http, unique_account())
    response = http.get(url + "/compliance/history", headers=auth(unique_account()))
    assert (response.status_code, response.json()["code"]) == (404, "connection_not_found")


def test_history_of_an_unknown_connection_is_404(http: httpx.Client) -> None:
    response = http.get(
        f"/channels/sms/connections/{uuid.uuid4()}/compliance/history",
        headers=auth(unique_account()),
    )
    assert response.status_code == 404


def test_a_deleted_connection_stays_auditable_over_http(http: httpx.Client) -> None:
    account = unique_account()
    url = connect(http, account, {"brand": {"city": "SF"}})
    assert http.delete(url, headers=auth(account)).status_code == 204
    assert http.get(url + "/compliance", headers=auth(account)).status_code == 404
    response = http.get(url + "/compliance/history", headers=auth(account))
    assert response.status_code == 200
    assert (response.json()["status"], len(response.json()["versions"])) == ("deleted", 1)
