/** Surface 1: the SMS tab of the channels table, each state and each row control. */
import { expect, test } from "@playwright/test";

import { call, connect, devToken, expectAccessible, mint, open, putAgent, row, untilRow, url } from "./support";

test("empty: an account without numbers says so and offers Add channel", async ({ page }) => {
  await open(page, mint("acc_empty", ["channels.connect", "sms.manage"]));
  await expect(page.getByText("No SMS numbers configured")).toBeVisible();
  await expect(page.getByRole("button", { name: "Add channel" }).first()).toBeVisible();
  await expectAccessible(page);
});

test("loading: skeleton rows until the first page arrives", async ({ page }) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  // The real answer, held back until the skeleton was seen (nothing is mocked).
  await page.route("**/channels/sms/connections?*", async (route) => {
    await held;
    await route.continue();
  });
  await open(page);
  await expect(page.getByRole("status", { name: "Loading SMS channels" })).toBeVisible();
  await expect(page.getByTestId("skeleton-row").first()).toBeVisible();
  release();
  await expect(page.getByRole("status", { name: "Loading SMS channels" })).toBeHidden();
});

test("error: the problem's detail and a retry", async ({ page }) => {
  // A token of another signing key: the service refuses it (401 problem+json).
  const forged = `${devToken().split(".").slice(0, 2).join(".")}.AAAA`;
  await open(page, forged);
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("could not be loaded");
  await expect(alert).toContainText(/token/i);
  await expect(alert.getByRole("button", { name: "Retry" })).toBeVisible();
});

test("complete: columns, agent selector, knowledge base, registration and outbound replies", async ({ page }) => {
  const c = await connect("agent_1", "ws_1");
  await open(page);
  const r = row(page, c.phoneNumber);
  await expect(r).toBeVisible();
  for (const name of ["Phone number", "Workspace", "Knowledge base"]) {
    await expect(page.getByRole("columnheader", { name })).toBeVisible();
  }
  await expect(r.getByRole("cell", { name: "Support" })).toBeVisible();
  await expect(r.getByRole("cell", { name: "Help center" })).toBeVisible();
  await expect(r.getByRole("combobox", { name: "Agent" })).toHaveText(/Ava/);
  await expect(r.getByTestId("registration-status")).toHaveText("Not submitted");
  await expect(r.getByTestId("outbound")).toContainText("not permitted (the channel is off)");
  await expect(r.getByText("approved")).toHaveCount(0);
  await expectAccessible(page);
});

test("the Agent selector reassigns the row and the table reads the change", async ({ page }) => {
  const c = await connect("agent_1", "ws_1");
  await open(page);
  const r = row(page, c.phoneNumber);
  await r.getByRole("combobox", { name: "Agent" }).click();
  await page.getByRole("option", { name: "Max" }).click();
  await expect(r.getByRole("cell", { name: "Returns policy" })).toBeVisible();
  await expect(r.getByRole("combobox", { name: "Agent" })).toHaveText(/Max/);
});

test("Active: switched on optimistically and kept once the service agrees", async ({ page }) => {
  const c = await connect("agent_1", "ws_1");
  await open(page);
  const toggle = row(page, c.phoneNumber).getByRole("switch", { name: "Active" });
  await expect(toggle).not.toBeChecked();
  // The real PATCH, held back until the switch was seen on: the change shows before the answer.
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  await page.route(`**/channels/sms/connections/${c.id}`, async (route) => {
    if (route.request().method() === "PATCH") await held;
    await route.continue();
  });
  const answered = page.waitForResponse((r) => r.request().method() === "PATCH");
  await toggle.click();
  await expect(toggle).toBeChecked();
  release();
  expect((await answered).status()).toBe(200);
  await expect(toggle).toBeChecked();
  await untilRow(devToken(), c.id, (r) => r.active === true);
  await page.reload();
  await expect(row(page, c.phoneNumber).getByRole("switch", { name: "Active" })).toBeChecked();
});

test("Active: rolled back with a toast when the service refuses", async ({ page }) => {
  const c = await connect("agent_1", "ws_1");
  await open(page);
  const toggle = row(page, c.phoneNumber).getByRole("switch", { name: "Active" });
  await expect(toggle).not.toBeChecked();
  // Someone else changes the connection after this page read it: the PATCH is stale (412).
  expect((await call("PATCH", `/channels/sms/connections/${c.id}`, devToken(), { agentId: "agent_2" })).status).toBe(200);
  await toggle.click();
  await expect(page.getByText(`${c.phoneNumber}: the change was not saved`, { exact: true })).toBeVisible();
  await expect(toggle).not.toBeChecked();
});

