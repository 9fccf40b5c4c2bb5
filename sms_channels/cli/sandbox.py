"""``sms-channels sandbox …``: drive the sandbox provider against a running service.

Each command acts as the provider would: it changes the sandbox account (kept in the
service's database, so the service and its reconcile worker see the change) and then
delivers the signed webhook to ``POST /providers/sandbox/webhooks`` of the service at
``--url``. ``--no-webhook`` skips the delivery (the reconcile poll then finds the change);
``--times N`` delivers the same event N times (the service applies it once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

import typer

from domain.registration_levels import Level
from domain.sms_connections import REGISTRATION_STATUSES
from providers.sandbox import (
    PostgresLedger,
    SandboxError,
    SandboxProvider,
    SandboxWebhook,
    SandboxWebhookSender,
)
from sms_channels.cli.prologue import environment_settings
from sms_channels.settings import Settings

sandbox_app = typer.Typer(
    help="Act as the sandbox SMS provider: send its signed webhooks to a running service.",
    no_args_is_help=True,
)

Url = Annotated[
    str | None,
    typer.Option(help="The service's base URL (default: http://HOST:PORT from the settings)."),
]
Times = Annotated[int, typer.Option(min=1, max=10, help="Deliver the same event this often.")]
Deliver = Annotated[bool, typer.Option("--webhook/--no-webhook", help="Deliver the webhook.")]


@contextmanager
def _sandbox() -> Iterator[tuple[SandboxProvider, Settings]]:
    settings = environment_settings(local=True, cipher=False, webhook_secret=True)
    if settings.database_url is None:
        typer.echo("The sandbox CLI needs the service's database (DATABASE_URL).", err=True)
        raise typer.Exit(code=2)
    provider = SandboxProvider(
        PostgresLedger(settings.database_url, max_size=1),
        inbound_url=settings.inbound_sms_webhook_url,
    )
    try:
        yield provider, settings
    finally:
        provider.close()


def _act(
    action: Callable[[SandboxProvider], SandboxWebhook | list[SandboxWebhook]],
    *,
    url: str | None,
    times: int = 1,
    deliver: bool = True,
) -> None:
    """Make the provider-side change, then deliver its event (``times`` times)."""
    with _sandbox() as (provider, settings):
        try:
            made = action(provider)
        except SandboxError as error:
            typer.echo(f"sandbox: {error}", err=True)
            raise typer.Exit(code=1) from None
        events = made if isinstance(made, list) else [made]
        for event in events:
            typer.echo(f"{event.type} {event.id}")
        if not deliver:
            return
        secret = settings.sandbox_webhook_secret
        if secret is None:  # the local defaults fill it in; kept for the type checker
            raise typer.Exit(code=2)
        sender = SandboxWebhookSender(
            url or f"http://{settings.host}:{settings.port}", secret.get_secret_value()
        )
        try:
            for event in events:
                for _ in range(times):
                    response = sender.send(event)
                    typer.echo(f"{response.status_code} {response.text}")
                    if response.status_code >= 300:
                        raise typer.Exit(code=1)
        finally:
            sender.close()


@sandbox_app.command("verify-hosting")
def verify_hosting(phone_number: str, url: Url = None, times: Times = 1) -> None:
    """The number's pending hosting order is verified (``hosted_number.verified``): the
    bring-your-own connection becomes connected."""
    _act(lambda p: p.verify_hosting(phone_number), url=url, times=times)


@sandbox_app.command("fail-hosting")
def fail_hosting(
    phone_number: str,
    reason: Annotated[str, typer.Option(help="Why the provider refused.")] = (
        "The carrier could not verify ownership of the number."
    ),
    url: Url = None,
    times: Times = 1,
) -> None:
    """The number's pending hosting order fails (``hosted_number.failed``)."""
    _act(lambda p: p.fail_hosting(phone_number, reason), url=url, times=times)


@sandbox_app.command("reclaim")
def reclaim(
    phone_number: str,
    reason: Annotated[
        Literal["reclaimed", "expired", "released"], typer.Option(help="What the provider did.")
    ] = "reclaimed",
    url: Url = None,
    times: Times = 1,
    webhook: Deliver = True,
) -> None:
    """The provider takes the number back (``number.<reason>``): the connection becomes
    reclaimed, inactive, and its number can be connected again."""
    _act(lambda p: p.take_back(phone_number, reason), url=url, times=times, deliver=webhook)


