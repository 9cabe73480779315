import type { CSSProperties } from "react";

export interface ConfusionMatrixProps {
  /** A system.ClassificationMetrics artifact's metadata; reads `confusionMatrix`. */
  metadata: Record<string, unknown> | undefined;
}

export interface ConfusionMatrixData {
  labels: string[];
  /** rows[actual][predicted] */
  rows: number[][];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** KFP's `confusionMatrix` ({annotationSpecs: [{displayName}], rows: [{row: [...]}]}) as
 * labels and a square matrix; a string saying what is wrong when it is not one. */
export function parseConfusionMatrix(value: unknown): ConfusionMatrixData | string {
  if (value === undefined || value === null) return "No confusion matrix in this artifact.";
  if (!isRecord(value) || !Array.isArray(value.rows)) return "The confusion matrix is malformed.";
  const rows: number[][] = [];
  for (const entry of value.rows) {
    const row = isRecord(entry) ? entry.row : undefined;
    if (!Array.isArray(row) || !row.every((n) => typeof n === "number" && Number.isFinite(n))) {
      return "The confusion matrix is malformed.";
    }
    rows.push(row as number[]);
  }
  const size = rows.length;
  if (size === 0) return "The confusion matrix is empty.";
  if (rows.some((row) => row.length !== size)) return "The confusion matrix is not square.";
  const specs = value.annotationSpecs;
  if (specs !== undefined && (!Array.isArray(specs) || specs.length !== size)) {
    return "The confusion matrix's labels do not match its rows.";
  }
  const labels = Array.from({ length: size }, (_, i) => {
    const spec: unknown = Array.isArray(specs) ? specs[i] : undefined;
    const name = isRecord(spec) ? spec.displayName : undefined;
    return typeof name === "string" && name !== "" ? name : `class ${i}`;
  });
  return { labels, rows };
}

// From a near-white to a dark blue; the text colour is whichever of black and white
// contrasts more with the cell.
const LOW: [number, number, number] = [247, 251, 255];
const HIGH: [number, number, number] = [8, 48, 107];

function luminance([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The cell style for a count at `intensity` (count / max, 0..1). */
export function heatStyle(intensity: number): CSSProperties {
  const t = Math.min(1, Math.max(0, Number.isFinite(intensity) ? intensity : 0));
  const rgb = LOW.map((low, i) => Math.round(low + (HIGH[i]! - low) * t)) as [number, number, number];
  const lum = luminance(rgb);
  // Contrast ratio against black is (L + 0.05) / 0.05, against white 1.05 / (L + 0.05).
  const text = (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#111111" : "#ffffff";
  return { backgroundColor: `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`, color: text };
}

/** A confusion matrix as a heat-map table: rows are actual classes, columns predicted. */
export function ConfusionMatrix({ metadata }: ConfusionMatrixProps) {
  const parsed = parseConfusionMatrix(metadata?.confusionMatrix);
  if (typeof parsed === "string") return <p className="dy-viewer-empty">{parsed}</p>;
  const { labels, rows } = parsed;
  const max = Math.max(0, ...rows.flat());
  return (
    <div className="dy-viewer-confusion" data-testid="confusion-matrix">
      <table className="dy-viewer-table dy-viewer-confusion-table">
        <caption>Confusion matrix (rows: actual, columns: predicted)</caption>
        <thead>
          <tr>
            <th scope="col" className="dy-viewer-confusion-corner">
              actual \ predicted
            </th>
            {labels.map((label, j) => (
              <th key={j} scope="col">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              <th scope="row">{labels[i]}</th>
              {row.map((count, j) => (
                <td
                  key={j}
                  className="dy-viewer-confusion-cell"
                  style={heatStyle(max > 0 ? count / max : 0)}
                  title={`actual ${labels[i]}, predicted ${labels[j]}: ${count}`}
                >
                  {count}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
