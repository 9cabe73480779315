"""A task's limits (KFP's `set_memory_limit` and `set_cpu_limit`) as numbers, and the
quantities they are written in.

Belongs here: reading Kubernetes-style quantities ("512Mi", "2G", "500m") and the numbers
of the IR (CPUs, GB), and saying a memory size back in words. Not here: applying limits
(`isolation.py`) or turning settings into a Ray request (`ray_resources.py`, which reads
its quantities here too).

Only limits are read: a request (`set_memory_request`, `set_cpu_request`) is what a task
should be given, not a ceiling, and nothing here enforces it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING

from dagyard.errors import ExecutorError

if TYPE_CHECKING:
    from dagyard.ir.pipeline import Resources

_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([0-9]*\.?[0-9]+)([A-Za-z]*)$")


def cpu_quantity(value: object) -> float:
    """CPUs from a quantity ("2", "0.5", "500m") or a number."""
    text = str(value)
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError as e:
        raise ExecutorError(f"CPU quantity {text!r} is not valid; use e.g. '500m' or '2'.") from e


def memory_quantity(text: str) -> int:
    """Bytes from a quantity ("512Mi", "2G", "1000")."""
    match = _QUANTITY.match(text)
    if not match or match.group(2) not in _MEMORY_UNITS:
        raise ExecutorError(f"Memory quantity {text!r} is not valid; use e.g. '512Mi' or '2G'.")
    return round(float(match.group(1)) * _MEMORY_UNITS[match.group(2)])


def memory_in_words(size: int) -> str:
    """A size as a person would write it: "512 MiB", "64 MB", else in bytes."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("GB", 10**9), ("MB", 10**6)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one attempt may use at most; None where the task sets no limit."""

    memory: int | None = None  # bytes
    cpu: float | None = None  # CPUs, fractions allowed

    def __bool__(self) -> bool:
        return self.memory is not None or self.cpu is not None

    @property
    def whole_cpus(self) -> int | None:
        """The number of CPUs that hold `cpu` (at least one)."""
        return None if self.cpu is None else max(1, math.ceil(self.cpu))


def task_limits(resources: Resources | None) -> Limits:
    """The limits a task's `container.resources` set: the string form (a quantity) wins
    over the number, as in `ray_resources.ray_request`; the IR's numeric memory is in GB."""
    if resources is None:
        return Limits()
    memory: int | None = None
    if resources.resource_memory_limit:
        memory = memory_quantity(resources.resource_memory_limit)
    elif resources.memory_limit is not None:
        memory = round(resources.memory_limit * 1e9)
    cpu: float | None = None
    if resources.resource_cpu_limit:
        cpu = cpu_quantity(resources.resource_cpu_limit)
    elif resources.cpu_limit is not None:
        cpu = float(resources.cpu_limit)
    if memory is not None and memory <= 0:
        raise ExecutorError(f"Memory limit {memory} bytes is not positive; give e.g. '512Mi'.")
    if cpu is not None and cpu <= 0:
        raise ExecutorError(f"CPU limit {cpu:g} is not positive; give e.g. '500m' or '2'.")
    return Limits(memory=memory, cpu=cpu)
