import { describe, expect, it } from "vitest";

import { runsPollInterval, taskPollInterval } from "./hooks";

describe("taskPollInterval", () => {
  it("polls every second until a run has thousands of tasks, then less often", () => {
    expect(taskPollInterval(0)).toBe(1000);
    expect(taskPollInterval(2000)).toBe(1000);
    expect(taskPollInterval(4001)).toBe(2001);
    expect(taskPollInterval(20_001)).toBe(10_000);
    expect(taskPollInterval(1_000_000)).toBe(10_000);
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
