// The runs list, used by the runs page, an experiment's page and the archive: state,
// name, pipeline, experiment, start, duration and the scalar metrics the user picks;
// filters, sorting and server-side pages (kept in the address); several runs selected at once to compare,
// archive, restore or delete.

import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import {
  actions,
  kfpFilter,
  useApiAction,
  useExperiments,
  useRunMetrics,
  useRuns,
  TERMINAL_RUN_STATES,
} from "../api/hooks";
import type { Run } from "../api/types";
import { waitingReason } from "../api/work";
import { readSort, useQueryState, writeSort, type ChangeOptions, type QueryPatch, type Sort } from "../app/urlState";
import { EditButton, ErrorBox, FilterInput, Pager, StateBadge } from "./common";
import { formatDuration, formatTime, formatValue } from "./format";

const STATES = ["", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELING", "CANCELED", "SKIPPED"];
const PAGE_SIZE = 25;
const METRIC_COLUMNS_KEY = "dagyard.runs.metric-columns";

const SORT_KEYS = ["created_at", "display_name", "state", "finished_at"] as const;
type SortKey = (typeof SORT_KEYS)[number];
const DEFAULT_SORT: Sort<SortKey> = { key: "created_at", desc: true };

export function RunsTable({
  archived = false,
  experimentId,
}: {
  archived?: boolean;
  experimentId?: string;
}) {
  const navigate = useNavigate();
  // Filters, sort and page live in the address: Back returns to them, a link opens them.
  const [query, change] = useQueryState();
  const tokens = query.getAll("page");
  const state = query.get("state") ?? "";
  const name = query.get("q") ?? "";
  const experiment = experimentId ?? query.get("experiment") ?? "";
  const sort = readSort(query.get("sort"), SORT_KEYS, DEFAULT_SORT);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [metricColumns, setMetricColumns] = useState<string[]>(() =>
    JSON.parse(localStorage.getItem(METRIC_COLUMNS_KEY) ?? "[]"),
  );

  const filter = kfpFilter([
    { key: "storage_state", operation: "EQUALS", string_value: archived ? "ARCHIVED" : "AVAILABLE" },
    { key: "state", operation: "EQUALS", string_value: state },
    { key: "display_name", operation: "IS_SUBSTRING", string_value: name },
  ]);
  const params = {
    page_size: PAGE_SIZE,
    page_token: tokens[tokens.length - 1],
    sort_by: `${sort.key}${sort.desc ? " desc" : ""}`,
    filter,
    experiment_id: experiment || undefined,
    // The table needs no pipeline specs: a page of 25 runs is ~15 KB instead of ~650 KB.
    view: "SUMMARY",
  };
  const runs = useRuns(params, { live: true });
  const list = runs.data?.runs ?? [];
  const experiments = useExperiments({ page_size: 1000 });
  const experimentNames = useMemo(
    () => new Map((experiments.data?.experiments ?? []).map((e) => [e.experiment_id, e.display_name ?? ""])),
    [experiments.data],
  );
  const metrics = useRunMetrics(list.map((r) => r.run_id));
  const metricKeys = useMemo(() => {
    const keys = new Set<string>();
    Object.values(metrics.data ?? {}).forEach((m) => Object.keys(m).forEach((k) => keys.add(k)));
    return [...keys].sort();
  }, [metrics.data]);

  // A new filter or sort starts again from the first page.
  const refilter = (patch: QueryPatch, options?: ChangeOptions) => change({ ...patch, page: undefined }, options);
  const toggleSort = (key: SortKey) =>
    refilter({ sort: writeSort({ key, desc: sort.key === key ? !sort.desc : key !== "display_name" }, DEFAULT_SORT) });
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const chooseMetric = (key: string, on: boolean) => {
    const next = on ? [...metricColumns, key] : metricColumns.filter((k) => k !== key);
    setMetricColumns(next);
    localStorage.setItem(METRIC_COLUMNS_KEY, JSON.stringify(next));
  };

  const bulk = useApiAction(
    async ({ action, ids }: { action: (id: string) => Promise<unknown>; ids: string[] }) => {
      for (const id of ids) await action(id);
    },
    ["runs"],
  );
  const ids = [...selected];
  const selectedRuns = list.filter((r) => selected.has(r.run_id));
  const unfinished = selectedRuns.some((r) => !TERMINAL_RUN_STATES.has(r.state ?? ""));
  const run = (action: (id: string) => Promise<unknown>) =>
    bulk.mutate({ action, ids }, { onSuccess: () => setSelected(new Set()) });

  const header = (key: SortKey, label: string) => (
    <th>
      <button type="button" className="dy-sort" onClick={() => toggleSort(key)}>
        {label}
        {sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}
      </button>
    </th>
  );

  return (
    <section className="dy-runs">
      <div className="dy-toolbar">
        <FilterInput
          type="search"
          placeholder="Filter by name"
          aria-label="Filter by name"
          value={name}
          onText={(text) => refilter({ q: text }, { replace: Boolean(name) })}
        />
        <select aria-label="State" value={state} onChange={(e) => refilter({ state: e.target.value })}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s ? s.toLowerCase() : "any state"}
            </option>
          ))}
        </select>
        {experimentId === undefined && (
          <select
            aria-label="Experiment"
            value={experiment}
            onChange={(e) => refilter({ experiment: e.target.value })}
          >
            <option value="">any experiment</option>
            {(experiments.data?.experiments ?? []).map((e) => (
              <option key={e.experiment_id} value={e.experiment_id}>
                {e.display_name}
              </option>
            ))}
          </select>
        )}
        {metricKeys.length > 0 && (
          <details className="dy-columns">
            <summary>Metric columns</summary>
            {metricKeys.map((key) => (
              <label key={key}>
                <input
                  type="checkbox"
                  checked={metricColumns.includes(key)}
                  onChange={(e) => chooseMetric(key, e.target.checked)}
                />
                {key}
              </label>
            ))}
          </details>
        )}
        <div className="dy-actions">
          <button
            type="button"
            disabled={ids.length < 2}
            onClick={() => navigate(`/compare?runs=${ids.join(",")}`)}
          >
            Compare
          </button>
          {archived ? (
            <EditButton disabled={!ids.length} onClick={() => run(actions.unarchiveRun)}>
              Restore
            </EditButton>
          ) : (
            <EditButton disabled={!ids.length} onClick={() => run(actions.archiveRun)}>
              Archive
            </EditButton>
          )}
          <EditButton
            className="danger"
            disabled={!ids.length || unfinished}
            title={unfinished ? "Terminate unfinished runs before deleting them" : undefined}
            onClick={() => {
              if (window.confirm(`Delete ${ids.length} run(s) with their artifacts and logs?`)) {
                run(actions.deleteRun);
              }
            }}
          >
            Delete
          </EditButton>
        </div>
      </div>
      <ErrorBox error={runs.error ?? bulk.error} />
      <table className="dy-table" data-testid="runs-table">
        <thead>
          <tr>
            <th aria-label="select" />
            {header("state", "State")}
            {header("display_name", "Name")}
            <th>Pipeline</th>
            {experimentId === undefined && <th>Experiment</th>}
            {header("created_at", "Created")}
            <th>Duration</th>
            {metricColumns.map((key) => (
              <th key={key} className="dy-metric">
                {key}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.map((r: Run) => (
            <tr key={r.run_id} data-testid={`run-row-${r.run_id}`}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`select ${r.display_name}`}
                  checked={selected.has(r.run_id)}
                  onChange={() => toggle(r.run_id)}
                />
              </td>
              <td>
                <RunState run={r} />
              </td>
              <td>
                <Link to={`/runs/${r.run_id}`}>{r.display_name || r.run_id}</Link>
              </td>
              <td>{pipelineName(r)}</td>
              {experimentId === undefined && (
                <td>
                  {r.experiment_id && (
                    <Link to={`/experiments/${r.experiment_id}`}>
                      {experimentNames.get(r.experiment_id) ?? r.experiment_id.slice(0, 8)}
                    </Link>
                  )}
                </td>
              )}
              <td>{formatTime(r.created_at)}</td>
              <td>{formatDuration(startOf(r), r.finished_at)}</td>
              {metricColumns.map((key) => (
                <td key={key} className="dy-metric">
                  {formatValue(metrics.data?.[r.run_id]?.[key])}
                </td>
              ))}
            </tr>
          ))}
          {runs.isSuccess && list.length === 0 && (
            <tr>
              <td colSpan={8} className="dy-empty">
                No runs{archived ? " in the archive" : ""}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager
        tokens={tokens}
        next={runs.data?.next_page_token}
        total={runs.data?.total_size}
        onChange={(next) => change({ page: next })}
      />
    </section>
  );
}

/** A run's state badge; a pending run held back by its namespace's limit says why in the
 * badge's tooltip and is marked "waiting". */
function RunState({ run }: { run: Run }) {
  const reason = waitingReason(run);
  return (
    <>
      <StateBadge state={run.state} title={reason} />
      {reason && (
        <span className="dy-muted dy-waiting-hint" title={reason}>
          {" "}
          waiting
        </span>
      )}
    </>
  );
}

export function pipelineName(run: Run): string {
  const spec = run.pipeline_spec?.pipeline_spec ?? run.pipeline_spec;
  return spec?.pipelineInfo?.displayName || spec?.pipelineInfo?.name || run.pipeline_name || "";
}

function startOf(run: Run): string | undefined {
  const running = run.state_history?.find((s) => s.state === "RUNNING");
  return running?.update_time ?? run.created_at;
}
