import { describe, expect, it } from "vitest";

import { fromText, parameterType, toText } from "./parameters";

describe("pipeline parameters in a form", () => {
  it("converts text by the parameter's IR type", () => {
    expect(fromText("3", { parameterType: "NUMBER_INTEGER" })).toEqual({ value: 3 });
    expect(fromText("2.5", { parameterType: "NUMBER_INTEGER" })).toEqual({ error: "a whole number" });
    expect(fromText("2.5", { parameterType: "NUMBER_DOUBLE" })).toEqual({ value: 2.5 });
    expect(fromText("abc", { parameterType: "NUMBER_DOUBLE" })).toEqual({ error: "a number" });
    expect(fromText("true", { parameterType: "BOOLEAN" })).toEqual({ value: true });
    expect(fromText("[1, 2]", { parameterType: "LIST" })).toEqual({ value: [1, 2] });
    expect(fromText('{"a": 1}', { parameterType: "LIST" }).error).toMatch(/JSON list/);
    expect(fromText('{"a": 1}', { parameterType: "STRUCT" })).toEqual({ value: { a: 1 } });
    expect(fromText("text", { parameterType: "STRING" })).toEqual({ value: "text" });
  });

  it("leaves out blank inputs that have a default, and requires the others", () => {
    expect(fromText("", { parameterType: "NUMBER_INTEGER", defaultValue: 2 })).toEqual({ omit: true });
    expect(fromText("", { parameterType: "NUMBER_INTEGER" })).toEqual({ error: "required" });
    expect(fromText("", { parameterType: "STRING", defaultValue: "x" })).toEqual({ omit: true });
    expect(fromText("", { parameterType: "STRING" })).toEqual({ value: "" });
    expect(fromText("", { parameterType: "LIST", isOptional: true })).toEqual({ omit: true });
  });

  it("writes values back as the text a user would type", () => {
    expect(toText([1, 2], "LIST")).toBe("[1,2]");
    expect(toText(4, "NUMBER_INTEGER")).toBe("4");
    expect(toText(undefined, "STRING")).toBe("");
    expect(parameterType({ parameterType: "PARAMETER_TYPE_ENUM_UNSPECIFIED" })).toBe("STRING");
  });
});
