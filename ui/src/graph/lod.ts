// The run graph's level-of-detail view: what a zoomed-out graph draws instead of nodes too
// small to read. Chains of tasks (and lone tasks) become bands, one per chain, placed
// over the chain's laid-out box, labelled and counting its tasks' states; edges between
// tasks of different bands join the bands. Pure: no React, no ELK; positions come from a
// finished layout, so crossing the zoom threshold never lays the graph out again.

import type { GraphEdge, GraphNodeData, StateCounts } from "./model";
import { aggregateState } from "./model";
import type { PositionedNode } from "./layout";

/** Below this zoom the graph is drawn as bands. */
export const LOD_ZOOM = 0.5;

export interface Band {
  /** `band:` and the path of the chain's first task. */
  id: string;
  parentId?: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Paths of the chain's tasks, first to last. */
  members: string[];
  /** The first task's label, and the last's when there are more. */
  label: string;
  /** The same, short: `chain-2-step-0…3` for `chain-2-step-0 … chain-2-step-3`. */
  shortLabel: string;
}

export interface LodGraph {
  bands: Band[];
  /** The band each task in a band belongs to. */
  bandOf: Map<string, string>;
  /** The layout's edges with their ends moved to bands; none inside a band, no repeats. */
  edges: GraphEdge[];
}

const isTask = (d: GraphNodeData) => !d.isGroup && (d.kind === "container" || d.kind === "importer");

/** Bands for the tasks of a laid-out graph: a chain is a run of sibling tasks each the only
 * upstream of the next and the next its only downstream. */
export function bandGraph(nodes: PositionedNode[], edges: GraphEdge[]): LodGraph {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const tasks = new Set(nodes.filter((n) => isTask(n.data)).map((n) => n.id));
  const outs = new Map<string, string[]>();
  const ins = new Map<string, string[]>();
  for (const e of edges) {
    (outs.get(e.source) ?? outs.set(e.source, []).get(e.source))!.push(e.target);
    (ins.get(e.target) ?? ins.set(e.target, []).get(e.target))!.push(e.source);
  }
  // The next task in the chain, when the link is the only one on both sides.
  const next = (id: string): string | undefined => {
    const out = outs.get(id) ?? [];
    const target = out[0];
    if (out.length !== 1 || target === undefined || !tasks.has(target)) return undefined;
    if ((ins.get(target) ?? []).length !== 1) return undefined;
    return byId.get(target)?.parentId === byId.get(id)?.parentId ? target : undefined;
  };
  const hasPrevious = new Set<string>();
  for (const id of tasks) {
    const n = next(id);
    if (n) hasPrevious.add(n);
  }

  const bands: Band[] = [];
  const bandOf = new Map<string, string>();
  // Model order: bands come out in the same (natural name) order as the nodes.
  for (const start of nodes) {
    if (!tasks.has(start.id) || hasPrevious.has(start.id)) continue;
    const members: PositionedNode[] = [];
    for (let id: string | undefined = start.id; id && !bandOf.has(id); id = next(id)) {
      const member = byId.get(id) as PositionedNode;
      members.push(member);
      bandOf.set(id, `band:${start.id}`);
    }
    bands.push(makeBand(start, members));
  }
  // Tasks on a cycle of single links have no start; they cannot come from a DAG, but a
  // broken spec should still draw: each such task is a band of its own.
  for (const id of tasks) {
    if (bandOf.has(id)) continue;
    const n = byId.get(id) as PositionedNode;
    bandOf.set(id, `band:${id}`);
    bands.push(makeBand(n, [n]));
  }

  const seen = new Set<string>();
  const moved: GraphEdge[] = [];
  for (const e of edges) {
    const source = bandOf.get(e.source) ?? e.source;
    const target = bandOf.get(e.target) ?? e.target;
    const id = `${source}->${target}`;
    if (source === target || seen.has(id)) continue;
    seen.add(id);
    moved.push({ ...e, id, source, target });
  }
  return { bands, bandOf, edges: moved };
}

function makeBand(start: PositionedNode, members: PositionedNode[]): Band {
  const x = Math.min(...members.map((m) => m.x));
  const y = Math.min(...members.map((m) => m.y));
  const right = Math.max(...members.map((m) => m.x + m.width));
  const bottom = Math.max(...members.map((m) => m.y + m.height));
  const first = members[0] as PositionedNode;
  const last = members[members.length - 1] as PositionedNode;
  return {
    id: `band:${start.id}`,
    parentId: start.parentId,
    x,
    y,
    width: right - x,
    height: bottom - y,
    members: members.map((m) => m.id),
    label: members.length > 1 ? `${first.data.label} … ${last.data.label}` : first.data.label,
    shortLabel: members.length > 1 ? shortRange(first.data.label, last.data.label) : first.data.label,
  };
}

/** `chain-2-step-0…3`: what two names share is said once (up to where they differ, not
 * inside a number). */
export function shortRange(first: string, last: string): string {
  let i = 0;
  while (i < first.length && i < last.length && first[i] === last[i]) i++;
  while (i > 0 && /\d/.test(first[i - 1] as string)) i--;
  return i === 0 ? `${first} … ${last}` : `${first}…${last.slice(i)}`;
}

/** A band's states now (a layout's node data are as they were when it was laid out). */
export function bandStates(
  band: Band,
  stateOf: (path: string) => string | undefined,
): { counts: StateCounts; state: string } {
  const counts: StateCounts = {};
  for (const m of band.members) {
    const s = stateOf(m) ?? "PENDING";
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return { counts, state: aggregateState(counts, "PENDING") };
}
