// The run graph's model: the nodes and edges a pipeline's IR and a run's task records
// make, before layout. Pure: no React, no ELK.
//
// Paths: a node's id is its task path (`train`, `condition-1/train-2`, `for-loop-2/3/square`).
// Nodes drawn once for every iteration of a loop (the loop body shown with aggregate
// states) have a `*` where the iteration index would be (`for-loop-2/*/square`). A
// loop's iteration list is one node, `<loop path>/#iterations`, whatever the count: a loop
// of 1,000 iterations makes a handful of nodes until the user expands iterations one by one.

import type { ComponentSpec, PipelineSpec, Task, TaskOutline, TaskSpec } from "../api/types";
import { naturalCompare } from "./order";

/** A task record's state, CACHED for a cache hit, PENDING for no record yet, NOT_STARTED
 * in a static pipeline view (no task records at all). */
export type NodeState =
  | "PENDING"
  | "RUNNING"
  | "SUCCEEDED"
  | "FAILED"
  | "SKIPPED"
  | "CACHED"
  | "CANCELING"
  | "CANCELED"
  | "NOT_STARTED"
  | (string & {});

export type GraphNodeKind =
  | "container"
  | "importer"
  /** A dsl.If/Elif/Else branch (a task with triggerPolicy.condition). */
  | "condition"
  /** The group kfp makes around an If/Elif/Else chain (`condition-branches-N`). */
  | "branches"
  | "exit-handler"
  /** A pipeline used as a component. */
  | "pipeline"
  /** A dsl.ParallelFor. */
  | "loop"
  /** One iteration of a loop, or (path ending in `*`) the loop body for all of them. */
  | "iteration"
  /** The paged list of a loop's iterations. */
  | "iterations";

export type StateCounts = Record<string, number>;

export interface IterationChip {
  index: number;
  path: string;
  taskId?: string;
  state: NodeState;
  expanded: boolean;
}

export interface IterationPage {
  loopPath: string;
  /** Iterations known: records, or the static item count if larger. */
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
  items: IterationChip[];
}

export interface GraphNodeData {
  /** Unique in the graph, also the node id; `*` segments for loop-body aggregates. */
  path: string;
  /** The task record's id, if any (never for aggregates). */
  taskId?: string;
  /** The IR task name (the key in its DAG's tasks). */
  taskName: string;
  /** What to show: taskInfo.name, the record's display_name, or the task name. */
  label: string;
  /** The IR component name (`comp-train`). */
  componentName?: string;
  kind: GraphNodeKind;
  state: NodeState;
  /** The record's kind, when there is a record. */
  taskKind?: Task["kind"];
  isGroup: boolean;
  expanded: boolean;
  /** A node standing for this task in every iteration of an enclosing loop. */
  aggregate: boolean;
  /** Groups: states of the tasks inside (containers and importers, all depths). Loops:
   * states of the iterations. Aggregates of plain tasks: states of the instances. */
  counts?: StateCounts;
  countsOf?: "tasks" | "iterations" | "instances";
  /** Loops: the number of iterations (records, or the static item count). */
  iterationCount?: number;
  /** The record's warnings (settings recorded, not honoured), when it has some. */
  warnings?: number;
  /** dsl.If's condition expression. */
  condition?: string;
  /** Runs whatever its upstream's outcome: an exit handler's exit task. */
  exitTask?: boolean;
  /** The `iterations` node's current page. */
  iterations?: IterationPage;
  /** The record's start and end (ISO times), for the duration shown. */
  startedAt?: string;
  finishedAt?: string;
  [key: string]: unknown;
}

export interface GraphNode {
  id: string;
  /** The enclosing group's id. Parents come before their children in `nodes`. */
  parentId?: string;
  data: GraphNodeData;
  /** Leaves and collapsed groups have a fixed size; expanded groups get theirs from layout (0 here). */
  width: number;
  height: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** The group both ends are in, undefined at the root. */
  parentId?: string;
  /** "exit": into an exit handler's exit task (runs however its upstream ends). */
  kind: "dependency" | "exit";
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Changes only when nodes, nesting, sizes or edges do (not on state changes). */
  structureKey: string;
}

