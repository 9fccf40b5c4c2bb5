/** Surface 6: a read-only user sees no edit controls; a 403 names the missing permission. */
import { expect, test } from "@playwright/test";

import { connect, expectAccessible, mint, open, row } from "./support";

test("a read-only user sees the table without any edit control", async ({ page }) => {
  const c = await connect();
  await open(page, mint("acc_demo", ["channels.read"], "viewer"));
  const r = row(page, c.phoneNumber);
  await expect(r).toBeVisible();
  await expect(page.getByRole("button", { name: "Add channel" })).toHaveCount(0);
  await expect(page.getByRole("switch")).toHaveCount(0);
  await expect(page.getByRole("combobox", { name: "Agent" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Edit" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Audit" })).toHaveCount(0);
  await r.getByRole("button", { name: "View" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByText("Registration status:")).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Save connection" })).toHaveCount(0);
  await expect(dialog.getByRole("button", { name: "Submit for registration" })).toHaveCount(0);
  await expectAccessible(page);
});

test("a 403 says which permission is missing", async ({ page }) => {
  await open(page, mint("acc_demo", ["channels.read"], "viewer"), "/app/audit");
  await expect(page.getByRole("alert").first()).toContainText("This action needs the compliance.audit permission.");
});
