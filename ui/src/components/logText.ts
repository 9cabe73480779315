// Pure helpers of the log view: where a search matches, and reading a whole log piece by
// piece from the server's log endpoint.

import type { TaskLog } from "../api/types";

/** The [start, end) of every case-insensitive occurrence of `query` in `text`, left to
 * right and not overlapping; none for an empty query. */
export function findMatches(text: string, query: string): [number, number][] {
  if (!query) return [];
  const haystack = text.toLowerCase();
  const needle = query.toLowerCase();
  const found: [number, number][] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    found.push([at, at + needle.length]);
  }
  return found;
}

/** The match after (step 1) or before (step -1) `current`, wrapping round; 0 when none. */
export function stepMatch(current: number, step: 1 | -1, count: number): number {
  if (count === 0) return 0;
  return (((current + step) % count) + count) % count;
}

/** The whole log as the server has it now, read from the start in the pieces it serves
 * (a piece stops at its size cap): until the log is complete, or has no more bytes yet. */
export async function readWholeLog(read: (offset: number) => Promise<TaskLog>): Promise<string> {
  const pieces: string[] = [];
  let offset = 0;
  for (;;) {
    const piece = await read(offset);
    pieces.push(piece.text);
    if (piece.next_offset <= offset || piece.next_offset >= piece.size) break;
    offset = piece.next_offset;
  }
  return pieces.join("");
}
