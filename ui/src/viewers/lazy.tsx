// The viewers that need a big library (the chart library for ROC curves, the Markdown
// renderer) as components that load it, in a chunk of its own, the first time one is
// drawn: a page that shows none of them never loads or runs those libraries, and the
// pages that open first (a run's graph, the lists) start sooner.

import { lazy, Suspense } from "react";

import type { MarkdownViewProps } from "./MarkdownView";
import type { RocCurveProps } from "./RocCurve";

const LoadedRocCurve = lazy(() => import("./RocCurve").then((m) => ({ default: m.RocCurve })));
const LoadedMarkdownView = lazy(() =>
  import("./MarkdownView").then((m) => ({ default: m.MarkdownView })),
);

function Loading() {
  return <span className="dy-muted">Loading…</span>;
}

export function RocCurve(props: RocCurveProps) {
  return (
    <Suspense fallback={<Loading />}>
      <LoadedRocCurve {...props} />
    </Suspense>
  );
}

export function MarkdownView(props: MarkdownViewProps) {
  return (
    <Suspense fallback={<Loading />}>
      <LoadedMarkdownView {...props} />
    </Suspense>
  );
}
