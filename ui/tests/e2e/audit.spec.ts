/** Surface 5: the audit view for a compliance.audit user. */
import { expect, test } from "@playwright/test";

import { call, connect, devToken, expectAccessible, mint, open } from "./support";

test("a connection's compliance history with the chain badge; the trail with filters and exports", async ({ page }) => {
  const c = await connect();
  const v = (await call("GET", `/channels/sms/connections/${c.id}`, devToken())).body.version as number;
  const saved = await call("PUT", `/channels/sms/connections/${c.id}/compliance`, devToken(), { brand: { displayName: "Audit Dental" } }, { "If-Match": `"${v}"` });
  expect(saved.status).toBe(200);
  await call("GET", `/audit/events?limit=1&waitFor=${saved.body.position as number}`, mint("acc_demo", ["compliance.audit"]));
  const auditor = mint("acc_demo", ["compliance.audit", "channels.read"], "auditor");
  await open(page, auditor, "/app/audit");
  await expect(page.getByRole("heading", { name: "Audit", exact: true })).toBeVisible();
  await page.getByRole("combobox", { name: "Connection" }).click();
  await page.getByRole("option", { name: c.phoneNumber, exact: true }).click();
  await expect(page.getByTestId("chain-badge")).toContainText("Chain verified");
  const versions = page.getByRole("table", { name: "Compliance versions" });
  await expect(versions).toContainText("brand.displayName");
  await expect(versions).toContainText("user_demo");
  // Values are never shown in the history view: only the names of the fields changed.
  await expect(versions).not.toContainText("Audit Dental");
  await expectAccessible(page);

  const trail = page.getByRole("table", { name: "Account trail" });
  await expect(trail.getByTestId("trail-row").first()).toBeVisible();
  await page.getByRole("combobox", { name: "Event type" }).click();
  await page.getByRole("option", { name: "compliance.updated" }).click();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(trail.getByTestId("trail-row").first()).toContainText("compliance.updated");
  for (const text of await trail.getByTestId("trail-row").allTextContents()) expect(text).toContain("compliance.updated");

  const csv = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const file = await csv;
  expect(file.suggestedFilename()).toBe("audit-trail.csv");
  const body = await (await file.createReadStream()).toArray();
  const text = Buffer.concat(body as Buffer[]).toString("utf8");
  expect(text.split("\n")[0]).toContain("connectionId");
  expect(text).toContain("compliance.updated");
  const ndjson = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export NDJSON" }).click();
  expect((await ndjson).suggestedFilename()).toBe("audit-trail.ndjson");
});
