/**
 * The connection settings dialog (connection-settings-dialog.tsx of the product page):
 * agent, workspace move and Active; the compliance form (accordions) saved with If-Match,
 * a 412 opening the merge view; the preflight's findings; Submit for registration
 * (disabled, with the reason, while the preflight finds errors or changes are unsaved); the
 * registration timeline (each level's carriers, the reasons with their fixes and fields, the
 * throughput, what submitting again does, the brand's vettings and secondary vetting);
 * Replace number for a reclaimed or failed number.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Switch } from "@/components/ui/switch";
import { toast } from "@/components/ui/toast";
import { changedFields, type Draft, draftFrom } from "@/features/channels/complianceForm";
import { MergeView } from "@/features/channels/MergeView";
import { NumberSearch } from "@/features/channels/NumberSearch";
import { keys, useAgents, useRegistration, workspacesOf } from "@/features/channels/queries";
import {
  byCarrier,
  carrierName,
  carrierStatus,
  carrierTone,
  fieldTarget,
  notPermittedOn,
  outboundText,
  reasonsOf,
  resubmissionText,
  throughputRows,
  vettingText,
} from "@/features/channels/registrationWords";
import { SmsComplianceForms } from "@/features/channels/SmsComplianceForms";
import { api, type Connection, newKey, orThrow, ProblemError, problemText, type Schemas, servedCountry } from "@/lib/api";
import { notePosition } from "@/lib/position";
import { may } from "@/lib/session";
import { useClaims } from "@/lib/useSession";
import { DEGRADED_REASONS, REGISTRATION_STATUS, when, words } from "@/lib/words";

export function ConnectionSettingsDialog({ connectionId, onClose }: { connectionId: string; onClose: () => void }) {
  const claims = useClaims();
  const canManage = may(claims, "sms.manage");
  const connection = useQuery({
    queryKey: keys.connection(connectionId),
    queryFn: async () =>
      orThrow(await api.GET("/channels/sms/connections/{connection_id}", { params: { path: { connection_id: connectionId } } })),
  });
  const c = connection.data;
  // The compliance accordion's open sections, held here so that a registration reason can
  // open its field's section and focus the field.
  const [openSections, setOpenSections] = React.useState<string[]>([]);
  const [focusField, setFocusField] = React.useState<string | null>(null);
  React.useEffect(() => {
    if (!focusField) return;
    const input = document.getElementById(focusField);
    if (!input) return;
    input.scrollIntoView({ block: "center" });
    input.focus();
    setFocusField(null);
  }, [focusField, openSections]);
  const jump = (path: string) => {
    const target = fieldTarget(path);
    if (!target) return;
    setOpenSections((open) => (open.includes(target.section) ? open : [...open, target.section]));
    setFocusField(target.inputId);
  };
  return (
    <Dialog open onOpenChange={(open) => (open ? undefined : onClose())}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Connection settings{c ? `: ${c.phoneNumber}` : ""}</DialogTitle>
          <DialogDescription>
            {c ? `${c.status} · ${c.workspace.name ?? c.workspace.id}` : "Loading the connection…"}
          </DialogDescription>
        </DialogHeader>
        {connection.isError ? (
          <div role="alert" className="rounded-md border border-destructive p-3 text-sm">
            {problemText(connection.error)}
            <Button className="ml-2" size="sm" variant="outline" onClick={() => void connection.refetch()}>
              Retry
            </Button>
          </div>
        ) : !c ? (
          <p role="status">Loading…</p>
        ) : (
          <div className="space-y-6">
            <Overview connection={c} />
            {canManage ? <ConnectionFields connection={c} /> : null}
            {c.actions.includes("replaceNumber") && canManage && may(claims, "channels.connect") ? (
              <ReplaceNumber connection={c} onReplaced={onClose} />
            ) : null}
            {canManage ? <Compliance connection={c} open={openSections} onOpenChange={setOpenSections} /> : null}
            <RegistrationTimeline connection={c} onJump={canManage ? jump : undefined} />
          </div>
        )}
      </DialogContent>
    </Dialog>
  );
}

function Overview({ connection: c }: { connection: Connection }) {
  const outbound = c.capabilities.outboundReplies;
  return (
    <section aria-label="Status" className="grid gap-1 text-sm">
      <div>
        Registration status:{" "}
        <strong data-testid="settings-registration-status">{words(REGISTRATION_STATUS, c.registrationStatus)}</strong>
        {c.registration.changedSinceSubmission ? (
          <Badge tone="warn" className="ml-2">
            changed since submission
          </Badge>
        ) : null}
      </div>
      <div>
        Outbound replies:{" "}
        <span data-testid="settings-outbound">{outboundText(outbound)}</span>
      </div>
      {c.degraded.isDegraded ? (
        <div className="text-red-900">
          Degraded since {when(c.degraded.since)}: {c.degraded.reasons.map((r) => words(DEGRADED_REASONS, r)).join("; ")}
        </div>
      ) : null}
      {c.failure ? <div className="text-red-900">Failure: {c.failure.reason}</div> : null}
      {c.replacedBy ? <div>Replaced by connection {c.replacedBy}</div> : null}
    </section>
  );
}

function useInvalidateConnection(id: string) {
  const client = useQueryClient();
  return () => {
    for (const key of [keys.connection(id), keys.compliance(id), keys.preflight(id), keys.registration(id), keys.connections]) {
      void client.invalidateQueries({ queryKey: key });
    }
  };
}

function ConnectionFields({ connection: c }: { connection: Connection }) {
  const [workspaceId, setWorkspaceId] = React.useState(c.workspace.id);
  const [agentId, setAgentId] = React.useState<string | undefined>(c.agent?.id);
  const [active, setActive] = React.useState(c.active);
  React.useEffect(() => {
    setWorkspaceId(c.workspace.id);
    setAgentId(c.agent?.id);
    setActive(c.active);
  }, [c.version, c.workspace.id, c.agent?.id, c.active]);
  const all = useAgents(undefined);
  const workspaces = workspacesOf(all.data);
  const agents = (all.data ?? []).filter((a) => a.workspace.id === workspaceId);
  const agent = agents.find((a) => a.agentId === agentId);
  const invalidate = useInvalidateConnection(c.id);

  const body: Schemas["UpdateConnectionRequest"] = {};
  if (workspaceId !== c.workspace.id) body.workspaceId = workspaceId;
  if (agentId && (agentId !== c.agent?.id || body.workspaceId)) body.agentId = agentId;
  if (active !== c.active) body.active = active;
  const dirty = Object.keys(body).length > 0;

  const save = useMutation({
    mutationFn: async () =>
      orThrow(
        await api.PATCH("/channels/sms/connections/{connection_id}", {
          params: { path: { connection_id: c.id }, header: { "If-Match": `"${c.version}"` } },
          body,
        }),
      ),
    onSuccess: (answer) => {
      notePosition(answer.position);
      invalidate();
      toast({ title: "Connection saved" });
    },
    onError: (error) => {
      if (error instanceof ProblemError && error.status === 412) {
        toast({ title: "Someone saved in between", description: "The connection was reloaded: check it and save again." });
        invalidate();
      }
    },
  });

  return (
    <section aria-labelledby="connection-fields" className="space-y-3">
      <h3 id="connection-fields" className="font-semibold">
        Destination
      </h3>
      <div className="grid gap-3 md:grid-cols-3">
        <div className="grid gap-1.5">
          <Label htmlFor="settings-workspace">Workspace</Label>
          <Select value={workspaceId} onValueChange={(v) => { setWorkspaceId(v); setAgentId(undefined); }}>
            <SelectTrigger id="settings-workspace">
              <SelectValue placeholder={c.workspace.name ?? c.workspace.id} />
            </SelectTrigger>
            <SelectContent>
              {workspaces.map((w) => (
                <SelectItem key={w.id} value={w.id}>
                  {w.name}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="settings-agent">Agent</Label>
          <Select value={agents.some((a) => a.agentId === agentId) ? agentId : undefined} onValueChange={setAgentId}>
            <SelectTrigger id="settings-agent">
              <SelectValue placeholder="Choose an agent" />
            </SelectTrigger>
            <SelectContent>
              {agents.map((a) => (
                <SelectItem key={a.agentId} value={a.agentId}>
                  {a.name}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor="settings-kb">Knowledge base</Label>
          <Input
            id="settings-kb"
            readOnly
            value={agent ? (agent.knowledgeBase?.name ?? "None") : (c.knowledgeBase?.name ?? "")}
          />
        </div>
      </div>
      <div className="flex items-center gap-2">
        <Switch id="settings-active" checked={active} onCheckedChange={setActive} />
        <Label htmlFor="settings-active">Active</Label>
      </div>
      {save.isError && !(save.error instanceof ProblemError && save.error.status === 412) ? (
        <p role="alert" className="text-sm text-red-900">
          {problemText(save.error)}
        </p>
      ) : null}
      <Button disabled={!dirty || save.isPending || (body.workspaceId !== undefined && !body.agentId)} onClick={() => save.mutate()}>
        Save connection
      </Button>
    </section>
  );
}

function ReplaceNumber({ connection: c, onReplaced }: { connection: Connection; onReplaced: () => void }) {
  const client = useQueryClient();
  const [searched, setSearched] = React.useState<string | null>(null);
  const [number, setNumber] = React.useState("");
  const key = React.useRef(newKey());
  const replace = useMutation({
    mutationFn: async () =>
      orThrow(
        await api.POST("/channels/sms/connections/{connection_id}/replace-number", {
          params: { path: { connection_id: c.id }, header: { "Idempotency-Key": key.current } },
          body: { mode: "new", countryCode: servedCountry(c.countryCode), areaCode: searched || null, phoneNumber: number },
        }),
      ),
    onSuccess: (answer) => {
      notePosition(answer.position);
      void client.invalidateQueries({ queryKey: keys.connections });
      toast({ title: `${answer.phoneNumber} replaces ${c.phoneNumber}`, description: "The compliance form was carried over." });
      onReplaced();
    },
  });
  return (
    <section aria-labelledby="replace-title" className="space-y-3 rounded-md border p-3">
      <h3 id="replace-title" className="font-semibold">
        Replace number
      </h3>
      <p className="text-sm text-muted-foreground">
        This number is {c.status}. A new number takes over its workspace, agent and compliance form.
      </p>
      <NumberSearch
        idPrefix="replace-"
        countryCode={servedCountry(c.countryCode)}
        initialAreaCode={c.areaCode ?? ""}
        numberLabel="New number"
        searched={searched}
        onSearch={(area) => {
          setNumber("");
          setSearched(area);
        }}
        number={number}
        onNumber={setNumber}
      />
      {replace.isError ? (
        <p role="alert" className="text-sm text-red-900">
          {problemText(replace.error)}
        </p>
      ) : null}
      <Button disabled={!number || replace.isPending} onClick={() => replace.mutate()}>
        Replace number
      </Button>
    </section>
  );
}

function Compliance({
  connection: c,
  open,
  onOpenChange,
}: {
  connection: Connection;
  open: string[];
  onOpenChange: (open: string[]) => void;
}) {
  const invalidate = useInvalidateConnection(c.id);
  const registration = useRegistration(c.id);
  const compliance = useQuery({
    queryKey: keys.compliance(c.id),
    // Compliance values stay in memory only while the dialog is open (never in storage).
    gcTime: 0,
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/connections/{connection_id}/compliance", { params: { path: { connection_id: c.id } } }),
      ),
  });
  const preflight = useQuery({
    queryKey: keys.preflight(c.id),
    gcTime: 0,
    queryFn: async () =>
      orThrow(
        await api.GET("/channels/sms/connections/{connection_id}/compliance/preflight", {
          params: { path: { connection_id: c.id } },
        }),
      ),
  });
  // The version read (If-Match), what it held (the merge's base), and the edits.
  const [base, setBase] = React.useState<{ version: number; draft: Draft } | null>(null);
  const [draft, setDraft] = React.useState<Draft | null>(null);
  const [theirs, setTheirs] = React.useState<{ version: number; draft: Draft } | null>(null);
  React.useEffect(() => {
    const data = compliance.data;
    if (!data) return;
    if (base === null || (draft && changedFields(base.draft, draft).length === 0 && data.version !== base.version)) {
      const loaded = draftFrom(data.smsCompliance);
      setBase({ version: data.version, draft: loaded });
      setDraft(loaded);
    }
  }, [compliance.data, base, draft]);

  const dirty = base !== null && draft !== null && changedFields(base.draft, draft).length > 0;
  const save = useMutation({
    mutationFn: async (payload: { version: number; draft: Draft }) =>
      orThrow(
        await api.PUT("/channels/sms/connections/{connection_id}/compliance", {
          params: { path: { connection_id: c.id }, header: { "If-Match": `"${payload.version}"` } },
          body: payload.draft,
        }),
      ),
    onSuccess: (answer) => {
      const saved = draftFrom(answer.smsCompliance);
      setBase({ version: answer.version, draft: saved });
      setDraft(saved);
      setTheirs(null);
      notePosition(answer.position);
      invalidate();
      toast({ title: "Compliance form saved" });
    },
    onError: async (error) => {
      if (error instanceof ProblemError && error.status === 412) {
        const fresh = orThrow(
          await api.GET("/channels/sms/connections/{connection_id}/compliance", { params: { path: { connection_id: c.id } } }),
        );
        setTheirs({ version: fresh.version, draft: draftFrom(fresh.smsCompliance) });
      }
    },
  });
  const submit = useMutation({
    mutationFn: async () =>
      orThrow(
        await api.POST("/channels/sms/connections/{connection_id}/registration", {
          params: { path: { connection_id: c.id }, header: { "If-Match": `"${c.version}"` } },
        }),
      ),
    onSuccess: (answer) => {
      notePosition(answer.position);
      invalidate();
      toast({ title: "Submitted for registration", description: "The carriers review it; this takes days." });
    },
  });

  if (compliance.isError) {
    return (
      <p role="alert" className="text-sm text-red-900">
        {problemText(compliance.error)}
      </p>
    );
  }
  if (!draft || !base || !compliance.data) return <p role="status">Loading the compliance form…</p>;

  const errors = (preflight.data?.findings ?? []).filter((f) => f.severity === "error");
  const registrationRequired = c.registrationStatus !== "not_required";
  const inFlight = ["submitted", "pending"].includes(c.registrationStatus) && !c.registration.changedSinceSubmission;
  const blocked = dirty
    ? "Save your changes first."
    : preflight.isPending
      ? "Checking the form…"
      : errors.length
        ? `The preflight finds ${errors.length} error${errors.length > 1 ? "s" : ""}: fix ${errors.length > 1 ? "them" : "it"} first.`
        : inFlight
          ? "This version is already with the carriers."
          : c.registrationStatus === "approved" && !c.registration.changedSinceSubmission
            ? "This version is approved."
            : c.version !== base.version
              ? "The connection changed: reload the form."
              : null;
  const progress = compliance.data.complianceProgress;
  const resubmission = resubmissionText(registration.data?.resubmission);
  return (
    <section aria-labelledby="compliance-title" className="space-y-3">
      <div className="flex items-center justify-between">
        <h3 id="compliance-title" className="font-semibold">
          10DLC compliance
        </h3>
        <span className="text-xs text-muted-foreground" data-testid="progress">
          {progress.completeSections} of {progress.totalSections} sections complete
        </span>
      </div>
      {theirs ? (
        <MergeView
          base={base.draft}
          mine={draft}
          theirs={theirs.draft}
          onMerge={(merged) => {
            setBase(theirs);
            setDraft(merged);
            setTheirs(null);
            save.reset();
            void compliance.refetch();
          }}
          onReload={() => {
            setBase(theirs);
            setDraft(theirs.draft);
            setTheirs(null);
            save.reset();
            invalidate();
          }}
        />
      ) : null}
      <SmsComplianceForms
        draft={draft}
        onChange={setDraft}
        progress={progress}
        findings={preflight.data?.findings ?? []}
        open={open}
        onOpenChange={onOpenChange}
      />
      {save.isError && !(save.error instanceof ProblemError && save.error.status === 412) ? (
        <p role="alert" className="text-sm text-red-900">
          {problemText(save.error)}
        </p>
      ) : null}
      <div className="flex flex-wrap items-center gap-2">
        <Button disabled={!dirty || save.isPending || theirs !== null} onClick={() => save.mutate({ version: base.version, draft })}>
          {save.isPending ? "Saving…" : "Save compliance form"}
        </Button>
        {registrationRequired ? (
          <>
            <Button
              variant="secondary"
              disabled={blocked !== null || submit.isPending}
              aria-describedby="submit-reason"
              onClick={() => submit.mutate()}
            >
              Submit for registration
            </Button>
            <span id="submit-reason" className="text-xs text-muted-foreground">
              {blocked ?? "Ready: the preflight finds no errors."}
              {resubmission ? <span data-testid="submit-resubmission"> {resubmission}</span> : null}
            </span>
          </>
        ) : (
          <span className="text-xs text-muted-foreground">This country needs no 10DLC registration.</span>
        )}
      </div>
      {submit.isError ? (
        <p role="alert" className="text-sm text-red-900">
          {problemText(submit.error)}
        </p>
      ) : null}
    </section>
  );
}

type Level = Schemas["LevelOut"] | Schemas["BrandLevelOut"];

function RegistrationTimeline({ connection: c, onJump }: { connection: Connection; onJump?: (path: string) => void }) {
  const claims = useClaims();
  const invalidate = useInvalidateConnection(c.id);
  const registration = useRegistration(c.id);
  const vet = useMutation({
    mutationFn: async () =>
      orThrow(
        await api.POST("/channels/sms/connections/{connection_id}/registration/vetting", {
          params: { path: { connection_id: c.id }, header: { "If-Match": `"${c.version}"` } },
        }),
      ),
    onSuccess: (answer) => {
      notePosition(answer.position);
      invalidate();
      toast({ title: "Secondary vetting requested", description: "The brand's new score shows here once the provider reports it." });
    },
  });
  const r = registration.data;
  if (registration.isError) return <p className="text-sm">{problemText(registration.error)}</p>;
  if (!r) return null;
  const levels: [string, Level][] = [
    ["Brand", r.brand],
    ["Campaign", r.campaign],
    ["Number", r.number],
  ];
  const notOn = notPermittedOn(r.notPermittedOn);
  const next = resubmissionText(r.resubmission);
  const vettings = r.brand.vettings ?? [];
  const mayVet = may(claims, "sms.manage") && r.brand.status === "approved" && !r.brand.secondaryVettingRequested;
  return (
    <section aria-labelledby="registration-title" className="space-y-3">
      <h3 id="registration-title" className="font-semibold">
        Registration
      </h3>
      <p className="text-sm">
        Status: <strong data-testid="timeline-status">{words(REGISTRATION_STATUS, r.status)}</strong>
        {r.submittedAt ? ` · version ${r.submittedVersion} submitted ${when(r.submittedAt)}` : ""}
        {r.changedSinceSubmission ? " · changed since submission" : ""}
      </p>
      {notOn ? (
        <p className="text-sm font-medium text-red-900" data-testid="timeline-not-permitted">
          Outbound replies: {notOn}
        </p>
      ) : null}
      <table className="w-full text-sm" aria-label="Registration levels">
        <thead>
          <tr className="text-left">
            <th scope="col" className="p-1">Level</th>
            <th scope="col" className="p-1">Status</th>
            <th scope="col" className="p-1">Carriers</th>
            <th scope="col" className="p-1">Provider reference</th>
          </tr>
        </thead>
        <tbody>
          {levels.map(([name, level]) => (
            <tr key={name} className="border-t align-top">
              <th scope="row" className="p-1 text-left font-medium">{name}</th>
              <td className="p-1">{words(REGISTRATION_STATUS, level.status)}</td>
              <td className="p-1">
                {level.carriers?.length ? (
                  <ul aria-label={`${name}: carriers`} className="flex flex-wrap gap-1">
                    {byCarrier(level.carriers).map((carrier) => (
                      <li key={carrier.carrier}>
                        <Badge tone={carrierTone(carrier.status)} data-testid="level-carrier">
                          {carrierName(carrier.carrier)}: {carrierStatus(carrier.status)}
                        </Badge>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span className="text-xs text-muted-foreground">{level.carriers ? "none yet" : "not reported"}</span>
                )}
              </td>
              <td className="p-1 font-mono text-xs">{level.providerRef ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {levels.some(([, level]) => reasonsOf(level).length) ? (
        <div className="space-y-2" aria-label="Reasons" role="group">
          <h4 className="text-sm font-semibold">What to fix</h4>
          <ul className="space-y-2 text-sm">
            {levels.flatMap(([name, level]) =>
              reasonsOf(level).map((reason) => (
                <li key={`${name}-${reason.carrier ?? ""}-${reason.code}`} className="rounded-md border p-2" data-testid="reason">
                  <div>
                    <span className="font-medium">
                      {name}
                      {reason.carrier ? ` · ${carrierName(reason.carrier)}` : ""}
                    </span>{" "}
                    · {reason.code}: {reason.description}
                  </div>
                  {reason.fix ? <div data-testid="reason-fix">Fix: {reason.fix}</div> : null}
                  {reason.fields.length ? <FieldLinks paths={reason.fields} onJump={onJump} /> : null}
                </li>
              )),
            )}
          </ul>
        </div>
      ) : null}
      {next ? (
        <p className="rounded-md border border-amber-700 bg-amber-50 p-2 text-sm text-amber-900" data-testid="resubmission">
          {next}
        </p>
      ) : null}
      <div className="space-y-1 text-sm">
        <h4 className="font-semibold">Throughput</h4>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-0.5" data-testid="throughput">
          {throughputRows(r.throughput).map((row) => (
            <React.Fragment key={row.label}>
              <dt className="text-muted-foreground">{row.label}</dt>
              <dd>{row.value}</dd>
            </React.Fragment>
          ))}
        </dl>
      </div>
      <div className="space-y-1 text-sm">
        <h4 className="font-semibold">Brand vetting</h4>
        {vettings.length ? (
          <ul data-testid="vettings">
            {vettings.map((v) => (
              <li key={v.providerRef}>
                {vettingText(v)} <span className="font-mono text-xs">{v.providerRef}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-muted-foreground">No vetting yet.</p>
        )}
        {r.brand.secondaryVettingRequested && !vettings.some((v) => v.kind === "secondary") ? (
          <p>Secondary vetting requested: the provider has not answered yet.</p>
        ) : null}
        {mayVet ? (
          <div className="flex items-center gap-2">
            <Button variant="outline" size="sm" disabled={vet.isPending} onClick={() => vet.mutate()}>
              Request secondary vetting
            </Button>
            <span className="text-xs text-muted-foreground">A vetted brand may get a higher score and more throughput.</span>
          </div>
        ) : null}
        {vet.isError ? (
          <p role="alert" className="text-red-900">
            {problemText(vet.error)}
          </p>
        ) : null}
      </div>
      {r.timeline.length ? (
        <ol className="space-y-1 text-xs" aria-label="Registration timeline">
          {r.timeline.map((entry, i) => (
            <li key={i}>
              {when(entry.at)} · {entry.level}: {words(REGISTRATION_STATUS, entry.status)}
              {entry.reasons.map((reason) => ` · ${reason.code} ${reason.description}`).join("")}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

/** The fields a reason concerns: buttons opening their accordion section (with the form),
 * their names otherwise. */
function FieldLinks({ paths, onJump }: { paths: string[]; onJump?: ((path: string) => void) | undefined }) {
  return (
    <div className="mt-1 flex flex-wrap items-center gap-1 text-xs">
      <span>Fields:</span>
      {paths.map((path) => {
        const target = fieldTarget(path);
        const label = target?.label ?? path;
        return onJump && target ? (
          <Button key={path} size="sm" variant="outline" className="h-6 px-2 text-xs" onClick={() => onJump(path)}>
            {label}
          </Button>
        ) : (
          <span key={path} className="rounded border px-1">
            {label}
          </span>
        );
      })}
    </div>
  );
}
