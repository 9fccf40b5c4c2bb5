/**
 * The HTTP contract as a typed client sees it (issue 32): every header the service takes
 * or answers is declared, so these calls compile under `tsc --strict`, and what is not
 * declared does not (`npm test`).
 */
import { orThrow, type SmsChannelsClient } from "../src/client";
import type { paths } from "../src/schema";

type ConnectAnswer =
  paths["/channels/sms/connect"]["post"]["responses"][201]["headers"];
type ConnectionAnswer =
  paths["/channels/sms/connections/{connection_id}"]["get"]["responses"][200]["headers"];
type TableAnswer = paths["/channels/sms/connections"]["get"]["responses"][200]["headers"];

// Declared response headers are typed (ETag required, the others optional strings/numbers).
export const connectHeaders: (keyof ConnectAnswer)[] = ["ETag", "Location", "Idempotent-Replayed"];
export const tagged: ConnectionAnswer["ETag"] = '"3-0123456789abcdef"';
export const lag: TableAnswer["X-Projection-Lag"] = 12;

/** Connect once per attempt key (a retry replays the first answer). */
export async function connectKeyed(client: SmsChannelsClient, key: string): Promise<string> {
  const result = await client.POST("/channels/sms/connect", {
    params: { header: { "Idempotency-Key": key } },
    body: {
      mode: "new",
      countryCode: "US",
      phoneNumber: "+14155550100",
      workspaceId: "ws_1",
      agentId: "agent_1",
    },
  });
  return orThrow(result).id;
}

/** Revalidate a connection read before: null when unchanged (304). */
export async function revalidate(
  client: SmsChannelsClient,
  id: string,
  etag: string,
): Promise<string | null> {
  const result = await client.GET("/channels/sms/connections/{connection_id}", {
    params: { path: { connection_id: id }, header: { "If-None-Match": etag } },
  });
  if (result.response.status === 304) {
    return null;
  }
  return orThrow(result).version.toString();
}

/** Every write takes an Idempotency-Key: PATCH, DELETE, the compliance PUT, the submit. */
export async function keyedWrites(client: SmsChannelsClient, id: string, etag: string) {
  const path = { connection_id: id };
  const header = { "If-Match": etag, "Idempotency-Key": `k-${id}` };
  await client.PATCH("/channels/sms/connections/{connection_id}", {
    params: { path, header },
    body: { active: false },
  });
  await client.PUT("/channels/sms/connections/{connection_id}/compliance", {
    params: { path, header },
    body: { brand: { displayName: "Acme Dental" }, campaign: {} },
  });
  await client.POST("/channels/sms/connections/{connection_id}/registration", {
    params: { path, header },
  });
  await client.DELETE("/channels/sms/connections/{connection_id}", { params: { path, header } });
}

/** What the document does not declare is refused by the compiler. */
export async function undeclared(client: SmsChannelsClient, id: string) {
  await client.GET("/channels/sms/connections/{connection_id}", {
    // @ts-expect-error: no such header is declared
    params: { path: { connection_id: id }, header: { "If-Nope": "x" } },
  });
  await client.POST("/channels/sms/connect", {
    body: {
      mode: "new",
      // @ts-expect-error: countryCode is one of the served countries
      countryCode: "ZZ",
      phoneNumber: "+14155550100",
      workspaceId: "ws_1",
      agentId: "agent_1",
    },
  });
  await client.PUT("/channels/sms/connections/{connection_id}/compliance", {
    // @ts-expect-error: the compliance PUT requires If-Match
    params: { path: { connection_id: id } },
    body: { brand: {}, campaign: {} },
  });
}
