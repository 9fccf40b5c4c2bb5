/** The compliance form's state: drafts, yes/no left unanswered, the three-way merge. */
import { describe, expect, it } from "vitest";

import { changedFields, draftFrom, getField, mergeDrafts, setField, yesNo } from "@/features/channels/complianceForm";

describe("draftFrom", () => {
  it("gives empty defaults and unanswered questions for a connection without compliance data", () => {
    const draft = draftFrom({});
    expect(draft.campaign.messageSamples).toEqual([null, null, null, null, null]);
    expect(getField(draft, "campaign.numberPooling")).toBeNull();
    expect(yesNo(getField(draft, "campaign.numberPooling"))).toBeUndefined();
  });

  it("keeps false apart from unanswered", () => {
    const draft = draftFrom({ campaign: { numberPooling: false, embeddedLink: true } });
    expect(yesNo(getField(draft, "campaign.numberPooling"))).toBe("no");
    expect(yesNo(getField(draft, "campaign.embeddedLink"))).toBe("yes");
    expect(yesNo(getField(draft, "campaign.directLending"))).toBeUndefined();
  });
});

describe("setField", () => {
  it("sets one message sample without touching the others", () => {
    const draft = setField(draftFrom({ campaign: { messageSamples: ["a", "b"] } }), "campaign.messageSamples.3", "d");
    expect(draft.campaign.messageSamples).toEqual(["a", "b", null, "d", null]);
  });
});

describe("mergeDrafts", () => {
  const base = draftFrom({ brand: { displayName: "Acme", companyName: "Acme LLC" } });

  it("lays your changes on theirs and reports what differs", () => {
    const mine = setField(base, "brand.displayName", "Mine");
    const theirs = setField(base, "brand.companyName", "Theirs LLC");
    const { merged, conflicts, differing } = mergeDrafts(base, mine, theirs);
    expect(getField(merged, "brand.displayName")).toBe("Mine");
    expect(getField(merged, "brand.companyName")).toBe("Theirs LLC");
    expect(conflicts).toEqual([]);
    expect(differing.sort()).toEqual(["brand.companyName", "brand.displayName"]);
  });

  it("flags a field both changed differently, keeping yours", () => {
    const mine = setField(base, "brand.displayName", "Mine");
    const theirs = setField(base, "brand.displayName", "Theirs");
    const { merged, conflicts } = mergeDrafts(base, mine, theirs);
    expect(conflicts).toEqual(["brand.displayName"]);
    expect(getField(merged, "brand.displayName")).toBe("Mine");
  });

  it("never answers a question nobody answered", () => {
    const mine = setField(base, "brand.displayName", "Mine");
    const { merged } = mergeDrafts(base, mine, base);
    expect(getField(merged, "campaign.ageGatedContent")).toBeNull();
    expect(changedFields(base, merged)).toEqual(["brand.displayName"]);
  });
});
