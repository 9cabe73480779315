import { describe, expect, it } from "vitest";
import type { TaskLog } from "../api/types";
import { findMatches, readWholeLog, stepMatch } from "./logText";

describe("findMatches", () => {
  it("finds every occurrence, ignoring case, without overlaps", () => {
    expect(findMatches("Error: x\nerror again\nERRORERROR", "error")).toEqual([
      [0, 5],
      [9, 14],
      [21, 26],
      [26, 31],
    ]);
    expect(findMatches("aaaa", "aa")).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it("finds nothing for an empty query or a missing one", () => {
    expect(findMatches("text", "")).toEqual([]);
    expect(findMatches("text", "nope")).toEqual([]);
  });
});

describe("stepMatch", () => {
  it("wraps round both ways", () => {
    expect(stepMatch(2, 1, 3)).toBe(0);
    expect(stepMatch(0, -1, 3)).toBe(2);
    expect(stepMatch(1, 1, 3)).toBe(2);
    expect(stepMatch(0, 1, 0)).toBe(0);
  });
});

describe("readWholeLog", () => {
  const log = "0123456789";
  const serve = (chunk: number) => async (offset: number): Promise<TaskLog> => {
    const text = log.slice(offset, offset + chunk);
    return {
      run_id: "r",
      node_id: "t",
      task_path: "t",
      attempt: 1,
      attempts: 1,
      offset,
      next_offset: offset + text.length,
      size: log.length,
      text,
      complete: true,
    };
  };

  it("reads every piece from the start", async () => {
    expect(await readWholeLog(serve(3))).toBe(log);
    expect(await readWholeLog(serve(100))).toBe(log);
  });
});
