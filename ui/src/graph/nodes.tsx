// React Flow node components of the run graph: tasks, groups (conditions, exit handlers,
// nested pipelines, loops, iterations) and a loop's paged iteration list.

import { createContext, useContext, type KeyboardEvent, type MouseEvent } from "react";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { formatDuration } from "../components/format";
import { warningCount } from "../components/warnings";
import { useNow } from "./clock";
import type { Band } from "./lod";
import type { GraphNodeData, StateCounts } from "./model";

export interface GraphActions {
  select: (path: string, taskId: string | undefined) => void;
  toggle: (path: string) => void;
  setPage: (loopPath: string, page: number) => void;
  /** Brings a node into view (a band: zooms in on it until its tasks show). */
  reveal: (id: string, zoomIn?: boolean) => void;
  selectedPath?: string;
  /** Zoomed out: groups are drawn as labelled blocks. */
  lod?: boolean;
}

export const GraphActionsContext = createContext<GraphActions>({
  select: () => undefined,
  toggle: () => undefined,
  setPage: () => undefined,
  reveal: () => undefined,
});

export type DyNode = Node<GraphNodeData>;

/** A band of the zoomed-out view: a chain of tasks (lone tasks too), with its states now. */
export interface BandData {
  band: Band;
  counts: StateCounts;
  state: string;
  [key: string]: unknown;
}
export type DyBandNode = Node<BandData>;

const STATE_ORDER = ["RUNNING", "CANCELING", "FAILED", "PENDING", "SUCCEEDED", "CACHED", "SKIPPED", "CANCELED", "NOT_STARTED"];

export const STATE_LABELS: Record<string, string> = {
  PENDING: "pending",
  RUNNING: "running",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  SKIPPED: "skipped",
  CACHED: "cached",
  CANCELING: "canceling",
  CANCELED: "canceled",
  NOT_STARTED: "not started",
};

const KIND_LABELS: Record<string, string> = {
  container: "task",
  importer: "importer",
  condition: "condition",
  branches: "if / elif / else",
  "exit-handler": "exit handler",
  pipeline: "pipeline",
  loop: "parallel for",
  iteration: "iteration",
  iterations: "iterations",
};

