// A big run's outline (`GET /runs/{id}/tasks?outline=true`): the server leaves out the
// tasks inside loop iterations and counts them by pattern instead. What the page then asks
// for besides, and how it puts the answers together. Pure: no React.

import { LEAF_KINDS, taskState } from "../graph/model";
import type { Task, TaskOutline } from "./types";

/** Which tasks inside loop iterations the graph shows of a big run, to read from the
 * server: an expanded iteration whole (`under`), a page of an expanded loop's iteration
 * records (`parent`, iteration indexes [from_index, to_index)). */
export type IterationRequest =
  | { under: string }
  | { parent: string; from_index: number; to_index: number };

/** What the graph needs read beyond a big run's outline: each expanded iteration whole
 * (inside no other one asked for), and for each expanded loop outside iterations its
 * shown page of iteration records. None when the outline is complete. */
export function iterationRequests(
  outline: TaskOutline | undefined,
  expanded: string[],
  pages: Record<string, number>,
  pageSize: number,
): IterationRequest[] {
  if (!outline || outline.complete) return [];
  const loops = outline.counts ?? {};
  const under: string[] = [];
  const inside = (path: string) => under.some((u) => path === u || path.startsWith(`${u}/`));
  const sorted = [...expanded].filter((p) => !p.includes("*")).sort();
  for (const p of sorted) {
    if (/\/\d+$/.test(p) && !inside(p)) under.push(p);
  }
  const requests: IterationRequest[] = under.map((p) => ({ under: p }));
  for (const p of sorted) {
    if (inside(p) || !(`${p}/*` in loops)) continue;
    const page = Math.max(0, pages[p] ?? 0);
    requests.push({ parent: p, from_index: page * pageSize, to_index: (page + 1) * pageSize });
  }
  return requests;
}

/** The tasks of the run's outline with those read for the graph; a task read both ways
 * once, as last read for the graph. */
export function withIterationTasks(tasks: Task[], extra: Task[]): Task[] {
  if (!extra.length) return tasks;
  const extraIds = new Set(extra.map((t) => t.task_id));
  const seen = new Set<string>();
  const out = tasks.filter((t) => !extraIds.has(t.task_id));
  for (const t of extra) {
    if (seen.has(t.task_id)) continue;
    seen.add(t.task_id);
    out.push(t);
  }
  return out;
}

/** The states of the run's containers and importers (a cache hit as CACHED): from the
 * records, or on a big run from its outline (what is not inside a loop iteration is among
 * the records; the rest is counted under the top-level groups). */
export function leafStates(tasks: Task[], outline: TaskOutline | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (state: string, n = 1) => (counts[state] = (counts[state] ?? 0) + n);
  if (!outline || outline.complete) {
    for (const t of tasks) if (LEAF_KINDS.has(t.kind)) add(taskState(t));
    return counts;
  }
  for (const t of tasks) {
    if (t.path.includes("/")) continue;
    if (LEAF_KINDS.has(t.kind)) add(taskState(t));
    for (const [state, n] of Object.entries(outline.leaves?.[t.path] ?? {})) add(state, n);
  }
  return counts;
}
