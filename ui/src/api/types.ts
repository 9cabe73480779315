// The JSON shapes of the REST API the UI reads: KFP's v2beta1 resources (snake_case,
// unset fields left out, times in RFC 3339) and Dagyard's own extensions, marked below.

export type RunState =
  | "RUNTIME_STATE_UNSPECIFIED"
  | "PENDING"
  | "RUNNING"
  | "SUCCEEDED"
  | "SKIPPED"
  | "FAILED"
  | "CANCELING"
  | "CANCELED"
  | "PAUSED";

export interface Status {
  code?: number;
  message?: string;
}

export interface Pipeline {
  pipeline_id: string;
  name?: string;
  display_name?: string;
  description?: string;
  created_at?: string;
  namespace?: string;
  tags?: Record<string, string>;
}

export interface PipelineVersion {
  pipeline_id: string;
  pipeline_version_id: string;
  name?: string;
  display_name?: string;
  description?: string;
  created_at?: string;
  code_source_url?: string;
  pipeline_spec?: PipelineSpec;
}

export interface Experiment {
  experiment_id: string;
  display_name?: string;
  description?: string;
  created_at?: string;
  namespace?: string;
  storage_state?: "AVAILABLE" | "ARCHIVED";
  last_run_created_at?: string;
}

export interface RuntimeConfig {
  parameters?: Record<string, unknown>;
  pipeline_root?: string;
}

export interface PipelineTaskDetail {
  run_id?: string;
  task_id: string;
  display_name?: string;
  create_time?: string;
  start_time?: string;
  end_time?: string;
  state?: string;
  error?: Status;
  parent_task_id?: string;
  child_tasks?: { task_id: string }[];
}

export interface Run {
  run_id: string;
  experiment_id?: string;
  display_name?: string;
  storage_state?: "AVAILABLE" | "ARCHIVED";
  description?: string;
  pipeline_version_id?: string;
  pipeline_spec?: PipelineSpec;
  pipeline_version_reference?: { pipeline_id?: string; pipeline_version_id?: string };
  runtime_config?: RuntimeConfig;
  service_account?: string;
  created_at?: string;
  scheduled_at?: string;
  finished_at?: string;
  state?: RunState;
  error?: Status;
  run_details?: { task_details?: PipelineTaskDetail[] };
  recurring_run_id?: string;
  state_history?: { update_time?: string; state?: string; error?: Status }[];
  /** Dagyard: false when the run was made with caching off. */
  cache_enabled?: boolean;
  /** Dagyard: the pipeline's output parameters, once the run has them. */
  outputs?: Record<string, unknown>;
  /** Dagyard: the pipeline's name (kept by `view=SUMMARY` lists, which omit the spec). */
  pipeline_name?: string;
  /** Dagyard: why a PENDING run has not started (its namespace is at
   * DAGYARD_NAMESPACE_MAX_RUNS); absent once it starts. */
  waiting_reason?: string;
}

export interface Trigger {
  cron_schedule?: { cron?: string; start_time?: string; end_time?: string };
  periodic_schedule?: { interval_second?: number; start_time?: string; end_time?: string };
}

export interface RecurringRun {
  recurring_run_id: string;
  display_name?: string;
  description?: string;
  pipeline_spec?: PipelineSpec;
  pipeline_version_reference?: { pipeline_id?: string; pipeline_version_id?: string };
  runtime_config?: RuntimeConfig;
  max_concurrency?: number;
  trigger?: Trigger;
  mode?: "ENABLE" | "DISABLE";
  status?: "ENABLED" | "DISABLED";
  no_catchup?: boolean;
  created_at?: string;
  updated_at?: string;
  namespace?: string;
  experiment_id?: string;
  error?: Status;
  /** Dagyard: the IANA time zone of a cron trigger's wall-clock fields. */
  timezone?: string;
  /** Dagyard: when it fires next (absent when disabled or past its end). */
  next_fire_time?: string;
}

export interface ListResponse {
  total_size?: number;
  next_page_token?: string;
}

/** KFP's API error body. */
export interface ApiErrorBody {
  error?: string;
  code?: number;
  message?: string;
}

// -- Dagyard's own extensions --------------------------------------------------------

/** GET /runs/{run_id}/tasks: every node of a run's execution tree, with what KFP's
 * task_details leaves out. `name` is the IR task name (`for-loop-2`, `train`), `path`
 * unique in the run (`for-loop-2/3/square`). */
export interface Task {
  task_id: string;
  run_id: string;
  path: string;
  name: string;
  display_name?: string;
  /** A loop's children are its iterations: kind "dag" with an iteration_index. */
  kind: "container" | "importer" | "dag" | "loop";
  parent_task_id?: string;
  iteration_index?: number;
  state: string;
  attempts: number;
  system_retries?: number;
  cache_hit?: boolean;
  cached_from_task_id?: string;
  cache_reason?: string;
  error?: string;
  node?: string;
  created_at?: string;
  /** When its latest attempt started; none while it waits for a retry or capacity. */
  started_at?: string;
  finished_at?: string;
  /** When its first attempt started (older records: none). */
  first_started_at?: string;
  /** How long its attempts that ended ran, in all. */
  ran_seconds?: number;
  /** Resolved input parameters, and input artifacts by input name (artifact ids). */
  inputs?: { parameters?: Record<string, unknown>; artifacts?: Record<string, string[]> };
  /** Output parameters by name. Output artifacts: see RunArtifact.producer. */
  outputs?: Record<string, unknown>;
  /** What its settings asked for that was recorded, not honoured (kfp-kubernetes' pod
   * labels, a node selector on one host, ...), one sentence each. */
  warnings?: string[];
}

