"""`dagyard up --demo`: the bundled samples as pipelines, and one run of each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dagyard import ir
from dagyard.compiler import compile_to_dict
from dagyard.dsl import GraphComponent
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import Pipeline, PipelineVersion, Run


def _samples() -> list[GraphComponent]:
    from dagyard.samples.breast_cancer import breast_cancer
    from dagyard.samples.hello import hello

    return [hello, breast_cancer]


def load_demo(platform: Platform) -> list[Run]:
    """Register each sample as a pipeline (once) and submit one run of it."""
    submitted = []
    for sample in _samples():
        document = ir.from_dict(compile_to_dict(sample))
        name = document.name
        pipeline = platform.store.find_pipeline(name)
        now = datetime.now(UTC)
        if pipeline is None:
            pipeline = platform.store.create_pipeline(
                Pipeline(
                    pipeline_id=uuid.uuid4().hex,
                    name=name,
                    display_name=name,
                    description=sample.description,
                    created_at=now,
                )
            )
            platform.store.create_pipeline_version(
                PipelineVersion(
                    pipeline_version_id=uuid.uuid4().hex,
                    pipeline_id=pipeline.pipeline_id,
                    name=f"{name}-v1",
                    display_name=f"{name}-v1",
                    pipeline_spec=document.raw,
                    created_at=now,
                )
            )
        submitted.append(runs.submit_run(platform, document, parameters={}, experiment="demo"))
    return submitted
