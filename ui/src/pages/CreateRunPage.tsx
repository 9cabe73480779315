// Create a run (or a recurring run) of a pipeline version: pick pipeline, version and
// experiment, name it, one typed input per parameter (defaults filled in, checked before
// submitting), caching on or off; for a recurring run, the trigger with its next fire
// times shown before saving. `?clone=<run id>` starts from a run's pipeline and values.

import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";

import { apiSend } from "../api/client";
import { useExperiments, usePipelines, useRun, useVersion, useVersions } from "../api/hooks";
import { useNamespace } from "../api/namespaceContext";
import type { PipelineSpec, RecurringRun, Run } from "../api/types";
import { EditButton, ErrorBox, PageHeader } from "../components/common";
import { fromText, parameterType, toText } from "../components/parameters";
import { TriggerFields, type TriggerForm, triggerBody, useFireTimes } from "../components/TriggerFields";

export function CreateRunPage() {
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const clone = useRun(search.get("clone") ?? undefined);
  const [pipelineId, setPipelineId] = useState(search.get("pipeline") ?? "");
  const [versionId, setVersionId] = useState(search.get("version") ?? "");
  const [experimentId, setExperimentId] = useState(search.get("experiment") ?? "");
  const [name, setName] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [caching, setCaching] = useState(true);
  const [recurring, setRecurring] = useState(search.get("recurring") === "1");
  const [trigger, setTrigger] = useState<TriggerForm>({
    kind: "cron",
    cron: "0 0 * * * *",
    interval: "3600",
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    start: "",
    end: "",
    maxConcurrency: "1",
    catchup: true,
  });
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { namespace } = useNamespace();

  const pipelines = usePipelines({ page_size: 200, sort_by: "display_name" });
  const versions = useVersions(pipelineId || undefined);
  const version = useVersion(pipelineId || undefined, versionId || undefined);
  const experiments = useExperiments({ page_size: 1000, sort_by: "display_name" });

  // A clone starts from the run's pipeline version (or its spec), experiment and values.
  const cloned = clone.data;
  useEffect(() => {
    if (!cloned) return;
    const reference = cloned.pipeline_version_reference;
    if (reference?.pipeline_id) setPipelineId(reference.pipeline_id);
    if (reference?.pipeline_version_id) setVersionId(reference.pipeline_version_id);
    if (cloned.experiment_id) setExperimentId(cloned.experiment_id);
    setName(`Clone of ${cloned.display_name ?? cloned.run_id}`);
  }, [cloned]);
  useEffect(() => {
    if (!versionId && versions.data?.[0]) setVersionId(versions.data[0].pipeline_version_id);
  }, [versions.data, versionId]);

  const spec: PipelineSpec | undefined =
    version.data?.pipeline_spec ??
    (cloned && !cloned.pipeline_version_reference?.pipeline_version_id
      ? (cloned.pipeline_spec?.pipeline_spec ?? cloned.pipeline_spec)
      : undefined);
  const definitions = useMemo(() => Object.entries(spec?.root?.inputDefinitions?.parameters ?? {}), [spec]);

  // Fill each input with the clone's value or the default, once per spec.
  useEffect(() => {
    const given = cloned?.runtime_config?.parameters ?? {};
    setValues(
      Object.fromEntries(
        definitions.map(([key, d]) => [key, toText(key in given ? given[key] : d.defaultValue, parameterType(d))]),
      ),
    );
  }, [definitions, cloned]);

  const checked = definitions.map(([key, definition]) => ({
    key,
    definition,
    result: fromText(values[key] ?? "", definition),
  }));
  const problems = checked.filter((c) => c.result.error);
  const fireTimes = useFireTimes(recurring ? trigger : null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (problems.length || !spec) return;
    const parameters = Object.fromEntries(
      checked.filter((c) => !c.result.omit).map((c) => [c.key, c.result.value]),
    );
    const source =
      version.data && pipelineId
        ? { pipeline_version_reference: { pipeline_id: pipelineId, pipeline_version_id: versionId } }
        : { pipeline_spec: spec };
    const common = {
      display_name: name.trim() || `${spec.pipelineInfo?.name ?? "run"} ${new Date().toISOString().slice(0, 19)}`,
      experiment_id: experimentId || undefined,
      runtime_config: { parameters },
      ...source,
    };
    setBusy(true);
    setError(null);
    try {
      if (recurring) {
        await apiSend<RecurringRun>("POST", "/recurringruns", {
          ...common,
          ...triggerBody(trigger),
          mode: "ENABLE",
          namespace: namespace || undefined,
        });
        navigate("/recurring");
      } else {
        // Without an experiment, the run goes to the chosen namespace's Default one.
        const run = await apiSend<Run>(
          "POST",
          "/runs",
          { ...common, cache_enabled: caching },
          { namespace: experimentId ? undefined : namespace || undefined },
        );
        navigate(`/runs/${run.run_id}`);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title={recurring ? "Create a recurring run" : "Create a run"} />
      <form className="dy-form dy-card" onSubmit={submit} aria-label="Create run">
        <div className="dy-segmented">
          <label>
            <input type="radio" name="mode" checked={!recurring} onChange={() => setRecurring(false)} /> Run once
          </label>
          <label>
            <input type="radio" name="mode" checked={recurring} onChange={() => setRecurring(true)} /> Recurring
          </label>
        </div>
        <label>
          Pipeline
          <select
            name="pipeline"
            value={pipelineId}
            onChange={(e) => {
              setPipelineId(e.target.value);
              setVersionId("");
            }}
          >
            <option value="">{cloned && !pipelineId ? "(the cloned run's pipeline)" : "choose a pipeline"}</option>
            {(pipelines.data?.pipelines ?? []).map((p) => (
              <option key={p.pipeline_id} value={p.pipeline_id}>
                {p.display_name || p.name}
              </option>
            ))}
          </select>
        </label>
        {pipelineId && (
          <label>
            Version
            <select name="version" value={versionId} onChange={(e) => setVersionId(e.target.value)}>
              {(versions.data ?? []).map((v) => (
                <option key={v.pipeline_version_id} value={v.pipeline_version_id}>
                  {v.display_name || v.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Experiment
          <select name="experiment" value={experimentId} onChange={(e) => setExperimentId(e.target.value)}>
            <option value="">Default</option>
            {(experiments.data?.experiments ?? [])
              .filter((e) => e.storage_state !== "ARCHIVED")
              .map((e) => (
                <option key={e.experiment_id} value={e.experiment_id}>
                  {e.display_name}
                </option>
              ))}
          </select>
        </label>
        <label>
          {recurring ? "Recurring run name" : "Run name"}
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="(generated)" />
        </label>
        {definitions.length > 0 && <h3>Parameters</h3>}
        {checked.map(({ key, definition, result }) => {
          const type = parameterType(definition);
          const invalid = touched && result.error;
          return (
            <label key={key} className={invalid ? "dy-invalid" : ""}>
              {key} <span className="dy-muted">{type.toLowerCase()}</span>
              {type === "BOOLEAN" ? (
                <select
                  name={`param-${key}`}
                  value={values[key] ?? ""}
                  onChange={(e) => setValues({ ...values, [key]: e.target.value })}
                >
                  <option value="">(default)</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : type === "LIST" || type === "STRUCT" ? (
                <textarea
                  name={`param-${key}`}
                  value={values[key] ?? ""}
                  onChange={(e) => setValues({ ...values, [key]: e.target.value })}
                />
              ) : (
                <input
                  name={`param-${key}`}
                  type={type === "STRING" ? "text" : "number"}
                  step={type === "NUMBER_INTEGER" ? 1 : "any"}
                  value={values[key] ?? ""}
                  onChange={(e) => setValues({ ...values, [key]: e.target.value })}
                />
              )}
              {invalid && <span className="dy-field-error">needs {result.error}</span>}
            </label>
          );
        })}
        {!recurring && (
          <label className="dy-inline">
            <input type="checkbox" name="caching" checked={caching} onChange={(e) => setCaching(e.target.checked)} />
            Use cached results of earlier runs
          </label>
        )}
        {recurring && <TriggerFields value={trigger} onChange={setTrigger} fireTimes={fireTimes} />}
        <ErrorBox error={error ?? version.error ?? clone.error} />
        {touched && problems.length > 0 && (
          <div className="dy-error" role="alert">
            Check {problems.map((p) => p.key).join(", ")}.
          </div>
        )}
        <div className="dy-actions">
          <EditButton type="submit" className="primary" disabled={!spec || busy}>
            {recurring ? "Create recurring run" : "Start run"}
          </EditButton>
        </div>
      </form>
    </>
  );
}
