// A run: its warnings, its graph, live (polled every second while it runs), the panel of
// the selected task, the run's parameters, outputs and history, its pipeline spec, and the
// run-level actions (terminate, retry, clone, archive). What it shows is kept in the
// address (runView.ts).

import { useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { stringify } from "yaml";

import {
  actions,
  isLive,
  useApiAction,
  useExperiment,
  useFinalRefresh,
  useRun,
  useRunArtifacts,
  useIterationTasks,
  useRunTasks,
  useVersion,
} from "../api/hooks";
import { iterationRequests, leafStates, withIterationTasks } from "../api/outline";
import type { Run, Task, TaskOutline } from "../api/types";
import { waitingReason } from "../api/work";
import { EditButton, ErrorBox, KeyValues, Loading, PageHeader, StateBadge } from "../components/common";
import { runTiming, waitedRow } from "../components/durations";
import { formatMs, formatTime, formatValue } from "../components/format";
import { pipelineName } from "../components/RunsTable";
import { RunWarnings } from "../components/RunWarnings";
import { TaskPanel } from "../components/TaskPanel";
import { RunGraph } from "../graph";
import { DEFAULT_PAGE_SIZE } from "../graph/model";
import { Timeline } from "../timeline/Timeline";
import { RUN_TABS, useRunView, type RunView } from "./runView";

export function RunPage() {
  const { runId } = useParams();
  const run = useRun(runId);
  const live = isLive(run.data);
  const tasks = useRunTasks(runId, live);
  const outline = tasks.data?.outline;
  const [view, taskList] = useRunTasksShown(runId, run.data, tasks.data?.tasks, outline, live);
  const artifacts = useRunArtifacts(runId, live);
  useFinalRefresh(runId, live);
  const { tab, taskId: selected } = view;
  // Counts the selections made from the warnings: each one brings the task's panel into
  // view, wherever the page is scrolled.
  const [revealed, setRevealed] = useState(0);
  // A run made from a pipeline version carries a reference instead of its spec.
  const reference = run.data?.pipeline_spec ? undefined : run.data?.pipeline_version_reference;
  const version = useVersion(reference?.pipeline_id, reference?.pipeline_version_id);

  if (run.isLoading) return <Loading what="Loading the run" />;
  if (!run.data) return <ErrorBox error={run.error ?? "No such run."} />;
  const data = run.data;
  const spec = data.pipeline_spec?.pipeline_spec ?? data.pipeline_spec ?? version.data?.pipeline_spec;
  const selectedTask = taskList?.find((t) => t.task_id === selected);
  const panel = selectedTask && (
    <TaskPanel
      task={selectedTask}
      artifacts={artifacts.data ?? []}
      revealed={revealed}
      tab={view.panel}
      onTab={view.showPanel}
      onClose={() => view.select(undefined)}
    />
  );

  return (
    <>
      <PageHeader
        title={
          <>
            {data.display_name || data.run_id} <StateBadge state={data.state} />
          </>
        }
        documentTitle={`${data.display_name || data.run_id} (${(data.state ?? "unknown").toLowerCase()})`}
      >
        <RunActions run={data} />
      </PageHeader>
      <WaitingNotice run={data} />
      <ErrorBox error={data.error?.message ?? version.error} />
      <RunWarnings
        tasks={taskList ?? []}
        outline={outline}
        selected={selected}
        onSelect={(taskId) => {
          view.select(taskId, { tab: "graph", reveal: true });
          setRevealed((n) => n + 1);
        }}
      />
      <div className="dy-tabs" role="tablist">
        {RUN_TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? "active" : ""}
            onClick={() => view.showTab(t)}
          >
            {{ graph: "Graph", timeline: "Timeline", details: "Run details", spec: "Pipeline spec" }[t]}
          </button>
        ))}
      </div>
      {tab === "graph" && spec && (
        <div className="dy-graph-area">
          <div className="dy-graph">
            <RunGraph
              spec={spec}
              tasks={taskList ?? []}
              selectedPath={selectedTask?.path}
              // reveal: a task picked in the find box may be inside collapsed groups; the
              // address takes its selection and the groups around it in one change.
              onSelect={(_path: string, taskId?: string) => view.select(taskId, { reveal: true })}
              expanded={view.expanded}
              onExpandedChange={view.setExpanded}
              pages={view.pages}
              onPagesChange={view.setPages}
              outline={outline}
            />
          </div>
          {panel}
        </div>
      )}
      {tab === "timeline" && (
        <div className="dy-graph-area">
          <div className="dy-graph">
            <LeftOut outline={outline} />
            <Timeline
              tasks={taskList ?? []}
              spec={spec}
              selectedTaskId={selected}
              onSelect={(taskId) => view.select(taskId)}
            />
          </div>
          {panel}
        </div>
      )}
      {tab === "details" && <RunDetails run={data} tasks={taskList ?? []} outline={outline} />}
      {tab === "spec" && <pre className="dy-code">{stringify(spec ?? {})}</pre>}
    </>
  );
}

/** The run's view kept in the address, and the tasks the page shows: those of the run's
 * answer and, on a big run whose answer leaves out the tasks inside loop iterations, those
 * of the iterations the graph shows. What a new answer changes is drawn in a render React
 * may interrupt and spread over several frames: on a big run the page stays responsive. */
