// A pipeline's graph, with a run's live states when `tasks` is given. Layout (ELK) runs
// only when the structure changes (spec, expanded groups, iteration pages, iterations
// appearing); a state change only updates node data, so polling a live run every second
// stays smooth. Zoomed out, chains of tasks are drawn as bands (lod.ts); the find box
// (FindTask.tsx) expands what encloses a picked task and zooms to it.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  useStore,
  useStoreApi,
  type Edge,
  type Node,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./graph.css";
import type { PipelineSpec, Task, TaskOutline } from "../api/types";
import { aggregateState, buildGraph, taskState, type GraphNodeData } from "./model";
import { layoutGraph, type LayoutResult } from "./layout";
import { FindTask, type FindCandidate } from "./FindTask";
import { bandGraph, bandStates, LOD_ZOOM } from "./lod";
import { GraphActionsContext, nodeTypes, stateClass, type BandData, type GraphActions } from "./nodes";

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
  /** The page shown of each expanded loop's iterations, when the caller keeps them (with
   * `onPagesChange`): the caller of a big run reads those iterations' records. */
  pages?: Record<string, number>;
  onPagesChange?: (pages: Record<string, number>) => void;
  /** A big run's outline: `tasks` then leave out what is inside loop iterations. */
  outline?: TaskOutline;
  className?: string;
}

/** Show the minimap from this many nodes. */
const MINIMAP_FROM = 15;
/** The smallest zoom a fit goes down to: the level-of-detail view's labels stay readable
 * there. A graph that needs less shows its top at this zoom; the user can zoom out more. */
export const MIN_FIT_ZOOM = 0.25;
/** A fit never enlarges past this. */
const MAX_FIT_ZOOM = 1.2;
const FIT_PADDING = 24;
/** Room at the top of the box for the find box: a fitted drawing starts below it. */
const FIT_TOP = 60;
/** A new layout whose width or height differs from the last by this factor is fitted again
 * (expanding or collapsing a big group), even after the user moved the view. */
