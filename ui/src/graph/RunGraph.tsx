// A pipeline's graph, with a run's live states when `tasks` is given. Layout (ELK) runs
// only when the structure changes (spec, expanded groups, iteration pages, iterations
// appearing); a state change only updates node data, so polling a live run every second
// stays smooth.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./graph.css";
import type { PipelineSpec, Task } from "../api/types";
import { buildGraph, type GraphNodeData } from "./model";
import { layoutGraph, type LayoutResult } from "./layout";
import { GraphActionsContext, nodeTypes, stateClass, type GraphActions } from "./nodes";

export interface RunGraphProps {
  spec: PipelineSpec;
  /** The run's task records; undefined for a pipeline's static graph ("not started"). */
  tasks?: Task[];
  /** A node, an iteration chip or a group was clicked. taskId is undefined for nodes
   * without a record (not started yet, or a loop body aggregated over iterations). */
  onSelect?: (path: string, taskId: string | undefined) => void;
  selectedPath?: string;
  /** Groups expanded at first (paths). */
  defaultExpanded?: string[];
  /** The expanded groups, when the caller keeps them (with `onExpandedChange`). */
  expanded?: string[];
  onExpandedChange?: (paths: string[]) => void;
  /** Iterations per page of an expanded loop (default 50). */
  pageSize?: number;
  className?: string;
}

/** Show the minimap from this many nodes. */
const MINIMAP_FROM = 15;
/** Below this zoom a fitted graph is unreadable: show its top at READABLE_ZOOM instead. */
const MIN_FIT_ZOOM = 0.3;
const READABLE_ZOOM = 0.7;
const FIT_PADDING = 24;

export function RunGraph(props: RunGraphProps) {
  return (
    <ReactFlowProvider>
      <RunGraphInner {...props} />
    </ReactFlowProvider>
  );
}

