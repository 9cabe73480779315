// How long a task or a run ran, apart from the time it was queued (created -> first
// start) and the time it waited between attempts (a retry's back-off, a wait for
// capacity, a retried run waiting for a worker). Pure: `now` is given.

import type { Run, Task } from "../api/types";
import { formatMs } from "./format";

export interface Timing {
  /** Milliseconds it ran (so far, while it runs); undefined before it started. */
  ran: number | undefined;
  queued: number | undefined;
  waited: number;
  /** Whether the numbers still grow. */
  live: boolean;
}

const time = (value: string | undefined): number | undefined => {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) || new Date(t).getFullYear() < 1971 ? undefined : t;
};
const RUNNING = new Set(["RUNNING", "CANCELING"]);
const FINISHED = new Set(["SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "CACHED"]);

export function taskTiming(task: Task, now: number): Timing {
  const created = time(task.created_at);
  const started = time(task.started_at);
  const finished = time(task.finished_at);
  const done = FINISHED.has(task.state);
  const live = !done && started !== undefined && RUNNING.has(task.state);
  const current = live && started !== undefined ? Math.max(0, now - started) : 0;
  let first = time(task.first_started_at);
  let ran: number | undefined;
  if (first !== undefined) {
    ran = (task.ran_seconds ?? 0) * 1000 + current;
  } else if (started !== undefined) {
    // A record from before first starts were kept: its latest attempt's time.
    first = started;
    ran = Math.max(0, (finished ?? now) - started);
  }
  const end = done ? (finished ?? now) : now;
  const queued = created === undefined ? undefined : Math.max(0, (first ?? end) - created);
  const waited = first === undefined || ran === undefined ? 0 : Math.max(0, end - first - ran);
  return { ran, queued, waited, live: !done };
}

/** From the run's state history: RUNNING (and CANCELING) spans ran; PENDING spans after
 * the first start (a retried run waiting for a worker) waited. */
export function runTiming(run: Run, now: number): Timing {
  const created = time(run.created_at);
  const history = (run.state_history ?? [])
    .map((s) => ({ state: s.state ?? "", at: time(s.update_time) }))
    .filter((s): s is { state: string; at: number } => s.at !== undefined)
    .sort((a, b) => a.at - b.at);
  const live = !FINISHED.has(run.state ?? "");
  let ran: number | undefined;
  let first: number | undefined;
  let waited = 0;
  history.forEach((entry, i) => {
    const until = history[i + 1]?.at ?? (live ? now : (time(run.finished_at) ?? entry.at));
    const span = Math.max(0, until - entry.at);
    if (RUNNING.has(entry.state)) {
      first ??= entry.at;
      ran = (ran ?? 0) + span;
    } else if (entry.state === "PENDING" && first !== undefined) {
      waited += span;
    }
  });
  const queued = created === undefined ? undefined : Math.max(0, (first ?? (live ? now : created)) - created);
  return { ran, queued, waited, live };
}

/** Shown only from a second: shorter waits are the machinery's own. */
const WORTH_SAYING = 1000;

/** "ran 12 s, queued 3 s, waited 2 s between attempts"; the parts worth saying only. */
export function describeTiming(timing: Timing): string {
  const parts: string[] = [];
  if (timing.ran !== undefined) parts.push(`${timing.live ? "running for" : "ran"} ${formatMs(timing.ran)}`);
  else if (timing.live) parts.push("not started");
  if (timing.queued !== undefined && (timing.queued >= WORTH_SAYING || timing.ran === undefined)) {
    parts.push(`queued ${formatMs(timing.queued)}`);
  }
  if (timing.waited >= WORTH_SAYING) parts.push(`waited ${formatMs(timing.waited)} between attempts`);
  return parts.join(", ");
}

/** The parts of `timing` for a table cell: what it ran, and the rest ("queued 3 s"). */
export function timingCell(timing: Timing): { ran: string; rest: string } {
  const whole = describeTiming(timing);
  const ran = timing.ran === undefined ? "" : formatMs(timing.ran);
  const rest = whole.split(", ").slice(timing.ran === undefined ? 0 : 1).join(", ");
  return { ran, rest };
}

/** The "Waited between attempts" row of a details list, when there was such a wait. */
export function waitedRow(timing: Timing): [string, string][] {
  return timing.waited >= WORTH_SAYING ? [["Waited between attempts", formatMs(timing.waited)]] : [];
}
