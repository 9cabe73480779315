"""limits.py: a task's limits read from its typed resources (requests ignored), the
quantities they are written in, and a size said back in words; isolation.py's choice of
mechanism for them, with and without cgroups."""

from __future__ import annotations

import os

import pytest

from dagyard.errors import ExecutorError
from dagyard.executors.isolation import Isolation
from dagyard.executors.limits import Limits, memory_in_words, task_limits
from dagyard.executors.watchdog import Watchdog
from dagyard.ir.pipeline import Resources


def test_limits_come_from_the_quantities_before_the_numbers_and_requests_are_ignored() -> None:
    resources = Resources(
        cpu_limit=4.0,
        memory_limit=8.0,
        resource_cpu_limit="500m",
        resource_memory_limit="512Mi",
        cpu_request=1.0,
        resource_memory_request="64Mi",
    )
    assert task_limits(resources) == Limits(memory=512 << 20, cpu=0.5)
    # The IR's older numbers: CPUs, and memory in GB.
    assert task_limits(Resources(cpu_limit=2.0, memory_limit=0.064)) == Limits(64 * 10**6, 2.0)
    assert task_limits(Resources(cpu_request=1.0, memory_request=1.0)) == Limits()
    assert not task_limits(None)


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (Resources(resource_memory_limit="lots"), "Memory quantity 'lots' is not valid"),
        (Resources(resource_cpu_limit="two"), "CPU quantity 'two' is not valid"),
        (Resources(resource_cpu_limit="0"), "CPU limit 0 is not positive"),
        (Resources(memory_limit=0.0), "Memory limit 0 bytes is not positive"),
    ],
)
def test_a_limit_that_cannot_hold_is_refused_naming_it(resources: Resources, message: str) -> None:
    with pytest.raises(ExecutorError, match=message):
        task_limits(resources)


def test_sizes_are_said_in_the_unit_they_were_written_in() -> None:
    assert memory_in_words(512 << 20) == "512 MiB"
    assert memory_in_words(2 << 30) == "2 GiB"
    assert memory_in_words(64 * 10**6) == "64 MB"
    assert memory_in_words(1234567) == "1234567 bytes"
    assert Limits(cpu=0.5).whole_cpus == 1
    assert Limits(cpu=2.5).whole_cpus == 3


@pytest.fixture
def watchdog() -> Watchdog:
    started = Watchdog()
    yield started  # type: ignore[misc]
    started.close()


def test_without_cgroups_memory_is_an_rlimit_and_cpu_an_affinity_taken_in_turn(
    watchdog: Watchdog,
) -> None:
    isolation = Isolation(cgroups=False, watchdog=lambda: watchdog)
    mine = sorted(os.sched_getaffinity(0))
    first = isolation.confine(Limits(memory=64 << 20, cpu=0.5), contained=False)
    second = isolation.confine(Limits(cpu=0.5), contained=False)
    assert first.cgroup is None and first.memory_rlimit == 64 << 20
    assert first.zygote_fields() == {"rlimit_data": 64 << 20, **_cpus_field(first.cpus)}
    if len(mine) > 1:
        assert first.cpus == [mine[0]] and second.cpus == [mine[1]]
    else:  # one CPU: a limit of half of it is no affinity at all
        assert first.cpus is None
    # A contained attempt without limits needs nothing at all.
    assert isolation.confine(Limits(), contained=True).zygote_fields() == {}


def test_with_cgroups_the_limits_are_the_cgroups(watchdog: Watchdog) -> None:
    isolation = Isolation(cgroups=True, watchdog=lambda: watchdog)
    confinement = isolation.confine(Limits(memory=64 << 20, cpu=0.5), contained=True)
    try:
        cgroup = confinement.cgroup
        if cgroup is None or cgroup.memory_limited is None or cgroup.cpu_limited is None:
            pytest.skip("no memory or cpu cgroup can be made here")
        assert confinement.memory_rlimit is None and confinement.cpus is None
        assert confinement.zygote_fields() == {"cgroups": cgroup.procs_files}
    finally:
        confinement.close()
    assert not any(folder.exists() for folder in cgroup.folders)


def _cpus_field(cpus: list[int] | None) -> dict[str, list[int]]:
    return {} if cpus is None else {"cpus": cpus}
