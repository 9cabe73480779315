import { describe, expect, it } from "vitest";
import { fitViewport, MIN_FIT_ZOOM } from "./RunGraph";

describe("fitViewport", () => {
  it("shows all of a graph that fits at a readable zoom, centred", () => {
    const v = fitViewport({ width: 1000, height: 700 }, { width: 1900, height: 600 });
    expect(v.zoom).toBeCloseTo(0.5);
    expect(v.x).toBeCloseTo((1000 - 1900 * v.zoom) / 2);
  });

  it("never enlarges a small graph past 1.2", () => {
    expect(fitViewport({ width: 1000, height: 700 }, { width: 200, height: 100 }).zoom).toBe(1.2);
  });

  it("shows the top of a graph too big to fit, at the minimum zoom", () => {
    const v = fitViewport({ width: 1000, height: 700 }, { width: 3000, height: 20_000 });
    expect(v.zoom).toBe(MIN_FIT_ZOOM);
    expect(v.x).toBeCloseTo((1000 - 3000 * MIN_FIT_ZOOM) / 2);
    expect(v.y).toBeGreaterThan(0);
  });
});
