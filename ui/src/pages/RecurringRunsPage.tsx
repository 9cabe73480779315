// Recurring runs: trigger, next fire time and status; enable or disable in one click;
// the runs each one produced.

import { useState } from "react";
import { Link } from "react-router-dom";

import { actions, kfpFilter, useApiAction, useRecurringRuns, useRuns } from "../api/hooks";
import type { RecurringRun } from "../api/types";
import { EditButton, EditLink, ErrorBox, PageHeader, Pager, StateBadge } from "../components/common";
import { formatTime } from "../components/format";

const PAGE_SIZE = 25;

export function describeTrigger(recurring: RecurringRun): string {
  const cron = recurring.trigger?.cron_schedule?.cron;
  if (cron) return `cron ${cron} (${recurring.timezone ?? "UTC"})`;
  const interval = recurring.trigger?.periodic_schedule?.interval_second;
  return interval ? `every ${interval} s` : "";
}

export function RecurringRunsTable({ experimentId }: { experimentId?: string }) {
  const [tokens, setTokens] = useState<string[]>([]);
  const [open, setOpen] = useState<string | undefined>();
  const list = useRecurringRuns({
    page_size: PAGE_SIZE,
    page_token: tokens[tokens.length - 1],
    sort_by: "created_at desc",
    experiment_id: experimentId,
  });
  const enable = useApiAction(actions.enableRecurring, ["recurring"]);
  const disable = useApiAction(actions.disableRecurring, ["recurring"]);
  const remove = useApiAction(actions.deleteRecurring, ["recurring"]);
  return (
    <>
      <ErrorBox error={list.error ?? enable.error ?? disable.error ?? remove.error} />
      <table className="dy-table" data-testid="recurring-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Trigger</th>
            <th>Next fire time</th>
            <th>Status</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.recurringRuns ?? []).map((r) => {
            const enabled = r.status !== "DISABLED";
            return [
              <tr key={r.recurring_run_id} data-testid={`recurring-${r.display_name}`}>
                <td>
                  <button type="button" className="dy-link" onClick={() => setOpen(open === r.recurring_run_id ? undefined : r.recurring_run_id)}>
                    {r.display_name}
                  </button>
                </td>
                <td>{describeTrigger(r)}</td>
                <td>{enabled ? formatTime(r.next_fire_time) : ""}</td>
                <td data-testid="recurring-status">{enabled ? "enabled" : "disabled"}</td>
                <td>{formatTime(r.created_at)}</td>
                <td className="dy-actions">
                  <EditButton onClick={() => (enabled ? disable : enable).mutate(r.recurring_run_id)}>
                    {enabled ? "Disable" : "Enable"}
                  </EditButton>
                  <EditButton
                    className="danger"
                    onClick={() => window.confirm(`Delete ${r.display_name}? Its runs are kept.`) && remove.mutate(r.recurring_run_id)}
                  >
                    Delete
                  </EditButton>
                </td>
              </tr>,
              open === r.recurring_run_id && (
                <tr key={`${r.recurring_run_id}-runs`}>
                  <td colSpan={6}>
                    <ProducedRuns recurringRunId={r.recurring_run_id} />
                  </td>
                </tr>
              ),
            ];
          })}
          {list.data && !list.data.recurringRuns?.length && (
            <tr>
              <td colSpan={6} className="dy-empty">
                No recurring runs.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager
        tokens={tokens}
        next={list.data?.next_page_token}
        total={list.data?.total_size}
        pageSize={PAGE_SIZE}
        onChange={setTokens}
      />
    </>
  );
}

function ProducedRuns({ recurringRunId }: { recurringRunId: string }) {
  const runs = useRuns({
    page_size: 20,
    sort_by: "created_at desc",
    filter: kfpFilter([{ key: "recurring_run_id", operation: "EQUALS", string_value: recurringRunId }]),
    view: "SUMMARY",
  });
  const list = runs.data?.runs ?? [];
  if (!list.length) return <p className="dy-muted">No runs yet.</p>;
  return (
    <ul className="dy-produced">
      {list.map((run) => (
        <li key={run.run_id}>
          <StateBadge state={run.state} /> <Link to={`/runs/${run.run_id}`}>{run.display_name}</Link>{" "}
          <span className="dy-muted">scheduled {formatTime(run.scheduled_at)}</span>
        </li>
      ))}
    </ul>
  );
}

export function RecurringRunsPage() {
  return (
    <>
      <PageHeader title="Recurring runs">
        <EditLink className="primary" to="/runs/new?recurring=1">
          Create recurring run
        </EditLink>
      </PageHeader>
      <RecurringRunsTable />
    </>
  );
}
