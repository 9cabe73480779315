"""`dsl.importer(metadata=...)` holding pipeline values: a pipeline input as a value and
as a key, a task output alone, in an f-string and in a list, and a number.

kfp writes each value as a placeholder of an importer input made for it (`metadata`,
`metadata-2`, ...; importer_node.importer). KFP's own importer launcher stores the
metadata as written; kfp.local fills the placeholders in, as text (importer_handler),
and so does Dagyard: the consumer sees the run's values.
"""

from dagyard import dsl
from dagyard.dsl import Dataset, Input


@dsl.component(base_image="python:3.11")
def version_tag(version: int) -> str:
    return f"v{version}"


@dsl.component(base_image="python:3.11")
def read_metadata(data: Input[Dataset]) -> dict:
    return data.metadata


@dsl.pipeline(name="sdk-importer-metadata")
def pipeline(owner: str = "nobody", version: int = 1):
    tag = version_tag(version=version)
    imported = dsl.importer(
        artifact_uri="s3://ml-fixtures/reference/iris.csv",
        artifact_class=Dataset,
        metadata={
            "owner": owner,
            "tag": tag.output,
            "label": f"iris-{tag.output}",
            "versions": [version, tag.output, "latest"],
            owner: {"source": "survey"},
        },
    )
    read_metadata(data=imported.output)


ARGUMENTS = {"owner": "ml-team", "version": 3}
