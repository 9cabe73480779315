import { describe, expect, it } from "vitest";
import { isReadablePipelineFile, pipelineFileInfo } from "./pipelineFile";

describe("pipelineFileInfo", () => {
  it("reads the name and description of a compiled YAML", () => {
    const text = [
      "# PIPELINE DEFINITION",
      "# Name: train",
      "pipelineInfo:",
      "  name: train",
      "  description: Trains **a model**.",
      "root: {}",
    ].join("\n");
    expect(pipelineFileInfo(text)).toEqual({ name: "train", description: "Trains **a model**." });
  });

  it("looks past documents without pipelineInfo and reads JSON", () => {
    expect(pipelineFileInfo("platforms: {}\n---\npipelineInfo:\n  name: second\n")).toEqual({
      name: "second",
      description: "",
    });
    expect(pipelineFileInfo('{"pipelineInfo": {"name": "as-json", "description": "d"}}')).toEqual({
      name: "as-json",
      description: "d",
    });
  });

  it("gives nothing for text that is no pipeline", () => {
    expect(pipelineFileInfo("")).toBeUndefined();
    expect(pipelineFileInfo("just: [a, list")).toBeUndefined();
    expect(pipelineFileInfo("components: {}\n")).toBeUndefined();
  });

  it("reads YAML and JSON files, not archives", () => {
    expect(["a.yaml", "b.YML", "c.json"].map(isReadablePipelineFile)).toEqual([true, true, true]);
    expect(["d.zip", "e.tar.gz", "f.tgz"].map(isReadablePipelineFile)).toEqual([false, false, false]);
  });
});
