/** Channels table (SMS tab): one keyset page, after a write the table must show. */
import { orThrow, type Schemas, type SmsChannelsClient } from "../client";

export interface Page {
  rows: Schemas["ChannelRow"][];
  nextCursor: string | null;
  lagging: boolean;
}

export async function tablePage(
  client: SmsChannelsClient,
  cursor: string | null,
  waitFor: number | null,
): Promise<Page> {
  const result = await client.GET("/channels/sms/connections", {
    params: {
      query: { sort: "phoneNumber", order: "asc", limit: 50, cursor, waitFor },
    },
  });
  const page = orThrow(result);
  return {
    rows: page.items,
    nextCursor: page.nextCursor,
    lagging: result.response.headers.has("X-Projection-Lag"),
  };
}
