import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Task } from "../api/types";
import { RunWarnings } from "./RunWarnings";
import { runWarnings, warningCount } from "./warnings";

afterEach(cleanup);

const LABEL = "Pod labels team=ml (add_pod_label) are recorded, not applied.";
const SELECTOR = "The node selector gpu=a100 (add_node_selector) is recorded, not applied.";

function task(path: string, warnings?: string[]): Task {
  return { task_id: `id-${path}`, run_id: "r", path, name: path, kind: "container", state: "SUCCEEDED", attempts: 1, warnings };
}

describe("a run's warnings", () => {
  it("counts one per task and message, as the API does, and groups tasks by message", () => {
    const found = runWarnings([
      task("write", [LABEL, SELECTOR]),
      task("read"),
      task("for-loop-2/0/echo", [SELECTOR]),
    ]);
    expect(found.count).toBe(3);
    expect(found.groups).toEqual([
      { message: LABEL, tasks: [{ task_id: "id-write", path: "write" }] },
      {
        message: SELECTOR,
        tasks: [
          { task_id: "id-write", path: "write" },
          { task_id: "id-for-loop-2/0/echo", path: "for-loop-2/0/echo" },
        ],
      },
    ]);
  });

  it("are none when no task has any", () => {
    expect(runWarnings([task("a"), task("b", [])])).toEqual({ count: 0, groups: [] });
    expect(warningCount(1)).toBe("1 warning");
    expect(warningCount(2)).toBe("2 warnings");
  });

  it("show as a banner whose task paths select their task", () => {
    const onSelect = vi.fn();
    render(<RunWarnings tasks={[task("write", [LABEL]), task("read")]} selected={undefined} onSelect={onSelect} />);
    const banner = screen.getByRole("region", { name: "1 warning" });
    expect(within(banner).getByText(LABEL)).toBeTruthy();
    fireEvent.click(within(banner).getByRole("button", { name: "write" }));
    expect(onSelect).toHaveBeenCalledWith("id-write");
  });

  it("show no banner for a run without any", () => {
    const { container } = render(<RunWarnings tasks={[task("read")]} selected={undefined} onSelect={() => undefined} />);
    expect(container.innerHTML).toBe("");
  });

  it("list five tasks of a message, and the rest on demand", () => {
    const tasks = Array.from({ length: 8 }, (_, i) => task(`for-loop-2/${i}/echo`, [SELECTOR]));
    render(<RunWarnings tasks={tasks} selected={undefined} onSelect={() => undefined} />);
    const banner = screen.getByRole("region", { name: "8 warnings" });
    expect(within(banner).getAllByRole("button", { name: /^for-loop-2/ })).toHaveLength(5);
    fireEvent.click(within(banner).getByRole("button", { name: "3 more" }));
    expect(within(banner).getAllByRole("button", { name: /^for-loop-2/ })).toHaveLength(8);
  });

  it("fold away and back", () => {
    render(<RunWarnings tasks={[task("write", [LABEL])]} selected={undefined} onSelect={() => undefined} />);
    const toggle = screen.getByRole("button", { name: "Hide" });
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    fireEvent.click(toggle);
    expect(screen.getByRole("button", { name: "Show" }).getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByRole("button", { name: "write" })).toBeNull(); // hidden
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    expect(screen.getByRole("button", { name: "write" })).toBeTruthy();
  });
});

describe("the warnings of a run read as an outline", () => {
  const tasks = [task("write", [LABEL]), task("for-loop-2/0/echo", [SELECTOR]), task("for-loop-2/1/echo", [SELECTOR])];

  it("says how many tasks with warnings it does not list", () => {
    render(
      <RunWarnings tasks={tasks} outline={{ complete: false, warned: 2001 }} selected={undefined} onSelect={vi.fn()} />,
    );
    expect(screen.getByTestId("warnings-unlisted").textContent).toContain("3 of the 2001 tasks with warnings are listed");
  });

  it("says nothing more when it lists them all", () => {
    render(<RunWarnings tasks={tasks} outline={{ complete: false, warned: 3 }} selected={undefined} onSelect={vi.fn()} />);
    expect(screen.queryByTestId("warnings-unlisted")).toBeNull();
    cleanup();
    render(<RunWarnings tasks={tasks} outline={{ complete: true }} selected={undefined} onSelect={vi.fn()} />);
    expect(screen.queryByTestId("warnings-unlisted")).toBeNull();
  });
});
