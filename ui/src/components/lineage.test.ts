import { describe, expect, it } from "vitest";
import type { Artifact, TaskRef } from "../api/types";
import { buildLineage } from "./lineage";

const task = (name: string, key: string): TaskRef => ({ task_id: `id-${name}`, run_id: "run", path: name, key });

function artifact(name: string, producer?: TaskRef, consumers: TaskRef[] = []): Artifact {
  return { artifact_id: `a-${name}`, run_id: "run", name, uri: `file:///${name}`, schema_title: "system.Dataset", producer, consumers };
}

// source -> raw -> refine -> refined -> polish -> polished -> count
//                                    \-> report
const raw = artifact("raw", task("source", "raw"), [task("refine", "data")]);
const refined = artifact("refined", task("refine", "refined"), [task("polish", "refined"), task("report", "refined")]);
const polished = artifact("polished", task("polish", "polished"), [task("count", "table")]);
const unrelated = artifact("other", task("elsewhere", "other"));
const all = [raw, refined, polished, unrelated];

describe("buildLineage", () => {
  it("walks several steps up and down, left to right", () => {
    const graph = buildLineage(refined, all);
    const columns = Object.fromEntries(graph.nodes.map((n) => [n.label, n.column]));
    expect(columns).toEqual({ source: -3, raw: -2, refine: -1, refined: 0, polish: 1, report: 1, polished: 2, count: 3 });
    const edges = graph.edges.map((e) => `${e.source} > ${e.target}${e.label ? ` (${e.label})` : ""}`).sort();
    expect(edges).toEqual(
      [
        "task:id-source > artifact:a-raw",
        "artifact:a-raw > task:id-refine (data)",
        "task:id-refine > artifact:a-refined",
        "artifact:a-refined > task:id-polish",
        "artifact:a-refined > task:id-report",
        "task:id-polish > artifact:a-polished",
        "artifact:a-polished > task:id-count (table)",
      ].sort(),
    );
    expect(graph.nodes.find((n) => n.label === "report")?.row).toBe(1); // below polish
  });

  it("stops after the given number of steps", () => {
    const graph = buildLineage(refined, all, 1);
    expect(graph.nodes.map((n) => n.label).sort()).toEqual(["polish", "polished", "raw", "refine", "refined", "report"]);
  });

  it("shows the artifact alone when nothing made or read it", () => {
    const graph = buildLineage(artifact("lonely"), []);
    expect(graph.nodes.map((n) => [n.label, n.column])).toEqual([["lonely", 0]]);
    expect(graph.edges).toEqual([]);
  });
});