function RunGraphInner({
  spec,
  tasks,
  onSelect,
  selectedPath,
  defaultExpanded,
  expanded: given,
  onExpandedChange,
  pageSize,
  className,
}: RunGraphProps) {
  const [own, setOwn] = useState<Set<string>>(() => new Set(defaultExpanded ?? []));
  const expanded = useMemo(() => (given ? new Set(given) : own), [given, own]);
  const [pages, setPages] = useState<Record<string, number>>({});
  const model = useMemo(
    () => buildGraph(spec, tasks, expanded, { iterationPages: pages, pageSize }),
    [spec, tasks, expanded, pages, pageSize],
  );

  const [layout, setLayout] = useState<LayoutResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const modelRef = useRef(model);
  modelRef.current = model;
  const structureKey = model.structureKey;
  useEffect(() => {
    let current = true;
    layoutGraph(modelRef.current).then(
      (result) => {
        if (current) {
          setLayout(result);
          setError(undefined);
        }
      },
      (e: unknown) => {
        if (current) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      current = false;
    };
  }, [structureKey]);

  // Fit the view on the first layout (a very tall or wide graph: its top, readable), and
  // again when the graph's box changes size (a side panel opens) until the user pans or
  // zooms.
  const rf = useReactFlow();
  const wrapRef = useRef<HTMLDivElement>(null);
  const userMoved = useRef(false);
  const fit = useCallback(() => {
    if (!layout || userMoved.current) return;
    const el = wrapRef.current;
    const w = el?.clientWidth || 800;
    const h = el?.clientHeight || 600;
    const gw = Math.max(1, layout.width);
    const gh = Math.max(1, layout.height);
    const zoomToFit = Math.min((w - 2 * FIT_PADDING) / gw, (h - 2 * FIT_PADDING) / gh, 1.2);
    if (zoomToFit >= MIN_FIT_ZOOM) {
      void rf.setViewport({ x: (w - gw * zoomToFit) / 2, y: (h - gh * zoomToFit) / 2, zoom: zoomToFit });
    } else {
      const zoom = Math.max(MIN_FIT_ZOOM, Math.min(READABLE_ZOOM, (w - 2 * FIT_PADDING) / gw));
      const x = gw * zoom <= w ? (w - gw * zoom) / 2 : FIT_PADDING;
      void rf.setViewport({ x, y: FIT_PADDING, zoom });
    }
  }, [layout, rf]);
  const fittedFor = useRef<LayoutResult | undefined>(undefined);
  useEffect(() => {
    if (!layout || fittedFor.current) return;
    fittedFor.current = layout;
    fit();
  }, [layout, fit]);
  useEffect(() => {
    const el = wrapRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => fit());
    observer.observe(el);
    return () => observer.disconnect();
  }, [fit]);

  // Positions from the last layout, data from the latest model.
  const nodes = useMemo<Node<GraphNodeData>[]>(() => {
    if (!layout) return [];
    const byId = new Map(model.nodes.map((n) => [n.id, n]));
    const out: Node<GraphNodeData>[] = [];
    for (const p of layout.nodes) {
      const n = byId.get(p.id);
      if (!n) continue;
      const type = n.data.kind === "iterations" ? "dyIterations" : n.data.isGroup ? "dyGroup" : "dyTask";
      out.push({
        id: n.id,
        type,
        position: { x: p.x, y: p.y },
        parentId: n.parentId && byId.has(n.parentId) ? n.parentId : undefined,
        data: n.data,
        width: p.width,
        height: p.height,
        style: { width: p.width, height: p.height },
        draggable: false,
        connectable: false,
        selectable: false,
        className: `dy-rf-node ${n.data.isGroup && n.data.expanded ? "dy-rf-group-open" : ""}`,
      });
    }
    return out;
  }, [layout, model]);

  const edges = useMemo<Edge[]>(() => {
    if (!layout) return [];
    const placed = new Set(layout.nodes.map((n) => n.id));
    const state = new Map(model.nodes.map((n) => [n.id, n.data.state]));
    return model.edges
      .filter((e) => placed.has(e.source) && placed.has(e.target))
      .map((e) => {
        const target = state.get(e.target) ?? "PENDING";
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          type: "smoothstep",
          animated: target === "RUNNING",
          selectable: false,
          className: `dy-edge dy-edge-${e.kind} ${stateClass(state.get(e.source) ?? "PENDING")}`,
        };
      });
  }, [layout, model]);

  const toggle = useCallback(
    (path: string) => {
      const next = new Set(expanded);
      if (next.has(path)) {
        // Collapsing a group collapses what is inside it too.
        for (const p of expanded) if (p === path || p.startsWith(`${path}/`)) next.delete(p);
      } else {
        next.add(path);
      }
      if (onExpandedChange) onExpandedChange([...next]);
      else setOwn(next);
    },
    [expanded, onExpandedChange],
  );
  const setPage = useCallback((loopPath: string, page: number) => {
    setPages((prev) => ({ ...prev, [loopPath]: Math.max(0, page) }));
  }, []);
  const select = useCallback(
    (path: string, taskId: string | undefined) => onSelect?.(path, taskId),
    [onSelect],
  );
  const actions = useMemo<GraphActions>(
    () => ({ select, toggle, setPage, selectedPath }),
    [select, toggle, setPage, selectedPath],
  );

  return (
    <div ref={wrapRef} className={`dy-rungraph${className ? ` ${className}` : ""}`} data-testid="run-graph">
      {error && <div className="dy-graph-error">Layout failed: {error}</div>}
      {!layout && !error && <div className="dy-graph-loading">Laying out…</div>}
      {layout && (
        <GraphActionsContext.Provider value={actions}>
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            fitViewOptions={{ padding: 0.1, maxZoom: 1.2 }}
            minZoom={0.05}
            maxZoom={2}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            onlyRenderVisibleElements={nodes.length > 200}
            onMove={(event) => {
              // Only a user's pan or zoom comes with an event; ours (setViewport) do not.
              // (A click also starts a gesture, but moves nothing, so onMove skips it.)
              if (event) userMoved.current = true;
            }}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={16} size={1} />
            <Controls showInteractive={false} />
            {nodes.length >= MINIMAP_FROM && (
              <MiniMap
                pannable
                zoomable
                nodeClassName={(n) => stateClass(String((n.data as GraphNodeData).state))}
              />
            )}
          </ReactFlow>
        </GraphActionsContext.Provider>
      )}
    </div>
  );
}
