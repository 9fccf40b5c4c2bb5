/** SMS requests (/app/settings/sms-requests): number requests, newest first, with status and
 * what a pending hosting order waits for. */
import { useInfiniteQuery } from "@tanstack/react-query";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { api, orThrow, problemText } from "@/lib/api";
import { useWaitFor } from "@/lib/position";
import { when } from "@/lib/words";

export function SmsRequestsPage() {
  const waitFor = useWaitFor();
  const query = useInfiniteQuery({
    queryKey: ["sms-requests", waitFor ?? 0],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      orThrow(
        await api.GET("/settings/sms-requests", {
          params: { query: { limit: 50, cursor: pageParam, waitFor: waitFor ?? null } },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor,
  });
  const rows = (query.data?.pages ?? []).flatMap((p) => p.items);
  return (
    <section aria-labelledby="requests-title">
      <h1 id="requests-title" className="mb-4 text-2xl font-semibold">
        SMS requests
      </h1>
      {query.isPending ? (
        <div role="status" aria-label="Loading SMS requests" className="space-y-2">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : query.isError ? (
        <div role="alert" className="rounded-md border border-destructive p-4">
          <p>{problemText(query.error)}</p>
          <Button className="mt-2" variant="outline" onClick={() => void query.refetch()}>
            Retry
          </Button>
        </div>
      ) : rows.length === 0 ? (
        <p className="rounded-md border p-8 text-center">No SMS requests yet</p>
      ) : (
        <table className="w-full text-sm" aria-label="SMS requests">
          <thead>
            <tr className="border-b text-left">
              <th scope="col" className="p-2">Phone number</th>
              <th scope="col" className="p-2">Kind</th>
              <th scope="col" className="p-2">Status</th>
              <th scope="col" className="p-2">Waiting for</th>
              <th scope="col" className="p-2">Requested</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className="border-b" aria-label={r.phoneNumber}>
                <td className="p-2 font-mono">{r.phoneNumber}</td>
                <td className="p-2">{r.mode === "byon" ? "Use my number (hosting)" : "New number"}</td>
                <td className="p-2">
                  <Badge tone={r.status === "fulfilled" ? "good" : r.status === "pending" ? "warn" : "bad"}>{r.status}</Badge>
                </td>
                <td className="p-2">{r.status === "pending" ? (r.reason ?? "The provider to confirm the hosting order") : (r.reason ?? "—")}</td>
                <td className="p-2">{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {query.hasNextPage ? (
        <Button className="mt-3" variant="outline" onClick={() => void query.fetchNextPage()}>
          Load more
        </Button>
      ) : null}
    </section>
  );
}
