/// <reference types="node" />
// Bytes for the viewers' tests (not part of the app bundle: only tests import this).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function bytesOf(text: string): ArrayBuffer {
  const encoded = new TextEncoder().encode(text);
  const bytes = new ArrayBuffer(encoded.byteLength);
  new Uint8Array(bytes).set(encoded);
  return bytes;
}

/** A real Parquet file written by pyarrow 26 (snappy): 150 rows of
 * id int64 = i, name string = "row{i}", score double = i / 4, ok bool = i % 2 == 0. */
export function parquetFixture(): ArrayBuffer {
  const file = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", "small.parquet"));
  // Copied into this environment's own ArrayBuffer, as fetch's arrayBuffer() gives one
  // (a Node Buffer's comes from another realm, and hyparquet checks instanceof).
  const bytes = new ArrayBuffer(file.byteLength);
  new Uint8Array(bytes).set(file);
  return bytes;
}
