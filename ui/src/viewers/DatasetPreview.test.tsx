import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { DatasetPreview } from "./DatasetPreview";
import { isParquet, previewDataset } from "./dataset";
import { bytesOf, parquetFixture } from "./testBytes";

afterEach(cleanup);

function table(container: HTMLElement): { header: string[]; rows: string[][] } {
  const header = [...container.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
  const rows = [...container.querySelectorAll("tbody tr")].map((tr) =>
    [...tr.querySelectorAll("td")].map((td) => td.textContent ?? ""),
  );
  return { header, rows };
}

describe("DatasetPreview", () => {
  it("shows a CSV file as a table, quoted fields included", async () => {
    const csv = 'name,age,city\nAda,36,"London, UK"\nAlan,41,Wilmslow\n';
    const { container } = render(<DatasetPreview name="people.csv" bytes={bytesOf(csv)} />);
    await screen.findByText(/CSV · 2 rows/);
    expect(table(container)).toEqual({
      header: ["name", "age", "city"],
      rows: [
        ["Ada", "36", "London, UK"],
        ["Alan", "41", "Wilmslow"],
      ],
    });
  });

  it("tells TSV by its name and by tabs in the first line", async () => {
    const tsv = "a\tb\n1\t2,5\n3\t4\n";
    for (const name of ["data.tsv", "data"]) {
      const { container, unmount } = render(<DatasetPreview name={name} bytes={bytesOf(tsv)} />);
      await screen.findByText(/TSV · 2 rows/);
      expect(table(container)).toEqual({ header: ["a", "b"], rows: [["1", "2,5"], ["3", "4"]] });
      unmount();
    }
  });

  it("shows JSON lines, by name or by content, with the union of the keys", async () => {
    const jsonl = '{"x": 1, "y": "a"}\n{"x": 2.5, "z": {"k": [1]}}\n\n{"y": null}\n';
    for (const name of ["rows.jsonl", "rows.ndjson", "output_dataset"]) {
      const { container, unmount } = render(<DatasetPreview name={name} bytes={bytesOf(jsonl)} />);
      await screen.findByText(/JSON lines · 3 rows/);
      expect(table(container)).toEqual({
        header: ["x", "y", "z"],
        rows: [
          ["1", "a", ""],
          ["2.5", "", '{"k":[1]}'],
          ["", "", ""],
        ],
      });
      unmount();
    }
  });

  it("reads a real Parquet file: the first 100 of its 150 rows", async () => {
    const bytes = parquetFixture();
    expect(isParquet(bytes)).toBe(true);
    const { container } = render(<DatasetPreview name="data" bytes={bytes} />);
    await screen.findByText(/Parquet · First 100 of 150 rows/);
    const { header, rows } = table(container);
    expect(header).toEqual(["id", "name", "score", "ok"]);
    expect(rows).toHaveLength(100);
    expect(rows[0]).toEqual(["0", "row0", "0", "true"]);
    expect(rows[5]).toEqual(["5", "row5", "1.25", "false"]);
    expect(rows[99]).toEqual(["99", "row99", "24.75", "false"]);
  });

  it("shows the first 100 rows of a long CSV and the total", async () => {
    const csv = ["n", ...Array.from({ length: 250 }, (_, i) => String(i))].join("\n");
    const { container } = render(<DatasetPreview name="long.csv" bytes={bytesOf(csv)} />);
    await screen.findByText(/First 100 of 250 rows/);
    expect(table(container).rows).toHaveLength(100);
  });

  it("drops a cut-off last line and claims no total when only the start was read", async () => {
    const preview = await previewDataset("part.csv", bytesOf("a,b\n1,2\n3,4\n5,"), { truncated: true });
    expect(preview).toEqual({ format: "csv", columns: ["a", "b"], rows: [["1", "2"], ["3", "4"]], total: undefined });
    const jsonl = await previewDataset("part.jsonl", bytesOf('{"a":1}\n{"a":2}\n{"a"'), { truncated: true });
    expect(jsonl?.rows).toEqual([["1"], ["2"]]);
    expect(jsonl?.total).toBeUndefined();
  });

  it("has no preview for other files", async () => {
    for (const [name, bytes] of [
      ["notes.txt", bytesOf("just some words\nand more\n")],
      ["model.bin", new Uint8Array([0, 1, 2, 0, 255, 3]).buffer],
      ["empty.csv", bytesOf("")],
    ] as const) {
      const { unmount } = render(<DatasetPreview name={name} bytes={bytes} />);
      await screen.findByText("No preview for this file; download it.");
      unmount();
    }
  });

  it("reports a file that claims a format it does not have", async () => {
    render(<DatasetPreview name="bad.jsonl" bytes={bytesOf('{"a": 1}\nnot json\n')} />);
    expect((await screen.findByRole("alert")).textContent).toMatch(/line 2 is not JSON/);
  });
});
