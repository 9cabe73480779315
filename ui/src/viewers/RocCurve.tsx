import {
  CartesianGrid,
  Legend,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from "recharts";
import type { TooltipContentProps } from "recharts";
import { formatNumber } from "./format";
import type { RocSeries } from "./roc";

export { rocSeries } from "./roc";
export type { RocPoint, RocSeries } from "./roc";

export interface RocCurveProps {
  /** One curve per series: one for a run, several overlaid to compare runs. */
  series: RocSeries[];
  /** Chart height in pixels (default 360). */
  height?: number;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

interface ChartPoint {
  x: number;
  y: number;
  threshold?: number;
  series: string;
}

export function RocTooltip({ active, payload }: TooltipContentProps) {
  const point = active ? (payload?.[0]?.payload as ChartPoint | undefined) : undefined;
  if (!point) return null;
  return (
    <div className="dy-viewer-tooltip">
      <div className="dy-viewer-tooltip-title">{point.series}</div>
      <div>threshold: {point.threshold === undefined ? "–" : formatNumber(point.threshold)}</div>
      <div>false positive rate: {formatNumber(point.x)}</div>
      <div>true positive rate: {formatNumber(point.y)}</div>
    </div>
  );
}

/** ROC curves: x = false positive rate, y = true positive rate (recall), with the
 * chance diagonal. */
export function RocCurve({ series, height = 360 }: RocCurveProps) {
  const drawn = series.filter((s) => s.points.length > 0);
  if (drawn.length === 0) return <p className="dy-viewer-empty">No ROC curve data.</p>;
  return (
    <div className="dy-viewer-roc" role="figure" aria-label="ROC curve" data-testid="roc-curve">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 480, height }}>
        <ScatterChart margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            type="number"
            dataKey="x"
            name="False positive rate"
            domain={[0, 1]}
            ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]}
            label={{ value: "False positive rate", position: "insideBottom", offset: -12 }}
          />
          <YAxis
            type="number"
            dataKey="y"
            name="True positive rate"
            domain={[0, 1]}
            ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]}
            label={{ value: "True positive rate", angle: -90, position: "insideLeft" }}
          />
          <ZAxis range={[12, 12]} />
          <ReferenceLine
            segment={[
              { x: 0, y: 0 },
              { x: 1, y: 1 },
            ]}
            stroke="#999999"
            strokeDasharray="4 4"
            ifOverflow="hidden"
          />
          <Tooltip content={RocTooltip} cursor={{ strokeDasharray: "3 3" }} />
          {drawn.length > 1 && <Legend verticalAlign="top" />}
          {drawn.map((s, i) => {
            const color = COLORS[i % COLORS.length];
            const data: ChartPoint[] = s.points.map((p) => ({
              x: p.falsePositiveRate,
              y: p.recall,
              threshold: p.confidenceThreshold,
              series: s.label,
            }));
            return (
              <Scatter
                key={`${i}-${s.label}`}
                name={s.label}
                data={data}
                fill={color}
                line={{ stroke: color, strokeWidth: 2 }}
                lineType="joint"
                isAnimationActive={false}
              />
            );
          })}
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
}
