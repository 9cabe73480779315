// Which namespace the pages are held to, decided from what /whoami says the caller
// reaches. The choice lives in the address (`?ns=team-a`: a link to it can be shared, and
// Back returns to the namespace before) and in sessionStorage, the default for an address
// without one (a link inside the app, a tab opened from this one). `?ns=` with no value
// is the admin's "all namespaces". A name the caller does not reach is never taken: it
// falls back to the caller's default. Pure functions and storage only; the React state is
// in namespaceContext.tsx.

import type { WhoAmI } from "./types";

export const NS_PARAM = "ns";
const NS_KEY = "dagyard.namespace";

/** The admin's "all namespaces" (list calls name none). */
export const ALL_NAMESPACES = "";

/** Whether the caller picks among namespaces: the admin once any exists, or a user with
 * several. A caller with one namespace has nothing to choose. */
export function hasChoice(who: WhoAmI): boolean {
  return who.admin ? who.namespaces.length > 0 : who.namespaces.length > 1;
}

function reaches(who: WhoAmI, name: string | null): name is string {
  if (name === null) return false;
  if (name === ALL_NAMESPACES) return who.admin;
  return who.namespaces.some((n) => n.name === name);
}

/** The current namespace: the address's if the caller reaches it, else the stored one if
 * it does, else its default (the admin: all; anyone else: its first, mostly its only). */
export function resolveNamespace(who: WhoAmI, fromUrl: string | null, stored: string | null): string {
  if (reaches(who, fromUrl)) return fromUrl;
  if (reaches(who, stored)) return stored;
  return who.admin ? ALL_NAMESPACES : (who.namespaces[0]?.name ?? ALL_NAMESPACES);
}

export function storedNamespace(): string | null {
  return sessionStorage.getItem(NS_KEY);
}

export function storeNamespace(name: string): void {
  sessionStorage.setItem(NS_KEY, name);
}

/** `search` with `namespace` as its `ns` (every other parameter kept). */
export function withNamespace(search: URLSearchParams, namespace: string): URLSearchParams {
  const next = new URLSearchParams(search);
  next.set(NS_PARAM, namespace);
  return next;
}

/** Why the caller may not change anything in `namespace` (its role there is "view"), or
 * undefined when it may. The server refuses such changes with 403 anyway; this is for
 * the buttons. */
export function readOnlyReason(who: WhoAmI | undefined, namespace: string): string | undefined {
  if (!who || who.admin) return undefined;
  const role = who.namespaces.find((n) => n.name === namespace)?.role;
  if (role !== "view") return undefined;
  return who.user
    ? `Read-only: ${who.user} may only view namespace ${namespace}.`
    : `Read-only: this token may only view namespace ${namespace}.`;
}

/** How the header names the caller. */
export function describeCaller(who: WhoAmI, namespace: string): string {
  if (who.user) return who.user;
  if (who.admin) return "admin";
  const role = who.namespaces.find((n) => n.name === namespace)?.role;
  return role ? `${role} token` : "token";
}
