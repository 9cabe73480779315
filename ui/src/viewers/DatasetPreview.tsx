import { useEffect, useState } from "react";
import { PREVIEW_ROWS, previewDataset } from "./dataset";
import type { TablePreview } from "./dataset";

export interface DatasetPreviewProps {
  /** The file name (or URI), used to tell the format by its extension. */
  name: string;
  bytes: ArrayBuffer;
  /** The bytes are only the start of the file (row count unknown, last line maybe cut). */
  truncated?: boolean;
}

type State =
  | { status: "loading" }
  | { status: "none" }
  | { status: "error"; message: string }
  | { status: "ready"; preview: TablePreview };

const FORMAT_NAMES: Record<TablePreview["format"], string> = {
  csv: "CSV",
  tsv: "TSV",
  jsonl: "JSON lines",
  parquet: "Parquet",
};

function rowSummary({ rows, total }: TablePreview, truncated: boolean): string {
  const shown = rows.length;
  if (total !== undefined) {
    if (total > shown) return `First ${shown} of ${total} rows`;
    return `${total} ${total === 1 ? "row" : "rows"}`;
  }
  if (truncated && shown >= PREVIEW_ROWS) return `First ${shown} rows`;
  return truncated ? `First ${shown} rows (from the start of the file)` : `${shown} rows`;
}

/** The first rows (at most 100) of a CSV, TSV, JSON lines or Parquet dataset. */
export function DatasetPreview({ name, bytes, truncated = false }: DatasetPreviewProps) {
  const [state, setState] = useState<State>({ status: "loading" });

  useEffect(() => {
    let cancelled = false;
    setState({ status: "loading" });
    previewDataset(name, bytes, { truncated }).then(
      (preview) => {
        if (!cancelled) setState(preview ? { status: "ready", preview } : { status: "none" });
      },
      (error: unknown) => {
        if (!cancelled) {
          setState({ status: "error", message: error instanceof Error ? error.message : String(error) });
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [name, bytes, truncated]);

  if (state.status === "loading") return <p className="dy-viewer-loading">Reading the dataset…</p>;
  if (state.status === "none") return <p className="dy-viewer-empty">No preview for this file; download it.</p>;
  if (state.status === "error") {
    return (
      <p className="dy-viewer-error" role="alert">
        Could not preview this file: {state.message}
      </p>
    );
  }
  const { preview } = state;
  return (
    <div className="dy-viewer-dataset">
      <p className="dy-viewer-caption">
        {FORMAT_NAMES[preview.format]} · {rowSummary(preview, truncated)}
      </p>
      <div className="dy-viewer-scroll">
        <table className="dy-viewer-table dy-viewer-dataset-table">
          <thead>
            <tr>
              {preview.columns.map((column, i) => (
                <th key={i} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((row, r) => (
              <tr key={r}>
                {row.map((cell, c) => (
                  <td key={c}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
