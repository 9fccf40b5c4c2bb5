/**
 * The one way the console talks to the service: `clients/typescript` (openapi-fetch over
 * the generated types) on this page's origin, with the session's bearer token.
 */
import { ProblemError, smsChannelsClient, type Problem, type Schemas } from "@client/client";

import { currentToken } from "@/lib/session";

export type { Schemas, Problem };
export { ProblemError };
export type Row = Schemas["ChannelRow"];
export type Connection = Schemas["ConnectionOut"];
/** A served country's code, as the connect and search operations declare it. */
export type CountryCode = Schemas["ConnectRequest"]["countryCode"];

/** A country code the service gave us (a connection's, a country list's) as the type the
 * inputs declare: the service only ever answers codes it serves. */
export function servedCountry(code: string): CountryCode {
  return code as CountryCode;
}

export const api = smsChannelsClient(window.location.origin, () => currentToken() ?? "");

/** An answer's data, or a `ProblemError` carrying the problem+json body. */
export function orThrow<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || !result.response.ok) {
    throw new ProblemError(result.response.status, result.error as Problem | undefined);
  }
  return result.data;
}

/** The words to show for an error: the problem's `detail` when there is one. */
export function problemText(error: unknown): string {
  if (error instanceof ProblemError) return error.problem?.detail ?? `The service answered ${error.status}.`;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

/** A fresh Idempotency-Key. */
export function newKey(): string {
  return crypto.randomUUID();
}
