import { describe, expect, it } from "vitest";

import type { PipelineSpec, Task } from "../api/types";
import bcSpec from "../graph/fixtures/breast_cancer.spec.json";
import loopsSpec from "../graph/fixtures/dy_loops_dynamic.spec.json";
import loopsTasks from "../graph/fixtures/dy_loops_dynamic.tasks.json";
import { criticalPath } from "./critical";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

/** A leaf task record that ran from `start` to `end` (seconds). */
const ran = (path: string, start: number, end: number, more: Partial<Task> = {}): Task =>
  ({
    task_id: path,
    run_id: "r",
    path,
    name: path.split("/").pop(),
    kind: "container",
    state: "SUCCEEDED",
    attempts: 1,
    started_at: at(start),
    finished_at: at(end),
    ...more,
  }) as Task;

const names = (tasks: { task: Task }[] | undefined) => tasks?.map((s) => s.task.path);

describe("criticalPath", () => {
  const spec = bcSpec as unknown as PipelineSpec;

  it("goes back from the last task through the upstream that finished last", () => {
    // predict waits on train-model and transform: train-model finished later.
    const tasks = [
      ran("load-data", 0, 8),
      ran("transform", 9, 10),
      ran("train-model", 10.5, 14),
      ran("predict", 15, 16),
      ran("evaluate", 16.2, 17),
    ];
    const found = criticalPath(spec, tasks);
    expect(names(found?.steps)).toEqual(["load-data", "transform", "train-model", "predict", "evaluate"]);
    expect(found?.steps.map((s) => s.waited)).toEqual([0, 1000, 500, 1000, 200]);
    expect(found?.ran).toBe(8000 + 1000 + 3500 + 1000 + 800);
    expect(found?.waited).toBe(2700);
  });

  it("goes out of a loop's body to what the loop waited on", () => {
    const times: Record<string, [number, number]> = {
      "plan-shards": [0, 1],
      "plan-specs": [0, 2],
      "for-loop-1/0/for-loop-3/0/process-shard": [2, 3],
      "for-loop-1/0/for-loop-3/1/process-shard": [2, 6],
      "for-loop-1/1/for-loop-3/0/process-shard": [2, 4],
      "for-loop-4/1/for-loop-6/1/build-spec": [3, 9],
    };
    const tasks = (loopsTasks as unknown as Task[]).map((t) => {
      const span = times[t.path];
      return span ? { ...t, started_at: at(span[0]), finished_at: at(span[1]) } : t;
    });
    // build-spec ended last; it waited on what its loops waited on: plan-specs.
    expect(names(criticalPath(loopsSpec as unknown as PipelineSpec, tasks)?.steps)).toEqual([
      "plan-specs",
      "for-loop-4/1/for-loop-6/1/build-spec",
    ]);
  });

  it("is undefined before any task finished, or without a spec", () => {
    expect(criticalPath(spec, [{ ...ran("load-data", 0, 1), finished_at: undefined }])).toBeUndefined();
    expect(criticalPath(undefined, [ran("load-data", 0, 1)])).toBeUndefined();
  });
});
