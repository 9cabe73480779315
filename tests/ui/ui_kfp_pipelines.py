"""Pipelines written with kfp and kfp-kubernetes for the browser tests, compiled by kfp's
own compiler: `labelled`, two tasks with settings one machine records but does not
honour (a pod label, a node selector), so that its run has warnings to show.

Container components only (`sh`), so that nothing depends on how kfp reads a function's
source."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
from kfp import dsl, kubernetes


@dsl.container_component
def write_label(said: dsl.OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo labelled > "$0"', said])


@dsl.container_component
def pick_node(said: dsl.OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo placed > "$0"', said])


@dsl.pipeline(name="ui-kfp-labelled")
def labelled() -> None:
    kubernetes.add_pod_label(write_label(), "team", "ml")
    kubernetes.add_node_selector(pick_node(), "gpu", "a100")
