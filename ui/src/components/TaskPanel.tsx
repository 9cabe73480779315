// The side panel of a task in a run's graph: its warnings, its inputs and outputs
// (parameters and artifacts, rendered), its log, and how it ran (attempts, cache hit or
// miss and why, timings, error).

import { useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router-dom";

import { artifactBytes } from "../api/client";
import type { Artifact, Task } from "../api/types";
import { ArtifactView } from "../viewers";
import { KeyValues, StateBadge } from "./common";
import { taskTiming, waitedRow } from "./durations";
import { formatMs, formatTime, formatValue } from "./format";
import { LogView } from "./LogView";
import { warningCount } from "./warnings";

export const PANEL_TABS = ["io", "logs", "details"] as const;
export type PanelTab = (typeof PANEL_TABS)[number];
type Tab = PanelTab;

export function TaskPanel({
  task,
  artifacts,
  revealed = 0,
  tab: given,
  onTab,
  onClose,
}: {
  task: Task;
  artifacts: Artifact[];
  /** Scrolls the panel into view and focuses it each time this number changes. */
  revealed?: number;
  /** The tab shown; undefined: the task's default (a failed task's log, else its inputs
   * and outputs). */
  tab?: Tab;
  onTab?: (tab: Tab) => void;
  onClose: () => void;
}) {
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!revealed) return;
    panel.current?.scrollIntoView?.({ block: "nearest" });
    panel.current?.focus({ preventScroll: true });
  }, [revealed, task.task_id]);
  const [own, setOwn] = useState<Tab | undefined>();
  const tab = given ?? own ?? (task.state === "FAILED" ? "logs" : "io");
  const setTab = onTab ?? setOwn;
  const outputs = artifacts.filter((a) => a.producer?.task_id === task.task_id);
  const inputIds = new Set(Object.values(task.inputs?.artifacts ?? {}).flat());
  const inputs = artifacts.filter((a) => inputIds.has(a.artifact_id));
  const runnable = task.kind === "container" || task.kind === "importer";
  const timing = taskTiming(task, Date.now());

  return (
    <aside
      ref={panel}
      className="dy-panel"
      data-testid="task-panel"
      aria-label={`Task ${task.path}`}
      tabIndex={-1}
    >
      <header>
        <div>
          <h2>{task.display_name || task.name}</h2>
          <div className="dy-muted">{task.path}</div>
        </div>
        <StateBadge state={task.state} />
        <button type="button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <TaskWarnings warnings={task.warnings ?? []} />
      <div className="dy-tabs" role="tablist">
        <TabButton tab="io" current={tab} onClick={setTab}>
          Inputs / outputs
        </TabButton>
        {runnable && (
          <TabButton tab="logs" current={tab} onClick={setTab}>
            Logs
          </TabButton>
        )}
        <TabButton tab="details" current={tab} onClick={setTab}>
          Details
        </TabButton>
      </div>
      {tab === "io" && (
        <div className="dy-panel-body">
          <h3>Output parameters</h3>
          <Parameters values={task.outputs} />
          {outputs.length > 0 && <h3>Output artifacts</h3>}
          {outputs.map((a) => (
            <ArtifactBlock key={a.artifact_id} artifact={a} />
          ))}
          <h3>Input parameters</h3>
          <Parameters values={task.inputs?.parameters} />
          {inputs.length > 0 && <h3>Input artifacts</h3>}
          {inputs.map((a) => (
            <details key={a.artifact_id} className="dy-input-artifact">
              <summary>
                {a.name} <span className="dy-muted">{a.schema_title}</span>
              </summary>
              <ArtifactBlock artifact={a} />
            </details>
          ))}
        </div>
      )}
      {tab === "logs" && runnable && (
        <LogView runId={task.run_id} taskId={task.task_id} attempts={task.attempts} />
      )}
      {tab === "details" && (
        <div className="dy-panel-body">
          <KeyValues
            values={[
              ["Task id", <code key="id">{task.task_id}</code>],
              ["Kind", task.kind],
              ["Attempts", String(task.attempts)],
              ["System retries", String(task.system_retries ?? 0)],
              [
                "Cache",
                task.cache_hit ? "hit" : task.state === "PENDING" || task.state === "RUNNING" ? "" : "miss",
              ],
              ["Why", task.cache_reason ?? ""],
              ["Created", formatTime(task.created_at)],
              ["First started", formatTime(task.first_started_at ?? task.started_at)],
              ...(task.attempts > 1 ? [["Last attempt started", formatTime(task.started_at)] as [string, string]] : []),
              ["Finished", formatTime(task.finished_at)],
              ["Ran", timing.ran === undefined ? "not yet" : formatMs(timing.ran)],
              ["Queued", timing.queued === undefined ? "" : formatMs(timing.queued)],
              ...waitedRow(timing),
              ["Node", task.node ?? ""],
            ]}
          />
          {task.error && (
            <>
              {/* A pending task's message says why it waits (a retry's back-off, a
                  busy cluster), not what went wrong. */}
              <h3>{task.state === "PENDING" ? "Waiting" : "Error"}</h3>
              <pre className={task.state === "PENDING" ? "dy-waiting-text" : "dy-error-text"}>
                {task.error}
              </pre>
            </>
          )}
        </div>
      )}
    </aside>
  );
}

/** Shown above the tabs, so that no tab hides them. */
function TaskWarnings({ warnings }: { warnings: string[] }) {
  const titleId = useId();
  if (!warnings.length) return null;
  return (
    // Focusable: it scrolls when the warnings are many, and a keyboard must reach them.
    <section
      className="dy-task-warnings"
      aria-labelledby={titleId}
      data-testid="task-warnings"
      tabIndex={0}
    >
      <h3 id={titleId}>
        <span aria-hidden="true">⚠</span> {warningCount(warnings.length)}: recorded, not honoured
      </h3>
      <ul>
        {warnings.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </section>
  );
}

function TabButton({
  tab,
  current,
  onClick,
  children,
}: {
  tab: Tab;
  current: Tab;
  onClick: (tab: Tab) => void;
  children: string;
}) {
  return (
    <button
      type="button"
      role="tab"
      aria-selected={tab === current}
      className={tab === current ? "active" : ""}
      onClick={() => onClick(tab)}
    >
      {children}
    </button>
  );
}

function Parameters({ values }: { values: Record<string, unknown> | undefined }) {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return <p className="dy-muted">none</p>;
  return <KeyValues values={entries.map(([k, v]) => [k, <code key={k}>{formatValue(v)}</code>])} />;
}

function ArtifactBlock({ artifact }: { artifact: Artifact }) {
  return (
    <div className="dy-artifact" data-testid={`artifact-${artifact.name}`}>
      <div className="dy-artifact-title">
        <Link to={`/artifacts/${artifact.artifact_id}`}>{artifact.name}</Link>{" "}
        <span className="dy-muted">{artifact.schema_title}</span>
      </div>
      <ArtifactView artifact={artifact} load={(a, range) => artifactBytes(a.artifact_id, range)} />
    </div>
  );
}
