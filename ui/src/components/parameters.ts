// Pipeline parameters in a form: the text a user types, checked and converted by the
// parameter's IR type before anything is sent.

import type { ParameterDefinition } from "../api/types";

export type ParameterType =
  | "STRING"
  | "NUMBER_INTEGER"
  | "NUMBER_DOUBLE"
  | "BOOLEAN"
  | "LIST"
  | "STRUCT";

export function parameterType(definition: ParameterDefinition): ParameterType {
  const type = definition.parameterType ?? "STRING";
  return (["NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT"].includes(type)
    ? type
    : "STRING") as ParameterType;
}

/** The form text of a value (a default, or a cloned run's parameter). */
export function toText(value: unknown, type: ParameterType): string {
  if (value === undefined || value === null) return "";
  if (type === "LIST" || type === "STRUCT") return JSON.stringify(value);
  return String(value);
}

/** The value of the form text, or an error message saying what is wrong. */
export function fromText(
  text: string,
  definition: ParameterDefinition,
): { value?: unknown; error?: string; omit?: boolean } {
  const type = parameterType(definition);
  const blank = text.trim() === "";
  if (blank && type !== "STRING") {
    if (definition.defaultValue !== undefined || definition.isOptional) return { omit: true };
    return { error: "required" };
  }
  switch (type) {
    case "STRING":
      if (text === "" && (definition.defaultValue !== undefined || definition.isOptional)) {
        return { omit: true };
      }
      return { value: text };
    case "NUMBER_INTEGER": {
      const value = Number(text);
      return Number.isInteger(value) ? { value } : { error: "a whole number" };
    }
    case "NUMBER_DOUBLE": {
      const value = Number(text);
      return Number.isFinite(value) ? { value } : { error: "a number" };
    }
    case "BOOLEAN":
      if (text === "true" || text === "false") return { value: text === "true" };
      return { error: "true or false" };
    case "LIST":
    case "STRUCT": {
      try {
        const value: unknown = JSON.parse(text);
        const ok = type === "LIST" ? Array.isArray(value) : typeof value === "object" && value !== null && !Array.isArray(value);
        return ok ? { value } : { error: type === "LIST" ? "a JSON list, e.g. [1, 2]" : 'a JSON object, e.g. {"a": 1}' };
      } catch {
        return { error: type === "LIST" ? "a JSON list, e.g. [1, 2]" : 'a JSON object, e.g. {"a": 1}' };
      }
    }
  }
}
