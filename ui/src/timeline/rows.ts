// The rows of a run's timeline (Gantt chart): one row per task that runs code (containers
// and importers), except inside loops, where a row holds the same task of every iteration
// (`for-loop-2/*/square`), so a loop of 2,000 iterations is one row of 2,000 bars. Pure:
// no React, no canvas.

import type { Task } from "../api/types";
import { taskState } from "../graph/model";
import { naturalCompare } from "../graph/order";

export interface Bar {
  taskId: string;
  path: string;
  label: string;
  state: string;
  /** Milliseconds since the run's start; undefined until the task starts. */
  start?: number;
  /** Undefined while it runs (or before it starts). */
  end?: number;
}

export interface Row {
  /** The task's path, with `*` for iteration indices in a loop's row. */
  key: string;
  label: string;
  /** The loop's iterations in this row, when it is one. */
  iterations?: number;
  /** By start. */
  bars: Bar[];
  /** The first bar's start. */
  start?: number;
}

export interface Timeline {
  rows: Row[];
  /** The run's start (epoch milliseconds): its first task's start. */
  origin: number;
  /** The latest end or start seen, relative to origin (running bars end at `now`). */
  span: number;
}

const time = (iso: string | undefined) => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) || new Date(t).getFullYear() < 1971 ? undefined : t;
};

/** A task path with each loop iteration's index as `*`. */
function rowKey(path: string, iterationPaths: Set<string>): string {
  const segs = path.split("/");
  let prefix = "";
  return segs
    .map((seg, i) => {
      prefix = i === 0 ? seg : `${prefix}/${seg}`;
      return iterationPaths.has(prefix) ? "*" : seg;
    })
    .join("/");
}

export function timelineRows(tasks: Task[], now: number): Timeline {
  const iterationPaths = new Set<string>();
  const loops = new Set(tasks.filter((t) => t.kind === "loop").map((t) => t.path));
  for (const t of tasks) {
    const i = t.path.lastIndexOf("/");
    if (t.kind === "dag" && i > 0 && loops.has(t.path.slice(0, i))) iterationPaths.add(t.path);
  }
  const leaves = tasks.filter((t) => t.kind === "container" || t.kind === "importer");
  let origin = Infinity;
  for (const t of leaves) origin = Math.min(origin, time(t.started_at) ?? Infinity);
  if (origin === Infinity) origin = now;

  const byKey = new Map<string, Row>();
  let span = 0;
  for (const t of leaves) {
    const key = rowKey(t.path, iterationPaths);
    let row = byKey.get(key);
    if (!row) byKey.set(key, (row = { key, label: t.display_name || t.name, bars: [] }));
    const started = time(t.started_at);
    const finished = time(t.finished_at);
    const bar: Bar = {
      taskId: t.task_id,
      path: t.path,
      label: t.display_name || t.name,
      state: taskState(t),
      start: started === undefined ? undefined : started - origin,
      end: finished === undefined || started === undefined ? undefined : Math.max(finished, started) - origin,
    };
    row.bars.push(bar);
    if (bar.start !== undefined) span = Math.max(span, bar.end ?? now - origin, bar.start);
  }
  const rows = [...byKey.values()];
  for (const row of rows) {
    row.bars.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
    row.start = row.bars[0]?.start;
    if (row.key.includes("*")) {
      row.iterations = row.bars.length;
      row.label = `${row.key} (${row.bars.length} iteration${row.bars.length === 1 ? "" : "s"})`;
    }
  }
  rows.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity) || naturalCompare(a.key, b.key));
  return { rows, origin, span };
}

/** The bar of `row` under time `t` (ms from the origin), within `slack` ms either side:
 * the latest started of those that cover it. */
export function barAt(row: Row, t: number, slack: number, now: number): Bar | undefined {
  let found: Bar | undefined;
  for (const bar of row.bars) {
    if (bar.start === undefined || bar.start > t + slack) break;
    if ((bar.end ?? now) >= t - slack) found = bar;
  }
  return found;
}
