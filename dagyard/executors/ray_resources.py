"""A launch's resource settings as a Ray resource request, and the two questions asked
of it against the cluster's nodes: can no node ever fit it (fail at once), and what does
it wait for while it is queued (shown as PENDING). Pure functions of their arguments:
the driver process (`ray_driver.py`) and the executor (`ray.py`) call them; no `ray`
import here.

Resources, from the task's settings (`Launch.resources`, KFP's `container.resources`):

- CPU request (else limit) -> `num_cpus`. A task with neither asks for no CPU (so that,
  as with the local executor, the engine's `max_parallel` alone limits concurrency) and
  is spread over the nodes.
- memory request (else limit) -> `memory` (bytes).
- accelerator count with no type, or a GPU type (`nvidia.com/gpu`, `gpu`) -> `num_gpus`;
  any other accelerator type is a custom resource of that name, count 1 unless given:
  `set_accelerator_type("worker_node").set_accelerator_limit(1)` runs only on a node
  started with `--resources '{"worker_node": 1}'`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dagyard.executors.limits import cpu_quantity, memory_quantity

if TYPE_CHECKING:
    from dagyard.ir.pipeline import Resources

# Accelerator types that mean "a GPU" rather than a resource of that name.
_GPU_TYPES = {"gpu", "nvidia.com/gpu", "amd.com/gpu"}


@dataclasses.dataclass(frozen=True)
class RayRequest:
    """What one Ray task asks of its node, in Ray's resource names."""

    num_cpus: float = 0.0
    memory: int | None = None
    num_gpus: float = 0.0
    custom: dict[str, float] = dataclasses.field(default_factory=dict)

    def amounts(self) -> dict[str, float]:
        """Every resource asked for, as Ray names them in a node's resources."""
        needed: dict[str, float] = {}
        if self.num_cpus:
            needed["CPU"] = self.num_cpus
        if self.memory:
            needed["memory"] = float(self.memory)
        if self.num_gpus:
            needed["GPU"] = self.num_gpus
        needed.update(self.custom)
        return needed


def ray_request(resources: Resources | None) -> RayRequest:
    """The Ray request for a task's `container.resources` (see the module docstring)."""
    if resources is None:
        return RayRequest(0.0, None, 0.0)
    # The newer string form (a Kubernetes quantity) wins over the number, request over limit.
    cpu = _first(
        (resources.resource_cpu_request, resources.cpu_request),
        (resources.resource_cpu_limit, resources.cpu_limit),
    )
    memory = _first(
        (resources.resource_memory_request, resources.memory_request),
        (resources.resource_memory_limit, resources.memory_limit),
    )
    num_cpus = cpu_quantity(cpu) if cpu is not None else 0.0
    # The IR's numeric memory is in GB (KFP's layout); the string form is a quantity.
    memory_bytes: int | None = None
    if isinstance(memory, int | float):
        memory_bytes = round(memory * 1e9)
    elif memory is not None:
        memory_bytes = memory_quantity(memory)
    accelerator = resources.accelerator
    if accelerator is None:
        return RayRequest(num_cpus, memory_bytes, 0.0)
    kind = accelerator.resource_type or accelerator.type
    count_text = accelerator.resource_count or (str(accelerator.count) if accelerator.count else "")
    count = float(count_text) if count_text else (1.0 if kind else 0.0)
    if not kind or kind.lower() in _GPU_TYPES:
        return RayRequest(num_cpus, memory_bytes, count)
    return RayRequest(num_cpus, memory_bytes, 0.0, {kind: count})


def _first(*pairs: tuple[str | None, float | None]) -> str | float | None:
    """The first setting given, trying each (string form, number) pair in turn."""
    for text, number in pairs:
        if text not in (None, ""):
            return text
        if number is not None:
            return number
    return None


def unfit_reason(needed: Mapping[str, float], nodes: Sequence[Mapping[str, float]]) -> str | None:
    """Why no node of `nodes` (their total resources) can ever run a task that needs
    `needed`, or None if one can."""
    if any(all(node.get(k, 0.0) >= v for k, v in needed.items()) for node in nodes):
        return None
    short = []
    for key, amount in sorted(needed.items()):
        largest = max((node.get(key, 0.0) for node in nodes), default=0.0)
        if largest < amount:
            short.append(
                f"resource '{key}': needs {amount:g}, "
                + (f"the largest node has {largest:g}" if largest else "no node has any")
            )
    if short:
        return "No node of the Ray cluster can run this task: " + "; ".join(short) + "."
    asked = ", ".join(f"'{k}' {v:g}" for k, v in sorted(needed.items()))
    return f"No single node of the Ray cluster has all of {asked} at once."


def busy_reason(
    needed: Mapping[str, float],
    nodes: Sequence[Mapping[str, float]],
    free: Sequence[Mapping[str, float]],
) -> str | None:
    """Why a task that needs `needed` cannot start now: what the nodes able to run it
    (by their totals, `nodes`) lack of it free (`free`, node by node in the same order).
    None if one of them has it all free, or if none can ever run it (`unfit_reason`)."""
    able = [
        available
        for total, available in zip(nodes, free, strict=True)
        if all(total.get(k, 0.0) >= v for k, v in needed.items())
    ]
    if not able or any(all(f.get(k, 0.0) >= v for k, v in needed.items()) for f in able):
        return None
    where = "the only node" if len(able) == 1 else f"the {len(able)} nodes"
    short = []
    for key, amount in sorted(needed.items()):
        most = max(f.get(key, 0.0) for f in able)
        if most < amount:
            most_text = f"{most:g} free" if len(able) == 1 else f"at most {most:g} free"
            short.append(
                f"resource '{key}': needs {amount:g}, {most_text} on {where} that can run it"
            )
    if short:
        return "Waiting for capacity on the Ray cluster: " + "; ".join(short) + "."
    asked = ", ".join(f"'{k}' {v:g}" for k, v in sorted(needed.items()))
    return (
        f"Waiting for capacity on the Ray cluster: none of {where} that can run it has "
        f"all of {asked} free at once."
    )
