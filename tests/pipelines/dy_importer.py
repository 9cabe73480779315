"""dsl.importer: bring existing files into a pipeline as typed artifacts.

One importer uses a constant local file:// URI with metadata, one an s3:// URI with
reimport, and one takes its URI from a pipeline parameter.
"""

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Model

BASELINE_URI = "file:///tmp/dagyard-fixtures/baseline-model.txt"
REFERENCE_URI = "s3://ml-fixtures/reference/iris.csv"


@dsl.component(base_image="python:3.11")
def compare(model: Input[Model], reference: Input[Dataset], candidate: Input[Dataset]) -> str:
    return f"{model.uri} vs {reference.uri} vs {candidate.uri}"


@dsl.pipeline(name="importer-pipeline")
def pipeline(candidate_uri: str = "file:///tmp/dagyard-fixtures/candidate.csv"):
    baseline = dsl.importer(
        artifact_uri=BASELINE_URI,
        artifact_class=Model,
        metadata={"framework": "sklearn", "version": 1},
    )
    reference = dsl.importer(artifact_uri=REFERENCE_URI, artifact_class=Dataset, reimport=True)
    candidate = dsl.importer(artifact_uri=candidate_uri, artifact_class=Dataset)
    compare(
        model=baseline.output,
        reference=reference.output,
        candidate=candidate.outputs["artifact"],
    )


ARGUMENTS = {"candidate_uri": "file:///tmp/dagyard-fixtures/other.csv"}
