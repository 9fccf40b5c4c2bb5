/**
 * The audit view (/app/audit, for `compliance.audit`): a connection's compliance history
 * (versions, who, when, fields changed; never values here) with the hash chain's
 * verification badge, and the account trail with its filters and the CSV / NDJSON exports.
 */
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { api, orThrow, problemText, type Schemas } from "@/lib/api";
import { when } from "@/lib/words";

const TYPES = [
  "active.changed", "agent.assigned", "compliance.updated", "connection.connected", "connection.deleted",
  "connection.failed", "connection.replaced", "connection.requested", "hosting.progressed", "hosting.started",
  "number.reclaimed", "registration.changed", "registration.submitted", "workspace.changed",
] as const;
type TrailType = (typeof TYPES)[number];
const ALL = "all";

export function AuditPage() {
  // No gate here: the service decides, and its 403 names the missing permission.
  return (
    <div className="space-y-10">
      <h1 className="text-2xl font-semibold">Audit</h1>
      <ComplianceHistory />
      <AccountTrail />
    </div>
  );
}

function ComplianceHistory() {
  const connections = useQuery({
    queryKey: ["audit-connections"],
    queryFn: async () => orThrow(await api.GET("/channels/sms/connections", { params: { query: { limit: 100 } } })).items,
  });
  const [id, setId] = React.useState<string | undefined>();
  const history = useQuery({
    queryKey: ["history", id],
    enabled: !!id,
    gcTime: 0,
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/connections/{connection_id}/compliance/history", {
          params: { path: { connection_id: id ?? "" } },
        }),
      ),
  });
  const verify = useQuery({
    queryKey: ["verify", id],
    enabled: !!id,
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/connections/{connection_id}/compliance/history/verify", {
          params: { path: { connection_id: id ?? "" } },
        }),
      ),
  });
  return (
    <section aria-labelledby="history-title" className="space-y-3">
      <h2 id="history-title" className="text-lg font-semibold">
        Compliance history
      </h2>
      <div className="grid max-w-sm gap-1.5">
        <Label htmlFor="history-connection">Connection</Label>
        <Select value={id} onValueChange={setId}>
          <SelectTrigger id="history-connection">
            <SelectValue placeholder="Choose a number" />
          </SelectTrigger>
          <SelectContent>
            {(connections.data ?? []).map((c) => (
              <SelectItem key={c.id} value={c.id}>
                {c.phoneNumber}
              </SelectItem>
            ))}
          </SelectContent>
        </Select>
      </div>
      {verify.data ? (
        verify.data.verified ? (
          <Badge tone="good" data-testid="chain-badge">
            Chain verified · {verify.data.facts} facts
          </Badge>
        ) : (
          <Badge tone="bad" data-testid="chain-badge">
            Chain broken at version {verify.data.brokenAt}: {verify.data.reason}
          </Badge>
        )
      ) : null}
      {history.isError ? <p role="alert">{problemText(history.error)}</p> : null}
      {verify.isError && !history.isError ? <p role="alert">{problemText(verify.error)}</p> : null}
      {history.data ? (
        <table className="w-full text-sm" aria-label="Compliance versions">
          <thead>
            <tr className="border-b text-left">
              <th scope="col" className="p-2">Version</th>
              <th scope="col" className="p-2">When</th>
              <th scope="col" className="p-2">Who</th>
              <th scope="col" className="p-2">Fields changed</th>
            </tr>
          </thead>
          <tbody>
            {history.data.versions.map((v) => (
              <tr key={v.version} className="border-b align-top">
                <td className="p-2">{v.version}</td>
                <td className="whitespace-nowrap p-2">{when(v.recordedAt)}</td>
                <td className="p-2">{v.actor}</td>
                <td className="p-2">{v.changedFields.join(", ") || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function AccountTrail() {
  const [actor, setActor] = React.useState("");
  const [type, setType] = React.useState<string>(ALL);
  const [since, setSince] = React.useState("");
  const [until, setUntil] = React.useState("");
  const [applied, setApplied] = React.useState({ actor: "", type: ALL, since: "", until: "" });
  const filters = {
    actor: applied.actor || null,
    type: applied.type === ALL ? null : (applied.type as TrailType),
    since: applied.since ? new Date(applied.since).toISOString() : null,
    until: applied.until ? new Date(applied.until).toISOString() : null,
  };
  const trail = useInfiniteQuery({
    queryKey: ["trail", filters],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      // The 200 has three media types; the JSON page is the generated TrailPage.
      orThrow(
        await api.GET("/audit/events", { params: { query: { ...filters, limit: 50, cursor: pageParam } } }),
      ) as Schemas["TrailPage"],
    getNextPageParam: (last) => last.nextCursor,
  });
  const [exporting, setExporting] = React.useState<string | null>(null);
  const download = async (format: "csv" | "ndjson") => {
    setExporting(format);
    try {
      const result = await api.GET("/audit/events", { params: { query: { ...filters, format } }, parseAs: "blob" });
      const blob = orThrow(result);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `audit-trail.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } finally {
      setExporting(null);
    }
  };
  const rows = (trail.data?.pages ?? []).flatMap((p) => p.items);
  return (
    <section aria-labelledby="trail-title" className="space-y-3">
      <h2 id="trail-title" className="text-lg font-semibold">
        Account trail
      </h2>
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ actor, type, since, until });
        }}
      >
        <div className="grid gap-1.5">
          <Label htmlFor="trail-actor">Actor</Label>
          <Input id="trail-actor" value={actor} onChange={(e) => setActor(e.target.value)} />
        </div>
        <div className="grid w-56 gap-1.5">
          <Label htmlFor="trail-type">Event type</Label>
          <Select value={type} onValueChange={setType}>
            <SelectTrigger id="trail-type">
              <SelectValue />
            </SelectTrigger>
            <SelectContent>
              <SelectItem value={ALL}>All types</SelectItem>
              {TYPES.map((t) => (
                <SelectItem key={t} value={t}>
                  {t}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="trail-since">Since</Label>
          <Input id="trail-since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="trail-until">Until</Label>
          <Input id="trail-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
        </div>
        <Button type="submit" variant="outline">
          Apply filters
        </Button>
        <span className="ml-auto flex gap-1">
        <Button variant="link" disabled={exporting !== null} onClick={() => void download("csv")}>
          Export CSV
        </Button>
        <Button variant="link" disabled={exporting !== null} onClick={() => void download("ndjson")}>
          Export NDJSON
        </Button>
        </span>
      </form>
      {trail.isError ? (
        <p role="alert" className="rounded-md border border-destructive p-3">
          {problemText(trail.error)}
        </p>
      ) : null}
      <table className="w-full text-sm" aria-label="Account trail">
        <thead>
          <tr className="border-b text-left">
            <th scope="col" className="p-2">When</th>
            <th scope="col" className="p-2">Actor</th>
            <th scope="col" className="p-2">Type</th>
            <th scope="col" className="p-2">Connection</th>
            <th scope="col" className="p-2">Fields changed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={`${e.connectionId}-${e.version}`} className="border-b" data-testid="trail-row">
              <td className="whitespace-nowrap p-2">{when(e.recordedAt)}</td>
              <td className="p-2">{e.actor}</td>
              <td className="p-2">{e.type}</td>
              <td className="p-2 font-mono text-xs">{e.connectionId}</td>
              <td className="p-2">{e.changedFields.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {trail.hasNextPage ? (
        <Button variant="outline" onClick={() => void trail.fetchNextPage()}>
          Load more
        </Button>
      ) : null}
    </section>
  );
}
