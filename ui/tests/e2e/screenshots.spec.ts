/**
 * `make screenshots`: a PNG of each surface in docs/ui/, taken from a real
 * `sms-channels run` with data made through the API (the README shows them).
 */
import { fileURLToPath } from "node:url";

import { expect, type Page, test } from "@playwright/test";

import { call, cli, connect, devToken, freshNumber, mint, open, putAgent, row, untilRow } from "./support";

const DOCS = fileURLToPath(new URL("../../../docs/ui/", import.meta.url));
const shot = (page: Page, name: string) => page.screenshot({ path: `${DOCS}${name}.png` });

test.describe.configure({ mode: "serial" });

test("every surface", async ({ page }) => {
  test.setTimeout(180_000);
  // A table worth looking at: connected rows, one degraded, one approved, one refused by
  // T-Mobile, one requested.
  const approved = await connect("agent_1", "ws_1");
  await connect("agent_2", "ws_1");
  await connect("agent_3", "ws_2");
  await putAgent("acc_demo", "agent_5", { workspaceId: "ws_2", workspaceName: "Sales", name: "Rex", knowledgeBaseId: "kb_5", knowledgeBaseName: "Catalog" });
  const degraded = await connect("agent_5", "ws_2");
  await putAgent("acc_demo", "agent_5", { workspaceId: "ws_2", workspaceName: "Sales", name: "Rex", knowledgeBaseId: null, knowledgeBaseName: null });
  await call("POST", "/channels/sms/connect", devToken(), { mode: "byon", countryCode: "US", phoneNumber: "+13125550177", workspaceId: "ws_1", agentId: "agent_1" }, { "Idempotency-Key": crypto.randomUUID() });
  const example = (await import("../../../docs/example-compliance.json", { with: { type: "json" } })).default;
  let v = (await call("GET", `/channels/sms/connections/${approved.id}`, devToken())).body.version as number;
  await call("PUT", `/channels/sms/connections/${approved.id}/compliance`, devToken(), example, { "If-Match": `"${v}"` });
  v += 1;
  await call("PATCH", `/channels/sms/connections/${approved.id}`, devToken(), { active: true }, { "If-Match": `"${v}"` });
  v += 1;
  await call("POST", `/channels/sms/connections/${approved.id}/registration`, devToken(), undefined, { "If-Match": `"${v}"` });
  await expect.poll(async () => (await call("GET", `/channels/sms/connections/${approved.id}/registration`, devToken())).body.status, { timeout: 30_000 }).toBe("pending");
  cli("sandbox", "registration", approved.phoneNumber, "--status", "approved");
  await untilRow(devToken(), approved.id, (r) => r.registrationStatus === "approved");
  await untilRow(devToken(), degraded.id, (r) => (r.degraded as { isDegraded: boolean }).isDegraded);
  // One campaign approved by AT&T and Verizon, refused by T-Mobile (issue 31), with throughput.
  const refused = await connect("agent_1", "ws_1");
  const version = async () => (await call("GET", `/channels/sms/connections/${refused.id}`, devToken())).body.version as number;
  const form = { ...example, brand: { ...example.brand, companyName: "Acme Dental Group LLC", registrationNumber: "12-7654321" } };
  expect((await call("PUT", `/channels/sms/connections/${refused.id}/compliance`, devToken(), form, { "If-Match": `"${await version()}"` })).status).toBe(200);
  expect((await call("PATCH", `/channels/sms/connections/${refused.id}`, devToken(), { active: true }, { "If-Match": `"${await version()}"` })).status).toBe(200);
  const sent = await call("POST", `/channels/sms/connections/${refused.id}/registration`, devToken(), undefined, { "If-Match": `"${await version()}"` });
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  await expect.poll(async () => ((await call("GET", `/channels/sms/connections/${refused.id}/registration`, devToken())).body.number as { providerRef: string | null }).providerRef, { timeout: 30_000 }).not.toBeNull();
  for (const level of ["brand", "number"]) cli("sandbox", "registration", refused.phoneNumber, "--level", level, "--status", "approved");
  for (const carrier of ["att", "verizon"]) cli("sandbox", "registration", refused.phoneNumber, "--level", "campaign", "--carrier", carrier, "--status", "approved");
  cli("sandbox", "registration", refused.phoneNumber, "--level", "campaign", "--carrier", "tmobile", "--status", "rejected", "--code", "30892");
  cli("sandbox", "throughput", refused.phoneNumber, "--brand-score", "42", "--tmobile-tier", "LOW", "--att-message-class", "T", "--att-tpm", "240");
  await untilRow(devToken(), refused.id, (r) => ((r.registrationCarriers as unknown[] | null) ?? []).length === 3);

  await page.goto(`${process.env.CONSOLE_URL}/app/account/channels/sms`);
  await expect(page.getByRole("heading", { name: "Sign in to see your SMS channels" })).toBeVisible();
  await shot(page, "sign-in");

  await open(page, mint("acc_nothing", ["channels.connect", "sms.manage"]));
  await expect(page.getByText("No SMS numbers configured")).toBeVisible();
  await shot(page, "channels-empty");

  await open(page);
  await expect(row(page, approved.phoneNumber)).toBeVisible();
  await expect(row(page, degraded.phoneNumber).getByTestId("degraded")).toBeVisible();
  await shot(page, "channels-table");

  const { area } = await freshNumber();
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const wizard = page.getByRole("dialog", { name: "Add channel" });
  await wizard.getByLabel("Area code").fill(area);
  await wizard.getByRole("button", { name: "Search numbers" }).click();
  await wizard.getByRole("combobox", { name: "Number" }).click();
  await page.getByRole("option").first().click();
  await shot(page, "wizard-connect");
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByRole("combobox", { name: "Workspace" }).click();
  await page.getByRole("option", { name: "Support" }).click();
  await wizard.getByRole("combobox", { name: "Agent" }).click();
  await page.getByRole("option", { name: "Ava" }).click();
  await shot(page, "wizard-destination");
  cli("sandbox", "fail-next", "purchase", "--times", "1");
  await wizard.getByRole("button", { name: "Connect" }).click();
  await expect(wizard.getByText("Pending, we will retry")).toBeVisible();
  await shot(page, "wizard-pending");
  await wizard.getByRole("button", { name: "Try again now" }).click();
  await wizard.getByRole("button", { name: "Done" }).click();

  const fresh = await connect("agent_2", "ws_1");
  await page.reload();
  await row(page, fresh.phoneNumber).getByRole("button", { name: "Edit" }).click();
  const settings = page.getByRole("dialog");
  await settings.getByRole("button", { name: /Brand identity/ }).click();
  await settings.getByLabel("Display name").fill("Acme Dental");
  await settings.getByRole("button", { name: "Save compliance form" }).click();
  await expect(settings.getByTestId("marker-brand_identity")).toHaveText(/to fill in/);
  await settings.getByRole("button", { name: /Campaign attributes/ }).click();
  await settings.getByRole("heading", { name: "10DLC compliance" }).scrollIntoViewIfNeeded();
  await shot(page, "settings-compliance");
  await settings.getByLabel("Display name").fill("Mine Dental");
  const current = await call("GET", `/channels/sms/connections/${fresh.id}`, devToken());
  await call("PUT", `/channels/sms/connections/${fresh.id}/compliance`, devToken(), { brand: { displayName: "Acme Dental", companyName: "Acme Dental LLC" } }, { "If-Match": `"${current.body.version as number}"` });
  await settings.getByRole("button", { name: "Save compliance form" }).click();
  await expect(settings.getByRole("alertdialog")).toBeVisible();
  await settings.getByRole("alertdialog").scrollIntoViewIfNeeded();
  await shot(page, "settings-merge");
  await settings.getByRole("button", { name: "Close" }).click();

  await row(page, approved.phoneNumber).getByRole("button", { name: "Edit" }).click();
  await page.getByRole("dialog").getByRole("heading", { name: "Registration" }).scrollIntoViewIfNeeded();
  await shot(page, "settings-registration-approved");
  await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();

  await row(page, refused.phoneNumber).getByRole("button", { name: "Edit" }).click();
  const carriers = page.getByRole("dialog");
  await expect(carriers.getByTestId("resubmission")).toBeVisible();
  await carriers.getByRole("heading", { name: "Registration" }).evaluate((h) => h.scrollIntoView({ block: "start" }));
  await shot(page, "settings-registration-carriers");
  await carriers.getByRole("button", { name: "Close" }).click();

  await open(page, devToken(), "/app/settings/sms-requests");
  await expect(page.getByRole("row", { name: "+13125550177" })).toBeVisible();
  await shot(page, "sms-requests");

  await open(page, mint("acc_demo", ["compliance.audit", "channels.read"], "auditor"), "/app/audit");
  await page.getByRole("combobox", { name: "Connection" }).click();
  await page.getByRole("option", { name: approved.phoneNumber, exact: true }).click();
  await expect(page.getByTestId("chain-badge")).toBeVisible();
  await expect(page.getByTestId("trail-row").first()).toBeVisible();
  await shot(page, "audit");

  await open(page, mint("acc_demo", ["channels.read"], "viewer"));
  await expect(row(page, approved.phoneNumber)).toBeVisible();
  await shot(page, "channels-read-only");
});
