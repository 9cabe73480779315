import { gzipSync, strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { pipelineFileInfo, pipelineFileText } from "./pipelineFile";

/** A tar archive of `files` (name -> text), with only the header fields read back. */
function tar(files: Record<string, string>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, text] of Object.entries(files)) {
    const header = new Uint8Array(512);
    const body = strToU8(text);
    header.set(strToU8(name), 0);
    header.set(strToU8(body.length.toString(8).padStart(11, "0")), 124);
    header.set(strToU8("0"), 156);
    const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
    padded.set(body);
    blocks.push(header, padded);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

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

  it("finds the one pipeline file of a file or a package, as the server does", () => {
    const spec = "pipelineInfo:\n  name: packed\n";
    expect(pipelineFileText("a.yaml", strToU8(spec))).toBe(spec);
    expect(pipelineFileText("p.zip", zipSync({ "README.md": strToU8("hi"), "dir/pipeline.yaml": strToU8(spec) }))).toBe(spec);
    expect(pipelineFileText("p.tar.gz", gzipSync(tar({ "notes.txt": "x".repeat(700), "pipeline.json": spec })))).toBe(spec);
    expect(pipelineFileText("p.tgz", gzipSync(tar({ "one.yaml": spec, "two.yaml": spec })))).toBeUndefined();
    expect(pipelineFileText("p.zip", strToU8("not a zip"))).toBeUndefined();
    expect(pipelineFileText("notes.txt", strToU8(spec))).toBeUndefined();
  });
});
