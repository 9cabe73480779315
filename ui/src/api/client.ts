// The one way the UI talks to the server: fetch under /apis/v2beta1, with the API token
// (kept for the browser session) when the server asks for one, KFP's error bodies
// turned into ApiError messages, and whether the server answered (connection.ts).

import { isGatewayStatus, reportStatus, reportUnreachable } from "./connection";
import type { ApiErrorBody } from "./types";

export const API_PREFIX = "/apis/v2beta1";
const TOKEN_KEY = "dagyard.token";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Whether `error` is a request that got no answer from the server: fetch's own failure
 * (a TypeError), or a gateway's 502/503/504. Asking again later may succeed. */
export function isUnanswered(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof ApiError && isGatewayStatus(error.status));
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event("dagyard-token"));
}

type Params = Record<string, string | number | boolean | string[] | undefined | null>;

export function apiUrl(path: string, params?: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else search.set(key, String(value));
  }
  const query = search.toString();
  return `${API_PREFIX}${path}${query ? `?${query}` : ""}`;
}

async function request(method: string, path: string, init: RequestInit & { params?: Params } = {}) {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(apiUrl(path, init.params), { ...init, method, headers });
  } catch (e) {
    // An aborted request (a page left, a query cancelled) says nothing of the server.
    if (!(e instanceof DOMException && e.name === "AbortError")) reportUnreachable();
    throw e;
  }
  reportStatus(response.status);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as ApiErrorBody;
      message = body.message || body.error || message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) window.dispatchEvent(new Event("dagyard-unauthorized"));
    throw new ApiError(message, response.status);
  }
  return response;
}

/** Asks the server's health check, which answers without its database, and reports only
 * a lost connection: whether the data can be read again is for real requests to say. */
export async function checkReachable(): Promise<void> {
  try {
    const response = await fetch(apiUrl("/healthz"));
    if (isGatewayStatus(response.status)) reportUnreachable();
  } catch {
    reportUnreachable();
  }
}

export async function apiGet<T>(path: string, params?: Params): Promise<T> {
  const response = await request("GET", path, { params });
  return (await response.json()) as T;
}

export async function apiSend<T>(
  method: "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  params?: Params,
): Promise<T> {
  const init: RequestInit & { params?: Params } = { params };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  const response = await request(method, path, init);
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export async function apiUpload<T>(path: string, file: File, params?: Params): Promise<T> {
  const form = new FormData();
  form.append("uploadfile", file, file.name);
  const response = await request("POST", path, { body: form, params });
  return (await response.json()) as T;
}

/** The bytes of an artifact stored as a file (at most `limit` bytes from `offset`). */
export async function artifactBytes(
  artifactId: string,
  { offset = 0, limit }: { offset?: number; limit?: number } = {},
): Promise<ArrayBuffer> {
  const response = await request("GET", `/artifacts/${encodeURIComponent(artifactId)}:content`, {
    params: { offset, limit },
  });
  return response.arrayBuffer();
}
