/** Server state of the channels surfaces (TanStack Query keys and fetchers). */
import { useQuery } from "@tanstack/react-query";

import { awaitingVetting } from "@/features/channels/registrationWords";
import { api, orThrow } from "@/lib/api";

export const keys = {
  connections: ["connections"] as const,
  agents: (workspaceId: string | undefined) => ["agents", workspaceId ?? "*"] as const,
  connection: (id: string) => ["connection", id] as const,
  compliance: (id: string) => ["compliance", id] as const,
  preflight: (id: string) => ["preflight", id] as const,
  registration: (id: string) => ["registration", id] as const,
};

/** The directory's agents (of one workspace, or all): the Agent selectors. */
export function useAgents(workspaceId: string | undefined, enabled = true) {
  return useQuery({
    queryKey: keys.agents(workspaceId),
    enabled,
    staleTime: 30_000,
    queryFn: async () =>
      orThrow(
        await api.GET("/directory/agents", {
          params: { query: { workspaceId: workspaceId ?? null, limit: 100 } },
        }),
      ).items,
  });
}

/** The workspaces the directory knows (id and name), from its agents. */
export function workspacesOf(agents: { workspace: { id: string; name?: string | null } }[] | undefined) {
  const seen = new Map<string, string>();
  for (const agent of agents ?? []) seen.set(agent.workspace.id, agent.workspace.name ?? agent.workspace.id);
  return [...seen.entries()].map(([id, name]) => ({ id, name }));
}

/** A connection's registration (the timeline, and what a resubmission will do); asked
 * again every two seconds while a vetting awaits the provider's answer. */
export function useRegistration(connectionId: string) {
  return useQuery({
    queryKey: keys.registration(connectionId),
    refetchInterval: (query) => (query.state.data && awaitingVetting(query.state.data.brand) ? 2_000 : false),
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/connections/{connection_id}/registration", {
          params: { path: { connection_id: connectionId } },
        }),
      ),
  });
}
