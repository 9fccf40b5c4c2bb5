/**
 * The SMS tab of the channels table (/app/account/channels/sms): server-side sort and
 * keyset pages ("Load more"), the Agent selector and Active switch per row, row actions,
 * degraded state, registration status with a badge per carrier, and outbound replies (with
 * the carriers that refused); the four states (empty, loading, error, complete). Opens the Add channel wizard and the settings dialog.
 */
import {
  keepPreviousData,
  type InfiniteData,
  useInfiniteQuery,
  useMutation,
  useQueryClient,
} from "@tanstack/react-query";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import {
  Select,
  SelectContent,
  SelectItem,
  SelectTrigger,
  selectTriggerClass,
  SelectValue,
} from "@/components/ui/select";
import { Skeleton } from "@/components/ui/skeleton";
import { Switch } from "@/components/ui/switch";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { toast } from "@/components/ui/toast";
import { keys, useAgents } from "@/features/channels/queries";
import { byCarrier, carrierName, carrierStatus, carrierTone, outboundText } from "@/features/channels/registrationWords";
import { api, orThrow, problemText, type Row, type Schemas } from "@/lib/api";
import { notePosition, useWaitFor } from "@/lib/position";
import { may } from "@/lib/session";
import { useClaims } from "@/lib/useSession";
import { DEGRADED_REASONS, REGISTRATION_STATUS, when, words } from "@/lib/words";

// Loaded when first opened: the table's first load carries only what the table needs.
const AddChannelWizard = React.lazy(() =>
  import("@/features/channels/AddChannelWizard").then((m) => ({ default: m.AddChannelWizard })),
);
const ConnectionSettingsDialog = React.lazy(() =>
  import("@/features/channels/ConnectionSettingsDialog").then((m) => ({ default: m.ConnectionSettingsDialog })),
);

type SortKey = "phoneNumber" | "workspace" | "knowledgeBase";
type Page = Schemas["ChannelsPage"];
export const PAGE_SIZE = 50;

/** The table's query (also prefetched by main.tsx before React renders). */
export function tableQuery(sort: SortKey, order: "asc" | "desc", waitFor: number | undefined) {
  return {
    queryKey: [...keys.connections, sort, order, waitFor ?? 0],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }: { pageParam: string | null }) =>
      orThrow(
        await api.GET("/channels/sms/connections", {
          params: { query: { sort, order, limit: PAGE_SIZE, cursor: pageParam, waitFor: waitFor ?? null } },
        }),
      ),
    getNextPageParam: (last: Page) => last.nextCursor,
  };
}

