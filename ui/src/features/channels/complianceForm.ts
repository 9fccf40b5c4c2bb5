/**
 * The compliance form's state, as pure functions (tested by Vitest): the draft in the
 * generated request types, its fields by section (the accordion), yes/no questions that
 * stay unanswered (null) until answered, and the three-way merge behind the
 * "someone saved in between" view.
 */
import type { Schemas } from "@/lib/api";

export type Brand = Schemas["BrandDraft"];
export type Campaign = Schemas["CampaignDraft"];
export interface Draft {
  brand: Brand;
  campaign: Campaign;
}
export type Value = string | boolean | null;

export const SAMPLE_SLOTS = 5;

export type FieldKind = "text" | "textarea" | "select" | "yesno" | "accept";
export interface Field {
  path: string; // "brand.displayName", "campaign.messageSamples.0"
  label: string;
  kind: FieldKind;
  options?: readonly string[];
  /** A compliance secret the browser must not remember (no autofill, no spellcheck). */
  secret?: boolean;
}

const ENTITIES = ["PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT", "SOLE_PROPRIETOR"] as const;
const VERTICALS = [
  "AGRICULTURE", "COMMUNICATION", "CONSTRUCTION", "EDUCATION", "ENERGY", "ENTERTAINMENT", "FINANCIAL",
  "GAMBLING", "GOVERNMENT", "HEALTHCARE", "HOSPITALITY", "HUMAN_RESOURCES", "INSURANCE", "LEGAL",
  "MANUFACTURING", "NGO", "POLITICAL", "POSTAL", "PROFESSIONAL", "REAL_ESTATE", "RETAIL", "TECHNOLOGY",
  "TRANSPORTATION",
] as const;
const BRAND_TYPES = ["STANDARD", "LOW_VOLUME_STANDARD", "SOLE_PROPRIETOR"] as const;
const USE_CASES = [
  "2FA", "ACCOUNT_NOTIFICATION", "CUSTOMER_CARE", "DELIVERY_NOTIFICATION", "FRAUD_ALERT", "HIGHER_EDUCATION",
  "LOW_VOLUME", "MARKETING", "MIXED", "POLLING_VOTING", "PUBLIC_SERVICE_ANNOUNCEMENT", "SECURITY_ALERT",
] as const;

/** The accordion's sections in the service's order (domain/compliance/progress.py). */
export const SECTIONS: readonly { name: string; title: string; fields: readonly Field[] }[] = [
  {
    name: "brand_identity",
    title: "Brand identity",
    fields: [
      { path: "brand.entity", label: "Entity", kind: "select", options: ENTITIES },
      { path: "brand.vertical", label: "Vertical", kind: "select", options: VERTICALS },
      { path: "brand.displayName", label: "Display name", kind: "text" },
      { path: "brand.companyName", label: "Company name", kind: "text" },
      { path: "brand.registrationNumber", label: "Registration number (EIN)", kind: "text" },
      { path: "brand.brandType", label: "Brand type", kind: "select", options: BRAND_TYPES },
      { path: "brand.campaignVerifyToken", label: "Campaign Verify token", kind: "text", secret: true },
    ],
  },
  {
    name: "brand_contact",
    title: "Brand contact",
    fields: [
      { path: "brand.contactPhone", label: "Contact phone", kind: "text" },
      { path: "brand.contactEmail", label: "Contact email", kind: "text" },
      { path: "brand.website", label: "Website", kind: "text" },
      { path: "brand.address", label: "Address", kind: "text" },
      { path: "brand.city", label: "City", kind: "text" },
      { path: "brand.state", label: "State", kind: "text" },
      { path: "brand.zipCode", label: "ZIP code", kind: "text" },
      { path: "brand.country", label: "Country", kind: "text" },
    ],
  },
  {
    name: "campaign_details",
    title: "Campaign details",
    fields: [
      { path: "campaign.campaignDescription", label: "Campaign description", kind: "textarea" },
      { path: "campaign.privacyPolicyUrl", label: "Privacy policy URL", kind: "text" },
      { path: "campaign.useCaseType", label: "Use case", kind: "select", options: USE_CASES },
    ],
  },
  {
    name: "message_samples",
    title: "Message samples",
    fields: Array.from({ length: SAMPLE_SLOTS }, (_, i) => ({
      path: `campaign.messageSamples.${i}`,
      label: `Message sample ${i + 1}`,
      kind: "textarea" as const,
    })),
  },
  {
    name: "opt_in",
    title: "Opt-in",
    fields: [
      { path: "campaign.messageFlow", label: "Message flow (how consent is collected)", kind: "textarea" },
      { path: "campaign.optInKeywords", label: "Opt-in keywords", kind: "text" },
      { path: "campaign.optInMessage", label: "Opt-in message", kind: "textarea" },
    ],
  },
  {
    name: "opt_out",
    title: "Opt-out",
    fields: [
      { path: "campaign.optOutKeywords", label: "Opt-out keywords", kind: "text" },
      { path: "campaign.optOutMessage", label: "Opt-out message", kind: "textarea" },
    ],
  },
  {
    name: "help",
    title: "Help",
    fields: [
      { path: "campaign.helpKeywords", label: "Help keywords", kind: "text" },
      { path: "campaign.helpMessage", label: "Help message", kind: "textarea" },
    ],
  },
  {
    name: "campaign_attributes",
    title: "Campaign attributes",
    fields: [
      { path: "campaign.numberPooling", label: "Number pooling", kind: "yesno" },
      { path: "campaign.directLending", label: "Direct lending or loan arrangement", kind: "yesno" },
      { path: "campaign.embeddedLink", label: "Embedded link", kind: "yesno" },
      { path: "campaign.embeddedPhone", label: "Embedded phone number", kind: "yesno" },
      { path: "campaign.ageGatedContent", label: "Age-gated content", kind: "yesno" },
      { path: "campaign.termsAndConditions", label: "I accept the terms and conditions", kind: "accept" },
    ],
  },
];

