import { describe, expect, it } from "vitest";
import type { PipelineSpec, TaskSpec } from "../api/types";
import { buildGraph } from "./model";
import { layoutGraph } from "./layout";
import { naturalCompare } from "./order";

/** A pipeline of independent chains `chain-<c>-step-<s>` of mixed lengths (so that packing
 * them by size would reorder them), its task keys in plain string order. */
function chainsSpec(chains: number): PipelineSpec {
  const tasks: Record<string, TaskSpec> = {};
  for (let c = 0; c < chains; c++) {
    const length = 2 + ((c * 5) % 4);
    for (let s = 0; s < length; s++) {
      tasks[`t-${c}-${s}`] = {
        taskInfo: { name: `chain-${c}-step-${s}` },
        componentRef: { name: "comp-link" },
        ...(s > 0 ? { dependentTasks: [`t-${c}-${s - 1}`] } : {}),
      } as TaskSpec;
    }
  }
  return {
    pipelineInfo: { name: "chains" },
    root: { dag: { tasks } },
    components: { "comp-link": { executorLabel: "exec-link" } },
    deploymentSpec: { executors: { "exec-link": { container: { image: "python" } } } },
  } as unknown as PipelineSpec;
}

describe("naturalCompare", () => {
  it("orders runs of digits as numbers", () => {
    expect(["step-10", "step-2", "step-1", "Step-3"].sort(naturalCompare)).toEqual([
      "step-1",
      "step-2",
      "Step-3",
      "step-10",
    ]);
  });
});

describe("sibling order", () => {
  it("lays independent chains out in natural name order, row by row", async () => {
    const model = buildGraph(chainsSpec(12), [], new Set());
    const layout = await layoutGraph(model);
    const firsts = layout.nodes
      .filter((n) => n.data.label.endsWith("-step-0"))
      .sort((a, b) => a.y - b.y || a.x - b.x)
      .map((n) => n.data.label);
    expect(firsts).toEqual(Array.from({ length: 12 }, (_, c) => `chain-${c}-step-0`));
  });
});
