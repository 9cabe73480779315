// Whether the server answers: every request through client.ts reports here. A request
// that gets no answer (the network or the server is down) or a gateway's 502/503/504
// marks the connection lost; any answer from the server itself marks it back. Pages
// read it through `useConnection` (a banner, disabled actions, logs not followed).

import { useSyncExternalStore } from "react";

export interface Connection {
  /** Whether the last request got no answer from the server. */
  lost: boolean;
  /** When a request last succeeded (ms since the epoch); undefined before the first.
   * A refusal (4xx) or the server's own error (500) is an answer, not a success. */
  lastSuccess: number | undefined;
}

/** The statuses a proxy or gateway answers with when the server behind it is away (and
 * ours when its database is). */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/** Whether `status` says the server was not reached (rather than that it answered). */
export function isGatewayStatus(status: number): boolean {
  return GATEWAY_STATUSES.has(status);
}

let current: Connection = { lost: false, lastSuccess: undefined };
const listeners = new Set<() => void>();

function set(next: Connection): void {
  if (next.lost === current.lost && next.lastSuccess === current.lastSuccess) return;
  current = next;
  listeners.forEach((listener) => listener());
}

/** A response came back with `status` (at `now`). */
export function reportStatus(status: number, now = Date.now()): void {
  if (isGatewayStatus(status)) set({ ...current, lost: true });
  else if (status < 400) set({ lost: false, lastSuccess: now });
  // A refusal or the server's own error: it answered, but nothing was read.
  else set({ ...current, lost: false });
}

/** A request got no answer at all. */
export function reportUnreachable(): void {
  set({ ...current, lost: true });
}

export function connection(): Connection {
  return current;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConnection(): Connection {
  return useSyncExternalStore(subscribe, connection);
}

/** Why changing anything is impossible now; undefined while the server answers. */
export function lostReason(state: Connection): string | undefined {
  return state.lost ? "The server cannot be reached: try again once the connection is back." : undefined;
}
