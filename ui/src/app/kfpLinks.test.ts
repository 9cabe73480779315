import { describe, expect, it } from "vitest";

import { kfpLinkTarget } from "./kfpLinks";

describe("KFP UI links", () => {
  it("open the matching run, experiment and pipeline pages", () => {
    expect(kfpLinkTarget("#/runs/details/3d60")).toBe("/runs/3d60");
    expect(kfpLinkTarget("#/experiments/details/e1")).toBe("/experiments/e1");
    expect(kfpLinkTarget("#/pipelines/details/p1")).toBe("/pipelines/p1");
    expect(kfpLinkTarget("#/pipelines/details/p1/version/v2")).toBe("/pipelines/p1?version=v2");
  });

  it("open the lists, the archive, recurring runs and run comparison", () => {
    expect(kfpLinkTarget("#/runs")).toBe("/runs");
    expect(kfpLinkTarget("#/experiments/")).toBe("/experiments");
    expect(kfpLinkTarget("#/pipelines")).toBe("/pipelines");
    expect(kfpLinkTarget("#/recurringruns")).toBe("/recurring");
    expect(kfpLinkTarget("#/recurringrun/details/j1")).toBe("/recurring");
    expect(kfpLinkTarget("#/archive/runs")).toBe("/archive");
    expect(kfpLinkTarget("#/compare?runlist=a,b")).toBe("/compare?runs=a,b");
    expect(kfpLinkTarget("#/compare")).toBe("/compare");
  });

  it("keep ids as one encoded path segment", () => {
    expect(kfpLinkTarget("#/runs/details/a%20b")).toBe("/runs/a%20b");
    expect(kfpLinkTarget("#/runs/details/a%2Fb")).toBeNull();
    expect(kfpLinkTarget("#/runs/details/%E0%A4%A")).toBeNull();
  });

  it("leave other hashes alone", () => {
    expect(kfpLinkTarget("")).toBeNull();
    expect(kfpLinkTarget("#section")).toBeNull();
    expect(kfpLinkTarget("#/runs/details/")).toBeNull();
    expect(kfpLinkTarget("#/runs/details/a/b")).toBeNull();
    expect(kfpLinkTarget("#/settings")).toBeNull();
  });
});
