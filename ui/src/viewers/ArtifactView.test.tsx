import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Artifact } from "../api/types";
import { ArtifactView, DATASET_PREVIEW_BYTES, PARQUET_PREVIEW_MAX_BYTES } from "./ArtifactView";
import type { ArtifactLoader, ByteRange } from "./ArtifactView";
import { bytesOf, parquetFixture } from "./testBytes";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function artifact(schema_title: string, extra: Partial<Artifact> = {}): Artifact {
  return {
    artifact_id: `a-${schema_title}`,
    run_id: "r1",
    name: "out",
    uri: `s3://bucket/r1/train/out`,
    schema_title,
    ...extra,
  };
}

/** A `load` that serves fixed bytes (honouring the limit) and records its calls. */
function loader(bytes: ArrayBuffer) {
  const calls: (ByteRange | undefined)[] = [];
  const load: ArtifactLoader = (_artifact, range) => {
    calls.push(range);
    const end = range?.limit === undefined ? bytes.byteLength : (range.offset ?? 0) + range.limit;
    return Promise.resolve(bytes.slice(range?.offset ?? 0, end));
  };
  return { load, calls };
}

describe("ArtifactView dispatches by schema_title", () => {
  it("system.Metrics: the metrics table, without fetching", () => {
    const { load, calls } = loader(bytesOf(""));
    const { container } = render(
      <ArtifactView artifact={artifact("system.Metrics", { metadata: { b: 2, a: 0.123456 } })} load={load} />,
    );
    const rows = [...container.querySelectorAll("tbody tr")].map((tr) => tr.textContent);
    expect(rows).toEqual(["a0.1235", "b2"]);
    expect(calls).toEqual([]);
    expect(screen.getByText("s3://bucket/r1/train/out")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Download" })).toBeTruthy();
  });

  it("system.ClassificationMetrics: the confusion matrix and the ROC curve", async () => {
    const { load } = loader(bytesOf(""));
    const metadata = {
      confusionMatrix: {
        annotationSpecs: [{ displayName: "neg" }, { displayName: "pos" }],
        rows: [{ row: [9, 1] }, { row: [2, 8] }],
      },
      confidenceMetrics: [
        { confidenceThreshold: 0.5, recall: 0.8, falsePositiveRate: 0.1 },
        { confidenceThreshold: 0, recall: 1, falsePositiveRate: 1 },
      ],
    };
    const { container } = render(
      <ArtifactView artifact={artifact("system.ClassificationMetrics", { metadata })} load={load} />,
    );
    expect(screen.getByTitle("actual pos, predicted neg: 2").textContent).toBe("2");
    // The chart library loads the first time a curve is drawn.
    await waitFor(() => expect(container.querySelector(".dy-viewer-roc svg")).not.toBeNull());
  });

  it("system.Markdown: loads and renders it", async () => {
    const { load, calls } = loader(bytesOf("# Summary\n\n<script>bad()</script>"));
    const { container } = render(<ArtifactView artifact={artifact("system.Markdown")} load={load} />);
    expect(screen.getByText("Loading…")).toBeTruthy();
    expect((await screen.findByRole("heading", { name: "Summary" })).tagName).toBe("H1");
    expect(container.querySelector("script")).toBeNull();
    expect(calls).toEqual([undefined]);
  });

  it("system.HTML: loads it into a sandboxed frame", async () => {
    const { load } = loader(bytesOf("<p>hello</p>"));
    render(<ArtifactView artifact={artifact("system.HTML")} load={load} />);
    const frame = await screen.findByTitle("HTML artifact out");
    expect(frame.getAttribute("sandbox")).toBe("allow-scripts");
    expect(frame.getAttribute("srcdoc")).toBe("<p>hello</p>");
  });

  it("system.Dataset: previews the first 2 MiB", async () => {
    const { load, calls } = loader(bytesOf("x,y\n1,2\n3,4\n"));
    render(<ArtifactView artifact={artifact("system.Dataset", { uri: "s3://b/r1/prep/data.csv" })} load={load} />);
    await screen.findByText(/CSV · 2 rows/);
    expect(calls).toEqual([{ offset: 0, limit: DATASET_PREVIEW_BYTES }]);
  });

  it("system.Dataset: a .parquet file is read whole", async () => {
    const { load, calls } = loader(parquetFixture());
    render(<ArtifactView artifact={artifact("system.Dataset", { uri: "s3://b/r1/prep/data.parquet" })} load={load} />);
    await screen.findByText(/Parquet · First 100 of 150 rows/);
    expect(calls).toEqual([{ offset: 0, limit: PARQUET_PREVIEW_MAX_BYTES + 1 }]);
  });

  it("system.Dataset: Parquet told by its magic bytes", async () => {
    const { load } = loader(parquetFixture());
    render(<ArtifactView artifact={artifact("system.Dataset")} load={load} />);
    await screen.findByText(/Parquet · First 100 of 150 rows/);
  });

  it("system.Dataset: a Parquet file over 2 MiB is read again whole", async () => {
    const whole = parquetFixture();
    const calls: (ByteRange | undefined)[] = [];
    const load: ArtifactLoader = (_artifact, range) => {
      calls.push(range);
      if (range?.limit === DATASET_PREVIEW_BYTES) {
        // The first 2 MiB of a larger file: the magic number, but no footer.
        const start = new Uint8Array(DATASET_PREVIEW_BYTES);
        start.set(new Uint8Array(whole, 0, 4));
        return Promise.resolve(start.buffer);
      }
      return Promise.resolve(whole);
    };
    render(<ArtifactView artifact={artifact("system.Dataset")} load={load} />);
    await screen.findByText(/Parquet · First 100 of 150 rows/);
    expect(calls).toEqual([
      { offset: 0, limit: DATASET_PREVIEW_BYTES },
      { offset: 0, limit: PARQUET_PREVIEW_MAX_BYTES + 1 },
    ]);
  });

  it("system.Dataset: a loader that ignores the range still gives a full preview", async () => {
    const rows = Array.from({ length: 120_000 }, (_, i) => `${i},row number ${i}`);
    const big = bytesOf(["n,label", ...rows].join("\n"));
    expect(big.byteLength).toBeGreaterThan(DATASET_PREVIEW_BYTES);
    const load: ArtifactLoader = () => Promise.resolve(big);
    render(<ArtifactView artifact={artifact("system.Dataset", { uri: "s3://b/big.csv" })} load={load} />);
    await screen.findByText(/CSV · First 100 of 120000 rows/);
  });

  it("system.Dataset: a Parquet file over 32 MiB is not previewed", async () => {
    const load: ArtifactLoader = (_artifact, range) => {
      const bytes = new Uint8Array(range?.limit ?? 0);
      bytes.set([0x50, 0x41, 0x52, 0x31]);
      return Promise.resolve(bytes.buffer);
    };
    render(<ArtifactView artifact={artifact("system.Dataset", { uri: "s3://b/big.parquet" })} load={load} />);
    await screen.findByText(/over 32 MiB: no preview; download it/);
  });

  it("system.Dataset: anything else has no preview", async () => {
    const { load } = loader(new Uint8Array([0, 159, 146, 150]).buffer);
    render(<ArtifactView artifact={artifact("system.Dataset")} load={load} />);
    await screen.findByText("No preview for this file; download it.");
  });

  it("other schemas: the metadata as a key/value table", () => {
    const { load, calls } = loader(bytesOf(""));
    const { container } = render(
      <ArtifactView
        artifact={artifact("system.Model", { metadata: { framework: "sklearn", params: { depth: 3 } } })}
        load={load}
      />,
    );
    const rows = [...container.querySelectorAll("tbody tr")].map((tr) => tr.textContent);
    expect(rows).toEqual(["frameworksklearn", 'params{"depth":3}']);
    expect(calls).toEqual([]);
  });

  it("shows the loader's error message", async () => {
    const load: ArtifactLoader = () => Promise.reject(new Error("404 artifact content not found"));
    render(<ArtifactView artifact={artifact("system.Markdown")} load={load} />);
    expect((await screen.findByRole("alert")).textContent).toContain("404 artifact content not found");
  });
});

describe("ArtifactView download", () => {
  beforeEach(() => {
    // jsdom has no object URLs.
    Object.assign(URL, { createObjectURL: () => "", revokeObjectURL: () => undefined });
  });

  it("fetches the bytes with load and saves them through a Blob URL and <a download>", async () => {
    const { load, calls } = loader(bytesOf("a,b\n"));
    const blobs: Blob[] = [];
    vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return "blob:dagyard/1";
    });
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.getAttribute("href") ?? "", download: this.download });
    });
    render(<ArtifactView artifact={artifact("system.Model", { uri: "s3://b/r1/train/model.pkl" })} load={load} />);
    fireEvent.click(screen.getByRole("button", { name: "Download" }));
    await waitFor(() => expect(clicked).toHaveLength(1));
    expect(clicked[0]).toEqual({ href: "blob:dagyard/1", download: "model.pkl" });
    expect(calls).toEqual([undefined]);
    expect(blobs[0]?.size).toBe(4);
    expect(document.querySelector("a[download]")).toBeNull();
  });

  it("shows a failed download's message", async () => {
    const load: ArtifactLoader = () => Promise.reject(new Error("403 forbidden"));
    render(<ArtifactView artifact={artifact("system.Metrics")} load={load} />);
    fireEvent.click(screen.getByRole("button", { name: "Download" }));
    expect((await screen.findByRole("alert")).textContent).toContain("403 forbidden");
  });
});
