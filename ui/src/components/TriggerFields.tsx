// The trigger of a recurring run (cron or interval, time zone, start and end, max
// concurrency, catch-up), and its next fire times as the server computes them.

import { useQuery } from "@tanstack/react-query";

import { apiSend } from "../api/client";
import type { Trigger } from "../api/types";
import { formatTime } from "./format";

export interface TriggerForm {
  kind: "cron" | "interval";
  cron: string;
  interval: string;
  timezone: string;
  start: string;
  end: string;
  maxConcurrency: string;
  catchup: boolean;
}

function iso(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function triggerBody(form: TriggerForm): {
  trigger: Trigger;
  timezone: string;
  max_concurrency: number;
  no_catchup: boolean;
} {
  const bounds = { start_time: iso(form.start), end_time: iso(form.end) };
  return {
    trigger:
      form.kind === "cron"
        ? { cron_schedule: { cron: form.cron.trim(), ...bounds } }
        : { periodic_schedule: { interval_second: Number(form.interval), ...bounds } },
    timezone: form.timezone,
    max_concurrency: Number(form.maxConcurrency) || 1,
    no_catchup: !form.catchup,
  };
}

export function useFireTimes(form: TriggerForm | null) {
  const body = form ? triggerBody(form) : null;
  return useQuery({
    queryKey: ["fire-times", body],
    queryFn: () =>
      apiSend<{ fire_times?: string[] }>("POST", "/recurringruns:preview", {
        trigger: body?.trigger,
        timezone: body?.timezone,
        count: 5,
      }),
    enabled: body !== null,
    retry: false,
    select: (data) => data.fire_times ?? [],
  });
}

const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(kind: string): string[] }).supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
})();

export function TriggerFields({
  value,
  onChange,
  fireTimes,
}: {
  value: TriggerForm;
  onChange: (value: TriggerForm) => void;
  fireTimes: ReturnType<typeof useFireTimes>;
}) {
  const set = (changes: Partial<TriggerForm>) => onChange({ ...value, ...changes });
  return (
    <fieldset className="dy-trigger">
      <legend>Trigger</legend>
      <div className="dy-segmented">
        <label>
          <input type="radio" name="trigger" checked={value.kind === "cron"} onChange={() => set({ kind: "cron" })} />{" "}
          Cron
        </label>
        <label>
          <input
            type="radio"
            name="trigger"
            checked={value.kind === "interval"}
            onChange={() => set({ kind: "interval" })}
          />{" "}
          Every N seconds
        </label>
      </div>
      {value.kind === "cron" ? (
        <label>
          Cron (six fields with seconds first, or five)
          <input name="cron" value={value.cron} onChange={(e) => set({ cron: e.target.value })} />
        </label>
      ) : (
        <label>
          Interval in seconds
          <input
            name="interval"
            type="number"
            min={1}
            value={value.interval}
            onChange={(e) => set({ interval: e.target.value })}
          />
        </label>
      )}
      <label>
        Time zone
        <select name="timezone" value={value.timezone} onChange={(e) => set({ timezone: e.target.value })}>
          {(ZONES.includes(value.timezone) ? ZONES : [value.timezone, ...ZONES]).map((zone) => (
            <option key={zone}>{zone}</option>
          ))}
        </select>
      </label>
      <label>
        Start (optional)
        <input type="datetime-local" name="start" value={value.start} onChange={(e) => set({ start: e.target.value })} />
      </label>
      <label>
        End (optional)
        <input type="datetime-local" name="end" value={value.end} onChange={(e) => set({ end: e.target.value })} />
      </label>
      <label>
        Max concurrent runs
        <input
          name="max_concurrency"
          type="number"
          min={1}
          value={value.maxConcurrency}
          onChange={(e) => set({ maxConcurrency: e.target.value })}
        />
      </label>
      <label className="dy-inline">
        <input type="checkbox" name="catchup" checked={value.catchup} onChange={(e) => set({ catchup: e.target.checked })} />
        Catch up: run every due time missed while the server was down (otherwise only the latest)
      </label>
      <div className="dy-fire-times" data-testid="fire-times">
        <strong>Next fire times</strong>
        {fireTimes.error ? (
          <div className="dy-field-error">{(fireTimes.error as Error).message}</div>
        ) : (
          <ul>
            {(fireTimes.data ?? []).map((t) => (
              <li key={t}>{formatTime(t)}</li>
            ))}
          </ul>
        )}
      </div>
    </fieldset>
  );
}
