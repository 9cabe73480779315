import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import type { Artifact } from "../api/types";
import { ConfusionMatrix } from "./ConfusionMatrix";
import { DatasetPreview } from "./DatasetPreview";
import { isParquet } from "./dataset";
import { uriBaseName } from "./format";
import { HtmlView } from "./HtmlView";
import { MarkdownView, RocCurve } from "./lazy";
import { MetadataTable, MetricsTable } from "./MetricsTable";
import { rocSeries } from "./roc";

export interface ByteRange {
  offset?: number;
  limit?: number;
}

/** Fetches an artifact's bytes (all of them, or at most `limit` from `offset`); the page
 * passes one built on the API client's artifactBytes. */
export type ArtifactLoader = (artifact: Artifact, range?: ByteRange) => Promise<ArrayBuffer>;

export interface ArtifactViewProps {
  artifact: Artifact;
  load: ArtifactLoader;
}

const MiB = 1024 * 1024;
/** How much of a dataset is read for a text preview. */
export const DATASET_PREVIEW_BYTES = 2 * MiB;
/** The largest Parquet file read whole for a preview. */
export const PARQUET_PREVIEW_MAX_BYTES = 32 * MiB;

type Content =
  | { kind: "text"; text: string }
  | { kind: "dataset"; bytes: ArrayBuffer; truncated: boolean }
  | { kind: "message"; text: string };

type LoadState = { key: string } & (
  | { status: "loading" }
  | { status: "error"; message: string }
  | { status: "ready"; content: Content }
);

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fileName(artifact: Artifact): string {
  return uriBaseName(artifact.uri) || artifact.name || artifact.artifact_id;
}

async function loadDataset(artifact: Artifact, load: ArtifactLoader): Promise<Content> {
  const name = fileName(artifact);
  const parquetByName = name.toLowerCase().endsWith(".parquet");
  let bytes = parquetByName ? null : await load(artifact, { offset: 0, limit: DATASET_PREVIEW_BYTES });
  // Exactly the limit: there may be more. (More than it: a loader that ignores the range
  // gave the whole file.)
  let truncated = bytes !== null && bytes.byteLength === DATASET_PREVIEW_BYTES;
  if (bytes === null || (truncated && isParquet(bytes))) {
    // Parquet keeps its schema at the end: read the whole file (one byte past the cap
    // tells a file that is too large).
    bytes = await load(artifact, { offset: 0, limit: PARQUET_PREVIEW_MAX_BYTES + 1 });
    if (bytes.byteLength > PARQUET_PREVIEW_MAX_BYTES) {
      return { kind: "message", text: "This Parquet file is over 32 MiB: no preview; download it." };
    }
    truncated = false;
  }
  return { kind: "dataset", bytes, truncated };
}

/** Downloads the artifact's bytes as a file: fetched with `load` (so the API token goes
 * along), then saved through a Blob URL and a temporary <a download>. */
async function download(artifact: Artifact, load: ArtifactLoader): Promise<void> {
  const bytes = await load(artifact);
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName(artifact);
  a.style.display = "none";
  document.body.appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Revoked after the browser has started the download.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

const LOADED_SCHEMAS = new Set(["system.Markdown", "system.HTML", "system.Dataset"]);

/** Shows an artifact the way its schema calls for, with its URI and a Download button. */
export function ArtifactView({ artifact, load }: ArtifactViewProps) {
  const schema = artifact.schema_title;
  const needsBytes = LOADED_SCHEMAS.has(schema);
  const key = `${artifact.artifact_id}\n${artifact.uri}\n${schema}`;
  const [loaded, setState] = useState<LoadState>({ key, status: "loading" });
  // What was loaded for a previous artifact is not shown while this one loads.
  const state: LoadState = loaded.key === key ? loaded : { key, status: "loading" };
  const [downloading, setDownloading] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  // The page may pass a new function on every render: only a new artifact reloads.
  const loadRef = useRef(load);
  loadRef.current = load;
  const artifactRef = useRef(artifact);
  artifactRef.current = artifact;

  useEffect(() => {
    setDownloadError(null);
    if (!needsBytes) return;
    let cancelled = false;
    setState({ key, status: "loading" });
    const current = artifactRef.current;
    const loader = loadRef.current;
    const contentPromise: Promise<Content> =
      schema === "system.Dataset"
        ? loadDataset(current, loader)
        : loader(current).then((bytes) => ({ kind: "text", text: new TextDecoder("utf-8").decode(bytes) }));
    contentPromise.then(
      (content) => {
        if (!cancelled) setState({ key, status: "ready", content });
      },
      (error: unknown) => {
        if (!cancelled) setState({ key, status: "error", message: errorMessage(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [key, schema, needsBytes]);

  const onDownload = () => {
    setDownloading(true);
    setDownloadError(null);
    download(artifact, load).then(
      () => setDownloading(false),
      (error: unknown) => {
        setDownloading(false);
        setDownloadError(errorMessage(error));
      },
    );
  };

  let body: ReactNode;
  if (schema === "system.Metrics") {
    body = <MetricsTable metadata={artifact.metadata} />;
  } else if (schema === "system.ClassificationMetrics") {
    const metadata = artifact.metadata ?? {};
    const hasMatrix = metadata.confusionMatrix !== undefined;
    const hasRoc = metadata.confidenceMetrics !== undefined;
    body =
      hasMatrix || hasRoc ? (
        <>
          {hasMatrix && <ConfusionMatrix metadata={metadata} />}
          {hasRoc && <RocCurve series={[rocSeries(artifact.name || "ROC", metadata)]} />}
        </>
      ) : (
        <>
          <p className="dy-viewer-empty">No confusion matrix or ROC curve in this artifact.</p>
          <MetadataTable metadata={artifact.metadata} />
        </>
      );
  } else if (needsBytes) {
    if (state.status === "loading") {
      body = <p className="dy-viewer-loading">Loading…</p>;
    } else if (state.status === "error") {
      body = (
        <p className="dy-viewer-error" role="alert">
          Could not load the artifact: {state.message}
        </p>
      );
    } else {
      const { content } = state;
      if (content.kind === "message") body = <p className="dy-viewer-empty">{content.text}</p>;
      else if (content.kind === "dataset") {
        body = <DatasetPreview name={fileName(artifact)} bytes={content.bytes} truncated={content.truncated} />;
      } else if (schema === "system.HTML") {
        body = <HtmlView html={content.text} title={`HTML artifact ${artifact.name}`} />;
      } else body = <MarkdownView text={content.text} />;
    }
  } else {
    body = <MetadataTable metadata={artifact.metadata} />;
  }

  return (
    <section className="dy-viewer-artifact" aria-label={`Artifact ${artifact.name}`}>
      <header className="dy-viewer-artifact-header">
        <div className="dy-viewer-artifact-title">
          <strong>{artifact.name || artifact.artifact_id}</strong>{" "}
          <span className="dy-viewer-schema">{schema}</span>
        </div>
        <div className="dy-viewer-artifact-uri">
          <code title={artifact.uri}>{artifact.uri}</code>
          <button type="button" className="dy-viewer-button" onClick={onDownload} disabled={downloading}>
            {downloading ? "Downloading…" : "Download"}
          </button>
        </div>
        {downloadError !== null && (
          <p className="dy-viewer-error" role="alert">
            Download failed: {downloadError}
          </p>
        )}
      </header>
      <div className="dy-viewer-artifact-body">{body}</div>
    </section>
  );
}
