/** The wizard and the compliance accordions with the keyboard alone (no mouse at all). */
import { expect, type Page, test } from "@playwright/test";

import { connect, freshNumber, open, row } from "./support";

/** Tab until the focused element matches, at most `limit` presses. */
async function tabTo(page: Page, matches: (el: { role: string; name: string; text: string }) => boolean, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const labelled = el?.getAttribute("aria-labelledby");
      const labelText = labelled ? document.getElementById(labelled)?.textContent : null;
      const forLabel = el?.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
      return {
        role: el?.getAttribute("role") ?? el?.tagName.toLowerCase() ?? "",
        name: el?.getAttribute("aria-label") ?? labelText ?? forLabel ?? "",
        text: (el?.textContent ?? "").trim(),
      };
    });
    if (matches(focused)) return;
  }
  throw new Error("the control was not reached with Tab");
}

/** In an open select: wait until its list holds the focus (Radix moves it there a moment
 * after the list shows; keys pressed before that are lost), take the next option, and wait
 * until the list has closed (while it is open the dialog behind it is hidden). */
async function chooseNext(page: Page) {
  await expect(page.getByRole("listbox")).toBeVisible();
  await expect(page.locator('[role="listbox"] [role="option"]:focus')).toHaveCount(1);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("listbox")).toBeHidden();
}

test("the Add channel wizard works with the keyboard alone", async ({ page }) => {
  const { area } = await freshNumber();
  await open(page);
  await expect(page.getByRole("heading", { name: "Channels" })).toBeVisible();
  await tabTo(page, (f) => f.text === "Add channel");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Add channel" });
  await expect(dialog).toBeVisible();
  await tabTo(page, (f) => f.name === "Area code");
  await page.keyboard.type(area);
  await page.keyboard.press("Enter"); // submits the search form
  await expect(dialog.getByRole("combobox", { name: "Number" })).toBeEnabled();
  await tabTo(page, (f) => f.name === "Number");
  await page.keyboard.press("Enter");
  await chooseNext(page);
  const chosen = ((await dialog.getByRole("combobox", { name: "Number" }).textContent()) ?? "").split(" ")[0]?.replace("▾", "") ?? "";
  expect(chosen).toMatch(/^\+1/);
  await tabTo(page, (f) => f.text === "Next");
  await page.keyboard.press("Enter");
  await tabTo(page, (f) => f.name === "Workspace");
  await page.keyboard.press("Enter");
  await chooseNext(page);
  // The Agent selector is enabled once the workspace's agents have loaded (a disabled
  // control takes no focus: tabbing before that would pass it by).
  await expect(dialog.getByRole("combobox", { name: "Agent" })).toBeEnabled();
  await tabTo(page, (f) => f.name === "Agent");
  await page.keyboard.press("Enter");
  await chooseNext(page);
  await tabTo(page, (f) => f.text === "Connect");
  await page.keyboard.press("Enter");
  await expect(dialog.getByText(/is connected$/)).toBeVisible();
  await tabTo(page, (f) => f.text === "Done");
  await page.keyboard.press("Enter");
  await expect(dialog).toBeHidden();
});

test("the compliance accordions open, fill and answer with the keyboard alone", async ({ page }) => {
  const c = await connect();
  await open(page);
  await expect(row(page, c.phoneNumber)).toBeVisible();
  await row(page, c.phoneNumber).getByRole("button", { name: "Edit" }).focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Connection settings: ${c.phoneNumber}` });
  await expect(dialog.getByRole("heading", { name: "10DLC compliance" })).toBeVisible();
  await tabTo(page, (f) => f.text.startsWith("Brand identity"));
  await page.keyboard.press("Enter");
  await expect(dialog.getByLabel("Display name")).toBeVisible();
  await tabTo(page, (f) => f.name === "Display name");
  await page.keyboard.type("Keyboard Dental");
  // Down the headers to the last section, opened with Space.
  await tabTo(page, (f) => f.text.startsWith("Brand contact"));
  await page.keyboard.press("End");
  await page.keyboard.press("Space");
  await expect(dialog.getByRole("combobox", { name: "Number pooling" })).toBeVisible();
  await tabTo(page, (f) => f.name === "Number pooling");
  await page.keyboard.press("Enter");
  await chooseNext(page);
  await expect(dialog.getByRole("combobox", { name: "Number pooling" })).not.toHaveText(/Not answered/);
  await tabTo(page, (f) => f.text === "Save compliance form");
  await page.keyboard.press("Enter");
  await expect(page.getByText("Compliance form saved", { exact: true })).toBeVisible();
  await expect(dialog.getByLabel("Display name")).toHaveValue("Keyboard Dental");
});
