"""`dagyard up --demo` registers the samples as pipelines and submits one run of each."""

from __future__ import annotations

from pathlib import Path

from dagyard.service.demo_data import load_demo
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState


def test_demo_registers_each_sample_once_and_submits_runs(tmp_path: Path) -> None:
    platform = Platform.open(Settings(container_runtime="off", home=tmp_path))
    try:
        first = load_demo(platform)
        second = load_demo(platform)
        names = sorted(p.name for p in platform.store.list_pipelines())
        assert names == ["breast-cancer", "hello-dagyard"]
        for pipeline in platform.store.list_pipelines():
            assert len(platform.store.list_pipeline_versions(pipeline.pipeline_id)) == 1
        assert len(first) == len(second) == 2
        assert all(r.state == RunState.PENDING for r in first + second)
        experiment = platform.store.find_experiment("demo")
        assert experiment is not None
        assert {r.experiment_id for r in first} == {experiment.experiment_id}
    finally:
        platform.close()
