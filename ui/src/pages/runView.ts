// What a run's page shows, kept in the address: its tab (`tab`), the selected task
// (`task`, a task id), the task panel's tab (`panel`), the graph's expanded groups
// (`expand`, once per group path) and the page shown of a loop's iterations (`iterations`,
// `<loop path>:<page>` once per loop not on its first page). A failed run opens on its
// failed task.

import { useEffect, useMemo, useRef } from "react";

import type { Run, Task } from "../api/types";
import { readChoice, useQueryState, type QueryPatch } from "../app/urlState";
import { PANEL_TABS, type PanelTab } from "../components/TaskPanel";
import { LEAF_KINDS } from "../graph/model";

export const RUN_TABS = ["graph", "timeline", "details", "spec"] as const;
export type RunTab = (typeof RUN_TABS)[number];

/** The leaf task that failed first (by when it finished, then by path); undefined when
 * none did. */
export function firstFailedLeaf(tasks: Task[]): Task | undefined {
  const failed = tasks.filter((t) => t.state === "FAILED" && LEAF_KINDS.has(t.kind));
  const when = (t: Task) => (t.finished_at ? new Date(t.finished_at).getTime() : Number.POSITIVE_INFINITY);
  failed.sort((a, b) => when(a) - when(b) || a.path.localeCompare(b.path));
  return failed[0];
}

/** The paths of the groups around the task at `path`, outermost first
 * (`a/for-loop-2/3/square`: `a`, `a/for-loop-2`, `a/for-loop-2/3`). */
export function enclosingGroups(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

export interface RunView {
  tab: RunTab;
  taskId: string | undefined;
  /** The panel's tab when the address names one; else the panel picks its default. */
  panel: PanelTab | undefined;
  expanded: string[];
  /** The page shown of each expanded loop's iterations (0, the first, when left out). */
  pages: Record<string, number>;
  showTab: (tab: RunTab) => void;
  /** Select a task (undefined: close its panel); its panel opens on its default tab.
   * `reveal`: expand the groups around it too (when it was chosen outside the graph). */
  select: (taskId: string | undefined, options?: { tab?: RunTab; reveal?: boolean }) => void;
  showPanel: (tab: PanelTab) => void;
  setExpanded: (paths: string[]) => void;
  setPages: (pages: Record<string, number>) => void;
}

/** `for-loop-2:3` (the loop's fourth page) for each loop not on its first page. */
export function readPages(values: string[]): Record<string, number> {
  const pages: Record<string, number> = {};
  for (const value of values) {
    const cut = value.lastIndexOf(":");
    const page = Number(value.slice(cut + 1));
    if (cut > 0 && Number.isInteger(page) && page > 0) pages[value.slice(0, cut)] = page;
  }
  return pages;
}

export function writePages(pages: Record<string, number>): string[] {
  return Object.entries(pages)
    .filter(([, page]) => page > 0)
    .map(([path, page]) => `${path}:${page}`)
    .sort();
}

export function useRunView(run: Run | undefined, tasks: Task[] | undefined): RunView {
  const [query, change] = useQueryState();
  const panel = query.get("panel");
  const expandedKey = query.getAll("expand").join("\n");
  const expanded = useMemo(() => (expandedKey ? expandedKey.split("\n") : []), [expandedKey]);
  const taskId = query.get("task") ?? undefined;
  const pagesKey = query.getAll("iterations").join("\n");
  const pages = useMemo(() => readPages(pagesKey ? pagesKey.split("\n") : []), [pagesKey]);

  // A failed run arriving without a task named opens on its first failed leaf, its groups
  // expanded, its log shown: once, in place (Back leaves the page, not the selection).
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || !run || !tasks) return;
    opened.current = true;
    if (run.state !== "FAILED" || taskId) return;
    const failed = firstFailedLeaf(tasks);
    if (!failed) return;
    const expand = [...new Set([...expanded, ...enclosingGroups(failed.path)])];
    change({ task: failed.task_id, panel: undefined, expand }, { replace: true });
  }, [run, tasks, taskId, expanded, change]);

  return {
    tab: readChoice(query.get("tab"), RUN_TABS),
    taskId,
    panel: PANEL_TABS.includes(panel as PanelTab) ? (panel as PanelTab) : undefined,
    expanded,
    pages,
    showTab: (tab) => change({ tab: tab === RUN_TABS[0] ? undefined : tab }),
    select: (id, options = {}) => {
      const patch: QueryPatch = { task: id, panel: undefined };
      if (options.tab !== undefined) patch.tab = options.tab === RUN_TABS[0] ? undefined : options.tab;
      const path = options.reveal ? tasks?.find((t) => t.task_id === id)?.path : undefined;
      if (path) patch.expand = [...new Set([...expanded, ...enclosingGroups(path)])];
      change(patch);
    },
    showPanel: (tab) => change({ panel: tab }),
    setExpanded: (paths) => change({ expand: paths }),
    setPages: (next) => change({ iterations: writePages(next) }),
  };
}
