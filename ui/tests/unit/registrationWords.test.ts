/** The registration's carrier depth in words: badges, "not permitted on", throughput,
 * resubmission, vettings, reasons and the field a reason points at. */
import { describe, expect, it } from "vitest";

import { draftFrom, requiredByDraft } from "@/features/channels/complianceForm";
import {
  awaitingVetting,
  byCarrier,
  carrierName,
  carrierStatus,
  carrierTone,
  fieldTarget,
  notPermittedOn,
  outboundText,
  reasonsOf,
  resubmissionText,
  throughputRows,
  vettingText,
} from "@/features/channels/registrationWords";

describe("carriers", () => {
  it("names each carrier and says its decision in words", () => {
    expect(["att", "tmobile", "verizon", "uscellular", "other"].map(carrierName)).toEqual([
      "AT&T",
      "T-Mobile",
      "Verizon",
      "US Cellular",
      "Other",
    ]);
    expect(carrierStatus("rejected")).toBe("refused");
    expect(carrierStatus("pending")).toBe("pending review");
    expect(carrierStatus("approved")).toBe("approved");
  });

  it("makes a refusal, suspension or expiry stand out and approval good", () => {
    expect(carrierTone("rejected")).toBe("bad");
    expect(carrierTone("suspended")).toBe("bad");
    expect(carrierTone("expired")).toBe("bad");
    expect(carrierTone("approved")).toBe("good");
    expect(carrierTone("pending")).toBe("warn");
  });

  it("orders AT&T, T-Mobile, Verizon, US Cellular, Other, unknown last", () => {
    const sorted = byCarrier([{ carrier: "other" }, { carrier: "zz" }, { carrier: "verizon" }, { carrier: "att" }, { carrier: "tmobile" }]);
    expect(sorted.map((c) => c.carrier)).toEqual(["att", "tmobile", "verizon", "other", "zz"]);
  });
});

describe("not permitted on", () => {
  it("is null when no carrier refused and lists the refusing carriers in words", () => {
    expect(notPermittedOn([])).toBeNull();
    expect(notPermittedOn(undefined)).toBeNull();
    expect(notPermittedOn(["tmobile"])).toBe("not permitted on T-Mobile");
    expect(notPermittedOn(["verizon", "tmobile"])).toBe("not permitted on T-Mobile and Verizon");
    expect(notPermittedOn(["uscellular", "att", "tmobile"])).toBe("not permitted on AT&T, T-Mobile and US Cellular");
  });

  it("says the carriers in the outbound line, and that every reply is held when the rule holds them", () => {
    expect(outboundText({ permitted: true, reason: null, notPermittedOn: [] })).toBe("permitted");
    expect(outboundText({ permitted: false, reason: "campaign_pending", notPermittedOn: [] })).toBe(
      "not permitted (the campaign awaits carrier review)",
    );
    expect(outboundText({ permitted: true, reason: null, notPermittedOn: ["tmobile"] })).toBe("not permitted on T-Mobile");
    expect(outboundText({ permitted: false, reason: "campaign_rejected", notPermittedOn: ["tmobile"] })).toBe(
      "not permitted on T-Mobile; held on every carrier (the campaign was rejected)",
    );
  });
});

describe("throughput", () => {
  it("says unknown for every value the provider did not report", () => {
    expect(throughputRows(null).map((r) => r.value)).toEqual(["unknown", "unknown", "unknown", "unknown", "unknown"]);
    const rows = throughputRows({ brandScore: null, tmobileTier: null, tmobileDailyCap: null, attMessageClass: null, attTpm: null });
    expect(rows.every((r) => r.value === "unknown")).toBe(true);
  });

  it("shows score, tier, daily cap, class and TPM in words, zero kept as zero", () => {
    const rows = throughputRows({ brandScore: 0, tmobileTier: "LOW_MID", tmobileDailyCap: 10000, attMessageClass: "E", attTpm: 75 });
    expect(Object.fromEntries(rows.map((r) => [r.label, r.value]))).toEqual({
      "Brand score": "0 of 100",
      "T-Mobile tier": "low mid",
      "T-Mobile daily cap": "10,000 messages a day",
      "AT&T message class": "E",
      "AT&T throughput": "75 messages a minute",
    });
  });
});