export function stateClass(state: string): string {
  return `dy-state-${state.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

export function stateLabel(state: string): string {
  return STATE_LABELS[state] ?? state.toLowerCase();
}

/** "998 succeeded, 1 running, 1 failed", most urgent first. */
export function countsSummary(counts: StateCounts | undefined): { state: string; n: number }[] {
  if (!counts) return [];
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => {
      const ia = STATE_ORDER.indexOf(a);
      const ib = STATE_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    })
    .map(([state, n]) => ({ state, n }));
}

function Counts({ counts }: { counts: StateCounts | undefined }) {
  const items = countsSummary(counts);
  if (!items.length) return null;
  return (
    <div className="dy-counts">
      {items.map(({ state, n }) => (
        <span key={state} className={`dy-count ${stateClass(state)}`} title={`${n} ${stateLabel(state)}`}>
          {n} {stateLabel(state)}
        </span>
      ))}
    </div>
  );
}

function stop(e: MouseEvent) {
  e.stopPropagation();
}

function useSelect(data: GraphNodeData) {
  const actions = useContext(GraphActionsContext);
  return {
    actions,
    selected: actions.selectedPath === data.path,
    onClick: (e: MouseEvent) => {
      e.stopPropagation();
      actions.select(data.path, data.taskId);
    },
  };
}

/** Enter and Space do what a click on the focused element does. */
function onActivate(action: () => void) {
  return (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    e.stopPropagation();
    action();
  };
}

/** How long a task ran, or has been running (ticking). */
function Duration({ data }: { data: GraphNodeData }) {
  const running = !data.finishedAt && (data.state === "RUNNING" || data.state === "CANCELING");
  const now = useNow(running && !!data.startedAt);
  // A cache hit ran nothing: no duration.
  if (!data.startedAt || (!data.finishedAt && !running) || data.state === "CACHED") return null;
  const text = formatDuration(data.startedAt, data.finishedAt, now);
  if (!text) return null;
  return (
    <span className="dy-duration" data-testid={`duration-${data.path}`} title={running ? "running for" : "ran for"}>
      {text}
    </span>
  );
}

const handles = (
  <>
    <Handle type="target" position={Position.Top} isConnectable={false} className="dy-handle" />
    <Handle type="source" position={Position.Bottom} isConnectable={false} className="dy-handle" />
  </>
);

export function TaskNode({ data }: NodeProps<DyNode>) {
  const { actions, selected, onClick } = useSelect(data);
  return (
    <div
      className={`dy-node dy-task ${stateClass(data.state)}${selected ? " dy-selected" : ""}${data.aggregate ? " dy-aggregate" : ""}`}
      data-testid={`node-${data.path}`}
      data-state={data.state}
      data-kind={data.kind}
      role="button"
      tabIndex={0}
      aria-label={`${data.label}, ${stateLabel(data.state)}`}
      onClick={onClick}
      onKeyDown={onActivate(() => actions.select(data.path, data.taskId))}
      onFocus={() => actions.reveal(data.path)}
      title={[
        data.path,
        stateLabel(data.state),
        data.warnings ? warningCount(data.warnings) : "",
        countsSummary(data.counts).map(({ state, n }) => `${n} ${stateLabel(state)}`).join(", "),
      ]
        .filter(Boolean)
        .join("\n")}
    >
      {handles}
      <div className="dy-node-title">
        <span className="dy-dot" />
        <span className="dy-node-label">{data.label}</span>
      </div>
      <div className="dy-node-sub">
        <span>{stateLabel(data.state)}</span>
        <Duration data={data} />
        {data.kind === "importer" && <span className="dy-kind">importer</span>}
        {data.exitTask && <span className="dy-kind">exit task</span>}
        {data.warnings ? (
          <span className="dy-node-warnings" data-testid={`warnings-${data.path}`}>
            <span aria-hidden="true">⚠</span> {warningCount(data.warnings)}
          </span>
        ) : null}
      </div>
      {data.aggregate && data.countsOf === "instances" && <Counts counts={data.counts} />}
    </div>
  );
}

export function GroupNode({ data }: NodeProps<DyNode>) {
  const { actions, selected, onClick } = useSelect(data);
  // The loop body drawn for all iterations opens and closes with its loop.
  const toggleable = !data.path.endsWith("/*");
  const iterations =
    data.kind === "loop" && data.iterationCount !== undefined
      ? `${data.iterationCount} iteration${data.iterationCount === 1 ? "" : "s"}`
      : undefined;
  return (
    <div
      className={`dy-node dy-group dy-kind-${data.kind} ${stateClass(data.state)}${data.expanded ? " dy-expanded" : ""}${selected ? " dy-selected" : ""}${data.aggregate ? " dy-aggregate" : ""}${actions.lod && !data.expanded ? " dy-lod" : ""}`}
      data-testid={`node-${data.path}`}
      data-state={data.state}
      data-kind={data.kind}
      role="button"
      tabIndex={0}
      aria-expanded={toggleable ? data.expanded : undefined}
      aria-label={`${data.label} (${KIND_LABELS[data.kind] ?? data.kind}), ${stateLabel(data.state)}`}
      onClick={onClick}
      onKeyDown={onActivate(() => (toggleable ? actions.toggle(data.path) : actions.select(data.path, data.taskId)))}
      onFocus={() => actions.reveal(data.path)}
      title={[
        data.path,
        data.condition ? `if ${data.condition}` : "",
        countsSummary(data.counts).map(({ state, n }) => `${n} ${stateLabel(state)}`).join(", "),
      ]
        .filter(Boolean)
        .join("\n")}
    >
      {handles}
      <div className="dy-group-header">
        {toggleable && (
          <button
            type="button"
            tabIndex={-1}
            className="dy-toggle nodrag nopan"
            data-testid={`toggle-${data.path}`}
            aria-expanded={data.expanded}
            aria-label={data.expanded ? `Collapse ${data.label}` : `Expand ${data.label}`}
            onClick={(e) => {
              e.stopPropagation();
              actions.toggle(data.path);
            }}
          >
            {data.expanded ? "−" : "+"}
          </button>
        )}
        <span className="dy-dot" />
        <span className="dy-node-label">{data.label}</span>
        <span className="dy-kind">{KIND_LABELS[data.kind] ?? data.kind}</span>
      </div>
      <div className="dy-group-summary">
        <span className="dy-state-text">{stateLabel(data.state)}</span>
        {!data.aggregate && <Duration data={data} />}
        {iterations && <span className="dy-iter-count">{iterations}</span>}
        <Counts counts={data.counts} />
      </div>
    </div>
  );
}

export function IterationsNode({ data }: NodeProps<DyNode>) {
  const actions = useContext(GraphActionsContext);
  const list = data.iterations;
  if (!list) return null;
  const first = list.page * list.pageSize;
  const last = Math.min(list.total, first + list.pageSize) - 1;
  return (
    <div
      className="dy-node dy-iterations nowheel"
      data-testid={`node-${data.path}`}
      data-state={data.state}
      data-kind={data.kind}
      onClick={stop}
    >
      <div className="dy-iterations-title">
        Iterations {first}–{last} of {list.total}
      </div>
      <div className="dy-chips">
        {list.items.map((it) => (
          <div
            key={it.index}
            role="button"
            tabIndex={0}
            className={`dy-chip nodrag nopan ${stateClass(it.state)}${it.expanded ? " dy-chip-open" : ""}${actions.selectedPath === it.path ? " dy-selected" : ""}`}
            data-testid={`node-${it.path}`}
            data-state={it.state}
            title={`Iteration ${it.index}: ${stateLabel(it.state)}`}
            onClick={(e) => {
              e.stopPropagation();
              actions.select(it.path, it.taskId);
            }}
            onKeyDown={onActivate(() => actions.select(it.path, it.taskId))}
          >
            <span className="dy-chip-index">{it.index}</span>
            <button
              type="button"
              className="dy-chip-toggle nodrag nopan"
              data-testid={`toggle-${it.path}`}
              aria-expanded={it.expanded}
              aria-label={it.expanded ? `Hide iteration ${it.index}` : `Show iteration ${it.index}`}
              onClick={(e) => {
                e.stopPropagation();
                actions.toggle(it.path);
              }}
            >
              {it.expanded ? "−" : "+"}
            </button>
          </div>
        ))}
      </div>
      {list.pageCount > 1 && (
        <div className="dy-pager">
          <button
            type="button"
            className="nodrag nopan"
            data-testid={`page-prev-${list.loopPath}`}
            disabled={list.page === 0}
            onClick={(e) => {
              e.stopPropagation();
              actions.setPage(list.loopPath, list.page - 1);
            }}
          >
            ‹ Prev
          </button>
          <span>
            {list.page + 1} / {list.pageCount}
          </span>
          <button
            type="button"
            className="nodrag nopan"
            data-testid={`page-next-${list.loopPath}`}
            disabled={list.page >= list.pageCount - 1}
            onClick={(e) => {
              e.stopPropagation();
              actions.setPage(list.loopPath, list.page + 1);
            }}
          >
            Next ›
          </button>
        </div>
      )}
    </div>
  );
}

/** A chain of tasks drawn zoomed out: its first and last names, how many of its tasks are
 * in each state; a click (or Enter) zooms in on it. The text keeps its size on screen
 * whatever the zoom (--dy-inv-zoom, set by the graph). */
export function BandNode({ data }: NodeProps<DyBandNode>) {
  const actions = useContext(GraphActionsContext);
  const { band, counts, state } = data;
  const size = band.members.length;
  const summary = `${band.label}: ${size} task${size === 1 ? "" : "s"}, ${countsSummary(counts)
    .map(({ state: s, n }) => `${n} ${stateLabel(s)}`)
    .join(", ")}`;
  const zoomIn = () => actions.reveal(band.id, true);
  return (
    <div
      className={`dy-band ${stateClass(state)}`}
      data-testid={band.id}
      data-state={state}
      role="button"
      tabIndex={0}
      aria-label={`${summary}. Zoom in`}
      title={summary}
      onClick={(e) => {
        e.stopPropagation();
        zoomIn();
      }}
      onKeyDown={onActivate(zoomIn)}
    >
      {handles}
      <div className="dy-band-text">
        <span className="dy-band-label">{band.shortLabel}</span>
        {size > 1 && <span className="dy-band-size">{size} tasks</span>}
        <span className="dy-band-counts">
          {countsSummary(counts).map(({ state: s, n }) => (
            <span key={s} className={`dy-count ${stateClass(s)}`} title={`${n} ${stateLabel(s)}`}>
              {n} {stateLabel(s)}
            </span>
          ))}
        </span>
      </div>
    </div>
  );
}

export const nodeTypes = {
  dyTask: TaskNode,
  dyGroup: GroupNode,
  dyIterations: IterationsNode,
  dyBand: BandNode,
};