export function ChannelsPage() {
  const claims = useClaims();
  const canConnect = may(claims, "channels.connect");
  const [sort, setSort] = React.useState<SortKey>("phoneNumber");
  const [order, setOrder] = React.useState<"asc" | "desc">("asc");
  const [wizardOpen, setWizardOpen] = React.useState(false);
  const [editing, setEditing] = React.useState<string | null>(null);
  const [deleted, setDeleted] = React.useState<ReadonlySet<string>>(new Set());
  const waitFor = useWaitFor();

  const query = useInfiniteQuery({ ...tableQuery(sort, order, waitFor), placeholderData: keepPreviousData });
  const rows = (query.data?.pages ?? []).flatMap((p) => p.items).filter((r) => !deleted.has(r.id));

  const sortBy = (key: SortKey) => {
    if (key === sort) setOrder(order === "asc" ? "desc" : "asc");
    else {
      setSort(key);
      setOrder("asc");
    }
  };

  return (
    <section aria-labelledby="channels-title">
      <div className="mb-4 flex items-center justify-between gap-4">
        <h1 id="channels-title" className="text-2xl font-semibold">
          Channels
        </h1>
        {canConnect ? <Button onClick={() => setWizardOpen(true)}>Add channel</Button> : null}
      </div>
      <Tabs value="sms">
        <TabsList aria-label="Channel type">
          <TabsTrigger value="sms">SMS</TabsTrigger>
        </TabsList>
      <TabsContent value="sms" className="mt-4">
        {query.isPending ? (
          <LoadingTable />
        ) : query.isError && !query.data ? (
          <div role="alert" className="rounded-md border border-destructive p-4">
            <p className="font-medium">The SMS channels could not be loaded.</p>
            <p className="text-sm">{problemText(query.error)}</p>
            <Button className="mt-2" variant="outline" onClick={() => void query.refetch()}>
              Retry
            </Button>
          </div>
        ) : rows.length === 0 ? (
          <div className="rounded-md border p-8 text-center">
            <p className="text-lg font-medium">No SMS numbers configured</p>
            <p className="mt-1 text-sm text-muted-foreground">
              {canConnect
                ? "Add a channel to get a new number or bring your own."
                : "Ask a workspace admin to add an SMS channel."}
            </p>
            {canConnect ? (
              <Button className="mt-3" onClick={() => setWizardOpen(true)}>
                Add channel
              </Button>
            ) : null}
          </div>
        ) : (
          <>
            <table className="w-full border-collapse text-sm" aria-label="SMS channels">
              <thead>
                <tr className="border-b text-left">
                  <SortHeader label="Phone number" column="phoneNumber" sort={sort} order={order} onSort={sortBy} />
                  <SortHeader label="Workspace" column="workspace" sort={sort} order={order} onSort={sortBy} />
                  <SortHeader label="Knowledge base" column="knowledgeBase" sort={sort} order={order} onSort={sortBy} />
                  <th scope="col" className="p-2">Agent</th>
                  <th scope="col" className="p-2">Active</th>
                  <th scope="col" className="p-2">Registration</th>
                  <th scope="col" className="p-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <ChannelRow
                    key={row.id}
                    row={row}
                    onEdit={() => setEditing(row.id)}
                    onDeleted={() => setDeleted(new Set([...deleted, row.id]))}
                  />
                ))}
              </tbody>
            </table>
            {query.hasNextPage ? (
              <div className="mt-3 flex justify-center">
                <Button
                  variant="outline"
                  disabled={query.isFetchingNextPage}
                  onClick={() => void query.fetchNextPage()}
                >
                  {query.isFetchingNextPage ? "Loading…" : "Load more"}
                </Button>
              </div>
            ) : null}
            {query.isError ? (
              <p role="alert" className="mt-2 text-sm text-destructive">
                {problemText(query.error)}
              </p>
            ) : null}
          </>
        )}
      </TabsContent>
      </Tabs>
      <React.Suspense fallback={null}>
      {wizardOpen ? (
        <AddChannelWizard
          onClose={() => setWizardOpen(false)}
          onOpenSettings={(id) => {
            setWizardOpen(false);
            setEditing(id);
          }}
        />
      ) : null}
      {editing ? <ConnectionSettingsDialog connectionId={editing} onClose={() => setEditing(null)} /> : null}
      </React.Suspense>
    </section>
  );
}

function SortHeader(props: {
  label: string;
  column: SortKey;
  sort: SortKey;
  order: "asc" | "desc";
  onSort: (key: SortKey) => void;
}) {
  const active = props.sort === props.column;
  return (
    <th
      scope="col"
      className="p-2"
      aria-sort={active ? (props.order === "asc" ? "ascending" : "descending") : "none"}
    >
      <button type="button" className="inline-flex items-center gap-1 font-medium hover:underline" onClick={() => props.onSort(props.column)}>
        {props.label}
        <span aria-hidden>{active ? (props.order === "asc" ? "↑" : "↓") : "↕"}</span>
      </button>
    </th>
  );
}

function LoadingTable() {
  return (
    <div aria-busy="true" aria-label="Loading SMS channels" role="status" className="space-y-2">
      {Array.from({ length: 5 }, (_, i) => (
        <Skeleton key={i} className="h-10 w-full" data-testid="skeleton-row" />
      ))}
    </div>
  );
}

