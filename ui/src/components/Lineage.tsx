// An artifact's lineage drawn left to right with arrows: upstream tasks and artifacts on
// the left, those downstream on the right. Each task links to its run's page with the
// task selected; each artifact to its own page.

import { Background, MarkerType, Position, ReactFlow, type Edge, type Node } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import { Link } from "react-router-dom";

import type { Artifact } from "../api/types";
import { buildLineage } from "./lineage";

const COLUMN_WIDTH = 230;
const ROW_HEIGHT = 64;

export function Lineage({ artifact, runArtifacts }: { artifact: Artifact; runArtifacts: Artifact[] }) {
  const { nodes, edges } = useMemo(() => {
    const graph = buildLineage(artifact, runArtifacts);
    const perColumn = new Map<number, number>();
    graph.nodes.forEach((n) => perColumn.set(n.column, (perColumn.get(n.column) ?? 0) + 1));
    const nodes: Node[] = graph.nodes.map((n) => ({
      id: n.id,
      position: {
        x: n.column * COLUMN_WIDTH,
        y: (n.row - ((perColumn.get(n.column) ?? 1) - 1) / 2) * ROW_HEIGHT,
      },
      sourcePosition: Position.Right,
      targetPosition: Position.Left,
      className: `dy-lineage-${n.kind}${n.column === 0 ? " dy-lineage-focus" : ""}`,
      data: {
        label: n.task ? (
          <Link to={`/runs/${n.task.run_id}?task=${encodeURIComponent(n.task.task_id)}`} title={`task ${n.label}`}>
            {n.label}
          </Link>
        ) : n.column === 0 ? (
          <strong>{n.label}</strong>
        ) : (
          <Link to={`/artifacts/${n.artifactId}`} title={`artifact ${n.label}`}>
            {n.label}
          </Link>
        ),
      },
      // Connections come from the data, not from the mouse.
      connectable: false,
      draggable: false,
    }));
    const edges: Edge[] = graph.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      label: e.label,
      markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    }));
    return { nodes, edges };
  }, [artifact, runArtifacts]);
  return (
    <div className="dy-lineage" data-testid="lineage">
      <ReactFlow nodes={nodes} edges={edges} fitView nodesConnectable={false} proOptions={{ hideAttribution: true }}>
        <Background />
      </ReactFlow>
    </div>
  );
}
