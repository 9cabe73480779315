"""Load, validate and dump KFP pipeline IR (PipelineSpec, schemaVersion 2.x).

The one contract between authoring and execution (see DESIGN.md). This package imports
nothing else of Dagyard's except `dagyard.errors`, and does no I/O beyond reading and
writing YAML/JSON text and files. Every problem is an `IRError` whose `path` names the
place in the document in dotted form, e.g. `root.dag.tasks.train.inputs.parameters.x`.

    doc = dagyard.ir.load("pipeline.yaml")     # or loads(text), from_dict(d)
    doc.name, doc.root_inputs, doc.component("comp-add"), doc.executor("exec-add")
    dagyard.ir.dump(doc, "copy.yaml")
    plan = dagyard.ir.plan(doc)              # typed, frozen views: dagyard.ir.pipeline
    plan.root.tasks["train"].retry.max_retry_count
    dagyard.ir.pipeline_info(stored_dict).display_name   # no validation: specs stored valid

Use `dagyard.ir.pipeline_spec_pb2` for the protobuf messages: importing
`kfp.pipeline_spec` would also import the whole kfp SDK when it is installed.
"""

from dagyard.ir.codec import dump, dumps, load, loads
from dagyard.ir.document import PipelineDocument, from_dict, stored_form, validate
from dagyard.ir.pipeline import PipelinePlan
from dagyard.ir.planning import pipeline_info, plan
from dagyard.ir.schema import SCHEMA_VERSION, pipeline_spec_pb2

__all__ = [
    "SCHEMA_VERSION",
    "PipelineDocument",
    "PipelinePlan",
    "dump",
    "dumps",
    "from_dict",
    "load",
    "loads",
    "pipeline_info",
    "pipeline_spec_pb2",
    "plan",
    "stored_form",
    "validate",
]
