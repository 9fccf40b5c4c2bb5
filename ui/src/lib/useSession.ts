/** The session's token and claims as React state (re-rendered when the host sends one). */
import * as React from "react";

import { type Claims, claimsOf, currentToken, subscribe } from "@/lib/session";

export function useSession(): { token: string | null; claims: Claims | null } {
  const token = React.useSyncExternalStore(subscribe, currentToken);
  return React.useMemo(() => ({ token, claims: claimsOf(token) }), [token]);
}

export const SessionContext = React.createContext<Claims | null>(null);

export function useClaims(): Claims | null {
  return React.useContext(SessionContext);
}
