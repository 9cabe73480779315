import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";

import { Layout } from "./app/Layout";
import { kfpLinkTarget } from "./app/kfpLinks";
import { ApiError } from "./api/client";
import { ArchivePage } from "./pages/ArchivePage";
import { ArtifactPage, ArtifactsPage } from "./pages/ArtifactsPage";
import { ComparePage } from "./pages/ComparePage";
import { CreateRunPage } from "./pages/CreateRunPage";
import { ExperimentPage, ExperimentsPage } from "./pages/ExperimentsPage";
import { PipelinePage } from "./pages/PipelinePage";
import { PipelinesPage } from "./pages/PipelinesPage";
import { RecurringRunsPage } from "./pages/RecurringRunsPage";
import { RunPage } from "./pages/RunPage";
import { RunsPage } from "./pages/RunsPage";
import { WorkPage } from "./pages/WorkPage";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change by asking again; a dropped connection may.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Navigate to="/runs" replace />} />
            <Route path="pipelines" element={<PipelinesPage />} />
            <Route path="pipelines/:pipelineId" element={<PipelinePage />} />
            <Route path="runs" element={<RunsPage />} />
            <Route path="runs/new" element={<CreateRunPage />} />
            <Route path="runs/:runId" element={<RunPage />} />
            <Route path="compare" element={<ComparePage />} />
            <Route path="experiments" element={<ExperimentsPage />} />
            <Route path="experiments/:experimentId" element={<ExperimentPage />} />
            <Route path="recurring" element={<RecurringRunsPage />} />
            <Route path="artifacts" element={<ArtifactsPage />} />
            <Route path="artifacts/:artifactId" element={<ArtifactPage />} />
            <Route path="archive" element={<ArchivePage />} />
            <Route path="work" element={<WorkPage />} />
            <Route path="*" element={<p>No such page.</p>} />
          </Route>
        </Routes>
      </BrowserRouter>
    </QueryClientProvider>
  );
}

// A link from Kubeflow Pipelines (`/#/runs/details/<id>`, as kfp.Client prints) opens the
// same page here: the address is replaced before the router reads it.
const kfpTarget = kfpLinkTarget(window.location.hash);
if (kfpTarget) window.history.replaceState(null, "", kfpTarget);

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
