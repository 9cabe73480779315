// A pipeline: its versions, the selected version's parameters, static graph and IR, and
// "Create run" from it.

import { useState } from "react";
import { useParams, useSearchParams } from "react-router-dom";
import { stringify } from "yaml";

import { usePipeline, useVersion, useVersions } from "../api/hooks";
import { EditButton, EditLink, ErrorBox, KeyValues, Loading, PageHeader } from "../components/common";
import { formatTime, formatValue } from "../components/format";
import { RunGraph } from "../graph";
import { MarkdownView } from "../viewers";
import { UploadForm } from "./PipelinesPage";

export function PipelinePage() {
  const { pipelineId } = useParams();
  const [search, setSearch] = useSearchParams();
  const [tab, setTab] = useState<"graph" | "spec">("graph");
  const [uploading, setUploading] = useState(false);
  const pipeline = usePipeline(pipelineId);
  const versions = useVersions(pipelineId);
  const versionId = search.get("version") ?? versions.data?.[0]?.pipeline_version_id;
  const version = useVersion(pipelineId, versionId);

  if (pipeline.isLoading) return <Loading />;
  if (!pipeline.data) return <ErrorBox error={pipeline.error ?? "No such pipeline."} />;
  const spec = version.data?.pipeline_spec;
  const parameters = Object.entries(spec?.root?.inputDefinitions?.parameters ?? {});

  return (
    <>
      <PageHeader title={pipeline.data.display_name || pipeline.data.name}>
        <EditButton onClick={() => setUploading(true)}>Upload version</EditButton>
        {versionId && (
          <EditLink className="primary" to={`/runs/new?pipeline=${pipelineId}&version=${versionId}`}>
            Create run
          </EditLink>
        )}
      </PageHeader>
      {uploading && <UploadForm pipelineId={pipelineId} onDone={() => setUploading(false)} />}
      {pipeline.data.description && (
        <MarkdownView className="dy-description" text={pipeline.data.description} />
      )}
      <div className="dy-toolbar">
        <label>
          Version{" "}
          <select
            aria-label="Version"
            value={versionId ?? ""}
            onChange={(e) => setSearch({ version: e.target.value })}
          >
            {(versions.data ?? []).map((v) => (
              <option key={v.pipeline_version_id} value={v.pipeline_version_id}>
                {v.display_name || v.name} ({formatTime(v.created_at)})
              </option>
            ))}
          </select>
        </label>
      </div>
      <h3>Parameters</h3>
      {parameters.length ? (
        <KeyValues
          values={parameters.map(([name, definition]) => [
            name,
            `${definition.parameterType ?? ""}${
              definition.defaultValue !== undefined ? ` = ${formatValue(definition.defaultValue)}` : ""
            }`,
          ])}
        />
      ) : (
        <p className="dy-muted">none</p>
      )}
      <div className="dy-tabs" role="tablist">
        <button type="button" className={tab === "graph" ? "active" : ""} onClick={() => setTab("graph")}>
          Graph
        </button>
        <button type="button" className={tab === "spec" ? "active" : ""} onClick={() => setTab("spec")}>
          Pipeline spec
        </button>
      </div>
      <ErrorBox error={version.error} />
      {spec && tab === "graph" && (
        <div className="dy-graph">
          <RunGraph spec={spec} onSelect={() => undefined} />
        </div>
      )}
      {spec && tab === "spec" && <pre className="dy-code">{stringify(spec)}</pre>}
    </>
  );
}
