/** Settings dialog: load a connection, then save a change with the ETag read. */
import { orThrow, ProblemError, type Connection, type SmsChannelsClient } from "../client";

export interface Loaded {
  connection: Connection;
  etag: string;
}

export async function loadSettings(client: SmsChannelsClient, id: string): Promise<Loaded> {
  const result = await client.GET("/channels/sms/connections/{connection_id}", {
    params: { path: { connection_id: id } },
  });
  return { connection: orThrow(result), etag: result.response.headers.get("ETag") ?? "*" };
}

/** Switch the channel on or off; `null` when someone saved in between (412: reload). */
export async function saveActive(
  client: SmsChannelsClient,
  loaded: Loaded,
  active: boolean,
): Promise<Loaded | null> {
  const result = await client.PATCH("/channels/sms/connections/{connection_id}", {
    params: { path: { connection_id: loaded.connection.id }, header: { "If-Match": loaded.etag } },
    body: { active },
  });
  if (result.response.status === 412) {
    return null;
  }
  const connection = orThrow(result);
  return { connection, etag: result.response.headers.get("ETag") ?? "*" };
}

/** The compliance accordion: save the draft as entered (If-Match is required). */
export async function saveComplianceDraft(
  client: SmsChannelsClient,
  loaded: Loaded,
  displayName: string,
): Promise<number> {
  const result = await client.PUT("/channels/sms/connections/{connection_id}/compliance", {
    params: { path: { connection_id: loaded.connection.id }, header: { "If-Match": loaded.etag } },
    body: { brand: { displayName, entity: "PRIVATE_PROFIT" }, campaign: null },
  });
  if (result.error !== undefined) {
    throw new ProblemError(result.response.status, result.error);
  }
  return result.data.version;
}
