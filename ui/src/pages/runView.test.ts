import { describe, expect, it } from "vitest";

import type { Task } from "../api/types";
import { enclosingGroups, firstFailedLeaf, readPages, writePages } from "./runView";

function task(path: string, state: string, kind: Task["kind"], finished?: string): Task {
  return { task_id: path, run_id: "r", path, name: path, kind, state, attempts: 1, finished_at: finished } as Task;
}

describe("a failed run's first failed task", () => {
  it("is the leaf that failed first, never a group", () => {
    const tasks = [
      task("for-loop-2", "FAILED", "loop", "2026-01-01T00:00:09Z"),
      task("for-loop-2/1", "FAILED", "dag", "2026-01-01T00:00:08Z"),
      task("for-loop-2/1/square", "FAILED", "container", "2026-01-01T00:00:05Z"),
      task("for-loop-2/0/square", "FAILED", "container", "2026-01-01T00:00:03Z"),
      task("other", "SUCCEEDED", "container", "2026-01-01T00:00:01Z"),
    ];
    expect(firstFailedLeaf(tasks)?.path).toBe("for-loop-2/0/square");
    expect(firstFailedLeaf(tasks.slice(0, 2))).toBeUndefined();
  });

  it("is inside groups that are all expanded", () => {
    expect(enclosingGroups("exit-handler-1/for-loop-2/3/square")).toEqual([
      "exit-handler-1",
      "exit-handler-1/for-loop-2",
      "exit-handler-1/for-loop-2/3",
    ]);
    expect(enclosingGroups("train")).toEqual([]);
  });
});

describe("the page of a loop's iterations in the address", () => {
  it("is kept for each loop past its first page, and read back", () => {
    const written = writePages({ "for-loop-2": 3, "cond/for-loop-9": 1, "for-loop-4": 0 });
    expect(written).toEqual(["cond/for-loop-9:1", "for-loop-2:3"]);
    expect(readPages(written)).toEqual({ "cond/for-loop-9": 1, "for-loop-2": 3 });
  });

  it("leaves out what is not a loop and a page", () => {
    expect(readPages(["for-loop-2", ":3", "for-loop-2:-1", "for-loop-2:x", "for-loop-2:1.5", "a:2"])).toEqual({ a: 2 });
  });
});
