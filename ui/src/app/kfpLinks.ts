// Kubeflow Pipelines' UI addresses its pages in the URL's hash (`/#/runs/details/<id>`),
// and kfp.Client prints such links. This module maps them to the paths of our pages, so a
// link from kfp opens the same page here. Pure: no window, no router.

type Route = { pattern: RegExp; target: (parts: string[], query: URLSearchParams) => string };

const id = "([^/?#]+)";

const ROUTES: Route[] = [
  { pattern: new RegExp(`^/runs/details/${id}/?$`), target: ([run]) => `/runs/${run}` },
  { pattern: /^\/runs\/?$/, target: () => "/runs" },
  {
    pattern: new RegExp(`^/experiments/details/${id}/?$`),
    target: ([experiment]) => `/experiments/${experiment}`,
  },
  { pattern: /^\/experiments\/?$/, target: () => "/experiments" },
  {
    pattern: new RegExp(`^/pipelines/details/${id}/version/${id}/?$`),
    target: ([pipeline, version]) => `/pipelines/${pipeline}?version=${version}`,
  },
  {
    pattern: new RegExp(`^/pipelines/details/${id}/?$`),
    target: ([pipeline]) => `/pipelines/${pipeline}`,
  },
  { pattern: /^\/pipelines\/?$/, target: () => "/pipelines" },
  { pattern: new RegExp(`^/recurringruns?(/details/${id})?/?$`), target: () => "/recurring" },
  { pattern: /^\/archive(\/runs|\/experiments)?\/?$/, target: () => "/archive" },
  {
    pattern: /^\/compare\/?$/,
    target: (_, query) => {
      const runs = (query.get("runlist") ?? "")
        .split(",")
        .filter(Boolean)
        .map((run) => encodeURIComponent(run));
      return runs.length ? `/compare?runs=${runs.join(",")}` : "/compare";
    },
  },
];

/** The path of our page for a KFP UI hash such as `#/runs/details/abc`, or null when the
 * hash is not a KFP page address (so the URL is left as it is). */
export function kfpLinkTarget(hash: string): string | null {
  if (!hash.startsWith("#/")) return null;
  const address = hash.slice(1);
  const queryAt = address.indexOf("?");
  const path = queryAt < 0 ? address : address.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : address.slice(queryAt + 1));
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const parts: string[] = [];
    for (const raw of match.slice(1)) {
      if (raw === undefined || raw.startsWith("/")) continue; // optional groups
      const part = decodeSegment(raw);
      if (part === null) return null;
      parts.push(encodeURIComponent(part));
    }
    return route.target(parts, query);
  }
  return null;
}

function decodeSegment(raw: string): string | null {
  try {
    const decoded = decodeURIComponent(raw);
    return decoded && !decoded.includes("/") ? decoded : null;
  } catch {
    return null;
  }
}
