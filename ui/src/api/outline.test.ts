import { describe, expect, it } from "vitest";

import { mergeTasks } from "./hooks";
import { iterationRequests, leafStates, withIterationTasks } from "./outline";
import type { Task, TaskOutline } from "./types";

const task = (task_id: string, path: string, kind: Task["kind"], state: string, more: Partial<Task> = {}): Task =>
  ({ task_id, run_id: "r", path, name: path, kind, state, attempts: 1, ...more }) as Task;

const outline: TaskOutline = {
  complete: false,
  left_out: 4000,
  counts: {
    "for-loop-2": { RUNNING: 1 },
    "for-loop-2/*": { SUCCEEDED: 1500, RUNNING: 500 },
    "for-loop-2/*/square": { SUCCEEDED: 1800, CACHED: 1 },
    "for-loop-2/*/inner": { RUNNING: 2000 },
    "for-loop-2/*/inner/*": { SUCCEEDED: 4000 },
    cond: { SUCCEEDED: 1 },
    "cond/for-loop-9": { SUCCEEDED: 1 },
    "cond/for-loop-9/*": { SUCCEEDED: 3 },
  },
  leaves: { "for-loop-2": { SUCCEEDED: 3800, CACHED: 1 }, cond: { SUCCEEDED: 3 } },
};

describe("iterationRequests", () => {
  it("asks for nothing when the outline holds every task", () => {
    expect(iterationRequests({ complete: true }, ["for-loop-2", "for-loop-2/3"], {}, 50)).toEqual([]);
    expect(iterationRequests(undefined, ["for-loop-2"], {}, 50)).toEqual([]);
  });

  it("asks for the shown page of each expanded loop and each expanded iteration whole", () => {
    const expanded = ["for-loop-2", "for-loop-2/7", "for-loop-2/7/inner", "for-loop-2/7/inner/1", "cond", "cond/for-loop-9", "for-loop-2/*/inner"];
    expect(iterationRequests(outline, expanded, { "for-loop-2": 3 }, 50)).toEqual([
      { under: "for-loop-2/7" },
      { parent: "cond/for-loop-9", from_index: 0, to_index: 50 },
      { parent: "for-loop-2", from_index: 150, to_index: 200 },
    ]);
  });
});

describe("withIterationTasks", () => {
  it("puts the tasks read for the graph after the outline's, each task once, as last read", () => {
    const loop = task("l", "for-loop-2", "loop", "RUNNING");
    const failedThen = task("f", "for-loop-2/4/square", "container", "FAILED");
    const failedNow = { ...failedThen, state: "RUNNING" };
    const it4 = task("i4", "for-loop-2/4", "dag", "RUNNING", { iteration_index: 4 });
    const merged = withIterationTasks([loop, failedThen], [it4, failedNow, failedNow]);
    expect(merged.map((t) => [t.task_id, t.state])).toEqual([
      ["l", "RUNNING"],
      ["i4", "RUNNING"],
      ["f", "RUNNING"],
    ]);
    const alone = [loop];
    expect(withIterationTasks(alone, [])).toBe(alone);
  });
});

describe("leafStates", () => {
  it("counts the records' leaves, or the outline's under the top-level tasks", () => {
    const tasks = [
      task("a", "prepare", "container", "SUCCEEDED", { cache_hit: true }),
      task("l", "for-loop-2", "loop", "RUNNING"),
      task("c", "cond", "dag", "SUCCEEDED"),
      // A failed task inside an iteration is among an outline's records too: counted once.
      task("f", "for-loop-2/4/square", "container", "FAILED"),
    ];
    expect(leafStates(tasks, outline)).toEqual({ CACHED: 2, SUCCEEDED: 3803 });
    expect(leafStates(tasks, { complete: true })).toEqual({ CACHED: 1, FAILED: 1 });
    expect(leafStates(tasks, undefined)).toEqual({ CACHED: 1, FAILED: 1 });
  });
});

describe("mergeTasks with an outline", () => {
  it("keeps the last outline when an answer brings none (nothing changed)", () => {
    const known = { tasks: [task("a", "a", "container", "RUNNING")], revision: 3, outline };
    expect(mergeTasks(known, [], 3)).toBe(known);
    const fresh: TaskOutline = { ...outline, left_out: 4100 };
    const later = mergeTasks(known, [task("a", "a", "container", "SUCCEEDED")], 5, fresh);
    expect(later.outline).toBe(fresh);
    expect(mergeTasks(later, [], 6).outline).toBe(fresh);
  });
});
