/**
 * Sign-in: where the console's bearer token comes from, and what it permits.
 *
 * - Development: `make run` prints `/app/#token=<token>`. The fragment is read once, kept in
 *   sessionStorage (the tab's session only) and removed from the address bar.
 * - Production, the host product provides it, either
 *   - by defining `window.smsChannelsToken` (a string, or a function returning the current
 *     token) before the console's script runs, or
 *   - by posting `{ type: "sms-channels:token", token }` from the parent page into the
 *     console's frame (only messages from `window.parent` are taken; the service's
 *     `frame-ancestors` limits who may frame the console to `CORS_ALLOW_ORIGINS`).
 * Without a token the console shows a sign-in notice and calls nothing.
 *
 * Permissions come from the token's `permissions` claim (display only: the API decides).
 */
const STORAGE_KEY = "smsChannels.token";
export const TOKEN_MESSAGE = "sms-channels:token";

declare global {
  interface Window {
    smsChannelsToken?: string | (() => string | null | undefined);
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();
let current: string | null = null;

function fromHost(): string | null {
  const provided = window.smsChannelsToken;
  const value = typeof provided === "function" ? provided() : provided;
  return value ? value : null;
}

/** Read the token from the fragment (once), the host page or the session. */
export function initSession(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(match[1]));
    const { pathname, search } = window.location;
    window.history.replaceState(window.history.state, "", pathname + search);
  }
  current = sessionStorage.getItem(STORAGE_KEY);
  window.addEventListener("message", (event: MessageEvent) => {
    const data: unknown = event.data;
    if (event.source !== window.parent || window.parent === window) return;
    if (typeof data === "object" && data !== null && (data as { type?: unknown }).type === TOKEN_MESSAGE) {
      const token = (data as { token?: unknown }).token;
      if (typeof token === "string" && token) setToken(token);
    }
  });
}

export function setToken(token: string | null): void {
  current = token;
  if (token) sessionStorage.setItem(STORAGE_KEY, token);
  else sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

/** The token to send now (the host's function is asked each time). */
export function currentToken(): string | null {
  return fromHost() ?? current;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

export interface Claims {
  sub: string;
  acc: string;
  permissions: string[];
}

/** The token's claims (not verified here: the service verifies every call). */
export function claimsOf(token: string | null): Claims | null {
  const payload = token?.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as Partial<Claims>;
    return {
      sub: String(claims.sub ?? ""),
      acc: String(claims.acc ?? ""),
      permissions: Array.isArray(claims.permissions) ? claims.permissions.map(String) : [],
    };
  } catch {
    return null;
  }
}

/** What the token may do; `channels.connect` and `sms.manage` imply `channels.read`. */
export function may(claims: Claims | null, permission: string): boolean {
  if (!claims) return false;
  const held = claims.permissions;
  if (permission === "channels.read") {
    return held.includes("channels.read") || held.includes("channels.connect") || held.includes("sms.manage");
  }
  return held.includes(permission);
}
