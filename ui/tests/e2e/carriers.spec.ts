/** Issue 31 in the console: per-carrier badges and "not permitted on" in the channels table;
 * the settings dialog's carriers, reasons with their fixes and fields, throughput,
 * resubmission and secondary vetting; the Campaign Verify token field. The sandbox CLI
 * decides, the real service answers. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { expect, type Page, test } from "@playwright/test";

import { call, cli, connect, devToken, expectAccessible, open, row, untilRow } from "./support";

const EXAMPLE = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../docs/example-compliance.json", import.meta.url)), "utf8"),
) as Record<string, unknown>;

type Registration = {
  status: string;
  number: { providerRef: string | null };
  throughput: Record<string, unknown>;
  resubmission: { mode: string; attempts: number };
};

async function registration(id: string): Promise<Registration> {
  return (await call("GET", `/channels/sms/connections/${id}/registration`, devToken())).body as unknown as Registration;
}

/** A connected, active number with the example form under a company and tax id of its
 * own (a brand no other test shares: approving it changes no other test's brand),
 * submitted, with every level at the sandbox. */
async function submitted(): Promise<{ id: string; phoneNumber: string }> {
  const c = await connect();
  const brand = EXAMPLE.brand as Record<string, unknown>;
  // One tax id under two company names is a preflight error: both are new.
  const ein = `12-${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`;
  const form = { ...EXAMPLE, brand: { ...brand, companyName: `Carrier ${crypto.randomUUID().slice(0, 8)} LLC`, registrationNumber: ein } };
  const version = async () => (await call("GET", `/channels/sms/connections/${c.id}`, devToken())).body.version as number;
  expect((await call("PUT", `/channels/sms/connections/${c.id}/compliance`, devToken(), form, { "If-Match": `"${await version()}"` })).status).toBe(200);
  expect((await call("PATCH", `/channels/sms/connections/${c.id}`, devToken(), { active: true }, { "If-Match": `"${await version()}"` })).status).toBe(200);
  const sent = await call("POST", `/channels/sms/connections/${c.id}/registration`, devToken(), undefined, { "If-Match": `"${await version()}"` });
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  await expect.poll(async () => (await registration(c.id)).number.providerRef, { timeout: 30_000 }).not.toBeNull();
  return c;
}

async function openSettings(page: Page, phoneNumber: string) {
  await row(page, phoneNumber).getByRole("button", { name: "Edit" }).click();
  const dialog = page.getByRole("dialog", { name: `Connection settings: ${phoneNumber}` });
  await expect(dialog.getByRole("heading", { name: "Registration" })).toBeVisible();
  return dialog;
}

test("approved by AT&T and Verizon, refused by T-Mobile: badges, the reason with its fix and fields, not permitted on T-Mobile, the resubmission", async ({ page }) => {
  const c = await submitted();
  cli("sandbox", "registration", c.phoneNumber, "--level", "brand", "--status", "approved");
  cli("sandbox", "registration", c.phoneNumber, "--level", "number", "--status", "approved");
  for (const carrier of ["att", "verizon"]) {
    cli("sandbox", "registration", c.phoneNumber, "--level", "campaign", "--carrier", carrier, "--status", "approved");
  }
  cli("sandbox", "registration", c.phoneNumber, "--level", "campaign", "--carrier", "tmobile", "--status", "rejected", "--code", "30892");
  await untilRow(devToken(), c.id, (r) => JSON.stringify(r.registrationCarriers ?? null).includes('"tmobile","status":"rejected"'));

  await open(page);
  const r = row(page, c.phoneNumber);
  const badges = r.getByRole("list", { name: "Carriers" }).getByTestId("carrier-badge");
  await expect(badges).toHaveText(["AT&T: approved", "T-Mobile: refused", "Verizon: approved"]);
  // The refusal stands out: the "bad" tone, the approvals the "good" one.
  await expect(r.locator('[data-carrier="tmobile"]')).toHaveClass(/text-red-900/);
  await expect(r.locator('[data-carrier="att"]')).toHaveClass(/text-green-900/);
  await expect(r.getByTestId("registration-status")).toHaveText("Rejected");
  await expect(r.getByTestId("outbound")).toContainText("Outbound replies: not permitted on T-Mobile");
  await expectAccessible(page);

  const dialog = await openSettings(page, c.phoneNumber);
  const levels = dialog.getByRole("table", { name: "Registration levels" });
  await expect(levels.getByRole("list", { name: "Campaign: carriers" }).getByTestId("level-carrier")).toHaveText([
    "AT&T: approved",
    "T-Mobile: refused",
    "Verizon: approved",
  ]);
  await expect(levels.getByRole("row", { name: /^Brand/ })).toContainText("not reported");
  await expect(dialog.getByTestId("timeline-not-permitted")).toHaveText("Outbound replies: not permitted on T-Mobile");
  const reason = dialog.getByTestId("reason").filter({ hasText: "30892" });
  await expect(reason).toContainText("Campaign · T-Mobile · 30892");
  await expect(reason.getByTestId("reason-fix")).toContainText("Fix: Use full https links on your own domain");
  await expect(reason.getByRole("button", { name: "Message flow (how consent is collected)" })).toBeVisible();
  const resubmission = (await registration(c.id)).resubmission;
  expect(resubmission).toEqual({ mode: "in_place", attempts: 1, fields: expect.any(Array) as unknown });
  await expect(dialog.getByTestId("resubmission")).toContainText(
    "Submitting again: the campaign is resubmitted in place (the refused campaign is updated at the provider). 1 submission so far.",
  );
  await expect(dialog.getByTestId("submit-resubmission")).toContainText("resubmitted in place");
  await expectAccessible(page);

  // The reason's field opens its accordion section and takes the focus.
  await expect(dialog.locator("#field-campaign-messageFlow")).toHaveCount(0);
  await reason.getByRole("button", { name: "Message flow (how consent is collected)" }).click();
  await expect(dialog.getByLabel("Message flow (how consent is collected)")).toBeFocused();
});

