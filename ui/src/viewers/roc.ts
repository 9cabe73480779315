// ROC points from a system.ClassificationMetrics artifact's metadata; no chart library,
// so that pages can prepare a curve without loading the chart.

export interface RocPoint {
  falsePositiveRate: number;
  recall: number;
  confidenceThreshold?: number;
}

export interface RocSeries {
  label: string;
  points: RocPoint[];
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The ROC points of a system.ClassificationMetrics artifact's metadata
 * (`confidenceMetrics`: [{confidenceThreshold, recall, falsePositiveRate}]), sorted by
 * false positive rate (then recall); entries without both rates are left out. */
export function rocSeries(label: string, metadata: Record<string, unknown> | undefined): RocSeries {
  const raw = metadata?.confidenceMetrics;
  const points: RocPoint[] = [];
  if (Array.isArray(raw)) {
    for (const entry of raw as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const record = entry as Record<string, unknown>;
      const falsePositiveRate = finite(record.falsePositiveRate);
      const recall = finite(record.recall);
      if (falsePositiveRate === undefined || recall === undefined) continue;
      const confidenceThreshold = finite(record.confidenceThreshold);
      points.push(
        confidenceThreshold === undefined
          ? { falsePositiveRate, recall }
          : { falsePositiveRate, recall, confidenceThreshold },
      );
    }
  }
  points.sort((a, b) => a.falsePositiveRate - b.falsePositiveRate || a.recall - b.recall);
  return { label, points };
}
