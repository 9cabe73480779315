// A run's timeline (Gantt chart): a row per task (a loop's iterations of one task share a
// row), bars from each start to its end (or to now while it runs) on the wall time since
// the run's first task started, coloured by state, rows by start, the critical path
// outlined (critical.ts). Fast at any size: only the rows in view exist, their names as
// elements and their bars drawn on one canvas.

import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import type { PipelineSpec, Task } from "../api/types";
import { formatDuration } from "../components/format";
import { useNow } from "../graph/clock";
import { stateLabel } from "../graph/nodes";
import { criticalPath } from "./critical";
import { barAt, timelineRows, type Bar, type Row } from "./rows";
import "./timeline.css";

export const ROW_HEIGHT = 24;
export const AXIS_HEIGHT = 28;
export const LABEL_WIDTH = 280;
/** Room right of the longest bar. */
const RIGHT_PAD = 24;
/** Rows drawn beyond the visible ones, above and below. */
const OVERSCAN = 5;

/** The graph's state colours (graph.css), for the canvas. */
const COLORS: Record<string, string> = {
  PENDING: "#9aa4b2",
  RUNNING: "#1f6feb",
  SUCCEEDED: "#1a7f37",
  FAILED: "#cf222e",
  SKIPPED: "#8c959f",
  CACHED: "#0e8a8a",
  CANCELING: "#bf8700",
  CANCELED: "#6e7781",
};

export interface TimelineProps {
  tasks: Task[];
  /** The run's pipeline spec: what each task waited on, for the critical path. */
  spec?: PipelineSpec;
  selectedTaskId?: string;
  onSelect: (taskId: string) => void;
}

interface Hover {
  bar: Bar;
  x: number;
  y: number;
}