/** Set `active` (or any fields) of one row in every cached page; returns the old caches. */
function patchRows(client: ReturnType<typeof useQueryClient>, id: string, change: Partial<Row>) {
  const before = client.getQueriesData<InfiniteData<Page>>({ queryKey: keys.connections });
  client.setQueriesData<InfiniteData<Page>>({ queryKey: keys.connections }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((p) => ({
            ...p,
            items: p.items.map((r) => (r.id === id ? { ...r, ...change } : r)),
          })),
        }
      : data,
  );
  return before;
}

function ChannelRow({ row, onEdit, onDeleted }: { row: Row; onEdit: () => void; onDeleted: () => void }) {
  const claims = useClaims();
  const canManage = may(claims, "sms.manage");
  const client = useQueryClient();
  const [confirming, setConfirming] = React.useState(false);
  // The workspace's agents are fetched when the selector is first opened, not per row at load.
  const [agentsWanted, setAgentsWanted] = React.useState(false);
  const agents = useAgents(row.workspace.id, canManage && agentsWanted);
  const phone = row.phoneNumber;

  const patch = useMutation({
    mutationFn: async (body: Schemas["UpdateConnectionRequest"]) =>
      orThrow(
        await api.PATCH("/channels/sms/connections/{connection_id}", {
          params: { path: { connection_id: row.id }, header: { "If-Match": `"${row.version}"` } },
          body,
        }),
      ),
    onMutate: (body) => patchRows(client, row.id, body.active != null ? { active: body.active } : {}),
    onError: (error, _body, before) => {
      for (const [key, data] of before ?? []) client.setQueryData(key, data);
      toast({ title: `${phone}: the change was not saved`, description: problemText(error), tone: "error" });
    },
    onSuccess: (answer) => notePosition(answer.position),
  });

  const remove = useMutation({
    mutationFn: async () => {
      const result = await api.DELETE("/channels/sms/connections/{connection_id}", {
        params: { path: { connection_id: row.id }, header: { "If-Match": `"${row.version}"` } },
      });
      if (!result.response.ok) orThrow(result);
    },
    onSuccess: () => {
      setConfirming(false);
      onDeleted();
      toast({ title: `${phone} deleted` });
      void client.invalidateQueries({ queryKey: keys.connections });
    },
    onError: (error) => toast({ title: `${phone} was not deleted`, description: problemText(error), tone: "error" }),
  });

  const degraded = row.degraded;
  const outbound = row.capabilities.outboundReplies;
  const carriers = byCarrier(row.registrationCarriers ?? []);
  const agentOptions = agents.data ?? [];
  const agentKnown = row.agent && agentOptions.some((a) => a.agentId === row.agent?.id);
  const agentLabel = row.agent ? (row.agent.name ?? row.agent.id) : "Choose an agent";
  return (
    <tr className="border-b align-top" data-testid="channel-row" aria-label={phone}>
      <td className="p-2">
        <div className="font-mono">{phone}</div>
        <div className="mt-1 flex flex-wrap gap-1">
          {row.status !== "connected" ? <Badge tone={row.status === "requested" ? "warn" : "bad"}>{row.status}</Badge> : null}
          {degraded.isDegraded ? (
            <Badge tone="bad" data-testid="degraded">
              Degraded
            </Badge>
          ) : null}
        </div>
        {degraded.isDegraded ? (
          <div className="mt-1 text-xs text-red-900">
            <ul>
              {degraded.reasons.map((r) => (
                <li key={r}>{words(DEGRADED_REASONS, r)}</li>
              ))}
            </ul>
            {degraded.since ? <span>since {when(degraded.since)}</span> : null}
          </div>
        ) : null}
      </td>
      <td className="p-2">{row.workspace.name ?? row.workspace.id}</td>
      <td className="p-2">{row.knowledgeBase ? (row.knowledgeBase.name ?? row.knowledgeBase.id) : "—"}</td>
      <td className="p-2 min-w-[10rem]">
        {canManage ? (
          agentsWanted ? (
            <Select
              defaultOpen
              value={agentKnown ? row.agent?.id : undefined}
              onValueChange={(agentId) => patch.mutate({ agentId })}
              disabled={patch.isPending}
            >
              <SelectTrigger aria-label="Agent">
                <SelectValue placeholder={agentLabel} />
              </SelectTrigger>
              <SelectContent>
                {agents.isPending ? (
                  <p className="p-2 text-sm text-muted-foreground" role="status">
                    Loading agents…
                  </p>
                ) : null}
                {agentOptions.map((a) => (
                  <SelectItem key={a.agentId} value={a.agentId}>
                    {a.name}
                  </SelectItem>
                ))}
              </SelectContent>
            </Select>
          ) : (
            // Until first used, the selector is its trigger alone (50 rows of full Radix
            // selects cost the first paint); opening it mounts the real one, open.
            <button
              type="button"
              role="combobox"
              aria-label="Agent"
              aria-expanded="false"
              aria-haspopup="listbox"
              className={selectTriggerClass}
              onClick={() => setAgentsWanted(true)}
              onKeyDown={(e) => {
                if (["Enter", " ", "ArrowDown", "ArrowUp"].includes(e.key)) {
                  e.preventDefault();
                  setAgentsWanted(true);
                }
              }}
            >
              <span className="truncate">{agentLabel}</span>
              <span aria-hidden>▾</span>
            </button>
          )
        ) : (
          <span>{row.agent ? (row.agent.name ?? row.agent.id) : "—"}</span>
        )}
      </td>
      <td className="p-2">
        {canManage ? (
          <Switch
            aria-label="Active"
            checked={row.active}
            disabled={patch.isPending}
            onCheckedChange={(active) => patch.mutate({ active })}
          />
        ) : (
          <span>{row.active ? "On" : "Off"}</span>
        )}
      </td>
      <td className="p-2 text-xs">
        <div>
          Registration:{" "}
          <span data-testid="registration-status" className="font-medium">
            {words(REGISTRATION_STATUS, row.registrationStatus)}
          </span>
        </div>
        {carriers.length ? (
          <ul aria-label="Carriers" className="my-1 flex flex-wrap gap-1">
            {carriers.map((c) => (
              <li key={c.carrier}>
                <Badge tone={carrierTone(c.status)} data-testid="carrier-badge" data-carrier={c.carrier}>
                  {carrierName(c.carrier)}: {carrierStatus(c.status)}
                </Badge>
              </li>
            ))}
          </ul>
        ) : null}
        <div data-testid="outbound">
          Outbound replies:{" "}
          {outbound.permitted && !outbound.notPermittedOn?.length ? (
            <span className="font-medium text-green-900">permitted</span>
          ) : (
            <span className={outbound.notPermittedOn?.length ? "font-medium text-red-900" : undefined}>
              {outboundText(outbound)}
            </span>
          )}
        </div>
      </td>
      <td className="p-2">
        <div className="flex flex-wrap justify-end gap-1">
          {row.actions.includes("assignInAgents") && canManage ? (
            <Button size="sm" variant="secondary" onClick={onEdit}>
              Assign in Agents
            </Button>
          ) : null}
          {row.actions.includes("edit") || row.actions.includes("replaceNumber") ? (
            <Button size="sm" variant="outline" onClick={onEdit} aria-label={canManage ? "Edit" : "View"}>
              {canManage ? "Edit" : "View"}
            </Button>
          ) : null}
          {canManage && row.actions.includes("delete") ? (
            <Button size="sm" variant="outline" onClick={() => setConfirming(true)}>
              Delete
            </Button>
          ) : null}
        </div>
        {confirming ? (
        <Dialog open onOpenChange={setConfirming}>
          <DialogContent className="w-[min(100vw-2rem,28rem)]">
            <DialogHeader>
              <DialogTitle>Delete {phone}?</DialogTitle>
              <DialogDescription>
                The number is released at the provider and stops receiving messages. The connection's history is kept for
                audit.
              </DialogDescription>
            </DialogHeader>
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={() => setConfirming(false)}>
                Cancel
              </Button>
              <Button variant="destructive" disabled={remove.isPending} onClick={() => remove.mutate()}>
                Delete
              </Button>
            </div>
          </DialogContent>
        </Dialog>
        ) : null}
      </td>
    </tr>
  );
}
