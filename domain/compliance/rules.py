"""The shape of a preflight rule, and the read access to a payload that every check uses.

A rule is declared once, where its check is written, with the ``rule`` decorator of a
``RuleBook``: its stable id, its severity, a one-line summary, the provider reason codes a
finding of it predicts, and the public source the rule follows. Nothing else lists rules:
the preflight, the OpenAPI examples and README's table are all read from the rule books.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

Hit = tuple[str, str]  # (field, message)


class Payload:
    """Read access to a stored payload that tolerates drafts: a blank or non-text field
    reads as "", a yes/no question not answered (None, absent, any non-boolean) as None.
    ``others`` are the payloads of the account's other live connections, for the rules
    across connections (empty when the caller knows none)."""

    def __init__(
        self, payload: dict[str, Any] | None, others: Sequence[dict[str, Any] | None] = ()
    ) -> None:
        self.raw = payload
        self.brand = _section(payload, "brand")
        self.campaign = _section(payload, "campaign")
        self.others = tuple(Payload(other) for other in others)

    def brand_text(self, name: str) -> str:
        return _text(self.brand.get(name))

    def campaign_text(self, name: str) -> str:
        return _text(self.campaign.get(name))

    def flag(self, name: str) -> bool | None:
        value = self.campaign.get(name)
        return value if isinstance(value, bool) else None

    @property
    def samples(self) -> list[tuple[int, str]]:
        """The filled message-sample slots, with their index."""
        slots = self.campaign.get("messageSamples")
        if not isinstance(slots, list):
            return []
        return [(i, _text(sample)) for i, sample in enumerate(slots) if _text(sample)]

    @property
    def brand_names(self) -> list[str]:
        names = (self.brand_text("displayName"), self.brand_text("companyName"))
        return [name.casefold() for name in names if name]

    def names_brand(self, text: str) -> bool:
        folded = text.casefold()
        return any(name in folded for name in self.brand_names)

    @property
    def us_formats(self) -> bool:
        """US formats apply unless the brand names another country."""
        return self.brand_text("country") in ("", "US")

    @property
    def sole_proprietor(self) -> bool:
        return self.brand_text("entity") == "SOLE_PROPRIETOR"

    def texts(self, *names: str) -> list[tuple[str, str]]:
        """(dotted field, text) of the named campaign fields that are filled; the name
        ``messageSamples`` stands for every filled sample slot."""
        found: list[tuple[str, str]] = []
        for name in names:
            if name == "messageSamples":
                found += [(f"campaign.messageSamples.{i}", s) for i, s in self.samples]
            elif text := self.campaign_text(name):
                found.append((f"campaign.{name}", text))
        return found


def _section(payload: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = payload.get(name) if isinstance(payload, dict) else None
    return section if isinstance(section, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


Check = Callable[[Payload], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    """A named check. ``id`` is part of the API contract: never rename one. ``codes`` are
    the provider reason codes a finding of this rule predicts (empty: none published);
    a rule that judges several fields may narrow them per field (``field_codes``, keyed by
    the field or, for sample slots, ``campaign.messageSamples``). ``sources`` are the
    public pages the rule follows."""

    id: str
    severity: Severity
    summary: str
    codes: tuple[str, ...]
    sources: tuple[str, ...]
    check: Check
    field_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def codes_for(self, field: str) -> tuple[str, ...]:
        """The codes a finding of this rule on ``field`` predicts."""
        base = field.partition(".messageSamples.")[0]
        key = base + ".messageSamples" if base != field else field
        return self.field_codes.get(key, self.codes)


class RuleBook:
    """Rules in declaration order, filled by the ``rule`` decorator at import."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def rule(
        self,
        id: str,
        severity: Severity,
        summary: str,
        *,
        codes: Sequence[str] = (),
        field_codes: Mapping[str, Sequence[str]] | None = None,
        source: str | Sequence[str],
    ) -> Callable[[Check], Check]:
        """Register the decorated check as rule ``id`` (the function is returned as is);
        ``source`` is one public page or several. The rule's codes are ``codes`` and every
        code of ``field_codes``."""
        sources = (source,) if isinstance(source, str) else tuple(source)
        narrowed = {name: tuple(found) for name, found in (field_codes or {}).items()}
        union = tuple(dict.fromkeys([*codes, *(c for found in narrowed.values() for c in found)]))

        def register(check: Check) -> Check:
            self.rules.append(Rule(id, severity, summary, union, sources, check, narrowed))
            return check

        return register


def twilio_error(code: str) -> str:
    """The public page of a Twilio error code."""
    return f"https://www.twilio.com/docs/api/errors/{code}"


# Public pages the rules follow (besides the Twilio error pages).
TCR_DESIGN = "https://www.twilio.com/docs/messaging/compliance/a2p-10dlc"
TWILIO_BEST_PRACTICES = (
    "https://help.twilio.com/articles/11847054539547-A2P-10DLC-Campaign-Approval-Best-Practices"
)
TWILIO_FORBIDDEN = (
    "https://help.twilio.com/articles/360045004974-"
    "Forbidden-message-categories-for-SMS-and-MMS-in-the-US-and-Canada"
)
TWILIO_BRAND_INFO = (
    "https://www.twilio.com/docs/messaging/compliance/a2p-10dlc/collect-business-info"
)
TELNYX_CAMPAIGN = "https://developers.telnyx.com/docs/messaging/10dlc/campaign-registration"
TELNYX_TROUBLESHOOTING = "https://developers.telnyx.com/docs/messaging/10dlc/troubleshooting"
TELNYX_BRAND = "https://developers.telnyx.com/docs/messaging/10dlc/brand-registration"
AWS_OPT_IN_CHECKLIST = (
    "https://docs.aws.amazon.com/sms-voice/latest/userguide/registration-help-quickstart.html"
)
