// Shown on every page while the server cannot be reached: since when the page's data
// has not been updated. A page that has read nothing for a few seconds has the server's
// health checked, so that it too notices a loss. While lost, the page's queries are
// asked again every few seconds (the health check alone would not do: it answers while
// the database does not), and once the server answers again every query is read afresh.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { checkReachable } from "../api/client";
import { connection, useConnection } from "../api/connection";
import { formatTime } from "../components/format";

const PROBE_MS = 2000;
const HEARTBEAT_MS = 5000;

export function ConnectionBanner() {
  const { lost, lastSuccess } = useConnection();
  const client = useQueryClient();
  const wasLost = useRef(lost);

  useEffect(() => {
    if (wasLost.current && !lost) void client.invalidateQueries();
    wasLost.current = lost;
  }, [client, lost]);

  useEffect(() => {
    if (lost) return;
    const timer = setInterval(() => {
      const last = connection().lastSuccess ?? 0;
      if (Date.now() - last >= HEARTBEAT_MS) void checkReachable();
    }, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [lost]);

  useEffect(() => {
    if (!lost) return;
    const timer = setInterval(() => void client.refetchQueries({ type: "active" }), PROBE_MS);
    return () => clearInterval(timer);
  }, [client, lost]);

  if (!lost) return null;
  return (
    <div className="dy-connection-lost" role="alert" data-testid="connection-lost">
      <strong>Connection to the server lost.</strong>{" "}
      {lastSuccess
        ? `What this page shows was last updated at ${formatTime(new Date(lastSuccess).toISOString())}.`
        : "Nothing could be read from it yet."}{" "}
      Changes are disabled until it answers again; trying every {PROBE_MS / 1000} s…
    </div>
  );
}
