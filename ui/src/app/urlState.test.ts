import { describe, expect, it } from "vitest";

import { patchQuery, readChoice, readSort, writeSort } from "./urlState";

describe("view state in the address", () => {
  it("sets, repeats and removes parameters and keeps the others", () => {
    const next = patchQuery(new URLSearchParams("ns=team-a&page=x&q=old"), {
      q: "new",
      page: undefined,
      expand: ["a", "a/b"],
      tab: "",
    });
    expect(next.toString()).toBe("ns=team-a&q=new&expand=a&expand=a%2Fb");
  });

  it("leaves out a sort that is the default and ignores an unknown one", () => {
    const fallback = { key: "created_at", desc: true } as const;
    const keys = ["created_at", "display_name"] as const;
    expect(writeSort({ key: "created_at", desc: true }, fallback)).toBeUndefined();
    expect(writeSort({ key: "display_name", desc: false }, fallback)).toBe("display_name");
    expect(readSort("-display_name", keys, fallback)).toEqual({ key: "display_name", desc: true });
    expect(readSort("password", keys, fallback)).toEqual(fallback);
    expect(readChoice("spec", ["graph", "spec"])).toBe("spec");
    expect(readChoice("nonsense", ["graph", "spec"])).toBe("graph");
  });
});
