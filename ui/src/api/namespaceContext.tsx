// The current namespace as React state: asked of /whoami once, kept in step with the
// address and sessionStorage (the rules are in namespace.ts), read by every list hook
// and by the buttons that change things.

import { useQuery } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";

import { ApiError, apiGet } from "./client";
import {
  hasChoice,
  NS_PARAM,
  readOnlyReason,
  resolveNamespace,
  storedNamespace,
  storeNamespace,
  withNamespace,
} from "./namespace";
import type { WhoAmI } from "./types";

export interface NamespaceState {
  /** Whether lists may be asked for: who the caller is is known (or cannot be told). */
  ready: boolean;
  who: WhoAmI | undefined;
  /** The namespace the pages are held to; "" for all of them (the admin) or none known. */
  namespace: string;
  /** Why this caller may not change anything here; undefined when it may. */
  readOnly: string | undefined;
  choose: (namespace: string) => void;
}

// Outside a provider (a unit test of one component), pages list everything as before.
const UNSCOPED: NamespaceState = {
  ready: true,
  who: undefined,
  namespace: "",
  readOnly: undefined,
  choose: () => undefined,
};

const NamespaceContext = createContext<NamespaceState>(UNSCOPED);

export function useNamespace(): NamespaceState {
  return useContext(NamespaceContext);
}

export function NamespaceProvider({ children }: { children: ReactNode }) {
  const whoami = useQuery({ queryKey: ["whoami"], queryFn: () => apiGet<WhoAmI>("/whoami") });
  const [search, setSearch] = useSearchParams();
  const who = whoami.data;
  const fromUrl = search.get(NS_PARAM);
  const namespace = who ? resolveNamespace(who, fromUrl, storedNamespace()) : "";
  const choice = who !== undefined && hasChoice(who);

  // The address always names the namespace of a caller with a choice, so that every
  // history entry has its own and Back returns to it; an address without one (a link
  // within the app) gets the current one in place.
  useEffect(() => {
    if (!choice) return;
    storeNamespace(namespace);
    if (fromUrl !== namespace) setSearch((s) => withNamespace(s, namespace), { replace: true });
  }, [choice, namespace, fromUrl, setSearch]);

  const choose = useCallback(
    (name: string) => {
      storeNamespace(name);
      setSearch((s) => withNamespace(s, name));
    },
    [setSearch],
  );

  // A 401 waits for the token prompt; any other failure (a server without /whoami)
  // leaves the pages unscoped rather than empty.
  const unauthorized = whoami.error instanceof ApiError && whoami.error.status === 401;
  const ready = whoami.isSuccess || (whoami.isError && !unauthorized);
  const state = useMemo(
    () => ({ ready, who, namespace, readOnly: readOnlyReason(who, namespace), choose }),
    [ready, who, namespace, choose],
  );
  return <NamespaceContext.Provider value={state}>{children}</NamespaceContext.Provider>;
}
