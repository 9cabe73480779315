import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { PipelineSpec, Task } from "../api/types";
import { RunGraph } from "./RunGraph";
import bigLoopSpec from "./fixtures/big_loop.spec.json";
import conditionsSpec from "./fixtures/dy_conditions.spec.json";
import conditionsTasks from "./fixtures/dy_conditions.tasks.json";

// jsdom has no layout: React Flow needs these to mount.
beforeAll(() => {
  class RO {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver ??= RO;
  class DOMMatrixReadOnlyStub {
    m22: number;
    constructor(transform?: string) {
      const scale = transform?.match(/scale\(([1-9.])\)/)?.[1];
      this.m22 = scale !== undefined ? Number(scale) : 1;
    }
  }
  (globalThis as unknown as { DOMMatrixReadOnly: unknown }).DOMMatrixReadOnly ??= DOMMatrixReadOnlyStub;
});
afterEach(cleanup);

const spec = (s: unknown) => s as PipelineSpec;

function loopTasks(n: number, state: (i: number) => string): Task[] {
  const out: Task[] = [{ task_id: "loop", run_id: "r", path: "for-loop-2", name: "for-loop-2", kind: "loop", state: "RUNNING", attempts: 0 }];
  for (let i = 0; i < n; i++) {
    out.push({
      task_id: `it${i}`,
      run_id: "r",
      path: `for-loop-2/${i}`,
      name: `for-loop-2-${i}`,
      kind: "dag",
      iteration_index: i,
      state: state(i),
      attempts: 0,
    });
    out.push({
      task_id: `sq${i}`,
      run_id: "r",
      path: `for-loop-2/${i}/square`,
      name: "square",
      kind: "container",
      iteration_index: i,
      state: state(i),
      attempts: 1,
    });
  }
  return out;
}

describe("RunGraph", () => {
  it("draws nodes with their states, selects and expands", async () => {
    const onSelect = vi.fn();
    render(<RunGraph spec={spec(conditionsSpec)} tasks={conditionsTasks as Task[]} onSelect={onSelect} />);
    const coin = await screen.findByTestId("node-flip-coin");
    expect(coin.getAttribute("data-state")).toBe("SUCCEEDED");
    expect(coin.className).toContain("dy-state-succeeded");
    fireEvent.click(coin);
    expect(onSelect).toHaveBeenCalledWith("flip-coin", "c2f130c932d345c3a851cd7cb07b5c9a");

    expect(screen.queryByTestId("node-condition-branches-1/condition-6")).toBeNull();
    fireEvent.click(screen.getByTestId("toggle-condition-branches-1"));
    const skipped = await screen.findByTestId("node-condition-branches-1/condition-6");
    expect(skipped.getAttribute("data-state")).toBe("SKIPPED");

    fireEvent.click(screen.getByTestId("toggle-condition-branches-1"));
    await vi.waitFor(() => expect(screen.queryByTestId("node-condition-branches-1/condition-6")).toBeNull(), { timeout: 10_000 });
  });

  it("shows a 1,000-iteration loop as one node, pages its iterations, and updates states in place", async () => {
    const tasks = loopTasks(1000, (i) => (i === 3 ? "FAILED" : "SUCCEEDED"));
    const { container, rerender } = render(<RunGraph spec={spec(bigLoopSpec)} tasks={tasks} />);
    const loop = await screen.findByTestId("node-for-loop-2");
    expect(loop.textContent).toContain("1000 iterations");
    expect(loop.textContent).toContain("999 succeeded");
    expect(loop.textContent).toContain("1 failed");
    expect(container.querySelectorAll(".react-flow__node").length).toBeLessThan(100);

    fireEvent.click(screen.getByTestId("toggle-for-loop-2"));
    const chip = await screen.findByTestId("node-for-loop-2/3");
    expect(chip.getAttribute("data-state")).toBe("FAILED");
    // The graph (a chain of 51 tasks beside the loop) opens zoomed out, where tasks are
    // drawn as bands.
    expect(screen.getByTestId("band:for-loop-2/*/square").getAttribute("data-state")).toBe("FAILED");
    expect(screen.queryByTestId("node-for-loop-2/50")).toBeNull();
    fireEvent.click(screen.getByTestId("page-next-for-loop-2"));
    await screen.findByTestId("node-for-loop-2/50");

    fireEvent.click(screen.getByTestId("toggle-for-loop-2/50"));
    // Its band: square, and the task after it that has no record yet.
    const square = await screen.findByTestId("band:for-loop-2/50/square");
    expect(square.textContent).toContain("1 succeeded");
    expect(square.textContent).toContain("1 pending");
    expect(container.querySelectorAll(".react-flow__node").length).toBeLessThan(100);

    // A state change: same DOM node, new state.
    const running = loopTasks(1000, (i) => (i === 50 ? "RUNNING" : "SUCCEEDED"));
    await act(async () => rerender(<RunGraph spec={spec(bigLoopSpec)} tasks={running} />));
    const after = screen.getByTestId("band:for-loop-2/50/square");
    expect(after).toBe(square);
    expect(after.textContent).toContain("1 running");
    expect(after.textContent).not.toContain("succeeded");
  });

  it("shows a static pipeline as not started", async () => {
    render(<RunGraph spec={spec(conditionsSpec)} />);
    const coin = await screen.findByTestId("node-flip-coin");
    expect(coin.getAttribute("data-state")).toBe("NOT_STARTED");
  });
});
