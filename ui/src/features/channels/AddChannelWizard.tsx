/**
 * The Add channel wizard (add-channel-wizard.tsx of the product page): step 3 Connect
 * (Get a new number / Use my number; Country code, Area code, Number) and step 5
 * Destination (Workspace, Agent required, Knowledge base read-only, the number as a
 * read-only chip). Connect sends one Idempotency-Key per attempt, kept across retries:
 * 201 → connected; 202 → requested (see SMS requests); 503 with connectionId → pending,
 * the service retries (never a red error: the purchase may have happened); 409 → the
 * number is taken, pick another.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { NumberSearch } from "@/features/channels/NumberSearch";
import { keys, useAgents, workspacesOf } from "@/features/channels/queries";
import { api, type Connection, type CountryCode, newKey, orThrow, ProblemError, problemText, servedCountry } from "@/lib/api";
import { notePosition } from "@/lib/position";
import { Link } from "@/lib/router";

type Mode = "new" | "byon";
type Step = "connect" | "destination" | "done";
type Outcome =
  | { kind: "connected"; connection: Connection }
  | { kind: "requested"; connection: Connection }
  | { kind: "pending"; connectionId: string; detail: string };

export function AddChannelWizard({
  onClose,
  onOpenSettings,
}: {
  onClose: () => void;
  onOpenSettings: (id: string) => void;
}) {
  const client = useQueryClient();
  const [step, setStep] = React.useState<Step>("connect");
  const [mode, setMode] = React.useState<Mode>("new");
  const [country, setCountry] = React.useState<CountryCode>("US");
  const [searchedArea, setSearchedArea] = React.useState<string | null>(null);
  const [number, setNumber] = React.useState("");
  const [ownNumber, setOwnNumber] = React.useState("");
  const [workspaceId, setWorkspaceId] = React.useState<string | undefined>();
  const [agentId, setAgentId] = React.useState<string | undefined>();
  const [taken, setTaken] = React.useState<string | null>(null);
  const [outcome, setOutcome] = React.useState<Outcome | null>(null);
  // One key per attempt: kept across retries of the same request, new once it changes.
  const attempt = React.useRef<{ key: string; body: string } | null>(null);

  const countries = useQuery({
    queryKey: ["countries"],
    staleTime: Infinity,
    queryFn: async () => orThrow(await api.GET("/channels/sms/countries")).countries,
  });
  const chosenCountry = countries.data?.find((c) => c.isoCode === country);
  const agents = useAgents(undefined, step === "destination");
  const workspaces = workspacesOf(agents.data);
  const agentsOfWorkspace = (agents.data ?? []).filter((a) => a.workspace.id === workspaceId);
  const agent = agentsOfWorkspace.find((a) => a.agentId === agentId);
  const phoneNumber = mode === "new" ? number : ownNumber.trim();

  const connect = useMutation({
    mutationFn: async () => {
      const body = {
        mode,
        countryCode: country,
        areaCode: mode === "new" && searchedArea ? searchedArea : null,
        phoneNumber,
        workspaceId: workspaceId ?? "",
        agentId: agentId ?? "",
      };
      const signature = JSON.stringify(body);
      if (attempt.current?.body !== signature) attempt.current = { key: newKey(), body: signature };
      const result = await api.POST("/channels/sms/connect", {
        params: { header: { "Idempotency-Key": attempt.current.key } },
        body,
      });
      return { result, connection: orThrow(result) };
    },
    onSuccess: ({ result, connection }) => {
      notePosition(connection.position);
      void client.invalidateQueries({ queryKey: keys.connections });
      setOutcome({ kind: result.response.status === 202 ? "requested" : "connected", connection });
      setStep("done");
    },
    onError: (error) => {
      if (error instanceof ProblemError && error.status === 503 && error.problem?.connectionId) {
        void client.invalidateQueries({ queryKey: keys.connections });
        setOutcome({ kind: "pending", connectionId: error.problem.connectionId, detail: error.problem.detail });
        setStep("done");
      } else if (error instanceof ProblemError && error.status === 409) {
        setTaken(phoneNumber);
        setNumber("");
        setStep("connect");
        void client.invalidateQueries({ queryKey: ["numbers"] });
      }
    },
  });

  const connectReady = phoneNumber !== "" && (mode === "byon" || number !== "");
  return (
    <Dialog open onOpenChange={(open) => (open ? undefined : onClose())}>
      <DialogContent aria-describedby="wizard-step">
        <DialogHeader>
          <DialogTitle>Add channel</DialogTitle>
          <DialogDescription id="wizard-step">
            {step === "connect"
              ? "Step 3 · Connect"
              : step === "destination"
                ? "Step 5 · Destination"
                : outcome?.kind === "pending"
                  ? "Pending"
                  : "Done"}
          </DialogDescription>
        </DialogHeader>

        {step === "connect" ? (
          <div className="space-y-4">
            {taken ? (
              <p role="alert" className="rounded-md border border-amber-700 bg-amber-50 p-3 text-sm">
                {taken} was just taken by someone else. Pick another number.
              </p>
            ) : null}
            <Tabs value={mode} onValueChange={(v) => setMode(v === "byon" ? "byon" : "new")}>
              <TabsList aria-label="How to get the number">
                <TabsTrigger value="new">Get a new number</TabsTrigger>
                <TabsTrigger value="byon">Use my number</TabsTrigger>
              </TabsList>
              <div className="mt-3 grid gap-1.5">
                <Label htmlFor="country">Country code</Label>
                <Select value={country} onValueChange={(v) => { setCountry(servedCountry(v)); setSearchedArea(null); setNumber(""); }}>
                  <SelectTrigger id="country" aria-label="Country code">
                    <SelectValue placeholder="Choose a country" />
                  </SelectTrigger>
                  <SelectContent>
                    {(countries.data ?? []).map((c) => (
                      <SelectItem key={c.isoCode} value={c.isoCode}>
                        {c.name} ({c.dialCode})
                      </SelectItem>
                    ))}
                  </SelectContent>
                </Select>
                {chosenCountry ? (
                  <p className="text-xs text-muted-foreground" data-testid="country-notes">
                    {chosenCountry.notes}
                  </p>
                ) : null}
              </div>
              <TabsContent value="new" className="space-y-3">
                <NumberSearch
                  idPrefix="new-"
                  countryCode={country}
                  areaCodeSearch={chosenCountry?.areaCodeSearch ?? true}
                  numberLabel="Number"
                  searched={searchedArea}
                  onSearch={(area) => {
                    setNumber("");
                    setSearchedArea(area);
                  }}
                  number={number}
                  onNumber={setNumber}
                />
              </TabsContent>
              <TabsContent value="byon" className="space-y-3">
                <div className="grid gap-1.5">
                  <Label htmlFor="own-number">Number</Label>
                  <Input
                    id="own-number"
                    value={ownNumber}
                    onChange={(e) => setOwnNumber(e.target.value)}
                    placeholder="+12125550177"
                    autoComplete="off"
                  />
                  <p className="text-xs text-muted-foreground">
                    The number is hosted at the provider: a hosting order is opened and shown under SMS requests until
                    the carrier confirms it.
                  </p>
                </div>
              </TabsContent>
            </Tabs>
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={onClose}>
                Cancel
              </Button>
              <Button disabled={!connectReady} onClick={() => setStep("destination")}>
                Next
              </Button>
            </div>
          </div>
        ) : null}

        {step === "destination" ? (
          <div className="space-y-4">
            <div>
              <span className="text-sm font-medium">Number</span>
              <div>
                <span
                  className="mt-1 inline-flex rounded-full border bg-muted px-3 py-1 font-mono text-sm"
                  data-testid="number-chip"
                >
                  {phoneNumber}
                </span>
              </div>
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="workspace">Workspace</Label>
              <Select value={workspaceId} onValueChange={(v) => { setWorkspaceId(v); setAgentId(undefined); }}>
                <SelectTrigger id="workspace" aria-label="Workspace">
                  <SelectValue placeholder={agents.isPending ? "Loading…" : "Choose a workspace"} />
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
              <Label htmlFor="agent">Agent (required)</Label>
              <Select value={agentId} onValueChange={setAgentId} disabled={!workspaceId}>
                <SelectTrigger id="agent" aria-label="Agent" aria-required="true">
                  <SelectValue placeholder="Choose an agent" />
                </SelectTrigger>
                <SelectContent>
                  {agentsOfWorkspace.map((a) => (
                    <SelectItem key={a.agentId} value={a.agentId}>
                      {a.name}
                    </SelectItem>
                  ))}
                </SelectContent>
              </Select>
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="kb">Knowledge base</Label>
              <Input
                id="kb"
                readOnly
                value={agent ? (agent.knowledgeBase?.name ?? "None: this agent has no knowledge base") : ""}
                placeholder="From the agent"
              />
            </div>
            {connect.isError && !(connect.error instanceof ProblemError && [409, 503].includes(connect.error.status)) ? (
              <p role="alert" className="rounded-md border border-destructive p-3 text-sm">
                {problemText(connect.error)}
              </p>
            ) : null}
            {connect.isError && connect.error instanceof ProblemError && connect.error.status === 503 ? (
              <p role="status" className="rounded-md border p-3 text-sm">
                The provider is unavailable right now: nothing was bought. Try again in a moment.
              </p>
            ) : null}
            <div className="flex justify-between gap-2">
              <Button variant="outline" onClick={() => setStep("connect")}>
                Back
              </Button>
              <Button disabled={!agentId || connect.isPending} onClick={() => connect.mutate()}>
                {connect.isPending ? "Connecting…" : "Connect"}
              </Button>
            </div>
          </div>
        ) : null}

        {step === "done" && outcome ? (
          <div className="space-y-4">
            {outcome.kind === "connected" ? (
              <div role="status">
                <p className="text-lg font-medium">{outcome.connection.phoneNumber} is connected</p>
                <p className="text-sm text-muted-foreground">
                  It answers with {outcome.connection.agent?.name ?? "its agent"} in{" "}
                  {outcome.connection.workspace.name ?? outcome.connection.workspace.id}. US numbers need 10DLC
                  registration before outbound replies: fill in the compliance form next.
                </p>
              </div>
            ) : outcome.kind === "requested" ? (
              <div role="status">
                <p className="text-lg font-medium">{outcome.connection.phoneNumber} is requested</p>
                <p className="text-sm text-muted-foreground">
                  The hosting order is open at the provider. Follow it under{" "}
                  <Link to="/settings/sms-requests" className="underline">
                    SMS requests
                  </Link>
                  .
                </p>
              </div>
            ) : (
              <div role="status" className="rounded-md border border-amber-700 bg-amber-50 p-3">
                <p className="font-medium">Pending, we will retry</p>
                <p className="text-sm">
                  The provider did not answer while buying {phoneNumber}; the purchase may have gone through. The
                  connection is recorded as pending and is settled automatically. You can also try again now.
                </p>
              </div>
            )}
            <div className="flex justify-end gap-2">
              {outcome.kind === "pending" ? (
                <Button variant="outline" disabled={connect.isPending} onClick={() => connect.mutate()}>
                  Try again now
                </Button>
              ) : null}
              {outcome.kind !== "pending" ? (
                <Button variant="outline" onClick={() => onOpenSettings(outcome.connection.id)}>
                  Fill in the compliance form
                </Button>
              ) : null}
              <Button onClick={onClose}>Done</Button>
            </div>
          </div>
        ) : null}
      </DialogContent>
    </Dialog>
  );
}
