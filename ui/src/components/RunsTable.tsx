// The runs list, used by the runs page, an experiment's page and the archive: state,
// name, pipeline, experiment, start, duration and the scalar metrics the user picks (of
// any run of the list, not only of its page); filters, sorting (by duration and by a
// metric too, done by the server) and server-side pages of 25, 50 or 100, kept in the
// address; several runs selected at once (all of a page in one tick) to compare,
// archive, restore or delete.

import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import {
  actions,
  kfpFilter,
  useApiAction,
  useExperiments,
  useRunMetricKeys,
  useRunMetrics,
  useRuns,
  TERMINAL_RUN_STATES,
} from "../api/hooks";
import type { Run } from "../api/types";
import { waitingReason } from "../api/work";
import { useQueryState, writeSort, type ChangeOptions, type QueryPatch } from "../app/urlState";
import { EditButton, ErrorBox, FilterInput, Pager, StateBadge } from "./common";
import { describeTiming, runTiming, timingCell } from "./durations";
import { formatTime, formatValue } from "./format";
import {
  DEFAULT_RUN_SORT,
  experimentLabels,
  METRIC_SORT_PREFIX,
  PAGE_SIZES,
  readPageSize,
  readRunSort,
  type RunSortKey,
} from "./runsList";

const STATES = ["", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELING", "CANCELED", "SKIPPED"];
const METRIC_COLUMNS_KEY = "dagyard.runs.metric-columns";
const PAGE_SIZE_KEY = "dagyard.runs.page-size";

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
  const sort = readRunSort(query.get("sort"));
  const [pageSize, setPageSize] = useState(() => readPageSize(localStorage.getItem(PAGE_SIZE_KEY)));
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
    page_size: pageSize,
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
  const experimentNames = useMemo(() => experimentLabels(experiments.data?.experiments ?? []), [experiments.data]);
  const metrics = useRunMetrics(list.map((r) => r.run_id));
  // The keys of every run the list holds, on any of its pages.
  const metricKeys = useRunMetricKeys({ filter, experiment_id: experiment || undefined }).data ?? [];

  // A new filter or sort starts again from the first page.
  const refilter = (patch: QueryPatch, options?: ChangeOptions) => change({ ...patch, page: undefined }, options);
  const toggleSort = (key: RunSortKey) =>
    refilter({ sort: writeSort({ key, desc: sort.key === key ? !sort.desc : key !== "display_name" }, DEFAULT_RUN_SORT) });
  const choosePageSize = (size: number) => {
    localStorage.setItem(PAGE_SIZE_KEY, String(size));
    setPageSize(size);
    change({ page: undefined }); // a page token belongs to its page size
  };
  const pageIds = list.map((r) => r.run_id);
  const pageSelected = pageIds.filter((id) => selected.has(id)).length;
  const toggleAll = () =>
    setSelected((s) => {
      const next = new Set(s);
      pageIds.forEach((id) => (pageSelected === pageIds.length ? next.delete(id) : next.add(id)));
      return next;
    });
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

  const header = (key: RunSortKey, label: string, className?: string) => (
    <th key={key} className={className}>
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
                {experimentNames.get(e.experiment_id)}
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
            <th>
              <SelectAll
                all={pageIds.length > 0 && pageSelected === pageIds.length}
                some={pageSelected > 0}
                disabled={!pageIds.length}
                onChange={toggleAll}
              />
            </th>
            {header("state", "State")}
            {header("display_name", "Name")}
            <th>Pipeline</th>
            {experimentId === undefined && <th>Experiment</th>}
            {header("created_at", "Created")}
            {header("duration", "Duration")}
            {metricColumns.map((key) => header(`${METRIC_SORT_PREFIX}${key}`, key, "dy-metric"))}
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
              <td>
                <RunDuration run={r} />
              </td>
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
      <div className="dy-pager-row">
        <label className="dy-muted">
          Rows per page{" "}
          <select value={pageSize} onChange={(e) => choosePageSize(Number(e.target.value))}>
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
        <Pager
          tokens={tokens}
          next={runs.data?.next_page_token}
          total={runs.data?.total_size}
          pageSize={pageSize}
          onChange={(next) => change({ page: next })}
        />
      </div>
    </section>
  );
}

/** How long a run ran, and beside it how long it was queued or waited, when worth saying. */
function RunDuration({ run }: { run: Run }) {
  const timing = runTiming(run, Date.now());
  const { ran, rest } = timingCell(timing);
  return (
    <span title={describeTiming(timing)} data-testid="run-duration">
      {ran}
      {rest && <span className="dy-muted">{ran ? " · " : ""}{rest}</span>}
    </span>
  );
}

/** The header's checkbox: ticks (or clears) every run of the page; half-ticked when
 * only some are. */
function SelectAll({
  all,
  some,
  disabled,
  onChange,
}: {
  all: boolean;
  some: boolean;
  disabled: boolean;
  onChange: () => void;
}) {
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = some && !all;
  }, [some, all]);
  return (
    <input
      ref={box}
      type="checkbox"
      aria-label="select all runs of this page"
      checked={all}
      disabled={disabled}
      onChange={onChange}
    />
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