const REFIT_RATIO = 1.5;

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
  pages: givenPages,
  onPagesChange,
  outline,
  className,
}: RunGraphProps) {
  const [own, setOwn] = useState<Set<string>>(() => new Set(defaultExpanded ?? []));
  const expanded = useMemo(() => (given ? new Set(given) : own), [given, own]);
  const [ownPages, setOwnPages] = useState<Record<string, number>>({});
  const pages = givenPages ?? ownPages;
  const model = useMemo(
    () => buildGraph(spec, tasks, expanded, { iterationPages: pages, pageSize, outline }),
    [spec, tasks, expanded, pages, pageSize, outline],
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

  // Fit the view on the first layout, again when a layout changes the drawing's size a
  // lot, and when the graph's box changes size (a side panel opens) until the user pans or
  // zooms.
  const rf = useReactFlow();
  const wrapRef = useRef<HTMLDivElement>(null);
  const userMoved = useRef(false);
  const fit = useCallback(() => {
    if (!layout || userMoved.current) return;
    const el = wrapRef.current;
    void rf.setViewport(
      fitViewport(
        { width: el?.clientWidth || 800, height: el?.clientHeight || 600 },
        { width: layout.width, height: layout.height },
      ),
    );
  }, [layout, rf]);
  const fittedFor = useRef<LayoutResult | undefined>(undefined);
  useEffect(() => {
    if (!layout || fittedFor.current === layout) return;
    const last = fittedFor.current;
    fittedFor.current = layout;
    if (!last || changedALot(last, layout)) {
      userMoved.current = false;
      fit();
    }
  }, [layout, fit]);
  useEffect(() => {
    const el = wrapRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => fit());
    observer.observe(el);
    return () => observer.disconnect();
  }, [fit]);

  // Zoomed out, chains of tasks are drawn as bands (lod.ts). Text in bands and groups keeps
  // its size on screen through --dy-inv-zoom, set here without re-rendering the graph.
  const lod = useStore((s) => s.transform[2] < LOD_ZOOM);
  const store = useStoreApi();
  useEffect(() => {
    const apply = (zoom: number) => wrapRef.current?.style.setProperty("--dy-inv-zoom", String(1 / zoom));
    apply(store.getState().transform[2]);
    return store.subscribe((s) => apply(s.transform[2]));
  }, [store]);
  const bands = useMemo(() => (layout && lod ? bandGraph(layout.nodes, layout.edges) : undefined), [layout, lod]);

  // Positions from the last layout, data from the latest model.
  const nodes = useMemo<Node[]>(() => {
    if (!layout) return [];
    const byId = new Map(model.nodes.map((n) => [n.id, n]));
    const stateOf = (path: string) => byId.get(path)?.data.state;
    const bandsById = new Map(bands?.bands.map((b) => [b.id, b]));
    const out: Node[] = [];
    for (const p of layout.nodes) {
      const n = byId.get(p.id);
      if (!n) continue;
      const parentId = n.parentId && byId.has(n.parentId) ? n.parentId : undefined;
      const bandId = bands?.bandOf.get(n.id);
      if (bandId) {
        // A band takes the place of its chain's first task, in the same order.
        const band = bandsById.get(bandId);
        if (!band || band.members[0] !== n.id) continue;
        const data: BandData = { band, ...bandStates(band, stateOf) };
        out.push({
          id: band.id,
          type: "dyBand",
          position: { x: band.x, y: band.y },
          parentId,
          data,
          width: band.width,
          height: band.height,
          style: { width: band.width, height: band.height },
          draggable: false,
          connectable: false,
          selectable: false,
          className: "dy-rf-node",
        });
        continue;
      }
      const type = n.data.kind === "iterations" ? "dyIterations" : n.data.isGroup ? "dyGroup" : "dyTask";
      out.push({
        id: n.id,
        type,
        position: { x: p.x, y: p.y },
        parentId,
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
  }, [layout, model, bands]);

  const edges = useMemo<Edge[]>(() => {
    if (!layout) return [];
    const placed = new Set(layout.nodes.map((n) => n.id));
    const state = new Map<string, string>(model.nodes.map((n) => [n.id, n.data.state]));
    for (const n of nodes) if (n.type === "dyBand") state.set(n.id, (n.data as BandData).state);
    const shown = bands ? bands.edges : model.edges;
    return shown
      .filter((e) => (placed.has(e.source) || state.has(e.source)) && (placed.has(e.target) || state.has(e.target)))
      .map((e) => {
        const target = state.get(e.target) ?? "PENDING";
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          type: "smoothstep",
          animated: target === "RUNNING" && !bands,
          selectable: false,
          className: `dy-edge dy-edge-${e.kind} ${stateClass(state.get(e.source) ?? "PENDING")}`,
        };
      });
  }, [layout, model, nodes, bands]);

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
  const setPage = useCallback(
    (loopPath: string, page: number) => {
      const next = { ...pages, [loopPath]: Math.max(0, page) };
      if (onPagesChange) onPagesChange(next);
      else setOwnPages(next);
    },
    [pages, onPagesChange],
  );
  const select = useCallback(
    (path: string, taskId: string | undefined) => onSelect?.(path, taskId),
    [onSelect],
  );
  // Into view: a node the keyboard focused (when it is out of view), or a band the user
  // zoomed in on (to the zoom where its tasks show).
  const reveal = useCallback(
    (id: string, zoomIn = false) => {
      const node = rf.getInternalNode(id);
      const el = wrapRef.current;
      if (!node || !el) return;
      const { x, y } = node.internals.positionAbsolute;
      const width = node.measured.width ?? node.width ?? 0;
      const height = node.measured.height ?? node.height ?? 0;
      const view = rf.getViewport();
      if (zoomIn) {
        userMoved.current = true;
        const zoom = Math.max(1, view.zoom);
        // A tall band: its top; else its middle.
        const cy = height * zoom > el.clientHeight ? y + el.clientHeight / zoom / 2 - FIT_PADDING : y + height / 2;
        void rf.setCenter(x + width / 2, cy, { zoom, duration: 200 });
        return;
      }
      const left = x * view.zoom + view.x;
      const top = y * view.zoom + view.y;
      const inView =
        left >= 0 && top >= 0 && left + width * view.zoom <= el.clientWidth && top + height * view.zoom <= el.clientHeight;
      if (inView) return;
      userMoved.current = true;
      void rf.setCenter(x + width / 2, y + height / 2, { zoom: view.zoom });
    },
    [rf],
  );
  // The find box: every task record (inside collapsed groups too), or in a pipeline's
  // static graph the nodes drawn. A pick expands what encloses the task, then zooms to it
  // once a layout has placed it.
  const candidates = useMemo<FindCandidate[]>(() => {
    if (tasks?.length) {
      const found: FindCandidate[] = tasks.map((t) => ({
        path: t.path,
        label: t.display_name || t.name,
        taskId: t.task_id,
        state: taskState(t),
      }));
      // A big run's tasks inside loop iterations are not all here: each is found as the
      // node drawn for all iterations (`for-loop-2/*\/square`).
      if (outline && !outline.complete) {
        for (const [pattern, counts] of Object.entries(outline.counts ?? {})) {
          if (!pattern.includes("*") || pattern.endsWith("*")) continue;
          const label = pattern.slice(pattern.lastIndexOf("/") + 1);
          found.push({ path: pattern, label, state: aggregateState(counts, "PENDING") });
        }
      }
      return found;
    }
    return model.nodes
      .filter((n) => !n.data.aggregate && n.data.kind !== "iterations")
      .map((n) => ({ path: n.id, label: n.data.label, taskId: n.data.taskId, state: n.data.state }));
  }, [tasks, model, outline]);
  const [focusTarget, setFocusTarget] = useState<string | undefined>();
  const pick = useCallback(
    (c: FindCandidate) => {
      const segments = c.path.split("/");
      const enclosing = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join("/"));
      // Expanded first, then selected: a caller that keeps both in one place (the address)
      // may apply the selection with the groups around it in one change.
      if (!enclosing.every((p) => expanded.has(p))) {
        const next = new Set([...expanded, ...enclosing]);
        if (onExpandedChange) onExpandedChange([...next]);
        else setOwn(next);
      }
      setFocusTarget(c.path);
      onSelect?.(c.path, c.taskId);
    },
    [expanded, onExpandedChange, onSelect],
  );
  useEffect(() => {
    if (!focusTarget || !layout) return;
    const placed = absoluteBox(layout, focusTarget);
    if (!placed) return; // not laid out yet: the next layout will have it
    setFocusTarget(undefined);
    userMoved.current = true;
    const zoom = Math.max(1, rf.getViewport().zoom);
    void rf.setCenter(placed.x + placed.width / 2, placed.y + placed.height / 2, { zoom, duration: 300 });
  }, [focusTarget, layout, rf]);

  const actions = useMemo<GraphActions>(
    () => ({ select, toggle, setPage, reveal, selectedPath, lod }),
    [select, toggle, setPage, reveal, selectedPath, lod],
  );

  return (
    <div ref={wrapRef} className={`dy-rungraph${className ? ` ${className}` : ""}`} data-testid="run-graph">
      {error && <div className="dy-graph-error">Layout failed: {error}</div>}
      {!layout && !error && <div className="dy-graph-loading">Laying out…</div>}
      {layout && <FindTask candidates={candidates} onPick={pick} />}
      {layout && (
        <GraphActionsContext.Provider value={actions}>
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            fitViewOptions={{ padding: 0.1, minZoom: MIN_FIT_ZOOM, maxZoom: MAX_FIT_ZOOM }}
            minZoom={0.05}
            maxZoom={2}
            nodesDraggable={false}
            nodesConnectable={false}
            nodesFocusable={false}
            edgesFocusable={false}
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
                nodeClassName={(n) => stateClass(String((n.data as GraphNodeData | BandData).state))}
              />
            )}
          </ReactFlow>
        </GraphActionsContext.Provider>
      )}
    </div>
  );
}

