// Pure helpers of the runs list: its sort keys (columns and metrics), page sizes and
// counts, and the names under which experiments are offered.

import type { Experiment } from "../api/types";
import { readSort, type Sort } from "../app/urlState";

export const COLUMN_SORT_KEYS = ["created_at", "display_name", "state", "finished_at", "duration"] as const;
/** A column's key, or "metric:<task path>/<metric>" (the server sorts by both). */
export type RunSortKey = (typeof COLUMN_SORT_KEYS)[number] | `metric:${string}`;
export const DEFAULT_RUN_SORT: Sort<RunSortKey> = { key: "created_at", desc: true };
export const METRIC_SORT_PREFIX = "metric:";

export const PAGE_SIZES = [25, 50, 100] as const;

/** The sort kept in the address (`sort=-duration`, `sort=metric:train/accuracy`). */
export function readRunSort(value: string | null): Sort<RunSortKey> {
  const desc = value?.startsWith("-") ?? false;
  const key = desc ? value!.slice(1) : value;
  if (key?.startsWith(METRIC_SORT_PREFIX) && key.length > METRIC_SORT_PREFIX.length) {
    return { key: key as RunSortKey, desc };
  }
  return readSort<RunSortKey>(value, COLUMN_SORT_KEYS, DEFAULT_RUN_SORT);
}

/** The page size kept in the browser, if it is one offered; else the first. */
export function readPageSize(stored: string | null): number {
  const size = Number(stored);
  return (PAGE_SIZES as readonly number[]).includes(size) ? size : PAGE_SIZES[0];
}

/** How many pages `total` rows fill, at least 1. */
export function pageCount(total: number | undefined, pageSize: number): number {
  return Math.max(1, Math.ceil((total ?? 0) / pageSize));
}

/** Each experiment's name, with its namespace added where the same name is listed more
 * than once (every namespace has its own "Default"; the admin sees them all). */
export function experimentLabels(experiments: Experiment[]): Map<string, string> {
  const count = new Map<string, number>();
  experiments.forEach((e) => count.set(e.display_name ?? "", (count.get(e.display_name ?? "") ?? 0) + 1));
  return new Map(
    experiments.map((e) => {
      const name = e.display_name ?? "";
      const repeated = (count.get(name) ?? 0) > 1;
      return [e.experiment_id, repeated ? `${name} (${e.namespace || "shared"})` : name];
    }),
  );
}
