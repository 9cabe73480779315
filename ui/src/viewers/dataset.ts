// Reading the first rows of a dataset file for a preview: CSV/TSV, JSON lines, Parquet.

import Papa from "papaparse";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { formatValue } from "./format";

export const PREVIEW_ROWS = 100;

export type DatasetFormat = "csv" | "tsv" | "jsonl" | "parquet";

export interface TablePreview {
  format: DatasetFormat;
  columns: string[];
  /** At most PREVIEW_ROWS rows, each cell as display text. */
  rows: string[][];
  /** The file's row count, when known (unknown when only its start was read). */
  total?: number;
}

export interface PreviewOptions {
  /** The bytes are only the start of the file: its last line may be cut, and the row
   * count is unknown. */
  truncated?: boolean;
}

/** Whether the bytes start with Parquet's magic number "PAR1". */
export function isParquet(bytes: ArrayBuffer | Uint8Array): boolean {
  const head = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}

function extension(name: string): string {
  const base = name.split(/[?#]/, 1)[0] ?? "";
  const dot = base.lastIndexOf(".");
  return dot > base.lastIndexOf("/") && dot >= 0 ? base.slice(dot + 1).toLowerCase() : "";
}

function isJsonObjectLine(line: string): boolean {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return false;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

async function previewParquet(bytes: ArrayBuffer): Promise<TablePreview> {
  const metadata = parquetMetadata(bytes);
  const total = Number(metadata.num_rows);
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  const objects = await parquetReadObjects({
    file: bytes,
    metadata,
    rowStart: 0,
    rowEnd: Math.min(PREVIEW_ROWS, total),
  });
  const rows = objects.slice(0, PREVIEW_ROWS).map((row) => columns.map((column) => formatValue(row[column])));
  return { format: "parquet", columns, rows, total };
}

function previewJsonLines(lines: string[], truncated: boolean): TablePreview {
  const columns: string[] = [];
  const seen = new Set<string>();
  const records: Record<string, unknown>[] = [];
  for (const [index, line] of lines.slice(0, PREVIEW_ROWS).entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`line ${index + 1} is not JSON`);
    }
    const record: Record<string, unknown> =
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : { value };
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
    records.push(record);
  }
  const rows = records.map((record) => columns.map((column) => formatValue(record[column])));
  return { format: "jsonl", columns, rows, total: truncated ? undefined : lines.length };
}

function previewDelimited(text: string, format: "csv" | "tsv", truncated: boolean): TablePreview {
  const result = Papa.parse<string[]>(text, {
    delimiter: format === "tsv" ? "\t" : ",",
    skipEmptyLines: true,
    // Only the header and the shown rows are needed, unless the count is wanted.
    preview: truncated ? PREVIEW_ROWS + 1 : 0,
  });
  const [header = [], ...body] = result.data;
  const width = Math.max(header.length, ...body.slice(0, PREVIEW_ROWS).map((row) => row.length));
  const columns = Array.from({ length: width }, (_, i) => header[i] ?? `column ${i + 1}`);
  const rows = body.slice(0, PREVIEW_ROWS).map((row) => columns.map((_, i) => row[i] ?? ""));
  return { format, columns, rows, total: truncated ? undefined : body.length };
}

/** The first rows of a dataset file, or null when it is not a format with a preview.
 * Throws when the file looks like a supported format but cannot be read. */
export async function previewDataset(
  name: string,
  bytes: ArrayBuffer,
  { truncated = false }: PreviewOptions = {},
): Promise<TablePreview | null> {
  const ext = extension(name);
  if (isParquet(bytes)) {
    if (truncated) throw new Error("only the start of this Parquet file was read");
    return previewParquet(bytes);
  }
  if (ext === "parquet") return null;
  let text = new TextDecoder("utf-8").decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.slice(0, 8192).includes("\u0000")) return null; // binary
  if (truncated) {
    // The last line may be cut off in the middle.
    const end = text.lastIndexOf("\n");
    text = end >= 0 ? text.slice(0, end) : "";
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) return null;
  const first = lines[0] ?? "";
  if (ext === "jsonl" || ext === "ndjson") return previewJsonLines(lines, truncated);
  if (ext === "tsv" || ext === "tab") return previewDelimited(text, "tsv", truncated);
  if (ext === "csv") return previewDelimited(text, "csv", truncated);
  // No telling name: look at the content.
  if (lines.slice(0, 20).every(isJsonObjectLine)) return previewJsonLines(lines, truncated);
  if (first.includes("\t")) return previewDelimited(text, "tsv", truncated);
  if (first.includes(",") && !first.trimStart().startsWith("{") && !first.trimStart().startsWith("[")) {
    return previewDelimited(text, "csv", truncated);
  }
  return null;
}
