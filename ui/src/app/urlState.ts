// View state kept in the address's query (`?task=...&tab=logs`), so that Back and Forward
// move through it and a copied link opens the same view. Values equal to their default
// are left out, and every other parameter (the namespace's `ns`, ...) is kept.

import { useCallback, useRef } from "react";
import { useSearchParams } from "react-router-dom";

/** What to change: a value sets the parameter, a list repeats it, "" / [] / undefined
 * remove it. */
export type QueryPatch = Record<string, string | string[] | undefined>;

export interface ChangeOptions {
  /** Change the current history entry instead of adding one (for typing in a field). */
  replace?: boolean;
}

/** `search` with `patch` applied. */
export function patchQuery(search: URLSearchParams, patch: QueryPatch): URLSearchParams {
  const next = new URLSearchParams(search);
  for (const [key, value] of Object.entries(patch)) {
    next.delete(key);
    if (Array.isArray(value)) value.forEach((v) => next.append(key, v));
    else if (value) next.set(key, value);
  }
  return next;
}

/** The query and a way to change several of its parameters in one history entry. */
export function useQueryState(): [URLSearchParams, (patch: QueryPatch, options?: ChangeOptions) => void] {
  const [search, setSearch] = useSearchParams();
  // Two changes in one event (a group expanded and a task selected) build on each other:
  // the router's own updater would give both the query of the last render.
  const latest = useRef(search);
  latest.current = search;
  const change = useCallback(
    (patch: QueryPatch, options: ChangeOptions = {}) => {
      const next = patchQuery(latest.current, patch);
      latest.current = next;
      setSearch(next, { replace: options.replace });
    },
    [setSearch],
  );
  return [search, change];
}

/** A sort kept as `sort=name` (ascending) or `sort=-name` (descending). */
export interface Sort<K extends string> {
  key: K;
  desc: boolean;
}

export function readSort<K extends string>(value: string | null, keys: readonly K[], fallback: Sort<K>): Sort<K> {
  if (!value) return fallback;
  const desc = value.startsWith("-");
  const key = (desc ? value.slice(1) : value) as K;
  return keys.includes(key) ? { key, desc } : fallback;
}

export function writeSort<K extends string>(sort: Sort<K>, fallback: Sort<K>): string | undefined {
  if (sort.key === fallback.key && sort.desc === fallback.desc) return undefined;
  return `${sort.desc ? "-" : ""}${sort.key}`;
}

/** One of `allowed` from the query, else the first of them (the default). */
export function readChoice<T extends string>(value: string | null, allowed: readonly T[]): T {
  return allowed.includes(value as T) ? (value as T) : (allowed[0] as T);
}
