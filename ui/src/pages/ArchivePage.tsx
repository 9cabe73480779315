// Archived runs and experiments, with restore.

import { Link } from "react-router-dom";

import { actions, kfpFilter, useApiAction, useExperiments } from "../api/hooks";
import { EditButton, ErrorBox, PageHeader } from "../components/common";
import { formatTime } from "../components/format";
import { RunsTable } from "../components/RunsTable";

export function ArchivePage() {
  const experiments = useExperiments({
    page_size: 200,
    filter: kfpFilter([{ key: "storage_state", operation: "EQUALS", string_value: "ARCHIVED" }]),
  });
  const restore = useApiAction(actions.unarchiveExperiment, ["experiments", "runs"]);
  return (
    <>
      <PageHeader title="Archive" />
      <h2>Runs</h2>
      <RunsTable archived />
      <h2>Experiments</h2>
      <ErrorBox error={experiments.error ?? restore.error} />
      <table className="dy-table" data-testid="archived-experiments">
        <thead>
          <tr>
            <th>Name</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(experiments.data?.experiments ?? []).map((e) => (
            <tr key={e.experiment_id}>
              <td>
                <Link to={`/experiments/${e.experiment_id}`}>{e.display_name}</Link>
              </td>
              <td>{formatTime(e.created_at)}</td>
              <td>
                <EditButton onClick={() => restore.mutate(e.experiment_id)}>Restore</EditButton>
              </td>
            </tr>
          ))}
          {experiments.data && !experiments.data.experiments?.length && (
            <tr>
              <td colSpan={3} className="dy-empty">
                No archived experiments.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
