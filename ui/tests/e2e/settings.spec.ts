/** Surface 3: the connection settings dialog: compliance accordions and markers, the 412
 * merge, preflight findings, submit → sandbox approval → approved, Replace number. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { expect, type Page, test } from "@playwright/test";

import { call, cli, connect, devToken, expectAccessible, open, row, untilRow } from "./support";

const EXAMPLE = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../docs/example-compliance.json", import.meta.url)), "utf8"),
) as Record<string, unknown>;

async function openSettings(page: Page, phoneNumber: string) {
  await row(page, phoneNumber).getByRole("button", { name: "Edit" }).click();
  const dialog = page.getByRole("dialog", { name: `Connection settings: ${phoneNumber}` });
  await expect(dialog.getByRole("heading", { name: "10DLC compliance" })).toBeVisible();
  return dialog;
}

test("accordions with completion markers; yes/no questions stay unanswered; save", async ({ page }) => {
  const c = await connect();
  await open(page);
  const dialog = await openSettings(page, c.phoneNumber);
  await expect(dialog.getByTestId("marker-brand_identity")).toHaveText("6 to fill in");
  await dialog.getByRole("button", { name: /Campaign attributes/ }).click();
  const pooling = dialog.getByRole("combobox", { name: "Number pooling" });
  await expect(pooling).toHaveText(/Not answered/);
  await expect(dialog.getByRole("checkbox", { name: "I accept the terms and conditions" })).not.toBeChecked();
  await dialog.getByRole("button", { name: /Brand identity/ }).click();
  await dialog.getByLabel("Display name").fill("Acme Dental");
  await dialog.getByLabel("Company name").fill("Acme Dental LLC");
  await dialog.getByLabel("Registration number (EIN)").fill("12-3456789");
  for (const [label, option] of [["Entity", "private profit"], ["Vertical", "healthcare"], ["Brand type", "standard"]] as const) {
    await dialog.getByRole("combobox", { name: label }).click();
    await page.getByRole("option", { name: option, exact: true }).click();
  }
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  await expect(dialog.getByTestId("marker-brand_identity")).toHaveText("✓ Complete");
  // Still unanswered after a save: nothing turned the question into "No".
  await expect(pooling).toHaveText(/Not answered/);
  const saved = await call("GET", `/channels/sms/connections/${c.id}/compliance`, devToken());
  const campaign = (saved.body.smsCompliance as { campaign?: Record<string, unknown> }).campaign ?? {};
  expect(campaign.numberPooling ?? null).toBeNull();
  expect((saved.body.smsCompliance as { brand: Record<string, unknown> }).brand.displayName).toBe("Acme Dental");
});

test("412: someone saved in between, theirs beside yours; merge keeps both changes", async ({ page }) => {
  const c = await connect();
  await open(page);
  const dialog = await openSettings(page, c.phoneNumber);
  await dialog.getByRole("button", { name: /Brand identity/ }).click();
  await dialog.getByLabel("Display name").fill("Mine Dental");
  // A concurrent save through the API, on the version the dialog read.
  const current = await call("GET", `/channels/sms/connections/${c.id}`, devToken());
  const theirs = await call(
    "PUT",
    `/channels/sms/connections/${c.id}/compliance`,
    devToken(),
    { brand: { companyName: "Theirs Co" }, campaign: {} },
    { "If-Match": `"${current.body.version as number}"` },
  );
  expect(theirs.status).toBe(200);
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  const merge = dialog.getByRole("alertdialog", { name: "Someone saved in between" });
  await expect(merge).toBeVisible();
  const mergeRows = merge.getByTestId("merge-row");
  await expect(merge.getByRole("row", { name: /Display name/ })).toContainText("Mine Dental");
  await expect(merge.getByRole("row", { name: /Company name/ })).toContainText("Theirs Co");
  await expect(mergeRows).toHaveCount(2);
  await expectAccessible(page);
  await merge.getByRole("button", { name: "Merge my changes into theirs" }).click();
  await expect(merge).toBeHidden();
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  await expect(page.getByText("Compliance form saved", { exact: true })).toBeVisible();
  const saved = await call("GET", `/channels/sms/connections/${c.id}/compliance`, devToken());
  const brand = (saved.body.smsCompliance as { brand: Record<string, unknown> }).brand;
  expect(brand.displayName).toBe("Mine Dental");
  expect(brand.companyName).toBe("Theirs Co");
});

test("412: reload drops mine and shows theirs", async ({ page }) => {
  const c = await connect();
  await open(page);
  const dialog = await openSettings(page, c.phoneNumber);
  await dialog.getByRole("button", { name: /Brand identity/ }).click();
  await dialog.getByLabel("Display name").fill("Mine Dental");
  const current = await call("GET", `/channels/sms/connections/${c.id}`, devToken());
  await call("PUT", `/channels/sms/connections/${c.id}/compliance`, devToken(), { brand: { displayName: "Theirs Dental" } }, {
    "If-Match": `"${current.body.version as number}"`,
  });
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  await dialog.getByRole("button", { name: "Reload theirs" }).click();
  await expect(dialog.getByLabel("Display name")).toHaveValue("Theirs Dental");
});

test("preflight findings beside their fields with the provider code; Submit disabled with the reason", async ({ page }) => {
  const c = await connect();
  const v = (await call("GET", `/channels/sms/connections/${c.id}`, devToken())).body.version as number;
  await call("PUT", `/channels/sms/connections/${c.id}/compliance`, devToken(), {
    brand: { displayName: "Acme", website: "not a url" },
    campaign: { messageSamples: ["Hi bit.ly/x", "Hi bit.ly/x"] },
  }, { "If-Match": `"${v}"` });
  await open(page);
  const dialog = await openSettings(page, c.phoneNumber);
  const submit = dialog.getByRole("button", { name: "Submit for registration" });
  await expect(submit).toBeDisabled();
  await expect(dialog.locator("#submit-reason")).toContainText(/The preflight finds \d+ errors?/);
  await dialog.getByRole("button", { name: /Message samples/ }).click();
  await expect(dialog.getByTestId("finding").first()).toContainText(/provider code \d+/);
});

test("submit → sandbox approval → approved, and outbound replies permitted", async ({ page }) => {
  const c = await connect();
  let v = (await call("GET", `/channels/sms/connections/${c.id}`, devToken())).body.version as number;
  expect((await call("PUT", `/channels/sms/connections/${c.id}/compliance`, devToken(), EXAMPLE, { "If-Match": `"${v}"` })).status).toBe(200);
  v += 1;
  expect((await call("PATCH", `/channels/sms/connections/${c.id}`, devToken(), { active: true }, { "If-Match": `"${v}"` })).status).toBe(200);
  await open(page);
  await expect(row(page, c.phoneNumber).getByText("approved")).toHaveCount(0);
  const dialog = await openSettings(page, c.phoneNumber);
  const submit = dialog.getByRole("button", { name: "Submit for registration" });
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(page.getByText("Submitted for registration", { exact: true })).toBeVisible();
  await expect(dialog.getByTestId("timeline-status")).not.toHaveText("approved");
  await expect(dialog.getByText("approved", { exact: true })).toHaveCount(0);
  // The registration worker takes brand, campaign and number to the sandbox.
  await expect
    .poll(async () => (await call("GET", `/channels/sms/connections/${c.id}/registration`, devToken())).body.status, { timeout: 30_000 })
    .toBe("pending");
  cli("sandbox", "registration", c.phoneNumber, "--status", "approved");
  await untilRow(devToken(), c.id, (r) => r.registrationStatus === "approved");
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.reload();
  const r = row(page, c.phoneNumber);
  await expect(r.getByTestId("registration-status")).toHaveText("approved");
  await expect(r.getByTestId("outbound")).toHaveText("Outbound replies: permitted");
  const again = await openSettings(page, c.phoneNumber);
  await expect(again.getByTestId("timeline-status")).toHaveText("approved");
  await expect(again.getByRole("table", { name: "Registration levels" })).toContainText(/BN|CM/);
  await expectAccessible(page);
});

test("a reclaimed number offers Replace number, which connects a new one with the same settings", async ({ page }) => {
  const c = await connect("agent_2", "ws_1");
  cli("sandbox", "reclaim", c.phoneNumber);
  await untilRow(devToken(), c.id, (r) => r.status === "reclaimed");
  await open(page);
  await expect(row(page, c.phoneNumber)).toContainText("The provider took the number back");
  const dialog = await openSettings(page, c.phoneNumber);
  const replace = dialog.getByRole("region", { name: "Replace number" });
  await replace.getByRole("button", { name: "Search numbers" }).click();
  await replace.getByRole("combobox", { name: "New number" }).click();
  // Another number than the one taken back (the provider may offer it again).
  const option = page.getByRole("option").filter({ hasNotText: c.phoneNumber }).first();
  const number = (((await option.textContent()) ?? "").split(" · ")[0] ?? "").trim(); // "+1… · Locality"
  await option.click();
  await replace.getByRole("button", { name: "Replace number" }).click();
  await expect(page.getByText(`${number} replaces ${c.phoneNumber}`, { exact: true })).toBeVisible();
  await expect(row(page, number).getByRole("combobox", { name: "Agent" })).toHaveText(/Max/);
});

test("compliance values never reach the browser's storage, cookies or address bar (canary)", async ({ page }) => {
  const canary = `CANARY-${crypto.randomUUID()}`;
  const c = await connect();
  await open(page);
  const dialog = await openSettings(page, c.phoneNumber);
  await dialog.getByRole("button", { name: /Brand contact/ }).click();
  await dialog.getByLabel("Address").fill(canary);
  // The Campaign Verify token (issue 31) is a compliance secret too.
  const token = `cv|1.0|tcr|10dlc|${crypto.randomUUID()}|TOKENCANARY`;
  await dialog.getByRole("button", { name: /Brand identity/ }).click();
  await dialog.getByLabel("Campaign Verify token").fill(token);
  await dialog.getByRole("button", { name: "Save compliance form" }).click();
  await expect(page.getByText("Compliance form saved", { exact: true })).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  const stored = await page.evaluate(async () => {
    const dump = (s: Storage) => Object.keys(s).map((k) => `${k}=${s.getItem(k) ?? ""}`).join("\n");
    const databases = "indexedDB" in window && indexedDB.databases ? await indexedDB.databases() : [];
    return [dump(localStorage), dump(sessionStorage), document.cookie, location.href, JSON.stringify(databases)].join("\n");
  });
  expect(stored).not.toContain(canary);
  expect(stored).not.toContain("TOKENCANARY");
  const saved = await call("GET", `/channels/sms/connections/${c.id}/compliance`, devToken());
  expect(JSON.stringify(saved.body)).toContain(canary); // it was saved, only not kept here
  expect(JSON.stringify(saved.body)).toContain(token);
});
