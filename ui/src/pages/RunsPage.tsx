import { Link } from "react-router-dom";

import { PageHeader } from "../components/common";
import { RunsTable } from "../components/RunsTable";

export function RunsPage() {
  return (
    <>
      <PageHeader title="Runs">
        <Link className="dy-button primary" to="/runs/new">
          Create run
        </Link>
      </PageHeader>
      <RunsTable />
    </>
  );
}