interface Size {
  width: number;
  height: number;
}

/** The viewport that shows a drawing of `graph`'s size in a box of `box`'s size: all of it,
 * centred, when that needs no less than MIN_FIT_ZOOM; else its top at MIN_FIT_ZOOM (centred
 * across when its width fits). */
export function fitViewport(box: Size, graph: Size): { x: number; y: number; zoom: number } {
  const gw = Math.max(1, graph.width);
  const gh = Math.max(1, graph.height);
  const room = box.height - FIT_TOP - FIT_PADDING;
  const zoomToFit = Math.min((box.width - 2 * FIT_PADDING) / gw, room / gh, MAX_FIT_ZOOM);
  if (zoomToFit >= MIN_FIT_ZOOM) {
    return { x: (box.width - gw * zoomToFit) / 2, y: FIT_TOP + (room - gh * zoomToFit) / 2, zoom: zoomToFit };
  }
  const zoom = MIN_FIT_ZOOM;
  const x = gw * zoom <= box.width ? (box.width - gw * zoom) / 2 : FIT_PADDING;
  return { x, y: FIT_TOP, zoom };
}

/** Where a laid-out node is on the canvas (layout positions are relative to the parent). */
function absoluteBox(layout: LayoutResult, id: string): (Size & { x: number; y: number }) | undefined {
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const node = byId.get(id);
  if (!node) return undefined;
  let x = node.x;
  let y = node.y;
  for (let p = node.parentId ? byId.get(node.parentId) : undefined; p; p = p.parentId ? byId.get(p.parentId) : undefined) {
    x += p.x;
    y += p.y;
  }
  return { x, y, width: node.width, height: node.height };
}

function changedALot(before: Size, after: Size): boolean {
  const ratio = (a: number, b: number) => Math.max(a, b) / Math.max(1, Math.min(a, b));
  return ratio(before.width, after.width) >= REFIT_RATIO || ratio(before.height, after.height) >= REFIT_RATIO;
}
