import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, startTransition, StrictMode, Suspense } from "react";
import type { ComponentType } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";

import { Layout } from "./app/Layout";
import { kfpLinkTarget } from "./app/kfpLinks";
import { ApiError } from "./api/client";
import { Loading } from "./components/common";
import "./styles.css";

// Each page in a chunk of its own: a page starts by running its own code only, not every
// page's. Once the first page is drawn, the others are fetched while the browser is idle,
// so that they open at once later, and open even when the server has become unreachable.
const PAGES = {
  archive: () => import("./pages/ArchivePage"),
  artifacts: () => import("./pages/ArtifactsPage"),
  compare: () => import("./pages/ComparePage"),
  createRun: () => import("./pages/CreateRunPage"),
  experiments: () => import("./pages/ExperimentsPage"),
  pipeline: () => import("./pages/PipelinePage"),
  pipelines: () => import("./pages/PipelinesPage"),
  recurring: () => import("./pages/RecurringRunsPage"),
  run: () => import("./pages/RunPage"),
  runs: () => import("./pages/RunsPage"),
  work: () => import("./pages/WorkPage"),
};

const ArchivePage = page(PAGES.archive, "ArchivePage");
const ArtifactPage = page(PAGES.artifacts, "ArtifactPage");
const ArtifactsPage = page(PAGES.artifacts, "ArtifactsPage");
const ComparePage = page(PAGES.compare, "ComparePage");
const CreateRunPage = page(PAGES.createRun, "CreateRunPage");
const ExperimentPage = page(PAGES.experiments, "ExperimentPage");
const ExperimentsPage = page(PAGES.experiments, "ExperimentsPage");
const PipelinePage = page(PAGES.pipeline, "PipelinePage");
const PipelinesPage = page(PAGES.pipelines, "PipelinesPage");
const RecurringRunsPage = page(PAGES.recurring, "RecurringRunsPage");
const RunPage = page(PAGES.run, "RunPage");
const RunsPage = page(PAGES.runs, "RunsPage");
const WorkPage = page(PAGES.work, "WorkPage");

/** A page component loaded from its module on first use. */
function page<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  const Loaded = lazy(async (): Promise<{ default: ComponentType }> => ({ default: (await load())[name] }));
  return function Page() {
    return (
      <Suspense fallback={<Loading what="Loading the page" />}>
        <Loaded />
      </Suspense>
    );
  };
}

/** Fetch every page's chunk, one at a time while the browser has nothing else to do. */
function prefetchPages(): void {
  const left = Object.values(PAGES);
  const next = () => {
    const load = left.shift();
    if (load) void load().catch(() => undefined).then(() => whenIdle(next));
  };
  whenIdle(next);
}

function whenIdle(then: () => void): void {
  if ("requestIdleCallback" in window) window.requestIdleCallback(then, { timeout: 5000 });
  else setTimeout(then, 200);
}

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
  // The first render as a transition: React draws the app in slices of a few
  // milliseconds, yielding in between, rather than in one long task (on a loaded machine
  // that task alone went past 100 ms).
  const app = createRoot(root);
  startTransition(() =>
    app.render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
  window.addEventListener("load", prefetchPages, { once: true });
}
