"""Running a component or pipeline called outside a pipeline: the immediate runner that
`init` installs in the SDK.

A call becomes one run, made and driven by the same service functions as `dagyard run`
(`submit_run`, then `drive_run` in this process, the run held by this process's lease
from the start so no server's worker takes it). What is compiled:
- every argument a parameter: the component or pipeline itself, compiled as it would be
  for a server (a lone component as kfp compiles it, a one-task pipeline), the arguments
  as the run's parameters;
- some arguments artifacts (outputs of earlier calls, or artifacts you made): a one-task
  pipeline whose artifact inputs come from importer tasks naming those artifacts' URIs.

Reading the finished run back into values is `results.py`'s job.
"""

from __future__ import annotations

from typing import Any

from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.component import BaseComponent, GraphComponent, importer
from dagyard.errors import UsageError
from dagyard.local.config import Session, current_session
from dagyard.local.results import LocalTask, finished
from dagyard.runtime.artifacts import Artifact


def run_now(component: BaseComponent, arguments: dict[str, Any]) -> LocalTask:
    """Run `component` with `arguments` to its end as a run in the home, and return what
    it produced. Raises TaskFailed if it failed and the session raises on errors."""
    from dagyard.compiler import compile_to_dict

    session = current_session()
    parameters, artifacts = _split(component, arguments)
    pipeline = _with_imports(component, artifacts) if artifacts else component
    spec = compile_to_dict(pipeline)
    with session.lock:
        return _run(session, component, spec, parameters)


def _run(
    session: Session, component: BaseComponent, spec: dict[str, Any], parameters: dict[str, Any]
) -> LocalTask:
    from dagyard import ir
    from dagyard.service import leases, runs

    platform = session.open()
    owner = leases.new_owner()
    run = runs.submit_run(
        platform,
        ir.from_dict(spec).raw,
        parameters=parameters,
        cache_enabled=session.cache_enabled,
        lease_owner=owner,
    )
    run = runs.drive_run(platform, run.run_id, owner=owner)
    kind = "pipeline" if isinstance(component, GraphComponent) else "component"
    result = finished(platform, run, what=f"{kind} '{component.name}'", ui=session.ui_address)
    if session.raise_on_error and result.failure is not None:
        raise result.failure
    return result


def _split(
    component: BaseComponent, arguments: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """The arguments that are parameters, and those that are artifacts, each checked
    against the kind of input it is given to."""
    inputs = component.spec.inputs
    parameters: dict[str, Any] = {}
    artifacts: dict[str, Artifact] = {}
    for name, value in arguments.items():
        if isinstance(value, LocalTask):
            value = value.output
        spec = inputs.get(name)
        if spec is not None and spec.is_artifact:
            if isinstance(value, list) and all(isinstance(v, Artifact) for v in value):
                raise UsageError(
                    f"Input '{name}' of '{component.name}' takes a list of artifacts; run "
                    "it inside a pipeline (with dsl.Collected) to pass several."
                )
            if not isinstance(value, Artifact):
                raise UsageError(
                    f"Input '{name}' of '{component.name}' is an artifact; pass an output of "
                    f"an earlier call (`task.outputs['...']`) or a dsl artifact with a uri, "
                    f"not {value!r}."
                )
            artifacts[name] = value
        elif isinstance(value, Artifact):
            raise UsageError(
                f"Input '{name}' of '{component.name}' is a parameter; it cannot take the "
                f"artifact {value!r}."
            )
        else:
            parameters[name] = value
    return parameters, artifacts


def _with_imports(component: BaseComponent, artifacts: dict[str, Artifact]) -> GraphComponent:
    """A one-task pipeline around `component`: its parameters are the pipeline's, its
    artifact inputs are imported from `artifacts`' URIs, its outputs are the pipeline's."""
    graph = context.Graph(component.name)
    inputs = {
        name: spec
        for name, spec in component.spec.inputs.items()
        if name not in artifacts and spec.parameter_type != st.TASK_FINAL_STATUS
    }
    for name, input_spec in inputs.items():
        graph.inputs[name] = PipelineChannel(name, input_spec)
    with context.building(graph):
        imported = {
            name: importer(
                artifact_uri=artifact.uri,
                artifact_class=type(artifact),
                metadata=dict(artifact.metadata),
            ).output
            for name, artifact in artifacts.items()
        }
        task = component(**graph.inputs, **imported)
    graph.outputs = dict(task.outputs)
    spec = st.ComponentSpec(
        name=component.name,
        inputs=inputs,
        outputs=dict(component.spec.outputs),
        implementation=st.GraphImplementation(graph),
        description=component.description,
    )
    graph.component_spec = spec
    return GraphComponent(spec, _no_function, display_name=None, pipeline_root=None)


def _no_function() -> None:
    """The pipeline function of a pipeline made here, not written by a user."""
