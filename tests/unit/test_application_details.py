"""The application service's commands in detail, in memory: what each records (who, which
provider, which reason), expected versions on every write, retries after a concurrent
write, replays of failed connects, and what provider events and deferred releases leave
behind (delivery marks, logs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording
from structlog.testing import capture_logs

from domain.agent_directory import AgentInfo
from domain.application import SmsChannels
from domain.errors import (
    AreaCodeNotApplicableError,
    ConnectionDeletedError,
    ConnectionNotFoundError,
    InvalidNumberSearchError,
    InvalidTransitionError,
    ProvisioningFailedError,
    VersionConflictError,
)
from domain.ids import connection_id_for, number_claim_id
from domain.provider_deliveries import ProviderDelivery, provider_delivery_id
from domain.providers import (
    ComplianceRestrictedError,
    HeldNumber,
    HostingCompleted,
    HostingFailed,
    NumberLost,
    ProviderEvent,
    ProviderRejectedError,
    ProviderUnavailableError,
    ProvisionedNumber,
    RegistrationChanged,
)
from domain.service.directory import upsert_agent
from tests.support.fakes import CrashingProvider, FailingProvider, SimulatedCrash
from tests.unit.test_connect_flow import NUMBER, application, claim_holder, command

CONNECTION = connection_id_for("acc", "ws", "k-1")


class RacingChannels(SmsChannels):
    """The application, except that a concurrent writer runs ``competitor`` just before
    each of the next ``races`` saves: our save then meets a newer version and must retry."""

    races = 0
    competitor: Callable[[], object] = staticmethod(lambda: None)
    _in_competitor = False

    def save(self, *objs: Aggregate | None, **kwargs: Any) -> list[Recording[UUID]]:
        if self.races > 0 and not self._in_competitor:
            self.races -= 1
            self._in_competitor = True
            try:
                self.competitor()
            finally:
                self._in_competitor = False
        return super().save(*objs, **kwargs)


def racing(provider: FailingProvider | None = None) -> RacingChannels:
    return RacingChannels(
        provider or FailingProvider(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )


@pytest.fixture
def provider() -> FailingProvider:
    return FailingProvider()


@pytest.fixture
def app(provider: FailingProvider) -> SmsChannels:
    return application(provider)


# --- what the commands record -------------------------------------------------------------


def test_a_connect_records_the_commands_facts_and_the_provider(app: SmsChannels) -> None:
    connection = app.connect(command()).connection
    assert (connection.workspace_id, connection.area_code, connection.requested_by) == (
        "ws",
        None,
        "u",
    )
    assert (connection.provider, connection.status) == ("sandbox", "connected")
    hosted = app.connect(command(mode="byon", key="k-2", number="+14155550124")).connection
    assert hosted.provider == "sandbox"


def test_a_byon_connect_opens_the_order_under_the_connections_reference(
    app: SmsChannels, provider: FailingProvider
) -> None:
    hosted = app.connect(command(mode="byon")).connection
    order = provider.ledger.order(hosted.hosting_order_ref or "")
    assert order is not None
    assert order.reference == str(hosted.id)


def test_operator_commands_record_who_acted(app: SmsChannels) -> None:
    app.connect(command())
    app.update_settings("acc", CONNECTION, by="ann", agent_id="agent-2", active=True)
    recorded = list(app.events.get(CONNECTION))
    assert [type(e).__name__ for e in recorded[-2:]] == ["AgentAssigned", "ActiveChanged"]
    assert (recorded[-2].assigned_by, recorded[-1].changed_by) == ("ann", "ann")
    app.update_settings("acc", CONNECTION, by="bob", active=False)
    switched_off = list(app.events.get(CONNECTION))[-1]
    assert (switched_off.active, switched_off.changed_by) == (False, "bob")
    assert app.get_connection("acc", CONNECTION).active is False
    app.delete("acc", CONNECTION, by="cat")
    assert list(app.events.get(CONNECTION))[-1].deleted_by == "cat"


def test_a_reclaim_records_its_reason(app: SmsChannels) -> None:
    app.connect(command())
    assert app.record_reclaimed(CONNECTION, "expired").connection.reclaim_reason == "expired"


def test_a_hosting_webhook_records_the_provider_and_a_registration_webhook_its_reason(
    app: SmsChannels, provider: FailingProvider
) -> None:
    hosted = app.connect(command(mode="byon")).connection
    fact = HostingCompleted(NUMBER, hosted.hosting_order_ref or "", "PN7")
    app.record_provider_event(ProviderEvent("twilio", "evt-1", fact))
    assert app.get_connection("acc", CONNECTION).provider == "twilio"
    changed = RegistrationChanged(NUMBER, "rejected", "FAILED", "30882", "BN1")
    app.record_provider_event(ProviderEvent("sandbox", "evt-2", changed))
    assert app.get_connection("acc", CONNECTION).registration_reason == "30882"


# --- expected versions and not-found ------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda app, v: app.update_compliance(
            "acc", CONNECTION, {"brand": {}}, by="u", expected_version=v
        ),
        lambda app, v: app.update_settings(
            "acc", CONNECTION, by="u", active=True, expected_version=v
        ),
        lambda app, v: app.delete("acc", CONNECTION, by="u", expected_version=v),
    ],
    ids=["compliance", "settings", "delete"],
)
def test_every_write_refuses_a_stale_expected_version_and_records_nothing(
    app: SmsChannels, write: Callable[[SmsChannels, int], object]
) -> None:
    app.connect(command())
    app.update_compliance("acc", CONNECTION, {"brand": {"city": "SF"}}, by="u")
    with pytest.raises(VersionConflictError) as refused:
        write(app, 2)
    assert (refused.value.expected, refused.value.actual) == (2, 3)
    assert app.get_connection("acc", CONNECTION).version == 3


def test_not_found_and_deleted_errors_name_the_connection(app: SmsChannels) -> None:
    unknown = uuid4()
    for read in (app.get_connection, app.get_connection_for_audit):
        with pytest.raises(ConnectionNotFoundError) as missing:
            read("acc", unknown)
        assert missing.value.connection_id == unknown
    with pytest.raises(ConnectionNotFoundError) as missing:
        app.record_reclaimed(unknown, "expired")
    assert missing.value.connection_id == unknown
    app.connect(command())
    app.delete("acc", CONNECTION, by="u")
    with pytest.raises(ConnectionNotFoundError) as hidden:
        app.get_connection("acc", CONNECTION)
    assert hidden.value.connection_id == CONNECTION
    with pytest.raises(ConnectionDeletedError) as deleted:
        app.delete("acc", CONNECTION, by="u")
    assert deleted.value.connection_id == CONNECTION


def test_an_id_that_is_not_a_connection_is_not_found(app: SmsChannels) -> None:
    app.connect(command())
    claim = number_claim_id(NUMBER)
    with pytest.raises(ConnectionNotFoundError):
        app.get_connection("acc", claim)


# --- concurrent writers: retried without an expected version, refused with one ------------


def test_a_command_without_expected_version_is_applied_again_after_a_concurrent_write() -> None:
    app = racing()
    app.connect(command())
    app.races = 1
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": "SF"}}, by="other"
    )
    result = app.update_settings("acc", CONNECTION, by="u", active=True)
    connection = app.get_connection("acc", CONNECTION)
    assert (connection.active, connection.compliance) == (True, {"brand": {"city": "SF"}})
    assert result.position == app.current_position()


def test_a_command_losing_every_retry_is_a_conflict_without_versions() -> None:
    app = racing()
    app.connect(command())
    app.races = 3
    counter = iter(range(100))
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": f"C{next(counter)}"}}, by="other"
    )
    with pytest.raises(VersionConflictError) as refused:
        app.update_settings("acc", CONNECTION, by="u", active=True)
    assert (refused.value.expected, refused.value.actual) == (None, None)
    assert app.get_connection("acc", CONNECTION).active is False


def test_a_command_with_an_expected_version_is_not_retried_after_a_concurrent_write() -> None:
    app = racing()
    app.connect(command())
    app.races = 1
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": "SF"}}, by="other"
    )
    with pytest.raises(VersionConflictError) as refused:
        app.update_settings("acc", CONNECTION, by="u", active=True, expected_version=2)
    # Not retried: the loser hears the version it read, not a reload's.
    assert (refused.value.expected, refused.value.actual) == (2, None)
    assert app.get_connection("acc", CONNECTION).active is False


def test_a_provider_fact_is_applied_again_after_a_concurrent_write() -> None:
    app = racing()
    app.connect(command())
    app.races = 1
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": "SF"}}, by="other"
    )
    app.record_reclaimed(CONNECTION, "expired")
    assert app.get_connection("acc", CONNECTION).status == "reclaimed"


def test_an_unchanged_command_answers_the_current_position(app: SmsChannels) -> None:
    app.connect(command())
    app.update_settings("acc", CONNECTION, by="u", active=True)
    again = app.update_settings("acc", CONNECTION, by="u", active=True)  # records nothing
    assert again.position == app.current_position()


# --- connect: the purchase meets a concurrent change --------------------------------------


class EditingProvider(FailingProvider):
    """The sandbox, except that an operator edits the connection while it is being bought;
    then the provider answers with ``error`` if set."""

    app: SmsChannels
    refusal: Exception | None = None

    def purchase(self, country: str, phone_number: str, *, reference: str) -> ProvisionedNumber:
        SmsChannels.update_compliance(
            self.app, "acc", UUID(reference), {"brand": {"city": "SF"}}, by="other"
        )
        if self.refusal is not None:
            raise self.refusal
        return super().purchase(country, phone_number, reference=reference)


def test_a_purchase_recorded_after_a_concurrent_edit_keeps_both() -> None:
    provider = EditingProvider()
    app = provider.app = application(provider)
    result = app.connect(command())
    assert (result.created, result.position) == (True, app.current_position())
    assert (result.connection.status, result.connection.compliance) == (
        "connected",
        {"brand": {"city": "SF"}},
    )


def test_a_refusal_recorded_after_a_concurrent_edit_fails_the_connection_and_frees_it() -> None:
    provider = EditingProvider()
    provider.refusal = ProviderRejectedError("21422")
    app = provider.app = application(provider)
    with pytest.raises(ProviderRejectedError):
        app.connect(command())
    connection = app.get_connection("acc", CONNECTION)
    assert (connection.status, connection.failure_code, connection.failure_reason) == (
        "failed",
        "provider_rejected",
        ProviderRejectedError("21422").message,
    )
    assert claim_holder(app) is None


# --- replays of failed connects -----------------------------------------------------------


def test_a_replay_of_a_restricted_connect_answers_the_same_restriction(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ComplianceRestrictedError("an address is needed")
    for _ in range(2):
        with pytest.raises(ComplianceRestrictedError) as refused:
            app.connect(command())
        assert refused.value.message == "The provider restricts numbers here: an address is needed"


def test_a_replay_of_a_connect_refused_otherwise_names_the_failure_code(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderRejectedError("21422")
    with pytest.raises(ProviderRejectedError):
        app.connect(command())
    with pytest.raises(ProvisioningFailedError) as replayed:
        app.connect(command())
    assert replayed.value.failure_code == "provider_rejected"


def test_a_replay_of_a_pending_byon_connect_records_nothing_new(app: SmsChannels) -> None:
    first = app.connect(command(mode="byon"))
    again = app.connect(command(mode="byon"))
    assert (again.created, again.connection.version) == (False, first.connection.version)
    assert again.position == app.current_position()


def test_a_resumed_connect_the_provider_now_refuses_is_failed_and_freed(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()  # the purchase may or may not have happened
    with pytest.raises(ProviderUnavailableError):
        app.connect(command())
    assert claim_holder(app) == CONNECTION
    provider.error = ProviderRejectedError("21422")
    with pytest.raises(ProviderRejectedError):
        app.connect(command())
    assert claim_holder(app) is None


def test_a_request_is_settled_only_if_made_strictly_before_the_bound(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()
    with pytest.raises(ProviderUnavailableError):
        app.connect(command())
    provider.error = None
    created = app.get_connection("acc", CONNECTION).created_on
    assert app.settle_interrupted_request(CONNECTION, requested_before=created) is None
    later = created + timedelta(microseconds=1)
    assert app.settle_interrupted_request(CONNECTION, requested_before=later) is not None


# --- search -------------------------------------------------------------------------------


def test_the_search_limit_goes_from_1_to_100(app: SmsChannels) -> None:
    assert len(app.search_numbers("US", "415", None, 1)) == 1
    assert len(app.search_numbers("US", "415", None, 100)) >= 2
    for limit in (0, 101):
        with pytest.raises(InvalidNumberSearchError) as refused:
            app.search_numbers("US", "415", None, limit)
        assert (refused.value.field, refused.value.message) == (
            "limit",
            "limit must be between 1 and 100.",
        )
    with pytest.raises(InvalidNumberSearchError) as refused:
        app.search_numbers("US", "415", "5", 10)
    assert (refused.value.field, refused.value.message) == (
        "contains",
        "contains must be 2 to 16 digits, letters or '*'.",
    )


# --- confirm_holding ----------------------------------------------------------------------


def test_confirm_holding_records_a_reclaim_only_for_a_connected_number(
    app: SmsChannels, provider: FailingProvider
) -> None:
    assert app.confirm_holding(uuid4()) is None
    app.connect(command())
    provider.take_back(NUMBER, "expired")
    result = app.confirm_holding(CONNECTION)
    assert result is not None
    assert result.connection.reclaim_reason == "reclaimed"
    assert app.confirm_holding(CONNECTION) is None  # reclaimed already


# --- provider events: the delivery mark, the logs -----------------------------------------


def test_an_applied_event_is_marked_with_its_kind_outcome_and_connection(
    app: SmsChannels, provider: FailingProvider
) -> None:
    app.connect(command())
    held = provider.holding(NUMBER)
    assert held is not None
    result = app.record_provider_event(
        ProviderEvent("sandbox", "evt-9", NumberLost(NUMBER, held.ref, "released"))
    )
    assert (result.outcome, result.connection_id) == ("applied", CONNECTION)
    assert result.position == app.current_position()
    mark = app.repository.get(provider_delivery_id("sandbox", "evt-9"))
    assert isinstance(mark, ProviderDelivery)
    assert (mark.provider, mark.event_id) == ("sandbox", "evt-9")
    assert (mark.kind, mark.outcome, mark.connection_id) == ("NumberLost", "applied", CONNECTION)
    again = app.record_provider_event(
        ProviderEvent("sandbox", "evt-9", NumberLost(NUMBER, held.ref, "released"))
    )
    assert (again.outcome, again.position) == ("duplicate", app.current_position())


def test_an_event_the_connection_refuses_is_ignored_and_logged(app: SmsChannels) -> None:
    app.connect(command())
    bad = RegistrationChanged(NUMBER, "bogus", None, None, None)
    with capture_logs() as logs:
        result = app.record_provider_event(ProviderEvent("sandbox", "evt-5", bad))
    assert (result.outcome, result.connection_id) == ("ignored", None)
    mark = app.repository.get(provider_delivery_id("sandbox", "evt-5"))
    assert (mark.kind, mark.outcome, mark.connection_id) == ("RegistrationChanged", "ignored", None)
    expected = {
        "event": "provider_event_ignored",
        "connection_id": str(CONNECTION),
        "code": "invalid_registration_status",
    }
    assert expected.items() <= logs[-1].items()


def test_a_release_the_provider_cannot_do_now_is_logged_for_the_sweep(
    app: SmsChannels, provider: FailingProvider
) -> None:
    app.connect(command())
    held = provider.holding(NUMBER)
    assert held is not None
    provider.failures.outage_retry_after = 5
    with capture_logs() as logs:
        app.delete("acc", CONNECTION, by="u")
    deferred = [entry for entry in logs if entry["event"] == "release_deferred"]
    assert deferred == [
        {
            "event": "release_deferred",
            "connection_id": str(CONNECTION),
            "ref": held.ref,
            "code": "provider_unavailable",
            "log_level": "warning",
        }
    ]


def test_a_purchase_cut_short_by_an_outage_is_logged_as_pending(
    app: SmsChannels, provider: FailingProvider
) -> None:
    provider.error = ProviderUnavailableError()
    with capture_logs() as logs, pytest.raises(ProviderUnavailableError):
        app.connect(command())
    assert {"event": "provisioning_pending", "connection_id": str(CONNECTION)}.items() <= logs[
        -1
    ].items()


# --- more paths: area codes, crashes, races, orders of others -----------------------------


def test_a_connect_records_its_area_code_and_checks_it_against_the_region(
    app: SmsChannels,
) -> None:
    with_area = replace(command(), area_code="415")
    assert app.connect(with_area).connection.area_code == "415"
    german = replace(command(key="k-de"), country="DE", phone_number="+4930901820", area_code="30")
    with pytest.raises(AreaCodeNotApplicableError):
        app.connect(german)


def test_a_replay_after_a_crash_past_the_purchase_records_the_provider() -> None:
    provider = CrashingProvider("after")
    app = application(provider)
    with pytest.raises(SimulatedCrash):
        app.connect(command())
    provider.crash = None
    assert app.connect(command()).connection.provider == "sandbox"


def test_a_failed_order_of_another_request_does_not_fail_this_one(app: SmsChannels) -> None:
    app.connect(command(mode="byon"))
    result = app.record_provider_event(
        ProviderEvent("sandbox", "evt-x", HostingFailed(NUMBER, "HR-other", "no"))
    )
    assert result.outcome == "ignored"
    assert app.get_connection("acc", CONNECTION).status == "requested"


def test_an_interrupted_hosting_request_without_an_order_is_not_polled() -> None:
    class NoOrder(FailingProvider):
        def start_hosting(self, country: str, phone_number: str, *, reference: str) -> Any:
            raise SimulatedCrash

    app = application(NoOrder())
    with pytest.raises(SimulatedCrash):
        app.connect(command(mode="byon"))
    assert app.poll_hosting(CONNECTION) is None
    assert app.get_connection("acc", CONNECTION).status == "requested"


def test_a_number_bought_twice_for_a_connection_gives_back_the_copy_it_does_not_use(
    app: SmsChannels, provider: FailingProvider
) -> None:
    app.connect(command())
    copy = HeldNumber(NUMBER, "PN-copy", str(CONNECTION))
    assert app.release_orphan(copy) is True
    assert provider.released == ["PN-copy"]


def test_a_hosting_order_started_for_a_connection_deleted_meanwhile_gives_nothing_back() -> None:
    class DeletingProvider(FailingProvider):
        app: SmsChannels

        def start_hosting(self, country: str, phone_number: str, *, reference: str) -> Any:
            order = super().start_hosting(country, phone_number, reference=reference)
            self.app.delete("acc", UUID(reference), by="other")
            return order

    provider = DeletingProvider()
    app = provider.app = application(provider)
    with pytest.raises(ConnectionDeletedError):
        app.connect(command(mode="byon"))
    # Nothing was bought, so nothing is given back here (the open order, which the delete
    # did not know of, ends with the number released by the reconcile sweep if it completes).
    assert provider.released == []


def test_a_refusal_for_a_connection_deleted_meanwhile_answers_the_refusal() -> None:
    class DeletingRefuser(FailingProvider):
        app: SmsChannels

        def purchase(self, country: str, phone_number: str, *, reference: str) -> Any:
            self.app.delete("acc", UUID(reference), by="other")
            raise ProviderRejectedError("21422")

    provider = DeletingRefuser()
    app = provider.app = application(provider)
    with pytest.raises(ProviderRejectedError):
        app.connect(command())
    assert app.get_connection_for_audit("acc", CONNECTION).status == "deleted"


def test_a_second_purchase_that_cannot_be_given_back_now_is_logged_for_the_sweep() -> None:
    class RacingThenDown(FailingProvider):
        app: SmsChannels

        def purchase(self, country: str, phone_number: str, *, reference: str) -> Any:
            self.app.record_number_connected(UUID(reference), "sandbox", "PN-earlier")
            bought = super().purchase(country, phone_number, reference=reference)
            self.failures.outage_retry_after = 5
            return bought

    provider = RacingThenDown()
    app = provider.app = application(provider)
    with capture_logs() as logs, pytest.raises(InvalidTransitionError):
        app.connect(command())
    deferred = [entry for entry in logs if entry["event"] == "release_deferred"]
    assert [entry["connection_id"] for entry in deferred] == [str(CONNECTION)]


def test_two_connects_with_one_key_racing_answer_the_one_connection() -> None:
    app = racing()
    app.races = 1
    app.competitor = lambda: SmsChannels.connect(app, command())
    result = app.connect(command())
    assert (result.connection.id, result.created) == (CONNECTION, False)


def test_a_provider_event_is_applied_again_after_a_concurrent_write() -> None:
    app = racing()
    app.connect(command())
    held = app.provider.holding(NUMBER)
    assert held is not None
    app.races = 1
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": "SF"}}, by="other"
    )
    lost = ProviderEvent("sandbox", "evt-r", NumberLost(NUMBER, held.ref, "released"))
    assert app.record_provider_event(lost).outcome == "applied"
    assert app.get_connection("acc", CONNECTION).status == "reclaimed"


def test_a_provider_event_losing_every_retry_is_a_conflict() -> None:
    app = racing()
    app.connect(command())
    held = app.provider.holding(NUMBER)
    assert held is not None
    app.races = 3
    cities = iter(range(100))
    app.competitor = lambda: SmsChannels.update_compliance(
        app, "acc", CONNECTION, {"brand": {"city": f"C{next(cities)}"}}, by="other"
    )
    lost = ProviderEvent("sandbox", "evt-r", NumberLost(NUMBER, held.ref, "released"))
    with pytest.raises(VersionConflictError) as refused:
        app.record_provider_event(lost)
    assert (refused.value.expected, refused.value.actual) == (None, None)


def test_an_expected_version_given_as_several_versions_admits_any_of_them(
    app: SmsChannels,
) -> None:
    app.connect(command())
    app.update_compliance("acc", CONNECTION, {"brand": {"city": "SF"}}, by="u")  # version 3
    with pytest.raises(VersionConflictError) as refused:
        app.update_settings(
            "acc", CONNECTION, by="u", active=True, expected_version=frozenset({1, 2})
        )
    assert (refused.value.expected, refused.value.actual) == (1, 3)
    result = app.update_settings(
        "acc", CONNECTION, by="u", active=True, expected_version=frozenset({2, 3})
    )
    assert result.connection.active


def test_a_move_records_who_moved_the_connection(app: SmsChannels) -> None:
    app.connect(command())
    upsert_agent(app, "acc", "agent_9", AgentInfo("ws_9", "Nine", "Nia", None, None))
    app.update_settings("acc", CONNECTION, by="mover", workspace_id="ws_9", agent_id="agent_9")
    moved = list(app.events.get(CONNECTION))[-1]
    assert (type(moved).__name__, moved.changed_by) == ("WorkspaceChanged", "mover")
