// A task attempt's log, read in pieces by byte offset and tailed while the task runs.
// While the server cannot be reached it says so instead of "following", and reads on
// from where it was once the server answers again.

import { useEffect, useRef, useState } from "react";

import { apiGet, isUnanswered } from "../api/client";
import { useConnection } from "../api/connection";
import type { TaskLog } from "../api/types";
import { ErrorBox } from "./common";

export function LogView({ runId, taskId, attempts }: { runId: string; taskId: string; attempts: number }) {
  const [attempt, setAttempt] = useState<number | undefined>(undefined);
  const [text, setText] = useState("");
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [source, setSource] = useState<string | undefined>();
  const bottom = useRef<HTMLPreElement>(null);
  const { lost } = useConnection();

  useEffect(() => {
    let offset = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setText("");
    setComplete(false);
    setError(null);
    const read = async () => {
      try {
        const piece = await apiGet<TaskLog>(`/runs/${runId}/nodes/${encodeURIComponent(taskId)}/logs`, {
          offset,
          attempt,
        });
        if (stopped) return;
        if (piece.text) setText((previous) => previous + piece.text);
        setSource(piece.cached_from_node_id);
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
  }, [runId, taskId, attempt]);

  useEffect(() => {
    const element = bottom.current;
    if (element && !complete) element.scrollTop = element.scrollHeight;
  }, [text, complete]);

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
      </div>
      <ErrorBox error={error} />
      <pre ref={bottom} className="dy-log-text" data-testid="task-log">
        {text || (complete ? "(empty log)" : "")}
      </pre>
    </div>
  );
}