describe("resubmission", () => {
  it("says nothing when nothing was refused", () => {
    expect(resubmissionText({ mode: "none", attempts: 1, fields: [] })).toBeNull();
    expect(resubmissionText(undefined)).toBeNull();
  });

  it("says what submitting again makes, with the attempts so far", () => {
    expect(resubmissionText({ mode: "in_place", attempts: 1, fields: [] })).toMatch(/^Submitting again: the campaign is resubmitted in place/);
    expect(resubmissionText({ mode: "in_place", attempts: 1, fields: [] })).toContain("1 submission so far");
    expect(resubmissionText({ mode: "new_campaign", attempts: 2, fields: [] })).toContain("a new campaign");
    expect(resubmissionText({ mode: "new_campaign", attempts: 2, fields: [] })).toContain("2 submissions so far");
    expect(resubmissionText({ mode: "new_brand", attempts: 3, fields: [] })).toContain("a new brand");
  });
});

describe("vettings", () => {
  it("names the kind and the decision", () => {
    expect(vettingText({ kind: "secondary", status: "approved", rawStatus: "SUCCESS", vettingClass: "STANDARD", providerRef: "VT1" })).toBe(
      "Secondary vetting: approved (STANDARD)",
    );
    expect(vettingText({ kind: "campaign_verify", status: "rejected", rawStatus: "FAILED", vettingClass: null, providerRef: "VT2" })).toBe(
      "Campaign Verify: refused",
    );
  });
});

describe("reasons", () => {
  const reason = (code: string, carrier: string | null) => ({ code, description: "d", fields: [], fix: null, carrier });

  it("joins the carriers' reasons into the level's once each, naming the carrier", () => {
    const level = {
      reasons: [reason("30892", "tmobile"), reason("30001", null)],
      carriers: [
        { carrier: "tmobile", status: "rejected", reasons: [reason("30892", null)] },
        { carrier: "att", status: "pending", reasons: [reason("30900", null)] },
      ],
    };
    expect(reasonsOf(level).map((r) => `${r.carrier ?? "-"}:${r.code}`)).toEqual(["tmobile:30892", "-:30001", "att:30900"]);
  });

  it("keeps a level without carriers as it is", () => {
    expect(reasonsOf({ reasons: [reason("1", null)], carriers: null })).toHaveLength(1);
  });
});

describe("fieldTarget", () => {
  it("finds a field's accordion section, label and input", () => {
    expect(fieldTarget("campaign.messageFlow")).toEqual({
      section: "opt_in",
      label: "Message flow (how consent is collected)",
      inputId: "field-campaign-messageFlow",
    });
    expect(fieldTarget("brand.campaignVerifyToken")?.section).toBe("brand_identity");
  });

  it("points the message samples at the first slot, and a field the form lacks at nothing", () => {
    expect(fieldTarget("campaign.messageSamples")).toEqual({
      section: "message_samples",
      label: "Message samples",
      inputId: "field-campaign-messageSamples-0",
    });
    expect(fieldTarget("brand.somethingElse")).toBeNull();
  });
});

describe("the Campaign Verify token", () => {
  it("is required for a POLITICAL brand only", () => {
    expect(requiredByDraft(draftFrom({ brand: { vertical: "POLITICAL" } }), "brand.campaignVerifyToken")).toBe(true);
    expect(requiredByDraft(draftFrom({ brand: { vertical: "HEALTHCARE" } }), "brand.campaignVerifyToken")).toBe(false);
    expect(requiredByDraft(draftFrom({ brand: { vertical: "POLITICAL" } }), "brand.displayName")).toBe(false);
  });
});

describe("awaitingVetting", () => {
  const vetting = (kind: string, status: string) => ({ kind, status, rawStatus: null, vettingClass: null, providerRef: `VT-${kind}` });

  it("waits while secondary vetting was asked for and not answered, or a vetting is pending", () => {
    expect(awaitingVetting({ secondaryVettingRequested: true, vettings: [] })).toBe(true);
    expect(awaitingVetting({ secondaryVettingRequested: false, vettings: [vetting("campaign_verify", "pending")] })).toBe(true);
  });

  it("stops once answered, and never waits when nothing was asked", () => {
    expect(awaitingVetting({ secondaryVettingRequested: true, vettings: [vetting("secondary", "approved")] })).toBe(false);
    expect(awaitingVetting({ secondaryVettingRequested: false, vettings: [] })).toBe(false);
    expect(awaitingVetting({ secondaryVettingRequested: false })).toBe(false);
  });
});
