"""What each US carrier decided about a registration, and how much a registered number may
send (issue 31): the per-carrier state of a campaign (or a number), the one rule that keeps a
level's status honest about it, and the throughput the provider reports (brand score,
T-Mobile tier and daily cap, AT&T message class and throughput).

Pure values and functions, read from the providers' answers by the adapters (their wire
formats stay with them: ``providers.twilio.statuses.twilio_throughput``,
``providers.telnyx.statuses.telnyx_operation_status``) and decided with by the aggregates.
A provider that does not report per carrier leaves ``carriers`` None: absent, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast, get_args

from domain.text import clean_provider_text

Carrier = Literal["att", "tmobile", "verizon", "uscellular", "other"]
CARRIERS: tuple[Carrier, ...] = get_args(Carrier)
# What a carrier may say of a campaign (a number): the level statuses a provider reports.
CarrierStatus = Literal["pending", "approved", "rejected", "suspended", "expired"]
CARRIER_STATUSES: tuple[str, ...] = get_args(CarrierStatus)
# A carrier in one of these does not carry the traffic (``outboundReplies.notPermittedOn``).
REFUSING: Final = frozenset({"rejected", "suspended", "expired"})

# T-Mobile's published daily caps per brand tier (messages a day across the brand's
# campaigns; TOP is uncapped: no number to give, so null).
TMOBILE_DAILY_CAPS: Final[dict[str, int | None]] = {
    "LOW": 2_000,
    "LOW_MID": 10_000,
    "MID": 40_000,
    "MID_HIGH": 100_000,
    "HIGH": 200_000,
    "TOP": None,
}


@dataclass(frozen=True)
class CarrierState:
    """One carrier's decision: ``carrier``, its status, and the coded reasons it gave
    (``code``, ``description``, ``fields`` dicts, as a level's reasons)."""

    carrier: Carrier
    status: CarrierStatus
    reasons: tuple[Mapping[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "carrier": self.carrier,
            "status": self.status,
            "reasons": [dict(r) for r in self.reasons],
        }


def carriers_of(stored: Iterable[Mapping[str, Any]] | None) -> tuple[CarrierState, ...] | None:
    """Carrier states as stored on an event, or as a provider (the sandbox) sent them:
    None stays None (not reported); unknown carriers read as ``other``, unknown statuses
    as ``pending``; one entry per carrier (the last one said)."""
    if stored is None:
        return None
    found: dict[str, CarrierState] = {}
    for item in stored:
        carrier: str = str(item.get("carrier") or "other").lower()
        status = str(item.get("status") or "pending").lower()
        reasons = tuple(
            {
                "code": clean_provider_text(str(r.get("code") or ""), max_length=64),
                "description": clean_provider_text(str(r.get("description") or "")),
                "fields": [str(f) for f in r.get("fields") or ()][:20],
            }
            for r in list(item.get("reasons") or ())[:20]
        )
        state = CarrierState(
            carrier if carrier in CARRIERS else "other",
            cast(CarrierStatus, status if status in CARRIER_STATUSES else "pending"),
            reasons,
        )
        found[state.carrier] = state
    return tuple(found[c] for c in CARRIERS if c in found)


def carriers_dicts(carriers: tuple[CarrierState, ...] | None) -> list[dict[str, Any]] | None:
    return None if carriers is None else [c.as_dict() for c in carriers]


def honest_status(status: str, carriers: tuple[CarrierState, ...] | None) -> str:
    """A level's status with what the carriers said: unchanged when no carrier is
    reported; a refusal by any carrier → ``rejected`` (else suspended, else expired);
    ``approved`` only when every reported carrier approved (otherwise ``pending`` while
    the provider calls it approved). A provider's own refusal is never softened."""
    if not carriers or status not in ("pending", "approved"):
        return status
    said = {c.status for c in carriers}
    for refusal in ("rejected", "suspended", "expired"):
        if refusal in said:
            return refusal
    if status == "approved" and said != {"approved"}:
        return "pending"
    return status


def not_permitted_on(carriers: tuple[CarrierState, ...] | None) -> list[Carrier]:
    """The carriers that refused, suspended or expired the registration (they carry none
    of its traffic), in the carriers' order."""
    return [c.carrier for c in carriers or () if c.status in REFUSING]


def carrier_reasons(carriers: tuple[CarrierState, ...] | None) -> list[dict[str, Any]]:
    """The refusing carriers' reasons, each naming its carrier (a level's reasons)."""
    return [
        {**dict(reason), "carrier": c.carrier}
        for c in carriers or ()
        if c.status in REFUSING
        for reason in c.reasons
    ]


# --- throughput ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    """How much the registration may send (None: unknown). ``brand_score``: the brand's
    vetting score (0-100); ``tmobile_tier`` and ``tmobile_daily_cap``: T-Mobile's brand
    tier and its messages a day; ``att_message_class`` and ``att_tpm``: AT&T's message
    class and its messages a minute."""

    brand_score: int | None = None
    tmobile_tier: str | None = None
    tmobile_daily_cap: int | None = None
    att_message_class: str | None = None
    att_tpm: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "brand_score": self.brand_score,
            "tmobile_tier": self.tmobile_tier,
            "tmobile_daily_cap": self.tmobile_daily_cap,
            "att_message_class": self.att_message_class,
            "att_tpm": self.att_tpm,
        }

    def merged(self, other: Throughput | None) -> Throughput:
        """This throughput with what ``other`` knows filled in (``other`` wins)."""
        if other is None:
            return self
        mine, theirs = self.as_dict(), other.as_dict()
        return Throughput(**{k: theirs[k] if theirs[k] is not None else v for k, v in mine.items()})

    @property
    def known(self) -> bool:
        return any(v is not None for v in self.as_dict().values())


UNKNOWN_THROUGHPUT: Final = Throughput()


def throughput_of(stored: Mapping[str, Any] | None) -> Throughput | None:
    """A throughput as stored on an event (snake_case) or sent by the sandbox (camelCase);
    None stays None. Numbers that are not whole non-negative numbers read as unknown."""
    if stored is None:
        return None

    def read(snake: str, camel: str) -> object:
        return stored.get(snake, stored.get(camel))

    def whole(value: object) -> int | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return None
        return int(value)

    def word(value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return clean_provider_text(value.strip().upper(), max_length=32)

    tier = word(read("tmobile_tier", "tmobileTier"))
    cap = whole(read("tmobile_daily_cap", "tmobileDailyCap"))
    return Throughput(
        brand_score=whole(read("brand_score", "brandScore")),
        tmobile_tier=tier,
        tmobile_daily_cap=cap if cap is not None else TMOBILE_DAILY_CAPS.get(tier or ""),
        att_message_class=word(read("att_message_class", "attMessageClass")),
        att_tpm=whole(read("att_tpm", "attTpm")),
    )


def throughput_dict(throughput: Throughput | None) -> dict[str, Any] | None:
    return None if throughput is None else throughput.as_dict()


# How bad a carrier's status is, worst first: combining a campaign's and a number's
# decisions keeps the worst one per carrier.
_SEVERITY: Final = ("rejected", "suspended", "expired", "pending", "approved")


def combined(*levels: tuple[CarrierState, ...] | None) -> tuple[CarrierState, ...] | None:
    """Per carrier, the worst decision among ``levels`` (a campaign's and its number's);
    None when no level reports per carrier."""
    reported = [level for level in levels if level is not None]
    if not reported:
        return None
    worst: dict[str, CarrierState] = {}
    for level in reported:
        for state in level:
            seen = worst.get(state.carrier)
            if seen is None or _SEVERITY.index(state.status) < _SEVERITY.index(seen.status):
                worst[state.carrier] = state
    return tuple(worst[c] for c in CARRIERS if c in worst)


def merged_throughput(*levels: Throughput | None) -> Throughput:
    """The throughput the levels reported, later ones filling in (brand, campaign,
    number); every field None when none did."""
    found = UNKNOWN_THROUGHPUT
    for level in levels:
        found = found.merged(level)
    return found


def badge_entries(level: str, carriers: tuple[CarrierState, ...] | None) -> list[str]:
    """A level's carriers as the channels table keeps them (``level:carrier:status``)."""
    return [f"{level}:{c.carrier}:{c.status}" for c in carriers or ()]


def badges_of(entries: Iterable[str] | None) -> tuple[CarrierState, ...] | None:
    """The per-carrier badge of a channels-table row: its levels' entries combined (None:
    no level reports per carrier)."""
    by_level: dict[str, list[dict[str, Any]]] = {}
    for entry in entries or ():
        level, _, rest = entry.partition(":")
        carrier, _, status = rest.partition(":")
        by_level.setdefault(level, []).append({"carrier": carrier, "status": status})
    return combined(*(carriers_of(found) for found in by_level.values()))
