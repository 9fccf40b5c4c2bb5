/** The service's codes in words (degraded reasons, statuses, compliance sections). */

export const DEGRADED_REASONS: Record<string, string> = {
  number_reclaimed: "The provider took the number back",
  provisioning_failed: "The number could not be provisioned",
  no_agent: "No agent is assigned",
  agent_not_found: "The assigned agent no longer exists",
  kb_unresolved: "The agent has no knowledge base",
};

export const OUTBOUND_REASONS: Record<string, string> = {
  not_connected: "the number is not connected yet",
  provisioning_failed: "the number could not be provisioned",
  number_reclaimed: "the provider took the number back",
  connection_deleted: "the connection was deleted",
  inactive: "the channel is off",
  no_agent: "no agent is assigned",
  agent_not_found: "the agent no longer exists",
  kb_unresolved: "the agent has no knowledge base",
  region_unsupported: "the country is not supported",
  region_not_permitted: "this country permits no A2P messages on these numbers",
  registration_required: "10DLC registration required",
  campaign_pending: "the campaign awaits carrier review",
  campaign_rejected: "the campaign was rejected",
  campaign_suspended: "the campaign is suspended",
  campaign_expired: "the campaign expired",
  registration_action_required: "the provider waits for you (see the registration)",
};

export const REGISTRATION_STATUS: Record<string, string> = {
  not_required: "Not required",
  not_submitted: "Not submitted",
  submitted: "Submitted",
  pending: "Pending carrier review",
  approved: "approved",
  rejected: "Rejected",
  suspended: "Suspended",
  expired: "Expired",
  failed: "Failed",
};

export const SECTION_TITLES: Record<string, string> = {
  brand_identity: "Brand identity",
  brand_contact: "Brand contact",
  campaign_details: "Campaign details",
  message_samples: "Message samples",
  opt_in: "Opt-in",
  opt_out: "Opt-out",
  help: "Help",
  campaign_attributes: "Campaign attributes",
};

export function words(table: Record<string, string>, code: string | null | undefined): string {
  if (!code) return "";
  return table[code] ?? code.replace(/_/g, " ");
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}
