// Artifacts: all of them with type, producer and URI; an artifact's page with its view
// and its lineage (components/Lineage.tsx).

import { Link, useParams } from "react-router-dom";

import { artifactBytes } from "../api/client";
import { kfpFilter, useArtifact, useArtifacts, useRunArtifacts } from "../api/hooks";
import { useQueryState } from "../app/urlState";
import { ErrorBox, FilterInput, KeyValues, Loading, PageHeader, Pager } from "../components/common";
import { formatTime } from "../components/format";
import { Lineage } from "../components/Lineage";
import { ArtifactView } from "../viewers";

const PAGE_SIZE = 25;

const TYPES = [
  "",
  "system.Artifact",
  "system.Dataset",
  "system.Model",
  "system.Metrics",
  "system.ClassificationMetrics",
  "system.SlicedClassificationMetrics",
  "system.HTML",
  "system.Markdown",
];

export function ArtifactsPage() {
  const [query, change] = useQueryState();
  const tokens = query.getAll("page");
  const type = query.get("type") ?? "";
  const name = query.get("q") ?? "";
  const artifacts = useArtifacts({
    page_size: PAGE_SIZE,
    page_token: tokens[tokens.length - 1],
    sort_by: "created_at desc",
    filter: kfpFilter([
      { key: "schema_title", operation: "EQUALS", string_value: type },
      { key: "name", operation: "IS_SUBSTRING", string_value: name },
    ]),
  });
  return (
    <>
      <PageHeader title="Artifacts" />
      <div className="dy-toolbar">
        <FilterInput
          type="search"
          aria-label="Filter by name"
          placeholder="Filter by name"
          value={name}
          onText={(text) => change({ q: text, page: undefined }, { replace: Boolean(name) })}
        />
        <select aria-label="Type" value={type} onChange={(e) => change({ type: e.target.value, page: undefined })}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t || "any type"}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={artifacts.error} />
      <table className="dy-table" data-testid="artifacts-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th>Produced by</th>
            <th>URI</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(artifacts.data?.artifacts ?? []).map((a) => (
            <tr key={a.artifact_id}>
              <td>
                <Link to={`/artifacts/${a.artifact_id}`}>{a.name}</Link>
              </td>
              <td>{a.schema_title}</td>
              <td>
                {a.producer && (
                  <Link to={`/runs/${a.producer.run_id}?task=${encodeURIComponent(a.producer.task_id)}`}>
                    {a.producer.path}
                  </Link>
                )}
              </td>
              <td className="dy-uri">{a.uri}</td>
              <td>{formatTime(a.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager
        tokens={tokens}
        next={artifacts.data?.next_page_token}
        total={artifacts.data?.total_size}
        pageSize={PAGE_SIZE}
        onChange={(next) => change({ page: next })}
      />
    </>
  );
}

export function ArtifactPage() {
  const { artifactId } = useParams();
  const artifact = useArtifact(artifactId);
  // Its run's artifacts, with their producers and consumers, carry the lineage further.
  const runArtifacts = useRunArtifacts(artifact.data?.run_id, false);
  if (artifact.isLoading) return <Loading />;
  if (!artifact.data) return <ErrorBox error={artifact.error ?? "No such artifact."} />;
  const a = artifact.data;
  return (
    <>
      <PageHeader title={a.name} />
      <KeyValues
        values={[
          ["Type", a.schema_title],
          ["URI", <code key="uri">{a.uri}</code>],
          ["Run", <Link key="run" to={`/runs/${a.run_id}`}>{a.run_id}</Link>],
          ["Digest", a.digest ?? ""],
          ["Created", formatTime(a.created_at)],
        ]}
      />
      <h2>Lineage</h2>
      <ErrorBox error={runArtifacts.error} />
      <Lineage artifact={a} runArtifacts={runArtifacts.data ?? []} />
      <h2>Content</h2>
      <ArtifactView artifact={a} load={(x, range) => artifactBytes(x.artifact_id, range)} />
    </>
  );
}
