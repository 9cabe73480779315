// What a compiled pipeline file says about itself: the name and description in its IR's
// pipelineInfo, to offer as the defaults of an upload (the file's own name says less).
// A .zip or .tar.gz package is opened as the server opens it: its one pipeline file.

import { gunzipSync, unzipSync } from "fflate";
import { parseAllDocuments } from "yaml";

export interface PipelineFileInfo {
  name: string;
  description: string;
}

const PIPELINE_NAME = /\.(ya?ml|json)$/i;

/** The text of the pipeline in a file of an upload: the file itself (.yaml, .yml,
 * .json), or the one pipeline file inside a .zip or .tar.gz/.tgz package; undefined for
 * anything else, or a package without exactly one. */
export function pipelineFileText(fileName: string, data: Uint8Array): string | undefined {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  try {
    if (PIPELINE_NAME.test(fileName)) return decode(data);
    let found: Uint8Array[] = [];
    if (/\.zip$/i.test(fileName)) {
      found = Object.values(unzipSync(data, { filter: (f) => PIPELINE_NAME.test(f.name) }));
    } else if (/\.(tar\.gz|tgz)$/i.test(fileName)) {
      found = tarFiles(gunzipSync(data)).filter(([name]) => PIPELINE_NAME.test(name)).map(([, bytes]) => bytes);
    }
    return found.length === 1 ? decode(found[0]!) : undefined;
  } catch {
    return undefined; // not a readable archive: the server says what is wrong with it
  }
}

/** The regular files of a tar archive, with their names: 512-byte headers, each followed
 * by its file's bytes padded to 512. */
function tarFiles(tar: Uint8Array): [string, Uint8Array][] {
  const text = (from: number, length: number) =>
    new TextDecoder().decode(tar.subarray(from, from + length)).replace(/\0.*$/s, "");
  const files: [string, Uint8Array][] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = text(at, 100);
    if (!name) break; // the two empty blocks that end it
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const type = text(at + 156, 1);
    const prefix = text(at + 345, 155); // ustar: the start of a long name
    if (type === "0" || type === "") {
      files.push([prefix ? `${prefix}/${name}` : name, tar.subarray(at + 512, at + 512 + size)]);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
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
