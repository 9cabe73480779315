// The unfinished work of each namespace the caller reaches (GET /work): runs running,
// runs pending and how many of those wait on the namespace's limit
// (DAGYARD_NAMESPACE_MAX_RUNS), tasks running. Read again every few seconds while there is
// any; once there is none the page stops asking, and Refresh asks again.

import { Link } from "react-router-dom";

import { useWork } from "../api/hooks";
import { NS_PARAM } from "../api/namespace";
import { isBusy, namespaceLabel, pendingText, WORK_POLL_MS } from "../api/work";
import { ErrorBox, Loading, PageHeader } from "../components/common";
import { formatTime } from "../components/format";

export function WorkPage() {
  const work = useWork();
  const rows = work.data ?? [];
  const polling = rows.some(isBusy);
  return (
    <>
      <PageHeader title="Work">
        <button type="button" onClick={() => void work.refetch()} disabled={work.isFetching}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={work.error} />
      {work.isLoading ? (
        <Loading what="Loading the work" />
      ) : (
        <>
          <p className="dy-muted" data-testid="work-status">
            {polling
              ? `Updated every ${WORK_POLL_MS / 1000} s while anything runs or waits`
              : "Nothing runs or waits; not updating (Refresh asks again)"}
            {work.dataUpdatedAt ? ` · as of ${formatTime(new Date(work.dataUpdatedAt).toISOString())}` : ""}
          </p>
          <table className="dy-table" data-testid="work-table">
            <thead>
              <tr>
                <th>Namespace</th>
                <th>Runs running</th>
                <th title="Of the pending runs, those waiting because the namespace has as many runs running as DAGYARD_NAMESPACE_MAX_RUNS allows">
                  Runs pending (waiting on the limit)
                </th>
                <th>Tasks running</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((w) => (
                <tr key={w.namespace} data-testid={`work-row-${w.namespace}`}>
                  <td>
                    {w.namespace ? (
                      <Link to={`/runs?${NS_PARAM}=${encodeURIComponent(w.namespace)}`}>{w.namespace}</Link>
                    ) : (
                      <span className="dy-muted">{namespaceLabel(w.namespace)}</span>
                    )}
                  </td>
                  <td data-testid="runs-running">{w.runs_running}</td>
                  <td data-testid="runs-pending">{pendingText(w)}</td>
                  <td data-testid="tasks-running">{w.tasks_running}</td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={4} className="dy-empty">
                    No unfinished work in the namespaces you reach.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
