/** The compliance accordion's markers and yes/no questions, and the merge view, rendered. */
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { draftFrom, setField } from "@/features/channels/complianceForm";
import { MergeView } from "@/features/channels/MergeView";
import { SmsComplianceForms } from "@/features/channels/SmsComplianceForms";

const SECTIONS = [
  "brand_identity", "brand_contact", "campaign_details", "message_samples", "opt_in", "opt_out", "help", "campaign_attributes",
];

function progress(complete: string[], missing: Record<string, string[]> = {}) {
  return {
    completeSections: complete.length,
    totalSections: SECTIONS.length,
    sections: SECTIONS.map((name) => ({ name, complete: complete.includes(name), missing: missing[name] ?? [] })),
  };
}

describe("SmsComplianceForms", () => {
  it("shows each section's completion marker from complianceProgress", () => {
    render(
      <SmsComplianceForms
        draft={draftFrom({})}
        onChange={() => undefined}
        progress={progress(["brand_identity"], { opt_out: ["campaign.optOutKeywords", "campaign.optOutMessage"] })}
      />,
    );
    expect(screen.getByTestId("marker-brand_identity")).toHaveTextContent("✓ Complete");
    expect(screen.getByTestId("marker-opt_out")).toHaveTextContent("2 to fill in");
    expect(screen.getByTestId("marker-help")).toHaveTextContent("Not started");
  });

  it("leaves yes/no questions unanswered until answered", async () => {
    const onChange = vi.fn();
    render(<SmsComplianceForms draft={draftFrom({})} onChange={onChange} progress={progress([])} />);
    await userEvent.click(screen.getByRole("button", { name: /Campaign attributes/ }));
    for (const name of ["Number pooling", "Direct lending or loan arrangement", "Age-gated content"]) {
      expect(screen.getByRole("combobox", { name })).toHaveTextContent("Not answered");
    }
    expect(screen.getByRole("checkbox", { name: "I accept the terms and conditions" })).not.toBeChecked();
    expect(onChange).not.toHaveBeenCalled();
  });

  it("shows a preflight finding beside its field with the provider code", async () => {
    render(
      <SmsComplianceForms
        draft={draftFrom({})}
        onChange={() => undefined}
        progress={progress([])}
        findings={[{ field: "brand.website", rule: "website_url", severity: "error", message: "Not a URL.", providerCodes: ["30794"] }]}
      />,
    );
    await userEvent.click(screen.getByRole("button", { name: /Brand contact/ }));
    const website = screen.getByLabelText("Website");
    expect(website).toHaveAccessibleDescription("Error: Not a URL. (provider code 30794)");
  });
});

describe("MergeView", () => {
  it("puts theirs beside yours and merges or reloads", async () => {
    const base = draftFrom({ brand: { displayName: "Acme" } });
    const mine = setField(base, "brand.displayName", "Mine");
    const theirs = setField(base, "brand.companyName", "Theirs LLC");
    const onMerge = vi.fn();
    const onReload = vi.fn();
    render(<MergeView base={base} mine={mine} theirs={theirs} onMerge={onMerge} onReload={onReload} />);
    const view = screen.getByRole("alertdialog", { name: "Someone saved in between" });
    const display = within(view).getByRole("row", { name: /Display name/ });
    expect(display).toHaveTextContent("Acme");
    expect(display).toHaveTextContent("Mine");
    expect(within(view).getByRole("row", { name: /Company name/ })).toHaveTextContent("Theirs LLC");
    await userEvent.click(within(view).getByRole("button", { name: "Merge my changes into theirs" }));
    expect(onMerge).toHaveBeenCalledTimes(1);
    const merged = onMerge.mock.calls[0]?.[0] as typeof base;
    expect(merged.brand.displayName).toBe("Mine");
    expect(merged.brand.companyName).toBe("Theirs LLC");
    await userEvent.click(within(view).getByRole("button", { name: "Reload theirs" }));
    expect(onReload).toHaveBeenCalledTimes(1);
  });
});
