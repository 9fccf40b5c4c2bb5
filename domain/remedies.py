"""What to change for each reason code (issue 31): the compliance fields a code concerns and
the fix in plain words, for every code the preflight's catalogue predicts (and the
service's own codes, and Twilio's brand feedback); and whether a refused campaign can be
resubmitted in place (Twilio's campaign update takes only some fields; Telnyx appeals a
campaign it or a carrier refused, its samples the only field it edits) or needs a new
campaign.

One room for the rule: the registration answer serves ``reasons[].fields`` and
``reasons[].fix`` from here, and the submit command decides in place vs new with
``resubmission_plan``, so the answer says beforehand what a submission will do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

# The campaign fields Twilio's campaign update (POST …/Compliance/Usa2p/{Sid}) takes: a fix
# confined to them is resubmitted in place; any other change needs a new campaign.
IN_PLACE_FIELDS: Final = frozenset(
    {
        "campaign.campaignDescription",
        "campaign.messageSamples",
        "campaign.messageFlow",
        "campaign.embeddedLink",
        "campaign.embeddedPhone",
        "campaign.ageGatedContent",
        "campaign.directLending",
        "campaign.privacyPolicyUrl",
    }
)
# A refused campaign the provider can appeal in place carries this reason code (Telnyx:
# ``TELNYX_FAILED`` and ``MNO_REJECTED``): its resubmission is the appeal, whatever its
# other codes, as long as the edits stay within what the appeal carries (the samples).
APPEAL_CODE: Final = "appealable"
APPEAL_FIELDS: Final = frozenset({"campaign.messageSamples"})


@dataclass(frozen=True)
class Remedy:
    """The fields a code concerns (dotted names) and what to do, in plain words."""

    fields: tuple[str, ...]
    fix: str

    @property
    def in_place(self) -> bool:
        """True when every field of the fix is one the provider updates in place."""
        return changes_in_place(self.fields)


_FLOW = "campaign.messageFlow"
_SAMPLES = "campaign.messageSamples"
_OPT_IN = "campaign.optInMessage"
_OPT_OUT = "campaign.optOutMessage"
_HELP = "campaign.helpMessage"

REMEDIES: Final[dict[str, Remedy]] = {
    # Campaign content (Twilio's campaign error codes).
    "30886": Remedy(
        ("campaign.campaignDescription",),
        "Describe in a full sentence or two who sends the messages, to whom, and why.",
    ),
    "30893": Remedy(
        (_SAMPLES,),
        "Give at least two distinct samples that name your brand, use [brackets] for "
        "template fields and end one with how to opt out (Reply STOP to opt out).",
    ),
    "30540": Remedy(
        (_OPT_IN,),
        "Make the opt-in confirmation name your brand, the message frequency, "
        "'Msg & data rates may apply' and the HELP and STOP instructions.",
    ),
    "30887": Remedy(
        (_OPT_OUT, "campaign.optOutKeywords"),
        "Include STOP among the opt-out keywords and make the opt-out reply name your "
        "brand and confirm that no more messages will be sent.",
    ),
    "30890": Remedy(
        (_HELP, "campaign.helpKeywords"),
        "Include HELP among the help keywords and make the help reply name your brand and "
        "give a phone number or email for support.",
    ),
    "30892": Remedy(
        (_SAMPLES, _FLOW, "campaign.embeddedLink"),
        "Use full https links on your own domain instead of public URL shorteners (bit.ly, "
        "tinyurl) or http:// links, and say whether messages embed links.",
    ),
    "30889": Remedy(
        ("campaign.embeddedPhone", _SAMPLES),
        "Make the embedded-phone answer match the samples: yes if any sample shows a phone "
        "number, no otherwise.",
    ),
    "30534": Remedy(
        (_SAMPLES, "campaign.campaignDescription"),
        "Replace test or filler text with real messages; put template fields in [brackets].",
    ),
    "30544": Remedy((_FLOW,), "Say in the message flow what the messages are for."),
    "30545": Remedy(
        (_FLOW,), "State in the message flow how often messages are sent (e.g. 4 msgs/month)."
    ),
    "30551": Remedy((_FLOW,), "Add 'Msg & data rates may apply' to the message flow."),
    "30569": Remedy(
        (_FLOW,), "Tell subscribers in the message flow to reply HELP for help and STOP to opt out."
    ),
    "30570": Remedy((_FLOW,), "Say in the message flow that the messages are SMS/text messages."),
    "30896": Remedy(
        (_FLOW, "campaign.privacyPolicyUrl"),
        "Describe where and how subscribers give consent (the form, the checkbox, the "
        "keyword) and link your privacy policy in the message flow.",
    ),
    "30556": Remedy(
        (_FLOW,),
        "Collect consent to texts separately from email or calls: a checkbox of its own, "
        "not pre-ticked.",
    ),
    "30910": Remedy(
        (_SAMPLES, "campaign.campaignDescription", _FLOW),
        "Write the campaign's description, flow and samples in English.",
    ),
    "30888": Remedy(
        ("campaign.ageGatedContent", "brand.vertical"),
        "Answer the age-gated question yes for alcohol, firearms or tobacco content and "
        "gate the opt-in by age.",
    ),
    "30895": Remedy(
        ("campaign.directLending",),
        "Answer the direct-lending question yes when messages offer loans or credit.",
    ),
    "30883": Remedy(
        (_SAMPLES, "campaign.campaignDescription", "brand.vertical"),
        "Sex, hate, alcohol, firearms or tobacco content is not carried without age gating; "
        "remove it or register an age-gated campaign.",
    ),
    "30897": Remedy(
        (_SAMPLES, "campaign.campaignDescription", "campaign.useCaseType", "brand.vertical"),
        "Carriers refuse this content (cannabis, gambling, high-risk lending, crypto "
        "investment): it cannot be registered on 10DLC; change what the messages are about.",
    ),
    "30950": Remedy(
        (_SAMPLES, "campaign.campaignDescription"),
        "Credit repair is not carried on 10DLC: change what the messages are about.",
    ),
    # Brand (identity) codes.
    "30701": Remedy(
        (
            "brand.registrationNumber",
            "brand.contactPhone",
            "brand.contactEmail",
            "brand.state",
            "brand.zipCode",
        ),
        "Correct the brand's details so they match the tax records exactly: EIN as "
        "NN-NNNNNNN, E.164 phone, a valid email, 2-letter state and 5-digit ZIP.",
    ),
    "30729": Remedy(("brand.country",), "Give the country as a 2-letter ISO code (e.g. US)."),
    "30881": Remedy(
        ("brand.contactEmail",),
        "Use a contact email on your business's own domain, not a free mailbox (gmail, "
        "yahoo, outlook).",
    ),
    "30903": Remedy(
        ("brand.entity", "brand.companyName"),
        "A sole proprietor has no company suffix and no EIN: register a company with "
        "LLC/Inc/Corp as a private company with its EIN instead.",
    ),
    "30915": Remedy(
        ("brand.entity", "brand.companyName"),
        "A company with LLC/Inc/Corp registers as a private company with its EIN, not as "
        "a sole proprietor.",
    ),
    "30797": Remedy(
        ("brand.entity", "brand.country"),
        "Government entities register only in the US: check the entity type and country.",
    ),
    "30798": Remedy(
        ("brand.entity", "brand.country"),
        "Non-profits register as such only in the US: check the entity type and country.",
    ),
    "30898": Remedy(
        ("brand.companyName", "brand.registrationNumber"),
        "Use the legal company name the IRS holds for this EIN (the one already registered "
        "in this account).",
    ),
    "30703": Remedy(
        ("brand.companyName", "brand.registrationNumber"),
        "The EIN and the legal name do not match the tax records: copy both from the IRS "
        "letter (CP 575 or 147C).",
    ),
    "30930": Remedy(
        ("campaign.useCaseType",),
        "The brand has reached its campaign limit: reuse one of its campaigns.",
    ),
    "21732": Remedy(
        ("brand.entity",),
        "A sole proprietor may hold one campaign: reuse it, or register as a company.",
    ),
    "30826": Remedy(
        ("brand.campaignVerifyToken", "brand.vertical"),
        "Political messages need a Campaign Verify token: get one at campaignverify.org "
        "and enter it in the brand.",
    ),
    # The service's own codes.
    "otp_required": Remedy(
        ("brand.contactPhone",),
        "Reply to the provider's one-time-password SMS sent to the brand's contact phone.",
    ),
    "number_pool_required": Remedy(
        ("campaign.numberPooling",),
        "T-Mobile takes at most 49 numbers on a campaign without number pooling: turn "
        "number pooling on, or put this number on another campaign.",
    ),
    # Twilio's brand feedback (brand_feedback).
    "TAX_ID": Remedy(
        ("brand.registrationNumber", "brand.companyName"),
        "Make the EIN and the legal company name match the IRS records exactly.",
    ),
    "STOCK_SYMBOL": Remedy(
        ("brand.stockSymbol", "brand.stockExchange"),
        "Give the company's ticker symbol and exchange as listed.",
    ),
    "NONPROFIT": Remedy(
        ("brand.entity", "brand.registrationNumber"),
        "Register the non-profit with the EIN of its 501(c) status.",
    ),
    "GOVERNMENT_ENTITY": Remedy(
        ("brand.entity",), "Register a government body with the entity type GOVERNMENT."
    ),
    "OTHERS": Remedy(
        ("brand.companyName", "brand.website", "brand.address"),
        "Check that the legal name, address and website match public records.",
    ),
    # A campaign Telnyx or a carrier refused (the provider's own reasons say what to fix).
    APPEAL_CODE: Remedy(
        (),
        "Correct what the other reasons name (often the website or the samples), then "
        "resubmit: the campaign is appealed in place, with no new campaign or fee.",
    ),
}


def remedy_of(code: str) -> Remedy | None:
    """The remedy of ``code`` (None: not known)."""
    return REMEDIES.get(code)


ResubmissionMode = Literal["in_place", "new_campaign", "new_brand", "none"]


@dataclass(frozen=True)
class ResubmissionPlan:
    """What the next submission will do: ``in_place`` (the refused campaign is updated at
    the provider), ``new_campaign`` (a new campaign is registered), ``new_brand`` (the
    brand is registered again, then its campaign), ``none`` (nothing refused: nothing to
    resubmit); ``attempts``: submissions made so far; ``fields``: what the reasons ask to
    change."""

    mode: ResubmissionMode
    attempts: int
    fields: tuple[str, ...]


def resubmission_plan(
    *,
    brand_status: str,
    brand_codes: Iterable[str],
    campaign_status: str,
    campaign_ref: str | None,
    campaign_codes: Sequence[str],
    attempts: int,
) -> ResubmissionPlan:
    """The plan for the next submission of a refused registration: a refused brand is
    registered again; a campaign refused only for codes whose remedies the provider takes
    in place (and whose reference exists, with an adapter that can update), or one the
    provider can appeal (``APPEAL_CODE``), is updated in place; any other refused campaign
    is a new one."""
    brand_fields = _fields(brand_codes)
    if brand_status in ("rejected", "action_required", "expired"):
        return ResubmissionPlan("new_brand", attempts, brand_fields)
    if campaign_status not in ("rejected", "action_required", "expired"):
        return ResubmissionPlan("none", attempts, ())
    fields = _fields(campaign_codes)
    remedies = [remedy_of(code) for code in campaign_codes]
    in_place = (
        campaign_ref is not None
        and campaign_status == "rejected"
        and (
            APPEAL_CODE in campaign_codes
            or (bool(remedies) and all(r is not None and r.in_place for r in remedies))
        )
    )
    return ResubmissionPlan("in_place" if in_place else "new_campaign", attempts, fields)


def changes_in_place(
    changed_fields: Iterable[str], in_place_fields: frozenset[str] = IN_PLACE_FIELDS
) -> bool:
    """True when every changed compliance field (dotted, under ``campaign.``) is one the
    provider's campaign update takes (``in_place_fields``; an appeal: ``APPEAL_FIELDS``)."""
    found = False
    for name in changed_fields:
        base = name.partition(".messageSamples")[0]
        key = base + ".messageSamples" if base != name else name
        if key not in in_place_fields:
            return False
        found = True
    return found


def _fields(codes: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for code in codes:
        remedy = remedy_of(code)
        found += list(remedy.fields) if remedy else []
    return tuple(dict.fromkeys(found))