export interface BuildOptions {
  /** Current page of each loop's iteration list, by loop path (default 0). */
  iterationPages?: Record<string, number>;
  /** Iterations per page (default 50). */
  pageSize?: number;
  /** A big run's outline (`GET /runs/{id}/tasks?outline=true`): when it is not complete,
   * `tasks` hold no task inside loop iterations but those of the iterations expanded and
   * of the iteration pages shown, and the states drawn for all iterations come from it. */
  outline?: TaskOutline;
}

export const TASK_SIZE = { width: 220, height: 60 };
export const GROUP_SIZE = { width: 240, height: 84 };
/** A task drawn for all iterations of a loop: room for its state counts. */
export const AGGREGATE_TASK_SIZE = { width: 240, height: 92 };
export const CHIP = { width: 48, height: 24, gap: 4, columns: 10 };
export const DEFAULT_PAGE_SIZE = 50;

/** kfp's client may wrap the IR as {pipeline_spec, platform_spec}. */
export function unwrapSpec(spec: PipelineSpec): PipelineSpec {
  return spec.pipeline_spec && !spec.root ? spec.pipeline_spec : spec;
}

/** The state a record shows: CACHED for a cache hit. */
export function taskState(t: Task): NodeState {
  if (t.state === "SUCCEEDED" && t.cache_hit) return "CACHED";
  return t.state;
}

/** The kinds of task that run code (the rest are groups: DAGs and loops). */
export const LEAF_KINDS: ReadonlySet<string> = new Set(["container", "importer"]);

const FINISHED = new Set(["SUCCEEDED", "CACHED", "FAILED", "SKIPPED", "CANCELED"]);

/** One state for many: running if any runs, else failed if any failed, else pending if
 * none started (running if some finished and some wait), else the finished outcome. */
export function aggregateState(counts: StateCounts | undefined, fallback: NodeState): NodeState {
  if (!counts) return fallback;
  const n = (s: string) => counts[s] ?? 0;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return fallback;
  if (n("RUNNING") > 0) return "RUNNING";
  if (n("CANCELING") > 0) return "CANCELING";
  if (n("FAILED") > 0) return "FAILED";
  const finished = [...FINISHED].reduce((a, s) => a + n(s), 0);
  if (n("PENDING") > 0) return finished > 0 ? "RUNNING" : "PENDING";
  if (n("NOT_STARTED") > 0) return "NOT_STARTED";
  if (n("CANCELED") > 0) return "CANCELED";
  if (n("CACHED") === total) return "CACHED";
  if (n("SKIPPED") === total) return "SKIPPED";
  if (finished === total) return "SUCCEEDED";
  // Unknown states: the most frequent one.
  return Object.entries(counts).sort((a, b) => b[1] - a[1])[0]?.[0] ?? fallback;
}

