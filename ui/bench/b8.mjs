// B8's browser half (bench/b8_console.py runs it): Debian's Chromium against a running
// service with a 10 000-row account. Prints one JSON object: the milliseconds from
// navigation to an interactive 50-row table (each load in a fresh context), and from a click
// on a sort header to the re-sorted first page (measured in the page, by a MutationObserver).
import { chromium } from "@playwright/test";

const url = process.env.B8_URL;
const token = process.env.B8_TOKEN;
const loads = Number(process.env.B8_LOADS ?? 7);
const sorts = Number(process.env.B8_SORTS ?? 12);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const navigation = [];
let breakdown = null;
const sort = [];
try {
  for (let i = 0; i < loads + 1; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${url}/app/#token=${token}`);
    // Interactive: 50 rows rendered and the first row's Active switch enabled.
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('[data-testid="channel-row"]');
      const toggle = rows[0]?.querySelector('[role="switch"]');
      return rows.length === 50 && toggle && !toggle.hasAttribute("disabled");
    }, null, { polling: "raf" });
    const elapsed = await page.evaluate(() => performance.now());
    // Where the time of the last load went (ms since navigation start).
    breakdown = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const at = (e) => Math.round(e.responseEnd);
      const resources = performance.getEntriesByType("resource");
      const script = resources.find((e) => e.name.includes("/assets/index-") && e.name.endsWith(".js"));
      const list = resources.find((e) => e.name.includes("/channels/sms/connections?"));
      return {
        html_ms: nav ? at(nav) : null,
        script_loaded_ms: script ? at(script) : null,
        dom_content_loaded_ms: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
        list_request_start_ms: list ? Math.round(list.startTime) : null,
        list_response_end_ms: list ? at(list) : null,
      };
    });
    if (i > 0) navigation.push(elapsed); // the first load warms the server's caches
    if (i === loads) {
      const columns = ["Phone number", "Workspace", "Knowledge base"];
      for (let s = 0; s < sorts + 1; s++) {
        const label = columns[s % columns.length];
        const ms = await page.evaluate(async (label) => {
          const body = () => document.querySelector('table[aria-label="SMS channels"] tbody');
          const first = () => body()?.firstElementChild?.getAttribute("aria-label");
          const header = [...document.querySelectorAll("thead button")].find((b) => b.textContent?.startsWith(label));
          const before = [...(body()?.children ?? [])].map((r) => r.getAttribute("aria-label")).join();
          const started = performance.now();
          await new Promise((resolve) => {
            const observer = new MutationObserver(() => {
              const now = [...(body()?.children ?? [])].map((r) => r.getAttribute("aria-label")).join();
              if (now !== before && body()?.children.length === 50 && first()) {
                observer.disconnect();
                resolve(undefined);
              }
            });
            observer.observe(document.body, { subtree: true, childList: true, attributes: true });
            header?.click();
          });
          return performance.now() - started;
        }, label);
        if (s > 0) sort.push(ms);
      }
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ navigation_ms: navigation, sort_ms: sort, breakdown }));
