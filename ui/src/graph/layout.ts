// Positions for a GraphModel with ELK's layered algorithm, top to bottom. Expanded groups
// are compound ELK nodes: ELK lays out their children first and sizes the group around them.
// Positions are relative to the parent group, as React Flow's parentId expects.

import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { GraphEdge, GraphModel, GraphNode } from "./model";

export interface PositionedNode extends GraphNode {
  /** Relative to the parent group (or the canvas at the root). */
  x: number;
  y: number;
}

export interface LayoutResult {
  nodes: PositionedNode[];
  edges: GraphEdge[];
  /** The size of the whole drawing. */
  width: number;
  height: number;
  /** The model's structureKey this layout is for. */
  structureKey: string;
}

/** Room above a group's children for its header. */
export const GROUP_HEADER = 64;

const ROOT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.spacing.nodeNode": "28",
  "elk.layered.spacing.nodeNodeBetweenLayers": "44",
  "elk.spacing.componentComponent": "40",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  // Independent chains (connected components) keep the model's (natural name) order too;
  // without this ELK packs them by size.
  "elk.layered.considerModelOrder.components": "MODEL_ORDER",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.padding": "[top=16,left=16,bottom=16,right=16]",
};

const GROUP_OPTIONS: Record<string, string> = {
  ...ROOT_OPTIONS,
  "elk.padding": `[top=${GROUP_HEADER},left=16,bottom=16,right=16]`,
  "elk.nodeSize.constraints": "MINIMUM_SIZE",
  "elk.nodeSize.minimum": "(240, 84)",
};

let elkPromise: Promise<ELK> | undefined;

/** ELK (about 1.5 MB), loaded on the first layout. In the browser it runs in a worker of
 * its own: laying out a big graph takes hundreds of milliseconds, which on the page's
 * thread would freeze it while a live run redraws. Where there are no workers (unit
 * tests), it runs in place. */
function getElk(): Promise<ELK> {
  elkPromise ??=
    typeof Worker === "undefined"
      ? import("elkjs/lib/elk.bundled.js").then(({ default: ElkConstructor }) => new ElkConstructor())
      : import("elkjs/lib/elk-api.js").then(
          ({ default: ElkApi }) =>
            new ElkApi({
              workerFactory: () => new Worker(new URL("elkjs/lib/elk-worker.min.js", import.meta.url)),
            }),
        );
  return elkPromise;
}

export async function layoutGraph(model: GraphModel): Promise<LayoutResult> {
  const elk = await getElk();
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: "__root__", layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  const containers = new Map<string, ElkNode>();
  for (const n of model.nodes) {
    const expandedGroup = n.data.isGroup && n.data.expanded;
    const e: ElkNode = expandedGroup
      ? { id: n.id, layoutOptions: GROUP_OPTIONS, children: [], edges: [] }
      : { id: n.id, width: n.width, height: n.height };
    elkNodes.set(n.id, e);
    if (expandedGroup) containers.set(n.id, e);
    const parent = (n.parentId && elkNodes.get(n.parentId)) || root;
    (parent.children ??= []).push(e);
  }
  for (const e of model.edges) {
    if (!elkNodes.has(e.source) || !elkNodes.has(e.target)) continue;
    const container = (e.parentId && containers.get(e.parentId)) || root;
    const edge: ElkExtendedEdge = { id: e.id, sources: [e.source], targets: [e.target] };
    (container.edges ??= []).push(edge);
  }
  // An expanded group with nothing inside still needs a size.
  for (const c of containers.values()) {
    if (!c.children?.length) {
      c.width = 240;
      c.height = 84;
    }
  }

  const out = await elk.layout(root);
  const positions = new Map<string, { x: number; y: number; width: number; height: number }>();
  const collect = (node: ElkNode) => {
    for (const c of node.children ?? []) {
      positions.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 });
      collect(c);
    }
  };
  collect(out);
  const nodes = model.nodes.map((n) => {
    const p = positions.get(n.id) ?? { x: 0, y: 0, width: n.width, height: n.height };
    return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const edges = model.edges.filter((e) => positions.has(e.source) && positions.has(e.target));
  return { nodes, edges, width: out.width ?? 0, height: out.height ?? 0, structureKey: model.structureKey };
}
