import { describe, expect, it } from "vitest";

import { connection, lostReason, reportStatus, reportUnreachable, subscribe } from "./connection";

describe("the connection to the server", () => {
  it("is lost without an answer or with a gateway's, and back with any answer of the server", () => {
    const seen: boolean[] = [];
    const stop = subscribe(() => seen.push(connection().lost));
    reportStatus(200, 1000);
    expect(connection()).toEqual({ lost: false, lastSuccess: 1000 });
    reportUnreachable();
    expect(connection()).toEqual({ lost: true, lastSuccess: 1000 });
    reportStatus(502, 2000);
    reportStatus(504, 2500);
    expect(connection()).toEqual({ lost: true, lastSuccess: 1000 });
    expect(lostReason(connection())).toMatch(/cannot be reached/);
    reportStatus(404, 3000); // refused, but it answered
    expect(connection()).toEqual({ lost: false, lastSuccess: 1000 });
    expect(lostReason(connection())).toBeUndefined();
    stop();
    expect(seen).toEqual([false, true, false]);
  });

  it("counts the server's own 500 as an answer that updated nothing", () => {
    reportStatus(200, 5000);
    reportUnreachable();
    reportStatus(500, 6000);
    expect(connection()).toEqual({ lost: false, lastSuccess: 5000 });
  });
});