function addCounts(into: StateCounts, from: StateCounts | undefined): void {
  if (!from) return;
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function parentPath(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

/** `a/*\/c` matches `a/7/c`. */
function matchesPattern(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const s = path.split("/");
  if (p.length !== s.length) return false;
  return p.every((seg, i) => seg === "*" || seg === s[i]);
}

/** The run's task records, indexed for the walk. */
class TaskIndex {
  readonly byPath = new Map<string, Task>();
  /** Records by path with every iteration index replaced by `*`. */
  readonly byPattern = new Map<string, Task[]>();
  /** A loop's iteration records by loop path, sorted by index. */
  readonly iterations = new Map<string, Task[]>();
  /** States of containers and importers under each path (all depths). */
  readonly leafCounts = new Map<string, StateCounts>();

  constructor(tasks: Task[]) {
    const iterationPaths = new Set<string>();
    for (const t of tasks) this.byPath.set(t.path, t);
    for (const t of tasks) {
      // Every task in an iteration carries its iteration_index: the iteration itself is
      // the one whose parent is the loop.
      if (t.iteration_index === undefined || t.iteration_index === null) continue;
      const parent = this.byPath.get(parentPath(t.path));
      const isIteration = parent
        ? parent.kind === "loop"
        : t.kind === "dag" && /\/\d+$/.test(t.path);
      if (isIteration) {
        iterationPaths.add(t.path);
        const loop = parentPath(t.path);
        let list = this.iterations.get(loop);
        if (!list) this.iterations.set(loop, (list = []));
        list.push(t);
      }
    }
    for (const list of this.iterations.values()) {
      list.sort((a, b) => (a.iteration_index ?? 0) - (b.iteration_index ?? 0));
    }
    for (const t of tasks) {
      const segs = t.path.split("/");
      let prefix = "";
      let pattern = "";
      const leaf = t.kind === "container" || t.kind === "importer";
      const state = taskState(t);
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i] as string;
        prefix = i === 0 ? seg : `${prefix}/${seg}`;
        pattern = join(pattern, iterationPaths.has(prefix) ? "*" : seg);
        if (leaf && i < segs.length - 1) {
          let c = this.leafCounts.get(prefix);
          if (!c) this.leafCounts.set(prefix, (c = {}));
          c[state] = (c[state] ?? 0) + 1;
        }
      }
      let list = this.byPattern.get(pattern);
      if (!list) this.byPattern.set(pattern, (list = []));
      list.push(t);
    }
  }

  /** Records matching an aggregate path (`*` for iteration segments). */
  matching(path: string, pattern: string): Task[] {
    const all = this.byPattern.get(pattern) ?? [];
    return path === pattern ? all : all.filter((t) => matchesPattern(path, t.path));
  }
}

/** The static item count of a loop over a constant list, if it is one. */
function staticItemCount(spec: TaskSpec): number | undefined {
  return itemCount(spec.parameterIterator?.items?.raw);
}

/** The item count of a loop over a task output, from the inputs its record resolved: the
 * engine opens a few iterations at a time, so their records alone undercount a live loop. */
function recordedItemCount(spec: TaskSpec, rec: Task | undefined): number | undefined {
  const parameter = spec.parameterIterator?.items?.inputParameter;
  if (parameter !== undefined) return itemCount(rec?.inputs?.parameters?.[parameter]);
  const artifact = spec.artifactIterator?.items?.inputArtifact;
  return artifact === undefined ? undefined : rec?.inputs?.artifacts?.[artifact]?.length;
}

/** How many items a loop's list has: a list, or its JSON text. */
function itemCount(items: unknown): number | undefined {
  let v = items;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined; // not JSON: unknown count
    }
  }
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === "object") return Object.keys(v).length;
  return undefined;
}

/** Upstream sibling names: dependentTasks, else the producers of the task's inputs. */
export function upstreamTasks(spec: TaskSpec): string[] {
  if (spec.dependentTasks) return spec.dependentTasks;
  const found = new Set<string>();
  const visit = (v: unknown) => {
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    for (const key of ["taskOutputParameter", "taskOutputArtifact"]) {
      const ref = o[key] as { producerTask?: unknown } | undefined;
      if (ref && typeof ref.producerTask === "string") found.add(ref.producerTask);
    }
  };
  for (const v of Object.values(spec.inputs?.parameters ?? {})) visit(v);
  for (const v of Object.values(spec.inputs?.artifacts ?? {})) visit(v);
  return [...found];
}

function nodeKind(
  name: string,
  spec: TaskSpec,
  comp: ComponentSpec | undefined,
  pipeline: PipelineSpec,
): GraphNodeKind {
  if (spec.parameterIterator || spec.artifactIterator) return "loop";
  if (comp?.dag) {
    if (name.startsWith("exit-handler-")) return "exit-handler";
    if (name.startsWith("condition-branches-")) return "branches";
    if (spec.triggerPolicy?.condition || /^condition-\d+$/.test(name)) return "condition";
    return "pipeline";
  }
  const label = comp?.executorLabel;
  const exec = label ? pipeline.deploymentSpec?.executors?.[label] : undefined;
  if (exec && typeof exec === "object" && "importer" in exec) return "importer";
  return "container";
}

