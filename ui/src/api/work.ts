// Unfinished work as the pages show it: the Work page's counts per namespace (GET /work)
// and when to read them again, and why a pending run waits (its namespace is at
// DAGYARD_NAMESPACE_MAX_RUNS). Pure functions only; the query is in hooks.ts.

import type { NamespaceWork, Run } from "./types";

/** How often the Work page reads /work again while anything is unfinished. */
export const WORK_POLL_MS = 3000;

/** Whether a namespace has anything running or pending. */
export function isBusy(work: NamespaceWork): boolean {
  return work.runs_running + work.runs_pending + work.tasks_running > 0;
}

/** How often to read /work again: every few seconds while any namespace has work, never
 * once none has (nothing would change but a new submission, which a refresh picks up). */
export function workPollInterval(namespaces: NamespaceWork[] | undefined): number | false {
  return namespaces?.some(isBusy) ? WORK_POLL_MS : false;
}

/** A namespace's name as shown; the runs of no namespace are the admin's shared ones. */
export function namespaceLabel(name: string): string {
  return name || "no namespace";
}

/** The pending runs, and how many of them wait on the namespace's limit: "3 (2 waiting)". */
export function pendingText(work: NamespaceWork): string {
  return work.runs_waiting ? `${work.runs_pending} (${work.runs_waiting} waiting)` : `${work.runs_pending}`;
}

/** Why `run` has not started, while it is pending and the server says so. */
export function waitingReason(run: Run | undefined): string | undefined {
  return run?.state === "PENDING" && run.waiting_reason ? run.waiting_reason : undefined;
}
