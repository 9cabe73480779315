// Pipelines: search, upload a compiled pipeline, open one.

import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";

import { apiUpload } from "../api/client";
import { kfpFilter, useApiAction, usePipelines } from "../api/hooks";
import { useNamespace } from "../api/namespaceContext";
import type { Pipeline } from "../api/types";
import { useQueryState } from "../app/urlState";
import { EditButton, ErrorBox, FilterInput, PageHeader, Pager } from "../components/common";
import { formatTime } from "../components/format";
import { pipelineFileInfo, pipelineFileText, type PipelineFileInfo } from "../components/pipelineFile";

const PAGE_SIZE = 25;

export function PipelinesPage() {
  const [query, change] = useQueryState();
  const tokens = query.getAll("page");
  const search = query.get("q") ?? "";
  const [uploading, setUploading] = useState(false);
  const pipelines = usePipelines({
    page_size: PAGE_SIZE,
    page_token: tokens[tokens.length - 1],
    sort_by: "created_at desc",
    filter: kfpFilter([{ key: "display_name", operation: "IS_SUBSTRING", string_value: search }]),
  });
  return (
    <>
      <PageHeader title="Pipelines">
        <EditButton className="primary" onClick={() => setUploading(true)}>
          Upload pipeline
        </EditButton>
      </PageHeader>
      {uploading && <UploadForm onDone={() => setUploading(false)} />}
      <div className="dy-toolbar">
        <FilterInput
          type="search"
          placeholder="Search pipelines"
          aria-label="Search pipelines"
          value={search}
          onText={(text) => change({ q: text, page: undefined }, { replace: Boolean(search) })}
        />
      </div>
      <ErrorBox error={pipelines.error} />
      <table className="dy-table" data-testid="pipelines-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(pipelines.data?.pipelines ?? []).map((p) => (
            <tr key={p.pipeline_id}>
              <td>
                <Link to={`/pipelines/${p.pipeline_id}`}>{p.display_name || p.name}</Link>
              </td>
              <td className="dy-muted">{p.description}</td>
              <td>{formatTime(p.created_at)}</td>
            </tr>
          ))}
          {pipelines.data && !pipelines.data.pipelines?.length && (
            <tr>
              <td colSpan={3} className="dy-empty">
                No pipelines{search ? " match" : " yet: upload a compiled pipeline (.yaml)"}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager
        tokens={tokens}
        next={pipelines.data?.next_page_token}
        total={pipelines.data?.total_size}
        pageSize={PAGE_SIZE}
        onChange={(next) => change({ page: next })}
      />
    </>
  );
}

/** Upload a compiled pipeline as a new pipeline, or as a new version of `pipelineId`. A
 * new pipeline's name and description start as the file's own (its pipelineInfo), a
 * version's description too; what the user typed is never replaced. */
export function UploadForm({ pipelineId, onDone }: { pipelineId?: string; onDone: () => void }) {
  const navigate = useNavigate();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  // What the last file chosen said, so that choosing another replaces only that.
  const [fromFile, setFromFile] = useState<PipelineFileInfo>({ name: "", description: "" });
  const { namespace } = useNamespace();
  const upload = useApiAction(
    ({ file, name, description }: { file: File; name: string; description: string }) =>
      pipelineId
        ? apiUpload("/pipelines/upload_version", file, { pipelineid: pipelineId, name, description })
        : apiUpload<Pipeline>("/pipelines/upload", file, { name, description, namespace }),
    ["pipelines", "versions"],
  );
  const choose = async (chosen: File | null) => {
    setFile(chosen);
    const text = chosen ? pipelineFileText(chosen.name, new Uint8Array(await chosen.arrayBuffer())) : undefined;
    const info = (text !== undefined && pipelineFileInfo(text)) || { name: "", description: "" };
    const offered = { name: pipelineId ? "" : info.name, description: info.description };
    setName((typed) => (typed === "" || typed === fromFile.name ? offered.name : typed));
    setDescription((typed) => (typed === "" || typed === fromFile.description ? offered.description : typed));
    setFromFile(offered);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    upload.mutate(
      { file, name: name.trim(), description },
      {
        onSuccess: (created) => {
          onDone();
          const id = (created as Pipeline).pipeline_id;
          if (!pipelineId && id) navigate(`/pipelines/${id}`);
        },
      },
    );
  };
  return (
    <form className="dy-form dy-card" onSubmit={submit} aria-label="Upload pipeline">
      <h2>{pipelineId ? "Upload a new version" : "Upload a pipeline"}</h2>
      <label>
        Compiled pipeline (.yaml, .yml, .json, .zip, .tar.gz)
        <input
          type="file"
          name="uploadfile"
          accept=".yaml,.yml,.json,.zip,.tar.gz,.tgz"
          onChange={(e) => void choose(e.target.files?.[0] ?? null)}
        />
      </label>
      <label>
        {pipelineId ? "Version name (default: the file name)" : "Name (default: the pipeline's name in the file)"}
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description (default: the file's; Markdown)
        <textarea
          name="description"
          rows={3}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <ErrorBox error={upload.error} />
      <div className="dy-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <EditButton type="submit" className="primary" disabled={!file || upload.isPending}>
          Upload
        </EditButton>
      </div>
    </form>
  );
}
