import { formatValue } from "./format";

export interface MetricsTableProps {
  /** A system.Metrics artifact's metadata: metric name -> number. */
  metadata: Record<string, unknown> | undefined;
}

/** The scalar metrics of a system.Metrics artifact, sorted by name. */
export function MetricsTable({ metadata }: MetricsTableProps) {
  const entries = Object.entries(metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return <p className="dy-viewer-empty">No metrics.</p>;
  return (
    <table className="dy-viewer-table dy-viewer-metrics">
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td className={typeof value === "number" ? "dy-viewer-num" : undefined}>{formatValue(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface MetadataTableProps {
  metadata: Record<string, unknown> | undefined;
}

/** Any artifact's metadata as a small key/value table, in its own order. */
export function MetadataTable({ metadata }: MetadataTableProps) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return <p className="dy-viewer-empty">No metadata.</p>;
  return (
    <table className="dy-viewer-table dy-viewer-metadata">
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td className={typeof value === "number" ? "dy-viewer-num" : undefined}>{formatValue(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
