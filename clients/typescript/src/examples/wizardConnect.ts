/** Wizard, step 5: connect a new number to a workspace and an agent, safe to retry. */
import { orThrow, type Connection, type SmsChannelsClient } from "../client";

export async function connectNumber(
  client: SmsChannelsClient,
  phoneNumber: string,
  workspaceId: string,
  agentId: string,
  attemptKey: string,
): Promise<{ connection: Connection; location: string | null }> {
  const result = await client.POST("/channels/sms/connect", {
    params: { header: { "Idempotency-Key": attemptKey } },
    body: { mode: "new", countryCode: "US", phoneNumber, workspaceId, agentId },
  });
  // 201 connected, 202 requested (bring your own number); a replay answers the first result.
  return { connection: orThrow(result), location: result.response.headers.get("Location") };
}
