/** Surface 2: the Add channel wizard, each outcome of Connect; and surface 4, SMS requests. */
import { expect, type Page, test } from "@playwright/test";

import { call, cli, devToken, expectAccessible, freshNumber, open, row } from "./support";

async function chooseNumber(page: Page, area: string): Promise<string> {
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await dialog.getByLabel("Area code").fill(area);
  await dialog.getByRole("button", { name: "Search numbers" }).click();
  await dialog.getByRole("combobox", { name: "Number" }).click();
  const option = page.getByRole("option").first();
  const number = ((await option.textContent()) ?? "").split(" ")[0] ?? "";
  await option.click();
  return number;
}

async function chooseDestination(page: Page, workspace: string, agent: string): Promise<void> {
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await dialog.getByRole("combobox", { name: "Workspace" }).click();
  await page.getByRole("option", { name: workspace }).click();
  await dialog.getByRole("combobox", { name: "Agent" }).click();
  await page.getByRole("option", { name: agent }).click();
}

test("Get a new number: country, area code, number, then destination; 201 connects it", async ({ page }) => {
  const { area } = await freshNumber();
  await open(page);
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await expect(dialog.getByRole("tab", { name: "Get a new number" })).toHaveAttribute("aria-selected", "true");
  await expect(dialog.getByRole("combobox", { name: "Country code" })).toHaveText(/United States/);
  await expectAccessible(page);
  const number = await chooseNumber(page, area);
  await dialog.getByRole("button", { name: "Next" }).click();
  await expect(dialog.getByTestId("number-chip")).toHaveText(number);
  await expect(dialog.getByRole("button", { name: "Connect" })).toBeDisabled(); // Agent is required
  await chooseDestination(page, "Support", "Ava");
  await expect(dialog.getByLabel("Knowledge base")).toHaveValue("Help center");
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Connect" }).click();
  await expect(dialog.getByText(`${number} is connected`)).toBeVisible();
  // The compliance step may follow: the settings dialog of the new connection.
  await dialog.getByRole("button", { name: "Fill in the compliance form" }).click();
  const settings = page.getByRole("dialog", { name: `Connection settings: ${number}` });
  await expect(settings.getByRole("heading", { name: "10DLC compliance" })).toBeVisible();
  await settings.getByRole("button", { name: "Close" }).click();
  await expect(row(page, number)).toBeVisible();
});

test("an agent without a knowledge base shows so read-only", async ({ page }) => {
  const { area } = await freshNumber();
  await open(page);
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await chooseNumber(page, area);
  await dialog.getByRole("button", { name: "Next" }).click();
  await chooseDestination(page, "Sales", "Nova");
  await expect(dialog.getByLabel("Knowledge base")).toHaveValue(/no knowledge base/);
  await expect(dialog.getByLabel("Knowledge base")).toHaveAttribute("readonly", "");
});

test("Use my number: 202 requested, and the request is listed under SMS requests", async ({ page }) => {
  await open(page);
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await dialog.getByRole("tab", { name: "Use my number" }).click();
  const own = "+12125550177";
  await dialog.getByRole("textbox", { name: "Number" }).fill(own);
  await dialog.getByRole("button", { name: "Next" }).click();
  await chooseDestination(page, "Support", "Ava");
  await dialog.getByRole("button", { name: "Connect" }).click();
  await expect(dialog.getByText(`${own} is requested`)).toBeVisible();
  await dialog.getByRole("link", { name: "SMS requests" }).click();
  await expect(page).toHaveURL(/\/app\/settings\/sms-requests$/);
  const request = page.getByRole("row", { name: own });
  await expect(request).toContainText("pending");
  await expect(request).toContainText(/letter of authorization|carrier|provider/i);
  await expectAccessible(page);
});

test("503 mid-purchase: pending, we will retry (never a red error); a retry with the same key connects it", async ({ page }) => {
  const { area } = await freshNumber();
  await open(page);
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  const number = await chooseNumber(page, area);
  await dialog.getByRole("button", { name: "Next" }).click();
  await chooseDestination(page, "Support", "Ava");
  cli("sandbox", "fail-next", "purchase", "--times", "1");
  const keys: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/channels/sms/connect")) keys.push(r.headers()["idempotency-key"] ?? "");
  });
  await dialog.getByRole("button", { name: "Connect" }).click();
  const status = dialog.getByRole("status");
  await expect(status).toContainText("Pending, we will retry");
  await expect(dialog.getByRole("alert")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Try again now" }).click();
  await expect(dialog.getByText(`${number} is connected`)).toBeVisible();
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBeTruthy();
  expect(keys[1]).toBe(keys[0]);
});

test("409: the number was taken meanwhile, pick another", async ({ page }) => {
  const { area } = await freshNumber();
  await open(page);
  await page.getByRole("button", { name: "Add channel" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  const number = await chooseNumber(page, area);
  await dialog.getByRole("button", { name: "Next" }).click();
  await chooseDestination(page, "Support", "Ava");
  // Someone else connects the very number first.
  const other = await call(
    "POST",
    "/channels/sms/connect",
    devToken(),
    { mode: "new", countryCode: "US", areaCode: area, phoneNumber: number, workspaceId: "ws_2", agentId: "agent_3" },
    { "Idempotency-Key": crypto.randomUUID() },
  );
  expect(other.status).toBe(201);
  await dialog.getByRole("button", { name: "Connect" }).click();
  await expect(dialog.getByRole("alert")).toContainText(`${number} was just taken by someone else. Pick another number.`);
  await expect(dialog.getByRole("tab", { name: "Get a new number" })).toBeVisible();
  await expect(dialog.getByRole("combobox", { name: "Number" })).not.toHaveText(number);
});
