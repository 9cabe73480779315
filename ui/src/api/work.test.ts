import { describe, expect, it } from "vitest";

import type { NamespaceWork } from "./types";
import { isBusy, namespaceLabel, pendingText, waitingReason, WORK_POLL_MS, workPollInterval } from "./work";

const idle: NamespaceWork = {
  namespace: "team-b",
  runs_running: 0,
  runs_pending: 0,
  runs_waiting: 0,
  tasks_running: 0,
};
const busy: NamespaceWork = {
  namespace: "team-a",
  runs_running: 1,
  runs_pending: 2,
  runs_waiting: 1,
  tasks_running: 3,
};

describe("workPollInterval", () => {
  it("polls while any namespace has work", () => {
    expect(workPollInterval([idle, busy])).toBe(WORK_POLL_MS);
    expect(workPollInterval([{ ...idle, runs_pending: 1 }])).toBe(WORK_POLL_MS);
    expect(workPollInterval([{ ...idle, tasks_running: 1 }])).toBe(WORK_POLL_MS);
  });

  it("stops once nothing runs or waits, or before the first answer", () => {
    expect(workPollInterval([idle])).toBe(false);
    expect(workPollInterval([])).toBe(false);
    expect(workPollInterval(undefined)).toBe(false);
  });
});

describe("work rows", () => {
  it("tells busy namespaces from idle ones", () => {
    expect(isBusy(busy)).toBe(true);
    expect(isBusy(idle)).toBe(false);
  });

  it("says how many pending runs wait on the limit", () => {
    expect(pendingText(busy)).toBe("2 (1 waiting)");
    expect(pendingText({ ...busy, runs_waiting: 0 })).toBe("2");
  });

  it("names the runs of no namespace", () => {
    expect(namespaceLabel("")).toBe("no namespace");
    expect(namespaceLabel("team-a")).toBe("team-a");
  });
});

describe("waitingReason", () => {
  const reason = "Waiting: namespace 'team-a' has 1 run(s) running";

  it("is the server's reason while the run is pending", () => {
    expect(waitingReason({ run_id: "r", state: "PENDING", waiting_reason: reason })).toBe(reason);
  });

  it("is nothing for a run that started, has no reason, or is not loaded", () => {
    expect(waitingReason({ run_id: "r", state: "RUNNING", waiting_reason: reason })).toBeUndefined();
    expect(waitingReason({ run_id: "r", state: "PENDING" })).toBeUndefined();
    expect(waitingReason(undefined)).toBeUndefined();
  });
});