export function Timeline({ tasks, spec, selectedTaskId, onSelect }: TimelineProps) {
  const running = tasks.some((t) => t.state === "RUNNING" && t.started_at && !t.finished_at);
  const now = useNow(running);
  const timeline = useMemo(() => timelineRows(tasks, now), [tasks, now]);
  const { rows, span } = timeline;
  const critical = useMemo(() => criticalPath(spec, tasks), [spec, tasks]);
  const onPath = useMemo(() => new Set(critical?.steps.map((s) => s.task.task_id)), [critical]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState({ top: 0, width: 800, height: 480 });
  const [hover, setHover] = useState<Hover | undefined>();
  // The chart's box is measured once it is there: a page opened on this tab draws it only
  // when the first tasks arrive (before, it says that there are none).
  const drawn = rows.length > 0;
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, width: el.clientWidth, height: el.clientHeight });
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [drawn]);

  const plotWidth = Math.max(100, view.width - LABEL_WIDTH - RIGHT_PAD);
  const msPerPx = Math.max(span, 1000) / plotWidth;
  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  const rowAt = useCallback(
    (clientY: number): Row | undefined => {
      const el = scrollRef.current;
      if (!el) return undefined;
      const y = clientY - el.getBoundingClientRect().top - AXIS_HEIGHT + el.scrollTop;
      return y < 0 ? undefined : rows[Math.floor(y / ROW_HEIGHT)];
    },
    [rows],
  );

  // Draw the bars of the rows in view, and the axis.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ratio = window.devicePixelRatio || 1;
    const height = view.height;
    canvas.width = Math.round(view.width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, view.width, height);
    const x = (ms: number) => LABEL_WIDTH + ms / msPerPx;
    // Grid lines and their times.
    const step = tickStep(msPerPx * 120);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (let t = 0; t <= span + step && x(t) <= view.width; t += step) {
      ctx.fillStyle = "#eaeef2";
      ctx.fillRect(Math.round(x(t)), AXIS_HEIGHT, 1, height - AXIS_HEIGHT);
      ctx.fillStyle = "#57606a";
      ctx.fillText(`+${formatOffset(t)}`, x(t) + 3, AXIS_HEIGHT / 2);
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH, AXIS_HEIGHT, view.width - LABEL_WIDTH, height - AXIS_HEIGHT);
    ctx.clip();
    visible.forEach((row, i) => {
      const top = AXIS_HEIGHT + (first + i) * ROW_HEIGHT - view.top;
      if (row.bars.some((b) => b.taskId === selectedTaskId)) {
        ctx.fillStyle = "#ddf4ff";
        ctx.fillRect(LABEL_WIDTH, top, view.width - LABEL_WIDTH, ROW_HEIGHT);
      }
      // A row of many iterations: translucent bars, so overlaps show as darker.
      ctx.globalAlpha = row.bars.length > 1 ? 0.55 : 1;
      for (const bar of row.bars) {
        if (bar.start === undefined) continue;
        const left = x(bar.start);
        const width = Math.max(2, ((bar.end ?? now - timeline.origin) - bar.start) / msPerPx);
        ctx.fillStyle = COLORS[bar.state] ?? COLORS.PENDING!;
        ctx.fillRect(left, top + 5, width, ROW_HEIGHT - 10);
        if (onPath.has(bar.taskId)) {
          // On the critical path: drawn whole, outlined dark.
          ctx.globalAlpha = 1;
          ctx.fillRect(left, top + 5, width, ROW_HEIGHT - 10);
          ctx.strokeStyle = "#1f2328";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(left, top + 5, width, ROW_HEIGHT - 10);
          ctx.globalAlpha = row.bars.length > 1 ? 0.55 : 1;
        }
        if (bar.taskId === selectedTaskId) {
          ctx.globalAlpha = 1;
          ctx.strokeStyle = "#0969da";
          ctx.lineWidth = 2;
          ctx.strokeRect(left - 1, top + 4, width + 2, ROW_HEIGHT - 8);
          ctx.globalAlpha = row.bars.length > 1 ? 0.55 : 1;
        }
      }
      ctx.globalAlpha = 1;
    });
    ctx.restore();
  }, [visible, first, view, msPerPx, span, now, timeline.origin, selectedTaskId, onPath]);

  const barUnder = (e: MouseEvent): Hover | undefined => {
    const el = scrollRef.current;
    const row = rowAt(e.clientY);
    if (!el || !row) return undefined;
    const px = e.clientX - el.getBoundingClientRect().left - LABEL_WIDTH;
    if (px < -2) return undefined;
    const bar = barAt(row, px * msPerPx, 3 * msPerPx, now - timeline.origin);
    // The tip is placed in the chart's box, which holds the critical path's line too.
    const box = el.getBoundingClientRect();
    return bar && { bar, x: e.clientX - box.left, y: e.clientY - box.top + el.offsetTop };
  };

  if (!rows.length) {
    return (
      <p className="dy-muted">
        {tasks.length ? "None of the tasks read here runs code." : "No task has been created yet."}
      </p>
    );
  }
  const started = rows.filter((r) => r.start !== undefined).length;
  return (
    <div className="dy-timeline" data-testid="timeline">
      {critical && (
        <p className="dy-critical" data-testid="critical-path">
          <span className="dy-critical-key" aria-hidden="true" /> Critical path (outlined): {critical.steps.length}{" "}
          task{critical.steps.length === 1 ? "" : "s"}, each what the next one waited for; {formatOffset(critical.ran)}{" "}
          running, {formatOffset(critical.waited)} between them.
        </p>
      )}
      <div
        ref={scrollRef}
        className="dy-timeline-scroll"
        onScroll={(e) => {
          const top = e.currentTarget.scrollTop;
          setView((v) => ({ ...v, top }));
        }}
        onMouseMove={(e) => setHover(barUnder(e))}
        onMouseLeave={() => setHover(undefined)}
        onClick={(e) => {
          const found = barUnder(e);
          if (found) onSelect(found.bar.taskId);
        }}
      >
        <canvas
          ref={canvasRef}
          className="dy-timeline-canvas"
          style={{ width: view.width, height: view.height }}
          role="img"
          aria-label={`Timeline of ${rows.length} rows, ${started} started, over ${formatOffset(span)}`}
        />
        <div
          className="dy-timeline-rows"
          style={{ height: AXIS_HEIGHT + rows.length * ROW_HEIGHT, marginTop: -view.height }}
        >
          {visible.map((row, i) => {
            const firstBar = row.bars[0] as Bar;
            return (
              <button
                key={row.key}
                type="button"
                className={`dy-timeline-label${row.bars.some((b) => b.taskId === selectedTaskId) ? " dy-selected" : ""}${row.bars.some((b) => onPath.has(b.taskId)) ? " dy-critical-row" : ""}`}
                data-critical={row.bars.some((b) => onPath.has(b.taskId)) || undefined}
                style={{ top: AXIS_HEIGHT + (first + i) * ROW_HEIGHT, height: ROW_HEIGHT, width: LABEL_WIDTH }}
                data-testid={`timeline-row-${row.key}`}
                title={row.key}
                onClick={(e) => {
                  e.stopPropagation();
                  onSelect(firstBar.taskId);
                }}
              >
                {row.label}
              </button>
            );
          })}
        </div>
      </div>
      {hover && (
        <div
          className="dy-timeline-tip"
          role="tooltip"
          data-testid="timeline-tip"
          style={{ left: Math.min(hover.x + 12, view.width - 260), top: hover.y + 14 }}
        >
          <strong>{hover.bar.label}</strong>
          <div className="dy-muted">{hover.bar.path}</div>
          <div>{stateLabel(hover.bar.state)}</div>
          <div>started +{formatOffset(hover.bar.start ?? 0)}</div>
          <div>
            {hover.bar.end === undefined ? "running for " : "took "}
            {formatDuration(
              new Date(timeline.origin + (hover.bar.start ?? 0)).toISOString(),
              hover.bar.end === undefined ? undefined : new Date(timeline.origin + hover.bar.end).toISOString(),
              now,
            )}
          </div>
        </div>
      )}
    </div>
  );
}

/** A round step between grid lines of at least `ms`. */
function tickStep(ms: number): number {
  const steps = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];
  return steps.find((s) => s >= ms) ?? Math.ceil(ms / 3_600_000) * 3_600_000;
}

/** `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`. */
export function formatOffset(ms: number): string {
  return formatDuration(new Date(0).toISOString(), new Date(Math.max(0, ms)).toISOString(), 0) || "0 ms";
}
