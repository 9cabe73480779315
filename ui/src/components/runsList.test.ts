import { describe, expect, it } from "vitest";
import { experimentLabels, pageCount, readPageSize, readRunSort } from "./runsList";

describe("readRunSort", () => {
  it("reads columns and metrics, either way", () => {
    expect(readRunSort("-duration")).toEqual({ key: "duration", desc: true });
    expect(readRunSort("metric:train/eval/accuracy")).toEqual({ key: "metric:train/eval/accuracy", desc: false });
    expect(readRunSort("-metric:a b/c")).toEqual({ key: "metric:a b/c", desc: true });
  });

  it("falls back to the newest first", () => {
    for (const value of [null, "", "color", "metric:", "-metric:"]) {
      expect(readRunSort(value)).toEqual({ key: "created_at", desc: true });
    }
  });
});

describe("page sizes and counts", () => {
  it("keeps only a size offered", () => {
    expect(readPageSize("50")).toBe(50);
    expect(readPageSize("7")).toBe(25);
    expect(readPageSize(null)).toBe(25);
  });

  it("counts pages, at least one", () => {
    expect(pageCount(1001, 25)).toBe(41);
    expect(pageCount(100, 100)).toBe(1);
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(undefined, 25)).toBe(1);
  });
});

describe("experimentLabels", () => {
  it("names the namespace of a name listed twice", () => {
    const labels = experimentLabels([
      { experiment_id: "1", display_name: "Default" },
      { experiment_id: "2", display_name: "Default", namespace: "team-a" },
      { experiment_id: "3", display_name: "demo", namespace: "team-a" },
    ]);
    expect([...labels.values()]).toEqual(["Default (shared)", "Default (team-a)", "demo"]);
  });
});