test("throughput set with the sandbox CLI shows in the dialog; secondary vetting raises the brand score", async ({ page }) => {
  const c = await submitted();
  await open(page);
  let dialog = await openSettings(page, c.phoneNumber);
  const throughput = dialog.getByTestId("throughput");
  await expect(throughput).toContainText("Brand scoreunknown");
  await expect(dialog.getByRole("button", { name: "Request secondary vetting" })).toHaveCount(0); // brand not approved yet
  await dialog.getByRole("button", { name: "Close" }).click();

  cli("sandbox", "registration", c.phoneNumber, "--status", "approved");
  cli("sandbox", "throughput", c.phoneNumber, "--brand-score", "20", "--tmobile-tier", "LOW", "--att-message-class", "T", "--att-tpm", "240");
  await expect.poll(async () => (await registration(c.id)).throughput.attTpm).toBe(240);
  await untilRow(devToken(), c.id, (r) => r.registrationStatus === "approved");
  await page.reload();
  dialog = await openSettings(page, c.phoneNumber);
  const rows = dialog.getByTestId("throughput");
  for (const [label, value] of [
    ["Brand score", "20 of 100"],
    ["T-Mobile tier", "low"],
    ["T-Mobile daily cap", "2,000 messages a day"],
    ["AT&T message class", "T"],
    ["AT&T throughput", "240 messages a minute"],
  ]) {
    await expect(rows.locator("dt", { hasText: label }).locator("+ dd")).toHaveText(value ?? "");
  }
  await expect(dialog.getByTestId("resubmission")).toHaveCount(0); // nothing refused
  await expectAccessible(page);

  await dialog.getByRole("button", { name: "Request secondary vetting" }).click();
  await expect(page.getByText("Secondary vetting requested", { exact: true })).toBeVisible();
  await expect(dialog.getByTestId("vettings")).toContainText("Secondary vetting: approved", { timeout: 30_000 });
  await expect(rows.locator("dt", { hasText: "Brand score" }).locator("+ dd")).toHaveText("75 of 100");
  await expect(dialog.getByRole("button", { name: "Request secondary vetting" })).toHaveCount(0); // asked once
});

test("the Campaign Verify token is required for a POLITICAL brand, per the preflight", async ({ page }) => {
  const c = await connect();
  await open(page);
  await row(page, c.phoneNumber).getByRole("button", { name: "Edit" }).click();
  const dialog = page.getByRole("dialog", { name: `Connection settings: ${c.phoneNumber}` });
  await dialog.getByRole("button", { name: /Brand identity/ }).click();
  const token = dialog.getByLabel("Campaign Verify token");
  await expect(token).toBeVisible();
  await expect(token).not.toHaveAttribute("required");
  await expect(token).toHaveAttribute("autocomplete", "off");
  await dialog.getByRole("combobox", { name: "Vertical" }).click();
  await page.getByRole("option", { name: "political", exact: true }).click();
  await expect(dialog.getByText("(required for political messages)")).toBeVisible();
  await expect(token).toHaveAttribute("required");
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  await expect(page.getByText("Compliance form saved", { exact: true })).toBeVisible();
  // The preflight's finding sits beside the field.
  await expect(dialog.locator("#field-brand-campaignVerifyToken-findings")).toContainText(/Campaign Verify token/);
  await expectAccessible(page);
});
