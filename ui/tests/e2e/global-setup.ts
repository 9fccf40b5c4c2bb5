/**
 * Starts a real `sms-channels run` (the embedded default: its own PostgreSQL and Kafka
 * broker, the sandbox provider, the demo directory) on a fresh DATA_DIR and a free port,
 * waits until it is ready, and hands its address and development token to the tests via
 * the environment. The returned function stops it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

async function ready(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sms-channels run exited with ${child.exitCode}`);
    try {
      const answer = await fetch(`${url}/readyz`);
      if (answer.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("sms-channels run did not become ready in time");
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sms-console-"));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1" };
  for (const name of ["DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET", "CIPHER_KEY", "SMS_PROVIDER"]) {
    delete env[name];
  }
  env.REGISTRATION_INTERVAL_SECONDS = "1";
  // The tests connect and search far more often than a person (the limits are per account).
  env.RATE_LIMIT_CONNECT_PER_MINUTE = "10000";
  env.RATE_LIMIT_SEARCH_PER_MINUTE = "10000";
  env.LOG_LEVEL = "warning";
  const child = spawn(join(ROOT, ".venv/bin/sms-channels"), ["run"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  // The service's output, for a failing test's post-mortem.
  const log = createWriteStream(process.env.CONSOLE_SERVICE_LOG ?? join(tmpdir(), "sms-console-service.log"));
  let output = "";
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    if (output.length < 100_000) output += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await ready(url, child, Date.now() + 120_000);
  } catch (error) {
    child.kill("SIGTERM");
    throw new Error(`${String(error)}\n${output.slice(-4000)}`);
  }
  const token = /\/app\/#token=(\S+)/.exec(output)?.[1];
  if (!token) throw new Error(`no console link in the output of sms-channels run:\n${output}`);
  process.env.CONSOLE_URL = url;
  process.env.CONSOLE_TOKEN = token;
  process.env.CONSOLE_DATA_DIR = dataDir;
  process.env.CONSOLE_PORT = String(port);
  return async () => {
    child.kill("SIGTERM");
    await new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        done();
      }, 20_000);
      child.once("exit", () => {
        clearTimeout(timer);
        done();
      });
    });
    rmSync(dataDir, { recursive: true, force: true });
  };
}
