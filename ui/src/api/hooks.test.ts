import { describe, expect, it } from "vitest";

import { mergeTasks, runsPollInterval, taskPollInterval } from "./hooks";
import type { Task } from "./types";

describe("taskPollInterval", () => {
  it("polls every second until a run has thousands of tasks, then less often", () => {
    expect(taskPollInterval(0)).toBe(1000);
    expect(taskPollInterval(4000)).toBe(1000);
    expect(taskPollInterval(8000)).toBe(2000);
    expect(taskPollInterval(20_001)).toBe(5000);
    expect(taskPollInterval(1_000_000)).toBe(5000);
  });
});

describe("mergeTasks", () => {
  const task = (task_id: string, state: string): Task =>
    ({ task_id, run_id: "r", path: task_id, name: task_id, kind: "container", state }) as Task;

  it("puts a changed task in its place, a new one last, and keeps the others as they were", () => {
    const a = task("a", "SUCCEEDED");
    const b = task("b", "RUNNING");
    const known = { tasks: [a, b], revision: 3 };
    const merged = mergeTasks(known, [task("c", "PENDING"), task("b", "SUCCEEDED")], 5);
    expect(merged.revision).toBe(5);
    expect(merged.tasks.map((t) => [t.task_id, t.state])).toEqual([
      ["a", "SUCCEEDED"],
      ["b", "SUCCEEDED"],
      ["c", "PENDING"],
    ]);
    expect(merged.tasks[0]).toBe(a);
    expect(known.tasks.map((t) => t.state)).toEqual(["SUCCEEDED", "RUNNING"]);
  });

  it("returns the same tasks when nothing changed", () => {
    const known = { tasks: [task("a", "RUNNING")], revision: 3 };
    expect(mergeTasks(known, [], 3)).toBe(known);
    const later = mergeTasks(known, [], 4);
    expect(later.tasks).toBe(known.tasks);
    expect(later.revision).toBe(4);
  });
});

describe("runsPollInterval", () => {
  it("asks often while a listed run is live, seldom when none is", () => {
    expect(runsPollInterval([{ run_id: "a", state: "SUCCEEDED" }, { run_id: "b", state: "RUNNING" }])).toBe(2000);
    expect(runsPollInterval([{ run_id: "a", state: "PENDING" }])).toBe(2000);
    expect(runsPollInterval([{ run_id: "a", state: "FAILED" }, { run_id: "b", state: "CANCELED" }])).toBe(15000);
    expect(runsPollInterval(undefined)).toBe(15000);
  });
});
