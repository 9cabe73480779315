// Turning artifact metadata values and dataset cells into short display text.

/** A number for a table: integers as they are, others with at most 4 decimals (trailing
 * zeros dropped), and values too small for that with 4 significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude < 1e-4) return String(Number(value.toPrecision(4)));
  if (magnitude >= 1e15) return value.toPrecision(4);
  return String(Number(value.toFixed(4)));
}

/** Any JSON-ish value (or a Parquet cell: bigint, Date, bytes) as one line of text. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid date" : value.toISOString();
  }
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  } catch {
    return String(value);
  }
}

/** The last path segment of a URI ("gs://b/x/data.csv" -> "data.csv"), or "". */
export function uriBaseName(uri: string): string {
  const path = uri.split(/[?#]/, 1)[0] ?? "";
  const parts = path.split("/").filter((part) => part !== "");
  const last = parts[parts.length - 1] ?? "";
  return last.includes(":") && parts.length === 1 ? "" : last;
}
