import { describe, expect, it } from "vitest";
import type { GraphEdge, GraphNodeData } from "./model";
import type { PositionedNode } from "./layout";
import { bandGraph, bandStates, shortRange } from "./lod";

const task = (id: string, y: number, state = "SUCCEEDED", parentId?: string): PositionedNode => ({
  id,
  parentId,
  x: 0,
  y,
  width: 220,
  height: 60,
  data: { path: id, taskName: id, label: id, kind: "container", state, isGroup: false, expanded: false, aggregate: false } as GraphNodeData,
});
const edge = (source: string, target: string): GraphEdge => ({ id: `${source}->${target}`, source, target, kind: "dependency" });

describe("bandGraph", () => {
  it("makes one band per chain, splitting where a task has two upstreams or downstreams", () => {
    // a -> b -> c, then c -> d and c -> e (a fork), and d -> f.
    const nodes = ["a", "b", "c", "d", "e", "f"].map((id, i) => task(id, i * 100));
    const edges = [edge("a", "b"), edge("b", "c"), edge("c", "d"), edge("c", "e"), edge("d", "f")];
    const g = bandGraph(nodes, edges);
    expect(g.bands.map((b) => b.members)).toEqual([["a", "b", "c"], ["d", "f"], ["e"]]);
    expect(g.bands[0]).toMatchObject({ id: "band:a", y: 0, height: 260, label: "a … c" });
    expect(g.edges.map((e) => e.id).sort()).toEqual(["band:a->band:d", "band:a->band:e"]);
  });

  it("counts a band's states as they are now", () => {
    const g = bandGraph([task("a", 0), task("b", 100)], [edge("a", "b")]);
    const now: Record<string, string> = { a: "SUCCEEDED", b: "RUNNING" };
    expect(bandStates(g.bands[0]!, (p) => now[p])).toEqual({ counts: { SUCCEEDED: 1, RUNNING: 1 }, state: "RUNNING" });
  });
});

describe("shortRange", () => {
  it("says what two names share once, never splitting a number", () => {
    expect(shortRange("chain-2-step-0", "chain-2-step-3")).toBe("chain-2-step-0…3");
    expect(shortRange("a-12", "a-15")).toBe("a-12…15");
    expect(shortRange("x", "y")).toBe("x … y");
  });
});
