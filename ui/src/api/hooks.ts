// Server state for the pages, through TanStack Query: one hook per resource, polling
// while a run is live, and the mutations that invalidate what they change. Every list is
// held to the current namespace (namespaceContext.tsx), here and nowhere else.

import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { apiGet, apiSend } from "./client";
import { useNamespace } from "./namespaceContext";
import type {
  Artifact,
  Experiment,
  ListResponse,
  Pipeline,
  PipelineVersion,
  RecurringRun,
  Run,
  RunMetrics,
  Task,
  TaskOutline,
  WorkResponse,
} from "./types";
import { type IterationRequest } from "./outline";
import { workPollInterval } from "./work";

export interface ListParams {
  page_size?: number;
  page_token?: string;
  sort_by?: string;
  filter?: string;
  [key: string]: string | number | boolean | string[] | undefined;
}

export const TERMINAL_RUN_STATES = new Set(["SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"]);

export function isLive(run: Run | undefined): boolean {
  return run !== undefined && !TERMINAL_RUN_STATES.has(run.state ?? "");
}

/** How often a list of runs is asked again: often while one of them is live, seldom
 * otherwise (a run submitted elsewhere still shows up). */
export function runsPollInterval(runs: Run[] | undefined): number {
  return runs?.some(isLive) ? 2000 : 15000;
}

/** A KFP filter JSON on the given field/operation/value triples (empty ones skipped). */
export function kfpFilter(
  predicates: { key: string; operation: string; string_value?: string; string_values?: string[] }[],
): string | undefined {
  const kept = predicates.filter((p) => p.string_value || (p.string_values && p.string_values.length));
  if (!kept.length) return undefined;
  return JSON.stringify({
    predicates: kept.map((p) =>
      p.string_values
        ? { key: p.key, operation: p.operation, string_values: { values: p.string_values } }
        : p,
    ),
  });
}

/** `params` with the current namespace, and whether the list may be asked for yet (a
 * caller with several namespaces must name one). */
function useScoped(params: ListParams): { params: ListParams; enabled: boolean } {
  const { ready, namespace } = useNamespace();
  return { params: namespace ? { ...params, namespace } : params, enabled: ready };
}

export function useRuns(given: ListParams, options: { live?: boolean } = {}) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["runs", params],
    queryFn: () => apiGet<ListResponse & { runs?: Run[] }>("/runs", params),
    enabled,
    // Every 2 s while a listed run is live; else only every 15 s, to notice new runs.
    refetchInterval: (query) => (options.live ? runsPollInterval(query.state.data?.runs) : false),
    placeholderData: (previous) => previous,
  });
}

export function useRun(runId: string | undefined) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["run", runId],
    // The tasks come from /runs/{id}/tasks: the run's own task_details would double them.
    // The spec is asked for once: a run's never changes, and it is most of the answer.
    queryFn: async () => {
      const known = client.getQueryData<Run>(["run", runId])?.pipeline_spec;
      const view = known ? "SUMMARY" : undefined;
      const fresh = await apiGet<Run>(`/runs/${runId}`, { task_details: false, view });
      return known && !fresh.pipeline_spec ? { ...fresh, pipeline_spec: known } : fresh;
    },
    enabled: Boolean(runId),
    refetchInterval: (query) => (isLive(query.state.data) ? 1000 : false),
  });
}

/** When a run stops being live, read its tasks and artifacts once more: their last
 * changes may have landed after the final poll. */
export function useFinalRefresh(runId: string | undefined, live: boolean): void {
  const client = useQueryClient();
  const wasLive = useRef(live);
  useEffect(() => {
    if (wasLive.current && !live) {
      void client.invalidateQueries({ queryKey: ["run-tasks", runId] });
      void client.invalidateQueries({ queryKey: ["run-artifacts", runId] });
    }
    wasLive.current = live;
  }, [client, runId, live]);
}

/** How often a live run's tasks are asked for again: every second, less often for very
 * big runs (each answer carries only what changed, but the graph is rebuilt on it). */
export function taskPollInterval(taskCount: number): number {
  return Math.min(5000, Math.max(1000, Math.round(taskCount / 4)));
}

/** A run's tasks as the page knows them, the revision they are complete up to, and on a
 * big run the outline of those inside loop iterations, which are not among them. */
export interface RunTasks {
  tasks: Task[];
  revision: number;
  outline?: TaskOutline;
}

/** `known` with the tasks of a later answer: a changed task takes its old place, a new one
 * goes last (creation order); unchanged tasks stay the same objects. */
