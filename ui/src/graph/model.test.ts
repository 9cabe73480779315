import { describe, expect, it } from "vitest";
import { iterationRequests, withIterationTasks } from "../api/outline";
import type { PipelineSpec, Task, TaskOutline } from "../api/types";
import { aggregateState, buildGraph, DEFAULT_PAGE_SIZE, taskState, type GraphModel } from "./model";
import { layoutGraph } from "./layout";
import bigLoopSpec from "./fixtures/big_loop.spec.json";
import conditionsSpec from "./fixtures/dy_conditions.spec.json";
import conditionsTasks from "./fixtures/dy_conditions.tasks.json";
import loopsSpec from "./fixtures/dy_loops_dynamic.spec.json";
import loopsTasks from "./fixtures/dy_loops_dynamic.tasks.json";
import exitSpec from "./fixtures/dy_exit_handler.spec.json";
import exitTasks from "./fixtures/dy_exit_handler_failed.tasks.json";
import subdagSpec from "./fixtures/dy_subdag.spec.json";
import subdagTasks from "./fixtures/dy_subdag_cached.tasks.json";
import importerSpec from "./fixtures/dy_importer.spec.json";
import bcSpec from "./fixtures/breast_cancer.spec.json";

const spec = (s: unknown) => s as PipelineSpec;
const recs = (t: unknown) => t as Task[];
const node = (m: GraphModel, id: string) => {
  const n = m.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}; have ${m.nodes.map((x) => x.id).join(", ")}`);
  return n;
};
const ids = (m: GraphModel) => m.nodes.map((n) => n.id).sort();

/** Task records of a big_loop run in the format real runs use: 51 steps, the loop, and
 * 1,000 iterations each with square and check. Iteration states from `stateOf(i)`. */
function bigLoopTasks(stateOf: (i: number) => string): Task[] {
  const out: Task[] = [];
  let id = 0;
  const add = (t: Omit<Task, "task_id" | "run_id" | "attempts">) => {
    const task = { task_id: `t${id++}`, run_id: "r1", attempts: 1, ...t };
    out.push(task);
    return task;
  };
  const steps = ["step", ...Array.from({ length: 50 }, (_, i) => `step-${i + 2}`)];
  for (const s of steps) add({ path: s, name: s, kind: "container", state: "SUCCEEDED" });
  const loop = add({ path: "for-loop-2", name: "for-loop-2", kind: "loop", state: "RUNNING" });
  for (let i = 0; i < 1000; i++) {
    const state = stateOf(i);
    const it = add({
      path: `for-loop-2/${i}`,
      name: `for-loop-2-${i}`,
      kind: "dag",
      iteration_index: i,
      parent_task_id: loop.task_id,
      state,
    });
    add({
      path: `for-loop-2/${i}/square`,
      name: "square",
      kind: "container",
      iteration_index: i,
      parent_task_id: it.task_id,
      state: state === "FAILED" ? "SUCCEEDED" : state,
    });
    if (state !== "RUNNING")
      add({
        path: `for-loop-2/${i}/check`,
        name: "check",
        kind: "container",
        iteration_index: i,
        parent_task_id: it.task_id,
        state,
      });
  }
  return out;
}
const bigStates = (i: number) => (i === 500 ? "FAILED" : i === 999 ? "RUNNING" : "SUCCEEDED");

describe("buildGraph: a loop of 1,000 iterations and 51 other tasks", () => {
  const tasks = bigLoopTasks(bigStates);

  it("is one loop node when collapsed, with per-state iteration counts", () => {
    expect(tasks.length).toBeGreaterThan(3000);
    const m = buildGraph(spec(bigLoopSpec), tasks, new Set());
    expect(m.nodes.length).toBeLessThan(100);
    expect(m.nodes.length).toBe(52);
    const loop = node(m, "for-loop-2").data;
    expect(loop.kind).toBe("loop");
    expect(loop.isGroup).toBe(true);
    expect(loop.expanded).toBe(false);
    expect(loop.iterationCount).toBe(1000);
    expect(loop.counts).toEqual({ SUCCEEDED: 998, RUNNING: 1, FAILED: 1 });
    expect(loop.state).toBe("RUNNING");
    expect(loop.taskId).toBeDefined();
  });

  it("expanded, shows the body once with aggregate states and one page of iterations", () => {
    const m = buildGraph(spec(bigLoopSpec), tasks, new Set(["for-loop-2"]));
    expect(m.nodes.length).toBeLessThan(100);
    const sq = node(m, "for-loop-2/*/square").data;
    expect(sq.aggregate).toBe(true);
    expect(sq.taskId).toBeUndefined();
    expect(sq.counts).toEqual({ SUCCEEDED: 1000 - 1, RUNNING: 1 });
    expect(sq.state).toBe("RUNNING");
    const check = node(m, "for-loop-2/*/check").data;
    expect(check.counts).toEqual({ SUCCEEDED: 998, FAILED: 1 });
    expect(check.state).toBe("FAILED");
    expect(node(m, "for-loop-2/*").parentId).toBe("for-loop-2");
    expect(node(m, "for-loop-2/*/square").parentId).toBe("for-loop-2/*");
    expect(m.edges.map((e) => e.id)).toContain("for-loop-2/*/square->for-loop-2/*/check");

    const list = node(m, "for-loop-2/#iterations").data.iterations!;
    expect(list.total).toBe(1000);
    expect(list.pageCount).toBe(20);
    expect(list.items).toHaveLength(50);
    expect(list.items[0]).toMatchObject({ index: 0, path: "for-loop-2/0", state: "SUCCEEDED" });
  });

  it("pages through iterations and expands single ones with their real states", () => {
    const m = buildGraph(
      spec(bigLoopSpec),
      tasks,
      new Set(["for-loop-2", "for-loop-2/500", "for-loop-2/999"]),
      { iterationPages: { "for-loop-2": 10 } },
    );
    const list = node(m, "for-loop-2/#iterations").data.iterations!;
    expect(list.page).toBe(10);
    expect(list.items[0]!.index).toBe(500);
    expect(list.items[0]).toMatchObject({ state: "FAILED", expanded: true });
    expect(node(m, "for-loop-2/500").data).toMatchObject({ kind: "iteration", state: "FAILED", label: "Iteration 500" });
    expect(node(m, "for-loop-2/500/check").data).toMatchObject({ state: "FAILED", aggregate: false });
    expect(node(m, "for-loop-2/500/check").data.taskId).toBeDefined();
    expect(node(m, "for-loop-2/999/check").data.state).toBe("PENDING");
    expect(node(m, "for-loop-2/999/square").data.state).toBe("RUNNING");
    expect(m.nodes.length).toBeLessThan(100);
  });

  it("counts iterations not created yet as pending (static item count)", () => {
    const some = bigLoopTasks(() => "SUCCEEDED").filter((t) => {
      const m = /^for-loop-2\/(\d+)/.exec(t.path);
      return !m || Number(m[1]) < 10;
    });
    const loop = node(buildGraph(spec(bigLoopSpec), some, new Set()), "for-loop-2").data;
    expect(loop.iterationCount).toBe(1000);
    expect(loop.counts).toEqual({ SUCCEEDED: 10, PENDING: 990 });
  });

  it("keeps its structureKey across state changes", () => {
    const a = buildGraph(spec(bigLoopSpec), tasks, new Set(["for-loop-2"]));
    const b = buildGraph(spec(bigLoopSpec), bigLoopTasks(() => "SUCCEEDED"), new Set(["for-loop-2"]));
    expect(b.structureKey).toBe(a.structureKey);
    const c = buildGraph(spec(bigLoopSpec), tasks, new Set(["for-loop-2", "for-loop-2/3"]));
    expect(c.structureKey).not.toBe(a.structureKey);
  });

  it("lays out the 1,051-task model, collapsed and expanded", async () => {
    for (const expanded of [new Set<string>(), new Set(["for-loop-2", "for-loop-2/7"])]) {
      const m = buildGraph(spec(bigLoopSpec), tasks, expanded);
      const out = await layoutGraph(m);
      expect(out.nodes).toHaveLength(m.nodes.length);
      for (const n of out.nodes) {
        expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
        expect(n.width).toBeGreaterThan(0);
        expect(n.height).toBeGreaterThan(0);
      }
      // A chain top to bottom.
      const y = (id: string) => out.nodes.find((n) => n.id === id)!.y;
      expect(y("step-3")).toBeGreaterThan(y("step-2"));
      if (expanded.size) {
        const loop = out.nodes.find((n) => n.id === "for-loop-2")!;
        const body = out.nodes.find((n) => n.id === "for-loop-2/*")!;
        expect(loop.width).toBeGreaterThanOrEqual(body.x + body.width);
        expect(loop.height).toBeGreaterThanOrEqual(body.y + body.height);
      }
    }
  });
});

describe("buildGraph: real IR and runs", () => {
  it("draws edges from dependentTasks", () => {
    const m = buildGraph(spec(bigLoopSpec), undefined, new Set());
    const e = m.edges.map((x) => x.id);
    expect(e).toContain("step->step-2");
    expect(e).toContain("step-49->step-50");
    expect(e).toHaveLength(49);
    for (const n of m.nodes) expect(n.data.state).toBe("NOT_STARTED");
    expect(node(m, "for-loop-2").data.iterationCount).toBe(1000);
  });

  it("falls back to input producers without dependentTasks", () => {
    const s = structuredClone(conditionsSpec) as unknown as PipelineSpec;
    delete s.root!.dag!.tasks!["condition-9"]!.dependentTasks;
    const m = buildGraph(s, undefined, new Set());
    expect(m.edges.map((x) => x.id)).toContain("flip-coin->condition-9");
  });

  it("shows conditions that did not fire as SKIPPED, and their contents too", () => {
    const all = new Set([
      "condition-branches-1",
      "condition-branches-1/condition-5",
      "condition-branches-1/condition-6",
      "condition-branches-1/condition-7",
      "condition-branches-1/condition-5/condition-branches-2",
    ]);
    const m = buildGraph(spec(conditionsSpec), recs(conditionsTasks), all);
    expect(node(m, "flip-coin").data).toMatchObject({ kind: "container", state: "SUCCEEDED" });
    expect(node(m, "condition-branches-1").data).toMatchObject({ kind: "branches", state: "SUCCEEDED" });
    expect(node(m, "condition-branches-1/condition-5").data).toMatchObject({ kind: "condition", state: "SUCCEEDED" });
    expect(node(m, "condition-branches-1/condition-5").data.condition).toContain("heads");
    expect(node(m, "condition-branches-1/condition-6").data.state).toBe("SKIPPED");
    // No records under a skipped branch: its tasks are skipped too, not pending.
    expect(node(m, "condition-branches-1/condition-6/train-family-2").data.state).toBe("SKIPPED");
    expect(node(m, "condition-branches-1/condition-5/condition-branches-2/condition-4").data.state).toBe("SKIPPED");
    expect(node(m, "condition-branches-1/condition-5/condition-branches-2").parentId).toBe(
      "condition-branches-1/condition-5",
    );
    // A collapsed group counts the tasks inside.
    expect(node(m, "condition-9").data).toMatchObject({ expanded: false, counts: { SUCCEEDED: 1 }, countsOf: "tasks" });
    expect(m.edges.map((e) => e.id)).toEqual(
      expect.arrayContaining(["flip-coin->condition-branches-1", "flip-coin->condition-9"]),
    );
  });

  it("nests pipelines in pipelines, with cache hits shown as CACHED", () => {
    const m0 = buildGraph(spec(subdagSpec), recs(subdagTasks), new Set());
    expect(ids(m0)).toEqual(["announce", "count-preprocessed", "preprocess", "train-and-score"]);
    expect(node(m0, "preprocess").data).toMatchObject({ kind: "pipeline", isGroup: true, counts: { CACHED: 2 } });
    expect(node(m0, "count-preprocessed").data.counts).toEqual({ CACHED: 3 });
    expect(node(m0, "announce").data.state).toBe("CACHED");
    expect(m0.edges.map((e) => e.id).sort()).toEqual([
      "count-preprocessed->announce",
      "preprocess->train-and-score",
      "train-and-score->announce",
    ]);

    const m = buildGraph(
      spec(subdagSpec),
      recs(subdagTasks),
      new Set(["count-preprocessed", "count-preprocessed/preprocess"]),
    );
    expect(node(m, "count-preprocessed/preprocess/normalise").data).toMatchObject({
      state: "CACHED",
      taskName: "normalise",
      componentName: "comp-normalise",
    });
    expect(node(m, "count-preprocessed/preprocess/normalise").parentId).toBe("count-preprocessed/preprocess");
    expect(m.edges.map((e) => e.id)).toContain(
      "count-preprocessed/preprocess/load-rows->count-preprocessed/preprocess/normalise",
    );
    expect(m.edges.find((e) => e.target === "count-preprocessed/preprocess/normalise")?.parentId).toBe(
      "count-preprocessed/preprocess",
    );
  });

  it("marks exit handler groups and exit tasks", () => {
    const m = buildGraph(spec(exitSpec), recs(exitTasks), new Set(["exit-handler-1"]));
    expect(node(m, "exit-handler-1").data).toMatchObject({ kind: "exit-handler", label: "train", state: "FAILED" });
    expect(node(m, "exit-handler-1").data.counts).toEqual({ FAILED: 1, SKIPPED: 1 });
    expect(node(m, "exit-handler-1/validate").data.state).toBe("SKIPPED");
    expect(node(m, "notify").data).toMatchObject({ exitTask: true, state: "SUCCEEDED" });
    expect(m.edges.find((e) => e.id === "exit-handler-1->notify")?.kind).toBe("exit");
  });

  it("counts a live loop's items from its record when only some iterations are open", () => {
    const items = Array.from({ length: 2000 }, (_, i) => `shard-${i}`);
    const opened = recs(loopsTasks)
      .filter((t) => !/^for-loop-1\/[1-9]/.test(t.path))
      .map((t) =>
        t.path === "for-loop-1"
          ? { ...t, state: "RUNNING", inputs: { parameters: { "pipelinechannel--plan-shards-Output": items } } }
          : t,
      );
    const loop = node(buildGraph(spec(loopsSpec), opened, new Set()), "for-loop-1").data;
    expect(loop.iterationCount).toBe(2000);
    expect(loop.counts).toEqual({ SUCCEEDED: 1, PENDING: 1999 });
  });

  it("aggregates nested loops over task outputs", () => {
    const m = buildGraph(
      spec(loopsSpec),
      recs(loopsTasks),
      new Set(["for-loop-1", "for-loop-1/*/for-loop-3", "for-loop-1/1", "for-loop-1/1/for-loop-3"]),
    );
    expect(node(m, "for-loop-1").data).toMatchObject({ kind: "loop", iterationCount: 3, counts: { SUCCEEDED: 3 } });
    // The inner loop, once for all outer iterations: 3 x 2 iterations.
    expect(node(m, "for-loop-1/*/for-loop-3").data).toMatchObject({ aggregate: true, iterationCount: 6 });
    expect(node(m, "for-loop-1/*/for-loop-3/*/process-shard").data.counts).toEqual({ SUCCEEDED: 6 });
    // Within outer iteration 1, its inner loop aggregates its own 2 iterations.
    expect(node(m, "for-loop-1/1/for-loop-3").data).toMatchObject({ aggregate: false, iterationCount: 2 });
    expect(node(m, "for-loop-1/1/for-loop-3/*/process-shard").data.counts).toEqual({ SUCCEEDED: 2 });
    expect(node(m, "for-loop-1/1/for-loop-3/#iterations").data.iterations!.items.map((i) => i.path)).toEqual([
      "for-loop-1/1/for-loop-3/0",
      "for-loop-1/1/for-loop-3/1",
    ]);
    // No iteration list for an aggregate loop.
    expect(m.nodes.find((n) => n.id === "for-loop-1/*/for-loop-3/#iterations")).toBeUndefined();
    expect(m.edges.map((e) => e.id)).toContain("plan-shards->for-loop-1");
  });

  it("counts a task's warnings on its node, and gives none to a task without", () => {
    const tasks = recs(conditionsTasks).map((t) =>
      t.path === "flip-coin" ? { ...t, warnings: ["Pod labels a=b (add_pod_label)", "Tolerations (add_toleration)"] } : t,
    );
    const m = buildGraph(spec(conditionsSpec), tasks, new Set());
    expect(node(m, "flip-coin").data.warnings).toBe(2);
    expect(node(m, "condition-branches-1").data.warnings).toBeUndefined();
  });

  it("is PENDING without a record in a live run, NOT_STARTED in a static view", () => {
    const live = buildGraph(spec(bcSpec), [], new Set());
    const stat = buildGraph(spec(bcSpec), undefined, new Set());
    expect(live.nodes.length).toBeGreaterThan(0);
    for (const n of live.nodes) expect(n.data.state).toBe("PENDING");
    for (const n of stat.nodes) expect(n.data.state).toBe("NOT_STARTED");
    expect(live.structureKey).toBe(stat.structureKey);
  });

  it("knows importers, and unwraps {pipeline_spec}", () => {
    const m = buildGraph({ pipeline_spec: spec(importerSpec) }, undefined, new Set());
    expect(m.nodes.some((n) => n.data.kind === "importer")).toBe(true);
  });

  it("lays out every fixture with all groups expanded", async () => {
    for (const s of [conditionsSpec, loopsSpec, exitSpec, subdagSpec, bcSpec]) {
      let expanded = new Set<string>();
      // Expand every group, level by level.
      for (let i = 0; i < 6; i++) {
        const m = buildGraph(spec(s), undefined, expanded);
        expanded = new Set(m.nodes.filter((n) => n.data.isGroup).map((n) => n.id));
      }
      const m = buildGraph(spec(s), undefined, expanded);
      const out = await layoutGraph(m);
      expect(out.nodes.every((n) => n.width > 0 && n.height > 0)).toBe(true);
    }
  });
});

describe("aggregateState", () => {
  it("orders running, failed, pending and finished outcomes", () => {
    expect(aggregateState({ SUCCEEDED: 3, RUNNING: 1, FAILED: 1 }, "PENDING")).toBe("RUNNING");
    expect(aggregateState({ SUCCEEDED: 3, FAILED: 1 }, "PENDING")).toBe("FAILED");
    expect(aggregateState({ SUCCEEDED: 3, PENDING: 1 }, "PENDING")).toBe("RUNNING");
    expect(aggregateState({ PENDING: 2 }, "PENDING")).toBe("PENDING");
    expect(aggregateState({ CACHED: 2 }, "PENDING")).toBe("CACHED");
    expect(aggregateState({ CACHED: 2, SUCCEEDED: 1, SKIPPED: 1 }, "PENDING")).toBe("SUCCEEDED");
    expect(aggregateState({ SKIPPED: 2 }, "PENDING")).toBe("SKIPPED");
    expect(aggregateState({}, "NOT_STARTED")).toBe("NOT_STARTED");
  });
});

/** What the server's outline says of `tasks` (its definition, by brute force): patterns
 * with `*` for iteration indexes, state counts by pattern, leaf states below each pattern. */
function outlineOf(tasks: Task[]): TaskOutline {
  const byPath = new Map(tasks.map((t) => [t.path, t]));
  const isIteration = (t: Task) => {
    const cut = t.path.lastIndexOf("/");
    const parent = cut < 0 ? undefined : byPath.get(t.path.slice(0, cut));
    return parent ? parent.kind === "loop" : t.kind === "dag" && /\/\d+$/.test(t.path);
  };
  const patternOf = (path: string) => {
    const segs = path.split("/");
    return segs.map((seg, i) => (isIteration(byPath.get(segs.slice(0, i + 1).join("/")) ?? ({ path, kind: "container" } as Task)) ? "*" : seg)).join("/");
  };
  const counts: Record<string, Record<string, number>> = {};
  const leaves: Record<string, Record<string, number>> = {};
  const bump = (into: Record<string, Record<string, number>>, key: string, state: string) => {
    const c = (into[key] ??= {});
    c[state] = (c[state] ?? 0) + 1;
  };
  for (const t of tasks) {
    const state = taskState(t);
    const pattern = patternOf(t.path);
    bump(counts, pattern, state);
    if (t.kind !== "container" && t.kind !== "importer") continue;
    const segs = pattern.split("/");
    for (let i = 1; i < segs.length; i++) bump(leaves, segs.slice(0, i).join("/"), state);
  }
  const left_out = tasks.filter((t) => patternOf(t.path).includes("*") && t.state !== "FAILED").length;
  return { complete: false, left_out, counts, leaves };
}

/** The records a page of a big run holds: the outline's selection (outside iterations, and
 * failed ones), and those `iterationRequests` asks for. */
function outlinedRecords(tasks: Task[], outline: TaskOutline, expanded: string[], pages: Record<string, number>): Task[] {
  const starred = (path: string) => {
    const known = Object.keys(outline.counts ?? {});
    // A record is outside iterations when its own path is a pattern.
    return !known.includes(path);
  };
  const shown = tasks.filter((t) => !starred(t.path) || t.state === "FAILED");
  const extra: Task[] = [];
  for (const r of iterationRequests(outline, expanded, pages, DEFAULT_PAGE_SIZE)) {
    if ("under" in r) extra.push(...tasks.filter((t) => t.path === r.under || t.path.startsWith(`${r.under}/`)));
    else
      extra.push(
        ...tasks.filter(
          (t) =>
            t.path.startsWith(`${r.parent}/`) &&
            !t.path.slice(r.parent.length + 1).includes("/") &&
            (t.iteration_index ?? -1) >= r.from_index &&
            (t.iteration_index ?? -1) < r.to_index,
        ),
      );
  }
  return withIterationTasks(shown, extra);
}

describe("buildGraph from a big run's outline", () => {
  const drawn = (m: GraphModel) =>
    m.nodes.map((n) => ({
      id: n.id,
      state: n.data.state,
      counts: n.data.counts,
      iterationCount: n.data.iterationCount,
      chips: n.data.iterations?.items.map((c) => `${c.index}:${c.state}`),
    }));
  const cases: [string, PipelineSpec, Task[], string[][]][] = [
    [
      "a loop of 1,000 iterations",
      spec(bigLoopSpec),
      bigLoopTasks(bigStates),
      [[], ["for-loop-2"], ["for-loop-2", "for-loop-2/500"], ["for-loop-2", "for-loop-2/999", "for-loop-2/3"]],
    ],
    [
      "loops in loop iterations",
      spec(loopsSpec),
      recs(loopsTasks),
      [
        [],
        ["for-loop-1", "for-loop-4"],
        ["for-loop-1", "for-loop-1/*/for-loop-3"],
        ["for-loop-1", "for-loop-1/1", "for-loop-1/1/for-loop-3", "for-loop-1/1/for-loop-3/0"],
      ],
    ],
  ];
  for (const [name, s, tasks, expansions] of cases) {
    it(`draws ${name} as its full records do`, () => {
      const outline = outlineOf(tasks);
      for (const expanded of expansions) {
        for (const pages of [{}, { "for-loop-2": 10 }] as Record<string, number>[]) {
          const open = new Set(expanded);
          const options = { iterationPages: pages };
          const full = buildGraph(s, tasks, open, options);
          const some = outlinedRecords(tasks, outline, expanded, pages);
          expect(some.length).toBeLessThan(tasks.length);
          const outlined = buildGraph(s, some, open, { ...options, outline });
          expect(drawn(outlined)).toEqual(drawn(full));
        }
      }
    });
  }

  it("counts from the records when the outline is complete", () => {
    const tasks = bigLoopTasks(bigStates);
    const withOutline = buildGraph(spec(bigLoopSpec), tasks, new Set(["for-loop-2"]), { outline: { complete: true } });
    expect(drawn(withOutline)).toEqual(drawn(buildGraph(spec(bigLoopSpec), tasks, new Set(["for-loop-2"]))));
  });
});