test("degraded after a directory change: the badge, its reason in words and since when", async ({ page }) => {
  await putAgent("acc_demo", "agent_tmp", { workspaceId: "ws_1", workspaceName: "Support", name: "Temp", knowledgeBaseId: "kb_t", knowledgeBaseName: "Temp KB" });
  const c = await connect("agent_tmp", "ws_1");
  await open(page);
  await expect(row(page, c.phoneNumber).getByRole("cell", { name: "Temp KB" })).toBeVisible();
  await expect(row(page, c.phoneNumber).getByTestId("degraded")).toHaveCount(0);
  const position = await putAgent("acc_demo", "agent_tmp", { workspaceId: "ws_1", workspaceName: "Support", name: "Temp", knowledgeBaseId: null, knowledgeBaseName: null });
  await call("GET", `/channels/sms/connections?waitFor=${position}&limit=1`, devToken());
  await page.reload();
  const r = row(page, c.phoneNumber);
  await expect(r.getByTestId("degraded")).toHaveText("Degraded");
  await expect(r).toContainText("The agent has no knowledge base");
  await expect(r).toContainText(/since \w{3} \d+, \d{4}/);
});

test("Assign in Agents when the row's agent is gone", async ({ page }) => {
  await putAgent("acc_demo", "agent_gone", { workspaceId: "ws_1", workspaceName: "Support", name: "Gone", knowledgeBaseId: "kb_g", knowledgeBaseName: "Gone KB" });
  const c = await connect("agent_gone", "ws_1");
  const gone = await call("DELETE", "/directory/agents/agent_gone", mint("acc_demo", ["directory.write"], "agents_source"));
  expect(gone.status).toBe(204);
  await untilRow(devToken(), c.id, (r) => (r.degraded as { reasons: string[] }).reasons.includes("agent_not_found"));
  await open(page);
  const r = row(page, c.phoneNumber);
  await expect(r).toContainText("The assigned agent no longer exists");
  await r.getByRole("button", { name: "Assign in Agents" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("combobox", { name: "Agent" }).click();
  await page.getByRole("option", { name: "Ava" }).click();
  await dialog.getByRole("button", { name: "Save connection" }).click();
  await expect(page.getByText("Connection saved", { exact: true })).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, c.phoneNumber).getByRole("button", { name: "Assign in Agents" })).toHaveCount(0);
  await expect(row(page, c.phoneNumber).getByRole("cell", { name: "Help center" })).toBeVisible();
});

test("Delete asks first, then the row goes", async ({ page }) => {
  const c = await connect("agent_1", "ws_1");
  await open(page);
  await row(page, c.phoneNumber).getByRole("button", { name: "Delete" }).click();
  const confirm = page.getByRole("dialog", { name: `Delete ${c.phoneNumber}?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, c.phoneNumber)).toBeVisible();
  await row(page, c.phoneNumber).getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(row(page, c.phoneNumber)).toHaveCount(0);
  // The service deleted it: the table (read model) no longer lists it either.
  await expect
    .poll(async () => {
      const listed = await call("GET", "/channels/sms/connections?limit=100&sort=phoneNumber&order=desc", devToken());
      return (listed.body.items as { id: string }[]).some((r) => r.id === c.id);
    })
    .toBe(false);
});

test("sort by phone number is server-side and Load more fetches the next keyset page", async ({ page }) => {
  const account = "acc_pages";
  const token = mint(account, ["channels.connect", "sms.manage"]);
  await putAgent(account, "pa", { workspaceId: "wp", workspaceName: "Pages", name: "Pat", knowledgeBaseId: "kp", knowledgeBaseName: "Pages KB" });
  const numbers: string[] = [];
  let position = 0;
  for (const area of ["301", "302"]) {
    const found = await call("GET", `/channels/sms/numbers?countryCode=US&areaCode=${area}&limit=30`, token);
    for (const n of found.body.numbers as { phoneNumber: string }[]) {
      const made = await call(
        "POST",
        "/channels/sms/connect",
        token,
        { mode: "new", countryCode: "US", areaCode: area, phoneNumber: n.phoneNumber, workspaceId: "wp", agentId: "pa" },
        { "Idempotency-Key": crypto.randomUUID() },
      );
      expect(made.status).toBe(201);
      position = made.body.position as number;
      numbers.push(n.phoneNumber);
    }
  }
  numbers.sort();
  await call("GET", `/channels/sms/connections?limit=1&waitFor=${position}`, token);
  await open(page, token);
  const rows = page.getByTestId("channel-row");
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toHaveAccessibleName(numbers[0] ?? "");
  const requests: string[] = [];
  page.on("request", (r) => r.url().includes("/channels/sms/connections?") && requests.push(r.url()));
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(rows).toHaveCount(numbers.length);
  expect(requests.some((u) => u.includes("cursor="))).toBeTruthy();
  await page.getByRole("button", { name: "Phone number" }).click();
  await expect(page.getByRole("columnheader", { name: "Phone number" })).toHaveAttribute("aria-sort", "descending");
  await expect(rows.first()).toHaveAccessibleName(numbers[numbers.length - 1] ?? "");
  expect(requests.some((u) => u.includes("order=desc"))).toBeTruthy();
  expect(url()).toBeTruthy();
});
