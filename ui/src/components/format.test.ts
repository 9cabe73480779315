import { describe, expect, it } from "vitest";

import { formatDuration, formatTime, formatValue } from "./format";

describe("formatting", () => {
  it("reads durations in the largest sensible unit", () => {
    const start = "2026-01-01T00:00:00Z";
    expect(formatDuration(start, "2026-01-01T00:00:00.035Z")).toBe("35 ms");
    expect(formatDuration(start, "2026-01-01T00:00:04.5Z")).toBe("4.5 s");
    expect(formatDuration(start, "2026-01-01T00:02:05Z")).toBe("2 min 5 s");
    expect(formatDuration(start, "2026-01-01T03:10:00Z")).toBe("3 h 10 min");
    expect(formatDuration(undefined, "2026-01-01T00:00:01Z")).toBe("");
    expect(formatDuration(start, undefined, Date.parse("2026-01-01T00:00:30Z"))).toBe("30 s");
  });

  it("leaves out unset and epoch times", () => {
    expect(formatTime(undefined)).toBe("");
    expect(formatTime("1970-01-01T00:00:00Z")).toBe("");
    expect(formatTime("2026-03-04T05:06:07Z")).toMatch(/2026/);
  });

  it("shows numbers briefly and structures as JSON", () => {
    expect(formatValue(0.1 + 0.2)).toBe("0.3");
    expect(formatValue(3)).toBe("3");
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
  });
});