/** What `GET /runs/{id}/tasks?outline=true` says of a big run's records inside loop
 * iterations, which its `tasks` leave out (all of them are there when `complete`). Patterns
 * are paths with every iteration index as `*` (`for-loop-2/*\/square`); states count a
 * cache hit as CACHED. Counted over the whole run, whatever the cursor. */
export interface TaskOutline {
  complete: boolean;
  /** Records of the run not in the answer's selection. */
  left_out?: number;
  /** By pattern: the states of the records with that pattern. */
  counts?: Record<string, Record<string, number>>;
  /** By pattern: the states of the containers and importers below it, at all depths. */
  leaves?: Record<string, Record<string, number>>;
  /** How many of the run's tasks have warnings (of those inside loop iterations, the
   * answer holds the first 100). */
  warned?: number;
}

export interface TaskRef {
  task_id: string;
  run_id: string;
  path: string;
  /** The input or output name under which the task used the artifact. */
  key: string;
}

/** GET /runs/{run_id}/artifacts, GET /artifacts, GET /artifacts/{id}. */
export interface Artifact {
  artifact_id: string;
  run_id: string;
  name: string;
  uri: string;
  schema_title: string;
  schema_version?: string;
  metadata?: Record<string, unknown>;
  digest?: string;
  created_at?: string;
  producer?: TaskRef;
  consumers?: TaskRef[];
}

/** GET /runs/{run_id}/nodes/{node_id}/logs */
export interface TaskLog {
  run_id: string;
  node_id: string;
  task_path: string;
  attempt: number;
  attempts: number;
  offset: number;
  next_offset: number;
  size: number;
  text: string;
  complete: boolean;
  cached_from_node_id?: string;
}

/** GET /runs:metrics?run_ids=...: the scalar metrics (system.Metrics artifacts) of runs,
 * keyed "<task path>/<metric>" per run. */
export interface RunMetrics {
  metrics: Record<string, Record<string, number>>;
}

// -- The pipeline IR (the parts the UI reads) ------------------------------------------

export interface ParameterDefinition {
  parameterType?: string;
  defaultValue?: unknown;
  isOptional?: boolean;
  description?: string;
}

export interface ArtifactDefinition {
  artifactType?: { schemaTitle?: string; schemaVersion?: string };
  isArtifactList?: boolean;
  isOptional?: boolean;
}

export interface InputDefinitions {
  parameters?: Record<string, ParameterDefinition>;
  artifacts?: Record<string, ArtifactDefinition>;
}

export interface TaskSpec {
  taskInfo?: { name?: string };
  componentRef?: { name?: string };
  dependentTasks?: string[];
  triggerPolicy?: { condition?: string; strategy?: string };
  parameterIterator?: { itemInput?: string; items?: { raw?: string; inputParameter?: string } };
  artifactIterator?: { itemInput?: string; items?: { inputArtifact?: string } };
  iteratorPolicy?: { parallelismLimit?: number };
  inputs?: {
    parameters?: Record<string, unknown>;
    artifacts?: Record<string, unknown>;
  };
  cachingOptions?: { enableCache?: boolean };
}

export interface ComponentSpec {
  inputDefinitions?: InputDefinitions;
  outputDefinitions?: InputDefinitions;
  dag?: { tasks?: Record<string, TaskSpec>; outputs?: unknown };
  executorLabel?: string;
}

export interface PipelineSpec {
  pipelineInfo?: { name?: string; displayName?: string; description?: string };
  root?: ComponentSpec;
  components?: Record<string, ComponentSpec>;
  deploymentSpec?: { executors?: Record<string, unknown> };
  schemaVersion?: string;
  sdkVersion?: string;
  /** kfp's client may wrap the spec with its platform spec. */
  pipeline_spec?: PipelineSpec;
  platform_spec?: unknown;
}

/** Dagyard's own: GET /whoami, who the caller is and which namespaces it reaches. */
export interface NamespaceRole {
  name: string;
  /** "admin" (the admin, in every namespace), "edit" or "view". */
  role: string;
}

export interface WhoAmI {
  admin: boolean;
  /** The user named by a trusted proxy; "" for a token. */
  user?: string;
  namespaces: NamespaceRole[];
}

/** Dagyard: one namespace's unfinished work (GET /work). */
export interface NamespaceWork {
  /** "" for the runs of no namespace (the admin's shared experiments). */
  namespace: string;
  runs_running: number;
  runs_pending: number;
  /** Of the pending runs, those held back by the namespace's limit on running runs. */
  runs_waiting: number;
  tasks_running: number;
}

export interface WorkResponse {
  namespaces?: NamespaceWork[];
}
