import { describe, expect, it } from "vitest";

import { taskPollInterval } from "./hooks";

describe("taskPollInterval", () => {
  it("polls every second until a run has thousands of tasks, then less often", () => {
    expect(taskPollInterval(0)).toBe(1000);
    expect(taskPollInterval(2000)).toBe(1000);
    expect(taskPollInterval(4001)).toBe(2001);
    expect(taskPollInterval(20_001)).toBe(10_000);
    expect(taskPollInterval(1_000_000)).toBe(10_000);
  });
});
