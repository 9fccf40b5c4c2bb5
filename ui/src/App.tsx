/** The console's frame: sign-in notice, navigation, and the three pages by path. */
import * as React from "react";

import { Toaster } from "@/components/ui/toast";
import { ChannelsPage } from "@/features/channels/ChannelsPage";
import { Link, navigate, usePath } from "@/lib/router";
import { may } from "@/lib/session";
import { SessionContext, useSession } from "@/lib/useSession";
import { cn } from "@/lib/utils";

const SmsRequestsPage = React.lazy(() =>
  import("@/features/requests/SmsRequestsPage").then((m) => ({ default: m.SmsRequestsPage })),
);
const AuditPage = React.lazy(() => import("@/features/audit/AuditPage").then((m) => ({ default: m.AuditPage })));

const CHANNELS = "/account/channels/sms";
const REQUESTS = "/settings/sms-requests";
const AUDIT = "/audit";

export function App() {
  const { claims } = useSession();
  const path = usePath();
  React.useEffect(() => {
    if (path === "/" || path === "") navigate(CHANNELS);
  }, [path]);

  if (!claims) {
    return (
      <main className="mx-auto mt-24 max-w-lg rounded-lg border p-6">
        <h1 className="text-xl font-semibold">Sign in to see your SMS channels</h1>
        <p className="mt-2 text-sm text-muted-foreground">
          The console needs a token from the product you opened it from. In development, open the link that{" "}
          <code>make run</code> printed (<code>/app/#token=…</code>).
        </p>
      </main>
    );
  }

  const page = path.startsWith(REQUESTS) ? (
    <SmsRequestsPage />
  ) : path.startsWith(AUDIT) ? (
    <AuditPage />
  ) : (
    <ChannelsPage />
  );
  const nav = [
    { to: CHANNELS, label: "Channels" },
    { to: REQUESTS, label: "SMS requests" },
    ...(may(claims, "compliance.audit") ? [{ to: AUDIT, label: "Audit" }] : []),
  ];
  return (
    <SessionContext.Provider value={claims}>
      <div className="min-h-screen">
        <header className="border-b bg-muted/40">
          <div className="mx-auto flex max-w-7xl items-center gap-6 px-6 py-3">
            <span className="font-semibold">SMS channels</span>
            <nav aria-label="Console">
              <ul className="flex gap-4 text-sm">
                {nav.map((item) => (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      aria-current={path.startsWith(item.to) ? "page" : undefined}
                      className={cn("hover:underline", path.startsWith(item.to) && "font-semibold underline")}
                    >
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
            <span className="ml-auto text-xs text-muted-foreground">
              {claims.sub} · {claims.acc}
            </span>
          </div>
        </header>
        <main className="mx-auto max-w-7xl px-6 py-6">
          <React.Suspense fallback={<p role="status">Loading…</p>}>{page}</React.Suspense>
        </main>
        <Toaster />
      </div>
    </SessionContext.Provider>
  );
}
