import { EditLink, PageHeader } from "../components/common";
import { RunsTable } from "../components/RunsTable";

export function RunsPage() {
  return (
    <>
      <PageHeader title="Runs">
        <EditLink className="primary" to="/runs/new">
          Create run
        </EditLink>
      </PageHeader>
      <RunsTable />
    </>
  );
}
