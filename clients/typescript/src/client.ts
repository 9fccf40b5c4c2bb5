/**
 * The SMS channels service for the channels UI: openapi-fetch over the types that
 * openapi-typescript generated from the served /openapi.json (src/schema.d.ts; regenerate
 * with `npm run generate`, never edit by hand).
 */
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Connection = Schemas["ConnectionOut"];
export type Problem = Schemas["Problem"];
export type SmsChannelsClient = Client<paths>;

/** A client on `baseUrl` that sends `Authorization: Bearer <token()>` on every call. */
export function smsChannelsClient(baseUrl: string, token: () => string): SmsChannelsClient {
  const client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token()}`);
      return request;
    },
  });
  return client;
}

/** An answer's data, or the problem details thrown as a `ProblemError`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
}

export function orThrow<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new ProblemError(result.response.status, result.error as Problem | undefined);
  }
  return result.data;
}
