/**
 * What the browser tests share: the running service (from global-setup), tokens minted by
 * `sms-channels token`, the sandbox CLI, and API calls for arranging state (a concurrent
 * save, a directory change) against the same real service.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export const url = (): string => need("CONSOLE_URL");
export const devToken = (): string => need("CONSOLE_TOKEN");

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is unset: the global setup did not start the service`);
  return value;
}

/** `sms-channels ARGS…` beside the running service (same DATA_DIR and port). */
export function cli(...args: string[]): string {
  return execFileSync(join(ROOT, ".venv/bin/sms-channels"), args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: need("CONSOLE_DATA_DIR"),
      PORT: need("CONSOLE_PORT"),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warning",
    },
    encoding: "utf8",
  });
}

export function mint(account: string, permissions: string[], user = "user_e2e"): string {
  const args = ["token", "--account", account, "--user", user];
  for (const p of permissions) args.push("--permission", p);
  return cli(...args).trim();
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const request = () => fetch(url() + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A kept-alive connection the server just closed fails once: send again on a new one.
  const answer = await request().catch(() => request());
  const text = await answer.text();
  return { status: answer.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: answer.headers };
}

let areaCounter = 0;
const AREAS = ["201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215", "216", "217", "218"];

/** A number on offer, from an area code no earlier test of this run used. */
export async function freshNumber(token = devToken()): Promise<{ number: string; area: string }> {
  for (;;) {
    const area = AREAS[areaCounter++ % AREAS.length] ?? "415";
    const found = await call("GET", `/channels/sms/numbers?countryCode=US&areaCode=${area}&limit=5`, token);
    const numbers = (found.body.numbers as { phoneNumber: string }[] | undefined) ?? [];
    if (numbers[0]) return { number: numbers[0].phoneNumber, area };
  }
}

/** Connect a new number through the API (arranging a test's state). */
export async function connect(
  agentId = "agent_1",
  workspaceId = "ws_1",
  token = devToken(),
): Promise<{ id: string; phoneNumber: string; version: number; position: number }> {
  const { number, area } = await freshNumber(token);
  const answer = await call(
    "POST",
    "/channels/sms/connect",
    token,
    { mode: "new", countryCode: "US", areaCode: area, phoneNumber: number, workspaceId, agentId },
    { "Idempotency-Key": crypto.randomUUID() },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as { id: string; phoneNumber: string; version: number; position: number };
}

/** Put an agent in the directory (the agents source's write, `directory.write`). */
export async function putAgent(
  account: string,
  agentId: string,
  info: { workspaceId: string; workspaceName: string; name: string; knowledgeBaseId?: string | null; knowledgeBaseName?: string | null },
): Promise<number> {
  const answer = await call("PUT", `/directory/agents/${agentId}`, mint(account, ["directory.write"], "agents_source"), info);
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  return answer.body.position as number;
}

/** Open the console as the given token (the link `make run` prints). */
export async function open(page: Page, token = devToken(), path = "/app/"): Promise<void> {
  await page.goto(`${url()}${path}#token=${token}`);
}

/** The channels table's row of a number. */
export function row(page: Page, phoneNumber: string) {
  return page.getByRole("row", { name: phoneNumber, exact: true });
}

/** axe on the page as it is: no serious or critical violations. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`)).toEqual([]);
}

/** Wait until the channels table (the read model) shows ``check`` true for a connection. */
export async function untilRow(
  token: string,
  id: string,
  check: (row: Record<string, unknown>) => boolean,
): Promise<void> {
  await expect
    .poll(async () => {
      const page = await call("GET", "/channels/sms/connections?limit=100&sort=phoneNumber&order=desc", token);
      const found = (page.body.items as Record<string, unknown>[]).find((r) => r.id === id);
      return found !== undefined && check(found);
    })
    .toBe(true);
}
