import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { Task } from "../api/types";
import { TaskPanel } from "./TaskPanel";

afterEach(cleanup);

const LABEL = "Pod labels team=ml (add_pod_label) are recorded, not applied.";

function task(warnings?: string[]): Task {
  return { task_id: "t1", run_id: "r", path: "write", name: "write", kind: "container", state: "SUCCEEDED", attempts: 1, warnings };
}

describe("a task's panel", () => {
  it("shows the task's warnings above its tabs, whichever tab is open", () => {
    render(<TaskPanel task={task([LABEL])} artifacts={[]} onClose={() => undefined} />);
    const warnings = screen.getByRole("region", { name: /1 warning/ });
    expect(within(warnings).getByRole("listitem").textContent).toBe(LABEL);
    fireEvent.click(screen.getByRole("tab", { name: "Details" }));
    expect(screen.getByRole("region", { name: /1 warning/ })).toBeTruthy();
  });

  it("has no warnings section for a task without warnings", () => {
    render(<TaskPanel task={task()} artifacts={[]} onClose={() => undefined} />);
    expect(screen.queryByTestId("task-warnings")).toBeNull();
  });
});
