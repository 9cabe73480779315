import { describe, expect, it } from "vitest";

import type { Run, Task } from "../api/types";
import { describeTiming, runTiming, taskTiming, timingCell } from "./durations";

const T0 = Date.parse("2026-12-07T10:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function task(fields: Partial<Task>): Task {
  return { task_id: "t", run_id: "r", path: "train", name: "train", kind: "container", state: "PENDING", attempts: 1, ...fields };
}

describe("a task's time", () => {
  it("is what its attempts ran, apart from its queue and the waits between attempts", () => {
    // Created at 0, first attempt 3-8 (5 s), back-off, second attempt 20-27 (7 s).
    const retried = task({
      state: "SUCCEEDED",
      attempts: 2,
      created_at: at(0),
      first_started_at: at(3),
      started_at: at(20),
      finished_at: at(27),
      ran_seconds: 12,
    });
    const timing = taskTiming(retried, T0 + 99_000);
    expect(timing).toEqual({ ran: 12_000, queued: 3000, waited: 12_000, live: false });
    expect(describeTiming(timing)).toBe("ran 12 s, queued 3.0 s, waited 12 s between attempts");
    expect(timingCell(timing)).toEqual({ ran: "12 s", rest: "queued 3.0 s, waited 12 s between attempts" });
  });

  it("counts the running attempt up to now, and a task not started as queued", () => {
    const running = task({ state: "RUNNING", created_at: at(0), first_started_at: at(1), started_at: at(1) });
    expect(taskTiming(running, T0 + 5000)).toEqual({ ran: 4000, queued: 1000, waited: 0, live: true });
    expect(describeTiming(taskTiming(running, T0 + 5000))).toBe("running for 4.0 s, queued 1.0 s");
    const queued = task({ created_at: at(0) });
    expect(describeTiming(taskTiming(queued, T0 + 2500))).toBe("not started, queued 2.5 s");
  });

  it("reads a record from before first starts were kept by its latest attempt", () => {
    const old = task({ state: "FAILED", created_at: at(0), started_at: at(2), finished_at: at(6) });
    expect(taskTiming(old, T0)).toEqual({ ran: 4000, queued: 2000, waited: 0, live: false });
  });
});

describe("a run's time", () => {
  it("adds up its running spans; a retried run's wait for a worker is apart", () => {
    const run = {
      run_id: "r",
      state: "SUCCEEDED",
      created_at: at(0),
      finished_at: at(40),
      state_history: [
        { state: "PENDING", update_time: at(0) },
        { state: "RUNNING", update_time: at(2) },
        { state: "FAILED", update_time: at(10) },
        { state: "PENDING", update_time: at(30) },
        { state: "RUNNING", update_time: at(33) },
        { state: "SUCCEEDED", update_time: at(40) },
      ],
    } as Run;
    expect(runTiming(run, T0 + 99_000)).toEqual({ ran: 15_000, queued: 2000, waited: 3000, live: false });
  });
});