export function mergeTasks(
  known: RunTasks,
  changed: Task[],
  revision: number,
  outline?: TaskOutline,
): RunTasks {
  const next = outline ?? known.outline;
  if (!changed.length) {
    return revision === known.revision && next === known.outline ? known : { ...known, revision, outline: next };
  }
  const position = new Map<string, number>();
  known.tasks.forEach((t, i) => position.set(t.task_id, i));
  const tasks = known.tasks.slice();
  for (const t of changed) {
    const at = position.get(t.task_id);
    if (at === undefined) {
      position.set(t.task_id, tasks.length);
      tasks.push(t);
    } else {
      tasks[at] = t;
    }
  }
  return { tasks, revision, outline: next };
}

interface TasksAnswer {
  tasks?: Task[];
  revision?: number;
  outline?: TaskOutline;
}

/** A run's tasks: read once, then only those written since the last answer's revision (a
 * live 2,000-iteration loop changes a few dozen tasks a second). On a big run the server
 * leaves out the tasks inside loop iterations and counts them in an outline instead; the
 * graph asks for the iterations it shows (`useIterationTasks`). */
export function useRunTasks(runId: string | undefined, live: boolean) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["run-tasks", runId],
    queryFn: async (): Promise<RunTasks> => {
      const known = client.getQueryData<RunTasks>(["run-tasks", runId]);
      const ask = (after?: number) =>
        apiGet<TasksAnswer>(`/runs/${runId}/tasks`, { outline: true, after_revision: after });
      let answer = await ask(known?.revision);
      // A run that grew past the outline's threshold while watched: what the page holds
      // is of the other kind, read it again whole.
      const crossed = answer.outline && known?.outline && answer.outline.complete !== known.outline.complete;
      if (crossed) answer = await ask();
      const revision = answer.revision ?? 0;
      if (!known || crossed) return { tasks: answer.tasks ?? [], revision, outline: answer.outline };
      return mergeTasks(known, answer.tasks ?? [], revision, answer.outline);
    },
    enabled: Boolean(runId),
    refetchInterval: (query) => {
      const data = query.state.data;
      return live ? taskPollInterval((data?.tasks.length ?? 0) + (data?.outline?.left_out ?? 0)) : false;
    },
    // The merge keeps unchanged tasks as they were: no deep comparison of thousands.
    structuralSharing: false,
  });
}

/** The task records `requests` name, read again every 2 s while the run is live. */
export function useIterationTasks(runId: string | undefined, requests: IterationRequest[], live: boolean): Task[] {
  const results = useQueries({
    queries: requests.map((request) => ({
      queryKey: ["run-tasks", runId, request],
      queryFn: () => apiGet<TasksAnswer>(`/runs/${runId}/tasks`, request),
      enabled: Boolean(runId),
      refetchInterval: live ? 2000 : (false as const),
      placeholderData: (previous: TasksAnswer | undefined) => previous,
    })),
  });
  const answers = results.map((r) => r.data);
  // One list for as long as the answers are the same objects.
  const key = useRef<{ answers: (TasksAnswer | undefined)[]; tasks: Task[] }>({ answers: [], tasks: [] });
  const same =
    key.current.answers.length === answers.length && key.current.answers.every((a, i) => a === answers[i]);
  if (!same) key.current = { answers, tasks: answers.flatMap((a) => a?.tasks ?? []) };
  return key.current.tasks;
}

export function useRunArtifacts(runId: string | undefined, live: boolean) {
  return useQuery({
    queryKey: ["run-artifacts", runId],
    queryFn: () => apiGet<{ artifacts?: Artifact[] }>(`/runs/${runId}/artifacts`),
    enabled: Boolean(runId),
    refetchInterval: live ? 2000 : false,
    select: (data) => data.artifacts ?? [],
  });
}

export function useRunMetrics(runIds: string[]) {
  return useQuery({
    queryKey: ["run-metrics", runIds],
    queryFn: () => apiGet<RunMetrics>("/runs:metrics", { run_ids: runIds }),
    enabled: runIds.length > 0,
    select: (data) => data.metrics ?? {},
  });
}

/** The metric keys of every run a runs list with `given` (filter, experiment) holds,
 * all its pages: GET /runs:metric_keys. */
export function useRunMetricKeys(given: ListParams) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["run-metric-keys", params],
    queryFn: () => apiGet<{ metric_keys?: string[] }>("/runs:metric_keys", params),
    enabled,
    select: (data) => data.metric_keys ?? [],
    placeholderData: (previous) => previous,
  });
}