@sandbox_app.command("registration")
def registration(
    phone_number: str,
    status: Annotated[str, typer.Option(help=" | ".join(REGISTRATION_STATUSES))],
    level: Annotated[
        Level | None,
        typer.Option(help="Decide one level (brand | campaign | number); default: every level."),
    ] = None,
    code: Annotated[
        str | None, typer.Option(help="The provider's reason code, e.g. 30892.")
    ] = None,
    raw_status: Annotated[
        str | None, typer.Option(help="The provider's own status (whole-connection event).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="E.g. why it was rejected.")] = None,
    carrier: Annotated[
        str | None,
        typer.Option(
            help="Decide for one carrier only (att | tmobile | verizon | uscellular | other); "
            "needs --level campaign or number."
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            help="Decide this object (BN…, CM…) instead of the number's, e.g. a brand "
            "before any number joined its campaign."
        ),
    ] = None,
    url: Url = None,
    times: Times = 1,
    webhook: Deliver = True,
) -> None:
    """The provider decides the number's 10DLC registration: each level
    (``registration.level_changed``, the level's reference, ``--code`` and ``--reason`` as
    a coded reason) of the newest submission the sandbox holds for the number; with
    ``--carrier``, one carrier's decision about the campaign or number. For a number with
    no registration in the sandbox (registered outside this service) and no ``--level``:
    the whole-connection ``registration.status_changed`` of before."""

    def decide(provider: SandboxProvider) -> SandboxWebhook | list[SandboxWebhook]:
        try:
            return provider.decide_registration(
                phone_number, status, level=level, code=code, reason=reason, carrier=carrier,
                ref=ref,
            )  # fmt: skip
        except SandboxError:
            if level is not None or carrier is not None or ref is not None:
                raise
        return provider.registration_changed(
            phone_number, status, raw_status=raw_status, reason=reason
        )

    _act(decide, url=url, times=times, deliver=webhook)


@sandbox_app.command("fail-next")
def fail_next(
    operation: Annotated[Literal["purchase"], typer.Argument(help="The provider call to fail.")],
    times: Annotated[int, typer.Option(min=0, help="How many calls fail (0: disarm).")] = 1,
) -> None:
    """The next purchases fail as an outage after the number was bought (the answer lost):
    the connect answers 503 with ``connectionId``, and a retry or reconcile settles it."""
    with _sandbox() as (provider, _):
        provider.fail_next(operation, times)
        typer.echo(f"{operation}: the next {times} call(s) fail")


@sandbox_app.command("throughput")
def throughput(
    phone_number: str,
    brand_score: Annotated[int | None, typer.Option(help="The brand's score (0-100).")] = None,
    tmobile_tier: Annotated[
        str | None, typer.Option(help="LOW | LOW_MID | MID | MID_HIGH | HIGH | TOP")
    ] = None,
    tmobile_daily_cap: Annotated[
        int | None, typer.Option(help="Messages a day (default: the tier's published cap).")
    ] = None,
    att_message_class: Annotated[str | None, typer.Option(help="E.g. A, B, E, T.")] = None,
    att_tpm: Annotated[int | None, typer.Option(help="AT&T messages a minute.")] = None,
    url: Url = None,
    times: Times = 1,
    webhook: Deliver = True,
) -> None:
    """The sandbox's throughput settings for the number's newest registration: the brand
    score on its brand, T-Mobile's and AT&T's limits on its campaign
    (``registration.level_changed`` per level set)."""
    _act(
        lambda p: p.set_throughput(
            phone_number,
            brandScore=brand_score,
            tmobileTier=tmobile_tier,
            tmobileDailyCap=tmobile_daily_cap,
            attMessageClass=att_message_class,
            attTpm=att_tpm,
        ),
        url=url,
        times=times,
        deliver=webhook,
    )


@sandbox_app.command("numbers")
def numbers() -> None:
    """The numbers the sandbox account holds: number, reference, and where its inbound
    messages go (INBOUND_SMS_WEBHOOK_URL when it was bought or hosted; '-': unset)."""
    with _sandbox() as (provider, _):
        for held in provider.held_numbers():
            typer.echo(f"{held.phone_number} {held.ref} {held.inbound_url or '-'}")
