import { describe, expect, it } from "vitest";
import type { Task } from "../api/types";
import { barAt, timelineRows } from "./rows";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
let n = 0;
const task = (path: string, kind: Task["kind"], state: string, start?: number, end?: number): Task => ({
  task_id: `t${n++}`,
  run_id: "r",
  path,
  name: path.split("/").pop() as string,
  kind,
  state,
  attempts: 1,
  started_at: start === undefined ? undefined : at(start),
  finished_at: end === undefined ? undefined : at(end),
});

describe("timelineRows", () => {
  it("has a row per task by start, a loop's iterations of a task on one row", () => {
    const tasks = [
      task("train", "container", "SUCCEEDED", 10, 20),
      task("prepare", "container", "SUCCEEDED", 2, 9),
      task("later", "container", "PENDING"),
      task("for-loop-2", "loop", "SUCCEEDED", 3, 8),
      ...[0, 1, 2].flatMap((i) => [
        task(`for-loop-2/${i}`, "dag", "SUCCEEDED", 3 + i, 6 + i),
        task(`for-loop-2/${i}/square`, "container", i === 1 ? "FAILED" : "SUCCEEDED", 3 + i, 6 + i),
      ]),
    ];
    const { rows, origin, span } = timelineRows(tasks, Date.parse(at(30)));
    expect(rows.map((r) => r.key)).toEqual(["prepare", "for-loop-2/*/square", "train", "later"]);
    expect(origin).toBe(Date.parse(at(2)));
    expect(span).toBe(18_000);
    const loop = rows[1]!;
    expect(loop.label).toBe("for-loop-2/*/square (3 iterations)");
    expect(loop.bars.map((b) => [b.start, b.end, b.state])).toEqual([
      [1000, 4000, "SUCCEEDED"],
      [2000, 5000, "FAILED"],
      [3000, 6000, "SUCCEEDED"],
    ]);
    // Under a time, the latest started bar that covers it.
    expect(barAt(loop, 2500, 0, 0)?.path).toBe("for-loop-2/1/square");
    expect(barAt(loop, 7000, 0, 0)).toBeUndefined();
  });

  it("runs a running task's bar to now", () => {
    const { rows, span } = timelineRows([task("a", "container", "RUNNING", 0)], Date.parse(at(5)));
    expect(rows[0]!.bars[0]!.end).toBeUndefined();
    expect(span).toBe(5000);
    expect(barAt(rows[0]!, 4000, 0, 5000)?.path).toBe("a");
  });
});
