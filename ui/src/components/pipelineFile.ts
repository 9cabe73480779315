// What a compiled pipeline file says about itself: the name and description in its IR's
// pipelineInfo, to offer as the defaults of an upload (the file's own name says less).

import { parseAllDocuments } from "yaml";

export interface PipelineFileInfo {
  name: string;
  description: string;
}

/** The file types read here: YAML and JSON text. Archives (.zip, .tar.gz) are unpacked
 * by the server only, which then names the pipeline after the file. */
export function isReadablePipelineFile(fileName: string): boolean {
  return /\.(ya?ml|json)$/i.test(fileName);
}

/** The pipelineInfo of the first document that has one (a compiled YAML may carry a
 * platform spec as a second document); undefined when the text is no pipeline. JSON is
 * YAML too, so one parser reads both. */
export function pipelineFileInfo(text: string): PipelineFileInfo | undefined {
  let documents;
  try {
    documents = parseAllDocuments(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(documents)) return undefined; // an empty stream
  for (const document of documents) {
    if (document.errors.length) return undefined;
    const value: unknown = document.toJS();
    const info = (value as { pipelineInfo?: unknown } | null)?.pipelineInfo;
    if (info && typeof info === "object") {
      const { name, description } = info as { name?: unknown; description?: unknown };
      return {
        name: typeof name === "string" ? name : "",
        description: typeof description === "string" ? description : "",
      };
    }
  }
  return undefined;
}
