// Compare runs: how long each ran (and was queued), parameters side by side with the differences marked, scalar metrics,
// ROC curves overlaid and confusion matrices side by side.

import { useQueries } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";

import { apiGet } from "../api/client";
import { useRunMetrics } from "../api/hooks";
import type { Artifact, Run } from "../api/types";
import { ErrorBox, PageHeader, StateBadge } from "../components/common";
import { describeTiming, runTiming } from "../components/durations";
import { formatValue } from "../components/format";
import { ConfusionMatrix, RocCurve, rocSeries } from "../viewers";

export function ComparePage() {
  const [search] = useSearchParams();
  const ids = (search.get("runs") ?? "").split(",").filter(Boolean);
  const runs = useQueries({
    queries: ids.map((id) => ({ queryKey: ["run", id], queryFn: () => apiGet<Run>(`/runs/${id}`) })),
  });
  const artifacts = useQueries({
    queries: ids.map((id) => ({
      queryKey: ["run-artifacts", id],
      queryFn: () => apiGet<{ artifacts?: Artifact[] }>(`/runs/${id}/artifacts`),
    })),
  });
  const metrics = useRunMetrics(ids);
  const loaded = runs.map((r) => r.data).filter((r): r is Run => Boolean(r));
  const error = runs.find((r) => r.error)?.error ?? metrics.error;
  if (ids.length < 2) return <p>Select two or more runs on the runs page to compare them.</p>;

  const parameterNames = [...new Set(loaded.flatMap((r) => Object.keys(r.runtime_config?.parameters ?? {})))].sort();
  const metricNames = [...new Set(Object.values(metrics.data ?? {}).flatMap((m) => Object.keys(m)))].sort();
  const classification = ids.map((id, i) => ({
    run: loaded.find((r) => r.run_id === id),
    items: (artifacts[i]?.data?.artifacts ?? []).filter((a) => a.schema_title === "system.ClassificationMetrics"),
  }));
  const roc = classification.flatMap(({ run, items }) =>
    items.map((a) => rocSeries(`${run?.display_name ?? a.run_id} · ${a.producer?.path ?? a.name}`, a.metadata ?? {})),
  );

  return (
    <>
      <PageHeader title={`Compare ${ids.length} runs`} />
      <ErrorBox error={error} />
      <table className="dy-table dy-compare" data-testid="compare-parameters">
        <thead>
          <tr>
            <th />
            {loaded.map((r) => (
              <th key={r.run_id}>
                <Link to={`/runs/${r.run_id}`}>{r.display_name}</Link> <StateBadge state={r.state} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr data-testid="compare-duration">
            <th>Duration</th>
            {loaded.map((r) => (
              <td key={r.run_id}>{describeTiming(runTiming(r, Date.now()))}</td>
            ))}
          </tr>
          <tr className="dy-section">
            <td colSpan={loaded.length + 1}>Parameters</td>
          </tr>
          {parameterNames.map((name) => {
            const values = loaded.map((r) => formatValue(r.runtime_config?.parameters?.[name]));
            const differs = new Set(values).size > 1;
            return (
              <tr key={name} className={differs ? "dy-differs" : ""} data-differs={differs}>
                <th>{name}</th>
                {values.map((v, i) => (
                  <td key={i}>{v}</td>
                ))}
              </tr>
            );
          })}
          <tr className="dy-section">
            <td colSpan={loaded.length + 1}>Metrics</td>
          </tr>
          {metricNames.map((name) => {
            const values = loaded.map((r) => metrics.data?.[r.run_id]?.[name]);
            const best = Math.max(...values.filter((v): v is number => typeof v === "number"));
            return (
              <tr key={name} data-testid={`metric-${name}`}>
                <th>{name}</th>
                {values.map((v, i) => (
                  <td key={i} className={v === best && values.length > 1 ? "dy-best" : ""}>
                    {formatValue(v)}
                  </td>
                ))}
              </tr>
            );
          })}
          {!metricNames.length && (
            <tr>
              <td colSpan={loaded.length + 1} className="dy-empty">
                No scalar metrics in these runs.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {roc.length > 0 && (
        <>
          <h2>ROC curves</h2>
          <div className="dy-chart" data-testid="compare-roc">
            <RocCurve series={roc} />
          </div>
        </>
      )}
      {classification.some((c) => c.items.length) && (
        <>
          <h2>Confusion matrices</h2>
          <div className="dy-side-by-side" data-testid="compare-confusion">
            {classification.map(({ run, items }, i) =>
              items.map((a) => (
                <div key={`${i}-${a.artifact_id}`} className="dy-card">
                  <h3>{run?.display_name}</h3>
                  <ConfusionMatrix metadata={a.metadata ?? {}} />
                </div>
              )),
            )}
          </div>
        </>
      )}
    </>
  );
}