export const ALL_FIELDS: readonly Field[] = SECTIONS.flatMap((s) => s.fields);
const LABELS = new Map(ALL_FIELDS.map((f) => [f.path, f.label]));

export function labelOf(path: string): string {
  return LABELS.get(path) ?? path;
}

/** A field the draft makes required beyond the service's progress: the Campaign Verify
 * token of a POLITICAL brand (the preflight's brand.political_campaign_verify finding). */
export function requiredByDraft(draft: Draft, path: string): boolean {
  return path === "brand.campaignVerifyToken" && draft.brand.vertical === "POLITICAL";
}

/** A draft from what the service holds (never saved: empty defaults, yes/no unanswered). */
export function draftFrom(stored: Record<string, unknown> | null | undefined): Draft {
  const brand = (stored?.brand ?? {}) as Brand;
  const campaign = (stored?.campaign ?? {}) as Campaign;
  const samples = Array.isArray(campaign.messageSamples) ? [...campaign.messageSamples] : [];
  while (samples.length < SAMPLE_SLOTS) samples.push(null);
  return { brand: { ...brand }, campaign: { ...campaign, messageSamples: samples.slice(0, SAMPLE_SLOTS) } };
}

export function getField(draft: Draft, path: string): Value {
  const [section, name, index] = path.split(".");
  const values = (section === "brand" ? draft.brand : draft.campaign) as Record<string, unknown>;
  const raw = index !== undefined ? (values[name ?? ""] as unknown[] | undefined)?.[Number(index)] : values[name ?? ""];
  return typeof raw === "string" || typeof raw === "boolean" ? raw : null;
}

export function setField(draft: Draft, path: string, value: Value): Draft {
  const [section, name, index] = path.split(".");
  if (!name) return draft;
  if (section === "brand") return { ...draft, brand: { ...draft.brand, [name]: value } as Brand };
  if (index !== undefined) {
    const samples = [...(draft.campaign.messageSamples ?? [])];
    samples[Number(index)] = typeof value === "string" ? value : null;
    return { ...draft, campaign: { ...draft.campaign, messageSamples: samples } };
  }
  return { ...draft, campaign: { ...draft.campaign, [name]: value } as Campaign };
}

/** Empty text and unanswered questions are the same "nothing" for comparison. */
function norm(value: Value): Value {
  return value === "" ? null : value;
}

/** The fields whose values differ between two drafts. */
export function changedFields(a: Draft, b: Draft): string[] {
  return ALL_FIELDS.map((f) => f.path).filter((p) => norm(getField(a, p)) !== norm(getField(b, p)));
}

export interface Merge {
  merged: Draft;
  /** Fields both sides changed, differently: yours is kept in ``merged``. */
  conflicts: string[];
  /** Every field that differs between theirs and yours (what the view shows). */
  differing: string[];
}

/** Three-way merge: theirs, with every field you changed since ``base`` laid on top. */
export function mergeDrafts(base: Draft, mine: Draft, theirs: Draft): Merge {
  const yours = changedFields(base, mine);
  const theirsChanged = new Set(changedFields(base, theirs));
  let merged = theirs;
  for (const path of yours) merged = setField(merged, path, getField(mine, path));
  const conflicts = yours.filter(
    (p) => theirsChanged.has(p) && norm(getField(mine, p)) !== norm(getField(theirs, p)),
  );
  return { merged, conflicts, differing: changedFields(theirs, mine) };
}

/** A yes/no answer as the select shows it: unanswered stays unanswered. */
export function yesNo(value: Value): "yes" | "no" | undefined {
  return value === true ? "yes" : value === false ? "no" : undefined;
}