interface Scope {
  /** Path prefix of the DAG's tasks ("" at the root). */
  prefix: string;
  /** Same with every iteration index as `*`. */
  pattern: string;
  /** The group node the DAG is drawn in (undefined at the root). */
  parentId?: string;
  /** Inside a loop body drawn for all iterations. */
  aggregate: boolean;
  /** The enclosing group did not run (condition false): children without records too. */
  skipped: boolean;
}

/** The graph of a pipeline, with a run's states when `tasks` is given. Groups (conditions,
 * exit handlers, nested pipelines, loops) are collapsed unless their path is in `expanded`;
 * an expanded loop shows its body once with aggregate states and its iterations as a
 * paged list (50 a page), each iteration expandable by its path (`for-loop-2/3`). */
export function buildGraph(
  spec: PipelineSpec,
  tasks: Task[] | undefined,
  expanded: Set<string>,
  options: BuildOptions = {},
): GraphModel {
  const pipeline = unwrapSpec(spec);
  const index = new TaskIndex(tasks ?? []);
  const live = tasks !== undefined;
  const pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const noRecord = (scope: Scope): NodeState =>
    !live ? "NOT_STARTED" : scope.skipped ? "SKIPPED" : "PENDING";
  // Counts over every iteration come from the outline when the records are not all here:
  // for a path in no particular iteration (every iteration index a `*`, or none). Inside
  // an expanded iteration, the records are all here (read whole for it).
  const outline = options.outline && !options.outline.complete ? options.outline : undefined;
  const outlined = (path: string, pattern: string) => outline !== undefined && path === pattern;
  const outlineCounts = (pattern: string): StateCounts => ({ ...(outline?.counts?.[pattern] ?? {}) });
  const outlineLeaves = (pattern: string): StateCounts => ({ ...(outline?.leaves?.[pattern] ?? {}) });

  const walkDag = (comp: ComponentSpec | undefined, scope: Scope, depth: number) => {
    const dagTasks = comp?.dag?.tasks ?? {};
    if (depth > 50) return; // a cyclic componentRef would be a broken spec
    // Natural order of the names shown (then of the keys): layout keeps the model's order,
    // so `chain-2` is drawn before `chain-10`.
    const shown = (name: string) => (dagTasks[name] as TaskSpec).taskInfo?.name ?? name;
    const names = Object.keys(dagTasks).sort((a, b) => naturalCompare(shown(a), shown(b)) || naturalCompare(a, b));
    for (const name of names) {
      const t = dagTasks[name] as TaskSpec;
      const path = join(scope.prefix, name);
      const pattern = join(scope.pattern, name);
      const componentName = t.componentRef?.name;
      const child = componentName ? pipeline.components?.[componentName] : undefined;
      const kind = nodeKind(name, t, child, pipeline);
      const isGroup = kind !== "container" && kind !== "importer";
      const isExpanded = isGroup && expanded.has(path);
      const data: GraphNodeData = {
        path,
        taskName: name,
        label: t.taskInfo?.name ?? name,
        componentName,
        kind,
        state: noRecord(scope),
        isGroup,
        expanded: isExpanded,
        aggregate: scope.aggregate,
      };
      if (t.triggerPolicy?.condition) data.condition = t.triggerPolicy.condition;
      if (t.triggerPolicy?.strategy === "ALL_UPSTREAM_TASKS_COMPLETED") data.exitTask = true;

      let itemsKnown = kind === "loop" ? staticItemCount(t) : undefined;
      let loopIterations: Task[] = [];
      if (!scope.aggregate) {
        const rec = index.byPath.get(path);
        if (kind === "loop") itemsKnown ??= recordedItemCount(t, rec);
        if (rec) {
          data.taskId = rec.task_id;
          data.state = taskState(rec);
          data.taskKind = rec.kind;
          if (rec.warnings?.length) data.warnings = rec.warnings.length;
          if (rec.started_at) data.startedAt = rec.started_at;
          if (rec.finished_at) data.finishedAt = rec.finished_at;
          if (rec.display_name && rec.display_name !== name && !isGroup) data.label = rec.display_name;
        }
        if (kind === "loop") {
          loopIterations = index.iterations.get(path) ?? [];
          let counts: StateCounts = {};
          let recorded = loopIterations.length;
          if (outlined(path, pattern)) {
            counts = outlineCounts(`${pattern}/*`);
            recorded = Object.values(counts).reduce((a, b) => a + b, 0);
          } else {
            for (const it of loopIterations) {
              const s = taskState(it);
              counts[s] = (counts[s] ?? 0) + 1;
            }
          }
          const total = Math.max(recorded, itemsKnown ?? 0);
          if (total > recorded) {
            const s = noRecord({ ...scope, skipped: scope.skipped || data.state === "SKIPPED" });
            counts[s] = (counts[s] ?? 0) + total - recorded;
          }
          data.counts = counts;
          data.countsOf = "iterations";
          if (live || itemsKnown !== undefined) data.iterationCount = total;
        } else if (isGroup) {
          data.counts = outlined(path, pattern) ? outlineLeaves(pattern) : { ...(index.leafCounts.get(path) ?? {}) };
          data.countsOf = "tasks";
        }
      } else if (outlined(path, pattern)) {
        // Every instance, from the outline: a loop's iterations, a group's tasks inside, a
        // task's instances; the node's own state from its instances' states.
        const own = outlineCounts(pattern);
        if (kind === "loop") {
          data.counts = outlineCounts(`${pattern}/*`);
          data.countsOf = "iterations";
          data.iterationCount = Object.values(data.counts).reduce((a, b) => a + b, 0);
          data.state = aggregateState(own, noRecord(scope));
        } else if (isGroup) {
          data.counts = outlineLeaves(pattern);
          data.countsOf = "tasks";
          data.state = aggregateState(own, noRecord(scope));
        } else {
          data.counts = own;
          data.countsOf = "instances";
          data.state = aggregateState(own, noRecord(scope));
        }
      } else {
        const recs = index.matching(path, pattern);
        const counts: StateCounts = {};
        if (kind === "loop") {
          let total = 0;
          for (const r of recs) {
            for (const it of index.iterations.get(r.path) ?? []) {
              const s = taskState(it);
              counts[s] = (counts[s] ?? 0) + 1;
              total++;
            }
          }
          data.countsOf = "iterations";
          if (live) data.iterationCount = total;
          data.counts = counts;
          data.state = aggregateState(
            recs.reduce<StateCounts>((c, r) => {
              const s = taskState(r);
              c[s] = (c[s] ?? 0) + 1;
              return c;
            }, {}),
            noRecord(scope),
          );
        } else if (isGroup) {
          const own: StateCounts = {};
          for (const r of recs) {
            addCounts(counts, index.leafCounts.get(r.path));
            const s = taskState(r);
            own[s] = (own[s] ?? 0) + 1;
          }
          data.countsOf = "tasks";
          data.counts = counts;
          data.state = aggregateState(own, noRecord(scope));
        } else {
          for (const r of recs) {
            const s = taskState(r);
            counts[s] = (counts[s] ?? 0) + 1;
          }
          data.countsOf = "instances";
          data.counts = counts;
          data.state = aggregateState(counts, noRecord(scope));
        }
      }

      const size = isExpanded
        ? { width: 0, height: 0 }
        : isGroup
          ? GROUP_SIZE
          : scope.aggregate
            ? AGGREGATE_TASK_SIZE
            : TASK_SIZE;
      nodes.push({ id: path, parentId: scope.parentId, data, ...size });

      for (const up of upstreamTasks(t)) {
        if (!(up in dagTasks) || up === name) continue;
        const source = join(scope.prefix, up);
        edges.push({
          id: `${source}->${path}`,
          source,
          target: path,
          parentId: scope.parentId,
          kind: data.exitTask ? "exit" : "dependency",
        });
      }

      if (!isExpanded) continue;
      const skipped = scope.skipped || data.state === "SKIPPED";
      if (kind !== "loop") {
        walkDag(child, { prefix: path, pattern, parentId: path, aggregate: scope.aggregate, skipped }, depth + 1);
        continue;
      }
      // The loop body once, for all iterations.
      const bodyPath = `${path}/*`;
      const bodyPattern = `${pattern}/*`;
      nodes.push({
        id: bodyPath,
        parentId: path,
        data: {
          path: bodyPath,
          taskName: name,
          label: "All iterations",
          componentName,
          kind: "iteration",
          state: data.state,
          isGroup: true,
          expanded: true,
          aggregate: true,
          counts: data.counts,
          countsOf: "iterations",
          iterationCount: data.iterationCount,
        },
        width: 0,
        height: 0,
      });
      walkDag(child, { prefix: bodyPath, pattern: bodyPattern, parentId: bodyPath, aggregate: true, skipped }, depth + 1);
      if (scope.aggregate) continue;

      // The iterations, a page at a time, and the ones the user expanded.
      const total = data.iterationCount ?? 0;
      const byIndex = new Map<number, Task>();
      for (const it of loopIterations) byIndex.set(it.iteration_index ?? 0, it);
      const pageCount = Math.max(1, Math.ceil(total / pageSize));
      const page = Math.min(Math.max(0, options.iterationPages?.[path] ?? 0), pageCount - 1);
      const items: IterationChip[] = [];
      for (let i = page * pageSize; i < Math.min(total, (page + 1) * pageSize); i++) {
        const rec = byIndex.get(i);
        const itPath = `${path}/${i}`;
        items.push({
          index: i,
          path: itPath,
          taskId: rec?.task_id,
          state: rec ? taskState(rec) : noRecord({ ...scope, skipped }),
          expanded: expanded.has(itPath),
        });
      }
      if (total > 0) {
        const shown = Math.min(total, pageSize);
        const cols = Math.min(shown, CHIP.columns);
        const rows = Math.ceil(shown / CHIP.columns);
        nodes.push({
          id: `${path}/#iterations`,
          parentId: path,
          data: {
            path: `${path}/#iterations`,
            taskName: name,
            label: `${total} iteration${total === 1 ? "" : "s"}`,
            kind: "iterations",
            state: data.state,
            isGroup: false,
            expanded: false,
            aggregate: false,
            iterations: { loopPath: path, total, page, pageSize, pageCount, items },
          },
          width: Math.max(TASK_SIZE.width, cols * (CHIP.width + CHIP.gap) + 24),
          height: 40 + rows * (CHIP.height + CHIP.gap) + (pageCount > 1 ? 30 : 0),
        });
      }
      // Expanded iterations, in index order (on any page).
      const open = [...expanded]
        .filter((p) => parentPath(p) === path && /^\d+$/.test(p.slice(path.length + 1)))
        .map((p) => Number(p.slice(path.length + 1)))
        .filter((i) => i < total || byIndex.has(i))
        .sort((a, b) => a - b);
      for (const i of open) {
        const itPath = `${path}/${i}`;
        const rec = byIndex.get(i);
        const state = rec ? taskState(rec) : noRecord({ ...scope, skipped });
        nodes.push({
          id: itPath,
          parentId: path,
          data: {
            path: itPath,
            taskId: rec?.task_id,
            taskName: rec?.name ?? `${name}-${i}`,
            label: `Iteration ${i}`,
            componentName,
            kind: "iteration",
            state,
            taskKind: rec?.kind,
            isGroup: true,
            expanded: true,
            aggregate: false,
            counts: { ...(index.leafCounts.get(itPath) ?? {}) },
            countsOf: "tasks",
          },
          width: 0,
          height: 0,
        });
        walkDag(
          child,
          { prefix: itPath, pattern: bodyPattern, parentId: itPath, aggregate: false, skipped: skipped || state === "SKIPPED" },
          depth + 1,
        );
      }
    }
  };

  walkDag(pipeline.root, { prefix: "", pattern: "", aggregate: false, skipped: false }, 0);

  const structureKey =
    nodes.map((n) => `${n.id}|${n.parentId ?? ""}|${n.width}x${n.height}`).join("\n") +
    "\n--\n" +
    edges.map((e) => e.id).join("\n");
  return { nodes, edges, structureKey };
}
