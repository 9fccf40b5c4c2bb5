import "./index.css";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "@/App";
import { tableQuery } from "@/features/channels/ChannelsPage";
import { ProblemError } from "@/lib/api";
import { currentToken, initSession } from "@/lib/session";

initSession();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (4xx) will not change by asking again; an outage may.
      retry: (count, error) => !(error instanceof ProblemError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});

// The channels table's first page is asked for now, while React mounts.
if (currentToken() && !/\/app\/(settings|audit)/.test(window.location.pathname)) {
  void queryClient.prefetchInfiniteQuery(tableQuery("phoneNumber", "asc", undefined));
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
