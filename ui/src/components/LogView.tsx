// A task attempt's log, read in pieces by byte offset and tailed while the task runs;
// searched (matches highlighted, stepped through) and downloaded whole. While the server
// cannot be reached it says so instead of "following", and reads on from where it was
// once the server answers again.

import { Fragment, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { apiGet, isUnanswered } from "../api/client";
import { useConnection } from "../api/connection";
import type { TaskLog } from "../api/types";
import { ErrorBox } from "./common";
import { findMatches, readWholeLog, stepMatch } from "./logText";

export function LogView({ runId, taskId, attempts }: { runId: string; taskId: string; attempts: number }) {
  const [attempt, setAttempt] = useState<number | undefined>(undefined);
  const [text, setText] = useState("");
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [source, setSource] = useState<string | undefined>();
  const [path, setPath] = useState<string | undefined>();
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const [downloading, setDownloading] = useState(false);
  const bottom = useRef<HTMLPreElement>(null);
  const { lost } = useConnection();
  const url = `/runs/${runId}/nodes/${encodeURIComponent(taskId)}/logs`;

  useEffect(() => {
    let offset = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setText("");
    setComplete(false);
    setError(null);
    const read = async () => {
      try {
        const piece = await apiGet<TaskLog>(url, { offset, attempt });
        if (stopped) return;
        if (piece.text) setText((previous) => previous + piece.text);
        setSource(piece.cached_from_node_id);
        setPath(piece.task_path);
        offset = piece.next_offset;
        if (piece.complete) {
          setComplete(true);
          return;
        }
        timer = setTimeout(read, piece.next_offset < piece.size ? 0 : 1000);
      } catch (e) {
        if (stopped) return;
        // The server's refusal stays; a dropped connection (no answer, or a gateway's)
        // is asked again, from the same offset, until it answers.
        if (isUnanswered(e)) timer = setTimeout(read, 2000);
        else setError(e);
      }
    };
    void read();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [url, attempt]);

  const matches = useMemo(() => findMatches(text, query), [text, query]);
  const shown = Math.min(current, Math.max(0, matches.length - 1));

  useEffect(() => {
    const element = bottom.current;
    if (!element) return;
    if (query) {
      element.querySelector(".dy-current")?.scrollIntoView({ block: "center" });
    } else if (!complete) {
      element.scrollTop = element.scrollHeight;
    }
  }, [text, complete, query, shown]);

  const step = (direction: 1 | -1) => setCurrent(stepMatch(shown, direction, matches.length));
  const download = async () => {
    setDownloading(true);
    try {
      const whole = await readWholeLog((offset) => apiGet<TaskLog>(url, { offset, attempt }));
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([whole], { type: "text/plain" }));
      link.download = `${(path ?? taskId).replaceAll("/", "-")}-attempt-${attempt ?? attempts}.log`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      setError(e);
    } finally {
      setDownloading(false);
    }
  };

  return (
    <div className="dy-log">
      <div className="dy-toolbar">
        {attempts > 1 && (
          <select
            aria-label="Attempt"
            value={attempt ?? attempts}
            onChange={(e) => setAttempt(Number(e.target.value))}
          >
            {Array.from({ length: attempts }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                attempt {n}
              </option>
            ))}
          </select>
        )}
        <span className="dy-muted">
          {complete ? "complete" : lost ? "not following: the server cannot be reached" : "following…"}
          {source ? " (the log of the cached task it reused)" : ""}
        </span>
        <input
          type="search"
          aria-label="Search the log"
          placeholder="Search the log"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setCurrent(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") step(e.shiftKey ? -1 : 1);
          }}
        />
        {query && (
          <>
            <span className="dy-muted" data-testid="log-matches">
              {matches.length ? `${shown + 1} of ${matches.length}` : "no match"}
            </span>
            <button type="button" aria-label="Previous match" disabled={!matches.length} onClick={() => step(-1)}>
              ↑
            </button>
            <button type="button" aria-label="Next match" disabled={!matches.length} onClick={() => step(1)}>
              ↓
            </button>
          </>
        )}
        <button type="button" disabled={downloading} onClick={() => void download()}>
          Download
        </button>
      </div>
      <ErrorBox error={error} />
      <pre ref={bottom} className="dy-log-text" data-testid="task-log">
        {text ? highlighted(text, matches, shown) : complete ? "(empty log)" : ""}
      </pre>
    </div>
  );
}

/** `text` with each match in a <mark>, the current one marked apart. */
function highlighted(text: string, matches: [number, number][], current: number): ReactNode {
  if (!matches.length) return text;
  const parts: ReactNode[] = [];
  let at = 0;
  matches.forEach(([start, end], i) => {
    parts.push(<Fragment key={`t${i}`}>{text.slice(at, start)}</Fragment>);
    parts.push(
      <mark key={`m${i}`} className={i === current ? "dy-current" : undefined}>
        {text.slice(start, end)}
      </mark>,
    );
    at = end;
  });
  parts.push(<Fragment key="rest">{text.slice(at)}</Fragment>);
  return parts;
}
