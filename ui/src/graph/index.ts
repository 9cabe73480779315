export { RunGraph, type RunGraphProps } from "./RunGraph";
export {
  buildGraph,
  aggregateState,
  taskState,
  unwrapSpec,
  upstreamTasks,
  type BuildOptions,
  type GraphEdge,
  type GraphModel,
  type GraphNode,
  type GraphNodeData,
  type GraphNodeKind,
  type IterationChip,
  type IterationPage,
  type NodeState,
  type StateCounts,
} from "./model";
export { layoutGraph, type LayoutResult, type PositionedNode } from "./layout";
export { stateClass, stateLabel, countsSummary } from "./nodes";
