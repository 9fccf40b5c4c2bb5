"""Preflight of the compliance payload: what would likely be refused at 10DLC registration.

Level 3 of the design's checks. Each rule has a stable id (``sample.names_brand``), a
severity (``error``: likely to be refused; ``warning``: worth a second look), the provider
reason codes a finding of it predicts (``providerCodes``: Twilio's ``30892`` for an
unsecured or shortened link, …; empty when no code is published) and a message that
explains the fix in general terms: a finding names the field and the rule, never the
value. ``ready`` means "no error found by these rules", nothing more: the preflight cannot
and does not say that a carrier or The Campaign Registry will approve anything.

The rules live with their checks, each declared once with its id, severity, codes and
public source (``domain.compliance.rules``): the first version's rules of form and wording
(``domain.compliance.form_rules``), the published rejection reasons that need only the form
(``domain.compliance.content_rules``) and those across the account's connections
(``domain.compliance.account_rules``). ``rules_markdown`` renders them for README.

The rules are those of US 10DLC (A2P messaging on US local numbers), and apply only where the
regional rules (``domain/regions.toml``) name ``us_10dlc`` as the registration outbound
replies need. Elsewhere the report's ``ruleset`` names what the region needs instead
(``none``, or ``long_code_a2p_prohibited`` with one warning that replies are blocked there)
and no 10DLC rule is applied. Within the 10DLC rules, US formats (EIN, USPS state, 5-digit
ZIP) are checked unless the brand names another country.

Pure functions of the stored payloads: no I/O, no clock, never raises on any payload that
the shape check accepted (and tolerates anything else, unanswered yes/no questions too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.compliance import account_rules, content_rules, form_rules
from domain.compliance.rules import Payload, Rule, Severity
from domain.compliance.shape import BRAND_FIELDS, CAMPAIGN_FIELDS
from domain.regions import REGISTERED_HERE, Registration, load_regions

RULESET = REGISTERED_HERE  # the ruleset a report names for a region registered here


@dataclass(frozen=True)
class Finding:
    """One likely refusal: the field (dotted name), the rule id, how bad, how to fix it,
    and the provider reason codes it predicts. The message is fixed text per rule: it
    never quotes what the operator entered."""

    field: str
    rule: str
    severity: Severity
    message: str
    provider_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreflightReport:
    """All findings in form order; ``ready`` when none is an error. Never an approval."""

    ready: bool
    findings: list[Finding]
    ruleset: str = RULESET


RULES: tuple[Rule, ...] = (
    *form_rules.book.rules,
    *content_rules.book.rules,
    *account_rules.book.rules,
)
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)

# Form order of fields, for a stable order of findings.
_FIELD_ORDER = {
    name: index
    for index, name in enumerate(
        [f"brand.{name}" for name in BRAND_FIELDS]
        + [f"campaign.{name}" for name in CAMPAIGN_FIELDS]
    )
}


def _order(finding: Finding) -> tuple[int, int, int]:
    base, _, slot = finding.field.partition(".messageSamples.")
    base = base + ".messageSamples" if slot else finding.field
    return (
        _FIELD_ORDER.get(base, len(_FIELD_ORDER)),
        int(slot) if slot.isdigit() else -1,
        RULE_IDS.index(finding.rule),
    )


# Raised for a region whose numbers may not carry A2P at all (not a payload problem: the
# operator cannot fix it by editing, so a warning that leaves ``ready`` alone).
REGION_RULE = "region.a2p_not_permitted"
REGION_MESSAGE = (
    "Carriers in this country block application-to-person messages from these numbers:"
    " agent replies cannot be sent, whatever the registration."
)


def preflight(
    payload: dict[str, Any] | None,
    country: str = "US",
    others: Sequence[dict[str, Any] | None] = (),
) -> PreflightReport:
    """Check ``payload`` (None: never saved) against the rules of ``country``'s region:
    every 10DLC rule where the region needs ``us_10dlc`` (findings in form order), none
    elsewhere. A country missing from the regional rules gets the 10DLC rules (the
    strictest), so that nothing is reported ready by mistake. ``others`` are the payloads
    of the account's other live connections, for the rules across connections (none
    given: those rules find nothing)."""
    regions = load_regions()
    region = regions.find(country)
    if region is not None and not region.registered_here:
        return _regional(regions.registration_of(region))
    p = Payload(payload, others)
    findings = [
        Finding(
            field=field,
            rule=rule.id,
            severity=rule.severity,
            message=message,
            provider_codes=rule.codes_for(field),
        )
        for rule in RULES
        for field, message in rule.check(p)
    ]
    findings.sort(key=_order)
    return PreflightReport(
        ready=not any(f.severity == "error" for f in findings), findings=findings
    )


def _regional(registration: Registration) -> PreflightReport:
    """The report for a region outside 10DLC: which registration it needs, nothing else."""
    findings: list[Finding] = []
    if registration.never_permitted:
        findings.append(
            Finding(
                field="countryCode", rule=REGION_RULE, severity="warning", message=REGION_MESSAGE
            )
        )
    return PreflightReport(ready=True, findings=findings, ruleset=registration.id)


def rules_markdown() -> str:
    """README's table of the 10DLC rules: id, severity, predicted provider codes, what the
    rule checks and its sources, one row per rule in evaluation order."""
    lines = [
        "| rule | severity | provider codes | likely refused when | source |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        codes = ", ".join(f"`{code}`" for code in rule.codes) or "—"
        sources = " ".join(f"[{n}]({url})" for n, url in enumerate(rule.sources, start=1))
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {rule.severity} | {codes} | {summary} | {sources} |")
    return "\n".join(lines) + "\n"
