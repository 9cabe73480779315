"""`YamlComponent`: a container component loaded from YAML, and `LoadedSpec`, what the
loaders hand back.

A loaded executor may carry environment variables and resources, which `ComponentSpec`
has no place for (in the SDK they are task settings). `YamlComponent` keeps them and
puts them on every task it makes, so a loaded component compiles back to the executor
it came from. Reading YAML is not done here (`v1.py`, `ir.py`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dagyard.dsl import structures as st
from dagyard.dsl.component import BaseComponent, ContainerComponent
from dagyard.dsl.pipeline_task import PipelineTask


@dataclasses.dataclass
class LoadedSpec:
    """A component read from YAML, with the executor settings outside `ComponentSpec`."""

    spec: st.ComponentSpec
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    resources: st.Resources = dataclasses.field(default_factory=st.Resources)


class YamlComponent(ContainerComponent):
    """A container component loaded with `dagyard.components` (kfp's class name).

    `component_yaml` is the text it was loaded from; `env` and `resources` are the
    loaded executor's, applied to each task before any `set_env_variable`/`set_*` call.
    """

    def __init__(
        self,
        spec: st.ComponentSpec,
        *,
        component_yaml: str,
        env: dict[str, str] | None = None,
        resources: st.Resources | None = None,
    ) -> None:
        super().__init__(spec)
        self.component_yaml = component_yaml
        self.env: dict[str, str] = dict(env or {})
        self.resources = resources or st.Resources()

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        task = super().__call__(*args, **kwargs)
        task.env = {**self.env, **task.env}
        task.resources = self.resources
        return task


def make_component(loaded: LoadedSpec, component_yaml: str) -> BaseComponent:
    """The component for a loaded spec: a `YamlComponent` for a container, a plain
    `BaseComponent` for an importer or a pipeline (the compiler writes them from the
    spec)."""
    if isinstance(loaded.spec.implementation, st.ContainerImplementation):
        return YamlComponent(
            loaded.spec,
            component_yaml=component_yaml,
            env=loaded.env,
            resources=loaded.resources,
        )
    return BaseComponent(loaded.spec)