function useRunTasksShown(
  runId: string | undefined,
  run: Run | undefined,
  tasks: Task[] | undefined,
  outline: TaskOutline | undefined,
  live: boolean,
): [RunView, Task[] | undefined] {
  const shown = useDeferredValue(tasks);
  const view = useRunView(run, shown);
  const requests = useMemo(
    () => iterationRequests(outline, view.expanded, view.pages, DEFAULT_PAGE_SIZE),
    [outline, view.expanded, view.pages],
  );
  const extra = useIterationTasks(runId, requests, live);
  const all = useMemo(() => (shown ? withIterationTasks(shown, extra) : undefined), [shown, extra]);
  return [view, all];
}

/** Over the timeline of a big run: what its outline leaves out. */
function LeftOut({ outline }: { outline: TaskOutline | undefined }) {
  if (!outline || outline.complete || !outline.left_out) return null;
  return (
    <div className="dy-notice" role="status" data-testid="left-out">
      {outline.left_out.toLocaleString()} tasks inside loop iterations are left out of this run&apos;s outline: the
      timeline draws those of the iterations expanded in the graph.
    </div>
  );
}

/** Why a pending run has not started (its namespace is at its limit of running runs);
 * gone once it starts, as the run is read again every second meanwhile. */
function WaitingNotice({ run }: { run: Run }) {
  const reason = waitingReason(run);
  if (!reason) return null;
  return (
    <div className="dy-notice" role="status" data-testid="waiting-reason">
      {reason}
    </div>
  );
}

function RunActions({ run }: { run: Run }) {
  const navigate = useNavigate();
  const terminate = useApiAction(actions.terminateRun, ["run", "runs"]);
  const client = useQueryClient();
  const retry = useApiAction(actions.retryRun, ["run", "runs"]);
  // After a retry the run's tasks are read again whole: a big run's page holds the failed
  // tasks inside loop iterations that its outline brought, and a retried one that now runs
  // would leave the outline's selection without the page hearing of it.
  const retried = () => void client.resetQueries({ queryKey: ["run-tasks", run.run_id] });
  const archive = useApiAction(
    run.storage_state === "ARCHIVED" ? actions.unarchiveRun : actions.archiveRun,
    ["run", "runs"],
  );
  const state = run.state ?? "";
  return (
    <>
      <ErrorBox error={terminate.error ?? retry.error ?? archive.error} />
      {isLive(run) && (
        <EditButton className="danger" onClick={() => terminate.mutate(run.run_id)}>
          Terminate
        </EditButton>
      )}
      {(state === "FAILED" || state === "CANCELED") && (
        <EditButton onClick={() => retry.mutate(run.run_id, { onSuccess: retried })}>Retry</EditButton>
      )}
      <EditButton onClick={() => navigate(`/runs/new?clone=${run.run_id}`)}>Clone</EditButton>
      <EditButton onClick={() => archive.mutate(run.run_id)}>
        {run.storage_state === "ARCHIVED" ? "Restore" : "Archive"}
      </EditButton>
    </>
  );
}

function RunDetails({ run, tasks, outline }: { run: Run; tasks: Task[]; outline: TaskOutline | undefined }) {
  const experiment = useExperiment(run.experiment_id);
  const parameters = Object.entries(run.runtime_config?.parameters ?? {});
  const timing = runTiming(run, Date.now());
  const counts = useMemo(
    () =>
      Object.entries(leafStates(tasks, outline))
        .map(([s, n]) => `${n} ${s.toLowerCase()}`)
        .join(", "),
    [tasks, outline],
  );
  return (
    <div className="dy-details">
      <KeyValues
        values={[
          ["Run id", <code key="id">{run.run_id}</code>],
          ["Pipeline", pipelineName(run)],
          [
            "Experiment",
            run.experiment_id ? (
              <Link key="e" to={`/experiments/${run.experiment_id}`}>
                {experiment.data?.display_name ?? run.experiment_id}
              </Link>
            ) : (
              ""
            ),
          ],
          ["Created", formatTime(run.created_at)],
          ["Finished", formatTime(run.finished_at)],
          ["Ran", timing.ran === undefined ? "not yet" : formatMs(timing.ran)],
          ["Queued", timing.queued === undefined ? "" : formatMs(timing.queued)],
          ...waitedRow(timing),
          ["Tasks", counts],
          ["Recurring run", run.recurring_run_id ?? ""],
          ["Caching", run.cache_enabled === false ? "off for this run" : "on"],
        ]}
      />
      <h3>Parameters</h3>
      {parameters.length ? (
        <KeyValues values={parameters.map(([k, v]) => [k, <code key={k}>{formatValue(v)}</code>])} />
      ) : (
        <p className="dy-muted">none</p>
      )}
      <h3>Outputs</h3>
      {Object.keys(run.outputs ?? {}).length ? (
        <KeyValues
          values={Object.entries(run.outputs ?? {}).map(([k, v]) => [k, <code key={k}>{formatValue(v)}</code>])}
        />
      ) : (
        <p className="dy-muted">none{isLive(run) ? " yet" : ""}</p>
      )}
      <h3>State history</h3>
      <table className="dy-table">
        <tbody>
          {(run.state_history ?? []).map((s, i) => (
            <tr key={i}>
              <td>{formatTime(s.update_time)}</td>
              <td>
                <StateBadge state={s.state} />
              </td>
              <td className="dy-lines">{s.error?.message ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
