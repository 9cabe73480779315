// An artifact's lineage as a graph: the chain of tasks and artifacts that led to it
// (upstream) and the chain that used it (downstream), several steps each way, from the
// artifacts of its run with their producers and consumers. Pure: no React, no fetching.

import type { Artifact, TaskRef } from "../api/types";

/** How many tasks away, each way, the walk goes. */
export const LINEAGE_STEPS = 4;

export interface LineageNode {
  id: string;
  kind: "artifact" | "task";
  label: string;
  /** Left to right: negative upstream, 0 the artifact itself, positive downstream. */
  column: number;
  /** Its position from the top within its column. */
  row: number;
  artifactId?: string;
  task?: TaskRef;
}

export interface LineageEdge {
  id: string;
  source: string;
  target: string;
  /** The input or output name, when it is not the artifact's own name. */
  label?: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

const artifactNode = (id: string) => `artifact:${id}`;
const taskNode = (id: string) => `task:${id}`;

/** The lineage of `focus` within `runArtifacts` (its run's artifacts; `focus` itself may
 * be among them or not). */
export function buildLineage(focus: Artifact, runArtifacts: Artifact[], steps = LINEAGE_STEPS): LineageGraph {
  const artifacts = new Map(runArtifacts.map((a) => [a.artifact_id, a]));
  artifacts.set(focus.artifact_id, focus);
  const outputsOf = new Map<string, Artifact[]>();
  const inputsOf = new Map<string, { artifact: Artifact; ref: TaskRef }[]>();
  for (const a of artifacts.values()) {
    if (a.producer) outputsOf.set(a.producer.task_id, [...(outputsOf.get(a.producer.task_id) ?? []), a]);
    for (const c of a.consumers ?? []) inputsOf.set(c.task_id, [...(inputsOf.get(c.task_id) ?? []), { artifact: a, ref: c }]);
  }

  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const place = (node: Omit<LineageNode, "row">) => {
    if (!nodes.has(node.id)) nodes.set(node.id, { ...node, row: 0 });
  };
  const link = (source: string, target: string, key: string, artifact: Artifact) => {
    const id = `${source}->${target}`;
    if (!edges.has(id)) edges.set(id, { id, source, target, label: key !== artifact.name ? key : undefined });
  };
  const placeArtifact = (a: Artifact, column: number) =>
    place({ id: artifactNode(a.artifact_id), kind: "artifact", label: a.name, column, artifactId: a.artifact_id });
  const placeTask = (t: TaskRef, column: number) =>
    place({ id: taskNode(t.task_id), kind: "task", label: t.path, column, task: t });

  placeArtifact(focus, 0);
  // Downstream: artifact -> the tasks that read it -> what they wrote -> ...
  let frontier = [focus];
  for (let step = 1; step <= steps && frontier.length; step++) {
    const next: Artifact[] = [];
    for (const a of frontier) {
      for (const consumer of a.consumers ?? []) {
        const seen = nodes.has(taskNode(consumer.task_id));
        placeTask(consumer, 2 * step - 1);
        link(artifactNode(a.artifact_id), taskNode(consumer.task_id), consumer.key, a);
        if (seen) continue;
        for (const output of outputsOf.get(consumer.task_id) ?? []) {
          if (!nodes.has(artifactNode(output.artifact_id))) next.push(output);
          placeArtifact(output, 2 * step);
          link(taskNode(consumer.task_id), artifactNode(output.artifact_id), output.producer?.key ?? "", output);
        }
      }
    }
    frontier = next;
  }
  // Upstream: artifact <- the task that wrote it <- what that task read <- ...
  frontier = [focus];
  for (let step = 1; step <= steps && frontier.length; step++) {
    const next: Artifact[] = [];
    for (const a of frontier) {
      const producer = a.producer;
      if (!producer) continue;
      const seen = nodes.has(taskNode(producer.task_id));
      placeTask(producer, -(2 * step - 1));
      link(taskNode(producer.task_id), artifactNode(a.artifact_id), producer.key, a);
      if (seen) continue;
      for (const { artifact: input, ref } of inputsOf.get(producer.task_id) ?? []) {
        if (!nodes.has(artifactNode(input.artifact_id))) next.push(input);
        placeArtifact(input, -2 * step);
        link(artifactNode(input.artifact_id), taskNode(producer.task_id), ref.key, input);
      }
    }
    frontier = next;
  }

  const rows = new Map<number, number>();
  const placed = [...nodes.values()].map((node) => {
    const row = rows.get(node.column) ?? 0;
    rows.set(node.column, row + 1);
    return { ...node, row };
  });
  return { nodes: placed, edges: [...edges.values()] };
}
