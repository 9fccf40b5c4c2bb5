/**
 * The registration's carrier depth in words, as pure functions (tested by Vitest): carrier
 * names and their statuses (the per-carrier badges), "not permitted on …", the throughput
 * ("unknown" where the provider did not say), what the next submission will do, vettings,
 * and which accordion section and input a reason's field is.
 */
import { SECTIONS } from "@/features/channels/complianceForm";
import type { Schemas } from "@/lib/api";
import { OUTBOUND_REASONS, words } from "@/lib/words";

export type Throughput = Schemas["ThroughputOut"];
export type Resubmission = Schemas["ResubmissionOut"];

/** The carriers in the order the console shows them (docs/registration.md). */
export const CARRIER_ORDER = ["att", "tmobile", "verizon", "uscellular", "other"] as const;

const CARRIER_NAMES: Record<string, string> = {
  att: "AT&T",
  tmobile: "T-Mobile",
  verizon: "Verizon",
  uscellular: "US Cellular",
  other: "Other",
};

const CARRIER_STATUS: Record<string, string> = {
  pending: "pending review",
  approved: "approved",
  rejected: "refused",
  suspended: "suspended",
  expired: "expired",
};

/** A carrier's name ("tmobile" → "T-Mobile"); an unknown code as it came. */
export function carrierName(code: string): string {
  return CARRIER_NAMES[code] ?? code;
}

/** A carrier's decision in words ("rejected" → "refused"). */
export function carrierStatus(status: string): string {
  return CARRIER_STATUS[status] ?? status.replace(/_/g, " ");
}

/** The badge tone: a refusal (or suspension, expiry) stands out; approval is good. */
export function carrierTone(status: string): "good" | "warn" | "bad" | "neutral" {
  if (status === "approved") return "good";
  if (status === "pending") return "warn";
  if (status === "rejected" || status === "suspended" || status === "expired") return "bad";
  return "neutral";
}

/** Carriers in the console's order (AT&T, T-Mobile, Verizon, US Cellular, Other), unknown last. */
export function byCarrier<T extends { carrier: string }>(items: readonly T[]): T[] {
  const rank = (c: string) => {
    const i = (CARRIER_ORDER as readonly string[]).indexOf(c);
    return i < 0 ? CARRIER_ORDER.length : i;
  };
  return [...items].sort((a, b) => rank(a.carrier) - rank(b.carrier));
}

/** "not permitted on T-Mobile and Verizon", or null when every carrier carries the replies. */
export function notPermittedOn(carriers: readonly string[] | null | undefined): string | null {
  if (!carriers?.length) return null;
  const names = byCarrier(carriers.map((carrier) => ({ carrier }))).map((c) => carrierName(c.carrier));
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `not permitted on ${list}`;
}

/** The outbound-replies line: "permitted", "not permitted (why)", or, where carriers
 * refused, "not permitted on T-Mobile" (and "held on every carrier (why)" when the region's
 * rule holds every reply back too). */
export function outboundText(o: { permitted: boolean; reason: string | null; notPermittedOn?: string[] | null }): string {
  const on = notPermittedOn(o.notPermittedOn);
  const why = words(OUTBOUND_REASONS, o.reason);
  if (!on) return o.permitted ? "permitted" : `not permitted (${why})`;
  return o.permitted ? on : `${on}; held on every carrier (${why})`;
}

/** The throughput as label/value rows; "unknown" where the provider did not say. */
export function throughputRows(t: Throughput | null | undefined): { label: string; value: string }[] {
  const unknown = "unknown";
  const num = (n: number | null | undefined, unit = "") =>
    n === null || n === undefined ? unknown : `${n.toLocaleString("en-US")}${unit}`;
  return [
    { label: "Brand score", value: t?.brandScore == null ? unknown : `${t.brandScore} of 100` },
    { label: "T-Mobile tier", value: t?.tmobileTier ? t.tmobileTier.replace(/_/g, " ").toLowerCase() : unknown },
    { label: "T-Mobile daily cap", value: num(t?.tmobileDailyCap, " messages a day") },
    { label: "AT&T message class", value: t?.attMessageClass ?? unknown },
    { label: "AT&T throughput", value: num(t?.attTpm, " messages a minute") },
  ];
}

const RESUBMISSION: Record<string, string> = {
  in_place: "the campaign is resubmitted in place (the refused campaign is updated at the provider)",
  new_campaign: "a new campaign is registered (the refused one stays as it was)",
  new_brand: "a new brand is registered, then its campaign",
};

/** What submitting again will do, or null when nothing was refused (mode none). */
export function resubmissionText(r: Resubmission | null | undefined): string | null {
  if (!r || r.mode === "none") return null;
  const what = RESUBMISSION[r.mode] ?? r.mode.replace(/_/g, " ");
  return `Submitting again: ${what}. ${r.attempts} submission${r.attempts === 1 ? "" : "s"} so far.`;
}

const VETTING_KIND: Record<string, string> = {
  campaign_verify: "Campaign Verify",
  secondary: "Secondary vetting",
};

/** "Secondary vetting: approved (STANDARD)". */
export function vettingText(v: Schemas["VettingOut"]): string {
  const kind = VETTING_KIND[v.kind] ?? v.kind.replace(/_/g, " ");
  const status = v.status === "approved" ? "approved" : v.status === "rejected" ? "refused" : "pending";
  return `${kind}: ${status}${v.vettingClass ? ` (${v.vettingClass})` : ""}`;
}

/** Where a reason's dotted field lives in the form: its section, label and input id (null:
 * a field the form does not show). ``campaign.messageSamples`` is its first slot. */
export function fieldTarget(path: string): { section: string; label: string; inputId: string } | null {
  const candidates = [path, `${path}.0`];
  for (const section of SECTIONS) {
    for (const field of section.fields) {
      if (candidates.includes(field.path)) {
        return { section: section.name, label: path === field.path ? field.label : "Message samples", inputId: inputIdOf(field.path) };
      }
    }
  }
  return null;
}

/** The id of a form field's input (SmsComplianceForms). */
export function inputIdOf(path: string): string {
  return `field-${path.replace(/\./g, "-")}`;
}

type Reason = Schemas["ReasonOut"];

/** A level's reasons with its carriers' own (each naming its carrier), once each: the
 * service joins a refusing carrier's reasons into the level's, a pending carrier's it may
 * not. */
export function reasonsOf(level: { reasons: Reason[]; carriers?: Schemas["CarrierOut"][] | null }): Reason[] {
  const seen = new Set<string>();
  const out: Reason[] = [];
  const add = (reason: Reason) => {
    const key = `${reason.carrier ?? ""}|${reason.code}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(reason);
  };
  level.reasons.forEach(add);
  for (const carrier of level.carriers ?? []) {
    for (const reason of carrier.reasons) add({ ...reason, carrier: reason.carrier ?? carrier.carrier });
  }
  return out;
}

/** A vetting the provider is still to answer (asked for, or reported pending): the dialog
 * asks for the registration again until it has (the sandbox answers within seconds). */
export function awaitingVetting(brand: Pick<Schemas["BrandLevelOut"], "vettings" | "secondaryVettingRequested">): boolean {
  const vettings = brand.vettings ?? [];
  if (vettings.some((v) => v.status === "pending")) return true;
  return brand.secondaryVettingRequested && !vettings.some((v) => v.kind === "secondary");
}
