// The run's critical path, for "why was this slow": from the task that finished last, back
// through what each task waited on, the upstream task that finished last (the one it could
// not start before). What a task waits on comes from the pipeline spec: its upstream
// siblings (a group among them: every task in it), or when it has none, what its enclosing
// group waits on. Pure: no React, no canvas.

import type { ComponentSpec, PipelineSpec, Task, TaskSpec } from "../api/types";
import { LEAF_KINDS, unwrapSpec, upstreamTasks } from "../graph/model";

export interface CriticalStep {
  task: Task;
  /** Milliseconds between the end of the step before and this one's start (0 for the
   * first step). */
  waited: number;
}

export interface CriticalPath {
  /** First task first. */
  steps: CriticalStep[];
  /** The tasks' running time, added up (ms). */
  ran: number;
  /** The time between them, added up (ms): queueing, scheduling, a retry's wait. */
  waited: number;
}

const time = (iso: string | undefined) => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

interface Placed {
  /** The task's spec in its DAG, and that DAG's tasks. */
  spec: TaskSpec;
  siblings: Record<string, TaskSpec>;
  /** The path of the DAG's tasks' parent ("" at the root, `loop/3` in an iteration). */
  prefix: string;
  /** The group the DAG belongs to (the loop for an iteration); undefined at the root. */
  group?: string;
}

/** Where the record at `path` sits in the spec: walks the DAGs by name, an iteration's
 * index taking the loop's component. Undefined when the spec does not know the path. */
function place(pipeline: PipelineSpec, path: string): Placed | undefined {
  let dag: ComponentSpec | undefined = pipeline.root;
  let prefix = "";
  let group: string | undefined;
  let loop: TaskSpec | undefined;
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const here = join(prefix, segment);
    if (loop) {
      // An iteration of the loop: its tasks are the loop component's.
      if (!/^\d+$/.test(segment)) return undefined;
      dag = pipeline.components?.[loop.componentRef?.name ?? ""];
      group = prefix;
      prefix = here;
      loop = undefined;
      continue;
    }
    const siblings = dag?.dag?.tasks ?? {};
    const spec = siblings[segment];
    if (!spec) return undefined;
    if (i === segments.length - 1) return { spec, siblings, prefix, group };
    if (spec.parameterIterator || spec.artifactIterator) {
      loop = spec;
      prefix = here;
      continue;
    }
    dag = pipeline.components?.[spec.componentRef?.name ?? ""];
    group = here;
    prefix = here;
  }
  return undefined;
}

/** The critical path of a run's tasks, or undefined before any task has finished. */
export function criticalPath(spec: PipelineSpec | undefined, tasks: Task[]): CriticalPath | undefined {
  if (!spec) return undefined;
  const pipeline = unwrapSpec(spec);
  const leaves = tasks.filter((t) => LEAF_KINDS.has(t.kind) && time(t.finished_at) !== undefined && time(t.started_at) !== undefined);
  if (!leaves.length) return undefined;
  // The finished leaves at or below each path.
  const below = new Map<string, Task[]>();
  for (const t of leaves) {
    const segments = t.path.split("/");
    for (let i = 1; i <= segments.length; i++) {
      const key = segments.slice(0, i).join("/");
      let list = below.get(key);
      if (!list) below.set(key, (list = []));
      list.push(t);
    }
  }
  const waitedOn = (path: string, depth = 0): Task[] => {
    const placed = place(pipeline, path);
    if (!placed || depth > 50) return [];
    const upstream = upstreamTasks(placed.spec).filter((name) => name in placed.siblings);
    if (upstream.length) return upstream.flatMap((name) => below.get(join(placed.prefix, name)) ?? []);
    return placed.group === undefined ? [] : waitedOn(placed.group, depth + 1);
  };
  const end = (t: Task) => time(t.finished_at) as number;
  const start = (t: Task) => time(t.started_at) as number;

  let current = leaves.reduce((a, b) => (end(b) > end(a) ? b : a));
  const steps: Task[] = [current];
  const seen = new Set([current.task_id]);
  for (;;) {
    const before = waitedOn(current.path).filter((t) => !seen.has(t.task_id) && end(t) <= start(current) + 1);
    if (!before.length) break;
    current = before.reduce((a, b) => (end(b) > end(a) ? b : a));
    seen.add(current.task_id);
    steps.push(current);
  }
  steps.reverse();
  const path: CriticalStep[] = steps.map((task, i) => ({
    task,
    waited: i === 0 ? 0 : Math.max(0, start(task) - end(steps[i - 1] as Task)),
  }));
  return {
    steps: path,
    ran: steps.reduce((sum, t) => sum + Math.max(0, end(t) - start(t)), 0),
    waited: path.reduce((sum, s) => sum + s.waited, 0),
  };
}
