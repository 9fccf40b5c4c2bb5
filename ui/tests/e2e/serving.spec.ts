/** The service serves the console: headers, SPA fallback, sign-in by fragment, no token. */
import { expect, test } from "@playwright/test";

import { devToken, expectAccessible, open, url } from "./support";

test("index.html is no-cache with a CSP without inline script; hashed assets are immutable", async ({ request }) => {
  const index = await request.get(`${url()}/app/account/channels/sms`);
  expect(index.status()).toBe(200);
  expect(index.headers()["cache-control"]).toBe("no-cache");
  const csp = index.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(csp).toContain("connect-src 'self'");
  const html = await index.text();
  expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  const asset = /\/app\/assets\/[^"]+\.js/.exec(html)?.[0];
  expect(asset).toBeTruthy();
  const script = await request.get(`${url()}${asset}`);
  expect(script.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect((await request.get(`${url()}/app/assets/gone-1234.js`)).status()).toBe(404);
  // API routes are untouched.
  expect((await request.get(`${url()}/healthz`)).status()).toBe(200);
});

test("the token in the link is kept in sessionStorage and dropped from the address bar", async ({ page }) => {
  await open(page);
  await expect(page.getByRole("heading", { name: "Channels" })).toBeVisible();
  expect(page.url()).not.toContain("token");
  expect(page.url()).toContain("/app/account/channels/sms");
  expect(await page.evaluate(() => sessionStorage.getItem("smsChannels.token"))).toBe(devToken());
  await page.reload();
  await expect(page.getByRole("heading", { name: "Channels" })).toBeVisible();
});

test("without a token the console shows a sign-in notice and calls nothing", async ({ page }) => {
  const calls: string[] = [];
  page.on("request", (r) => {
    if (!r.url().includes("/app/")) calls.push(r.url());
  });
  await page.goto(`${url()}/app/account/channels/sms`);
  await expect(page.getByRole("heading", { name: "Sign in to see your SMS channels" })).toBeVisible();
  expect(calls).toEqual([]);
  await expectAccessible(page);
});

test("the host page's token hook: a postMessage from the parent frame signs the console in", async ({ page }) => {
  // The host product frames the console and posts the token (no token in the URL).
  await page.goto(`${url()}/app/blank`);
  await page.evaluate((src) => {
    document.body.innerHTML = "";
    const frame = document.createElement("iframe");
    frame.src = src;
    frame.title = "console";
    frame.style.width = "1200px";
    frame.style.height = "700px";
    document.body.appendChild(frame);
  }, `${url()}/app/account/channels/sms`);
  const frame = page.frameLocator("iframe");
  await expect(frame.getByRole("heading", { name: "Sign in to see your SMS channels" })).toBeVisible();
  await page.evaluate((token) => {
    const frame = document.querySelector("iframe");
    frame?.contentWindow?.postMessage({ type: "sms-channels:token", token }, "*");
  }, devToken());
  await expect(frame.getByRole("heading", { name: "Channels" })).toBeVisible();
});