export function useArtifacts(given: ListParams) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["artifacts", params],
    queryFn: () => apiGet<ListResponse & { artifacts?: Artifact[] }>("/artifacts", params),
    enabled,
    placeholderData: (previous) => previous,
  });
}

export function useArtifact(artifactId: string | undefined) {
  return useQuery({
    queryKey: ["artifact", artifactId],
    queryFn: () => apiGet<Artifact>(`/artifacts/${artifactId}`),
    enabled: Boolean(artifactId),
  });
}

export function usePipelines(given: ListParams) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["pipelines", params],
    queryFn: () => apiGet<ListResponse & { pipelines?: Pipeline[] }>("/pipelines", params),
    enabled,
    placeholderData: (previous) => previous,
  });
}

export function usePipeline(pipelineId: string | undefined) {
  return useQuery({
    queryKey: ["pipeline", pipelineId],
    queryFn: () => apiGet<Pipeline>(`/pipelines/${pipelineId}`),
    enabled: Boolean(pipelineId),
  });
}

export function useVersions(pipelineId: string | undefined) {
  return useQuery({
    queryKey: ["versions", pipelineId],
    queryFn: () =>
      apiGet<ListResponse & { pipeline_versions?: PipelineVersion[] }>(
        `/pipelines/${pipelineId}/versions`,
        { page_size: 200, sort_by: "created_at desc" },
      ),
    enabled: Boolean(pipelineId),
    select: (data) => data.pipeline_versions ?? [],
  });
}

export function useVersion(pipelineId: string | undefined, versionId: string | undefined) {
  return useQuery({
    queryKey: ["version", pipelineId, versionId],
    queryFn: () => apiGet<PipelineVersion>(`/pipelines/${pipelineId}/versions/${versionId}`),
    enabled: Boolean(pipelineId && versionId),
  });
}

export function useExperiments(given: ListParams) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["experiments", params],
    queryFn: () => apiGet<ListResponse & { experiments?: Experiment[] }>("/experiments", params),
    enabled,
    placeholderData: (previous) => previous,
  });
}

export function useExperiment(experimentId: string | undefined) {
  return useQuery({
    queryKey: ["experiment", experimentId],
    queryFn: () => apiGet<Experiment>(`/experiments/${experimentId}`),
    enabled: Boolean(experimentId),
    staleTime: 60_000,
  });
}

export function useRecurringRuns(given: ListParams) {
  const { params, enabled } = useScoped(given);
  return useQuery({
    queryKey: ["recurring", params],
    queryFn: () =>
      apiGet<ListResponse & { recurringRuns?: RecurringRun[] }>("/recurringruns", params),
    enabled,
    placeholderData: (previous) => previous,
  });
}

/** Each reachable namespace's unfinished work (not held to the current namespace: the
 * page lists every one), read again every few seconds only while there is some. */
export function useWork() {
  return useQuery({
    queryKey: ["work"],
    queryFn: () => apiGet<WorkResponse>("/work"),
    refetchInterval: (query) => workPollInterval(query.state.data?.namespaces),
    select: (data) => data.namespaces ?? [],
  });
}

/** A mutation that calls the API, then refreshes the queries whose key starts with one of
 * `invalidates`. */
export function useApiAction<Args>(
  action: (args: Args) => Promise<unknown>,
  invalidates: string[],
) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: action,
    onSuccess: () =>
      Promise.all(invalidates.map((key) => client.invalidateQueries({ queryKey: [key] }))),
  });
}

export const actions = {
  archiveRun: (id: string) => apiSend("POST", `/runs/${id}:archive`),
  unarchiveRun: (id: string) => apiSend("POST", `/runs/${id}:unarchive`),
  deleteRun: (id: string) => apiSend("DELETE", `/runs/${id}`),
  terminateRun: (id: string) => apiSend("POST", `/runs/${id}:terminate`),
  retryRun: (id: string) => apiSend("POST", `/runs/${id}:retry`),
  archiveExperiment: (id: string) => apiSend("POST", `/experiments/${id}:archive`),
  unarchiveExperiment: (id: string) => apiSend("POST", `/experiments/${id}:unarchive`),
  enableRecurring: (id: string) => apiSend("POST", `/recurringruns/${id}:enable`),
  disableRecurring: (id: string) => apiSend("POST", `/recurringruns/${id}:disable`),
  deleteRecurring: (id: string) => apiSend("DELETE", `/recurringruns/${id}`),
};
