// Experiments: list, create, archive; an experiment's page with its runs and recurring
// runs.

import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";

import { apiSend } from "../api/client";
import { actions, kfpFilter, useApiAction, useExperiment, useExperiments } from "../api/hooks";
import { useNamespace } from "../api/namespaceContext";
import { useQueryState } from "../app/urlState";
import { EditButton, EditLink, ErrorBox, Loading, PageHeader, Pager } from "../components/common";
import { formatTime } from "../components/format";
import { RunsTable } from "../components/RunsTable";
import { MarkdownView } from "../viewers";
import { RecurringRunsTable } from "./RecurringRunsPage";

const PAGE_SIZE = 25;

export function ExperimentsPage() {
  const [query, change] = useQueryState();
  const tokens = query.getAll("page");
  const [creating, setCreating] = useState(false);
  const experiments = useExperiments({
    page_size: PAGE_SIZE,
    page_token: tokens[tokens.length - 1],
    sort_by: "created_at desc",
    filter: kfpFilter([{ key: "storage_state", operation: "EQUALS", string_value: "AVAILABLE" }]),
  });
  const archive = useApiAction(actions.archiveExperiment, ["experiments", "runs"]);
  return (
    <>
      <PageHeader title="Experiments">
        <EditButton className="primary" onClick={() => setCreating(true)}>
          Create experiment
        </EditButton>
      </PageHeader>
      {creating && <CreateExperiment onDone={() => setCreating(false)} />}
      <ErrorBox error={experiments.error ?? archive.error} />
      <table className="dy-table" data-testid="experiments-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
            <th>Last run</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(experiments.data?.experiments ?? []).map((e) => (
            <tr key={e.experiment_id}>
              <td>
                <Link to={`/experiments/${e.experiment_id}`}>{e.display_name}</Link>
              </td>
              <td className="dy-muted">{e.description}</td>
              <td>{formatTime(e.created_at)}</td>
              <td>{formatTime(e.last_run_created_at)}</td>
              <td>
                <EditButton
                  onClick={() =>
                    window.confirm(`Archive ${e.display_name} and its runs?`) && archive.mutate(e.experiment_id)
                  }
                >
                  Archive
                </EditButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager
        tokens={tokens}
        next={experiments.data?.next_page_token}
        total={experiments.data?.total_size}
        pageSize={PAGE_SIZE}
        onChange={(next) => change({ page: next })}
      />
    </>
  );
}

function CreateExperiment({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const { namespace } = useNamespace();
  const create = useApiAction(
    () =>
      apiSend("POST", "/experiments", {
        display_name: name.trim(),
        description,
        namespace: namespace || undefined,
      }),
    ["experiments"],
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(undefined, { onSuccess: onDone });
  };
  return (
    <form className="dy-form dy-card" onSubmit={submit} aria-label="Create experiment">
      <label>
        Name
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <label>
        Description
        <input name="description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <ErrorBox error={create.error} />
      <div className="dy-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <EditButton type="submit" className="primary" disabled={!name.trim() || create.isPending}>
          Create
        </EditButton>
      </div>
    </form>
  );
}

export function ExperimentPage() {
  const { experimentId } = useParams();
  const experiment = useExperiment(experimentId);
  if (experiment.isLoading) return <Loading />;
  if (!experiment.data) return <ErrorBox error={experiment.error ?? "No such experiment."} />;
  return (
    <>
      <PageHeader title={experiment.data.display_name}>
        <EditLink className="primary" to={`/runs/new?experiment=${experimentId}`}>
          Create run
        </EditLink>
      </PageHeader>
      {experiment.data.description && (
        <MarkdownView className="dy-description" text={experiment.data.description} />
      )}
      <h2>Runs</h2>
      <RunsTable experimentId={experimentId} archived={experiment.data.storage_state === "ARCHIVED"} />
      <h2>Recurring runs</h2>
      <RecurringRunsTable experimentId={experimentId} />
    </>
  );
}
