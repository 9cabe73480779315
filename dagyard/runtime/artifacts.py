"""Artifact classes and the I/O annotations that user functions are written with.

This module is also shipped, as source, inside every compiled lightweight component
(see `embed.py`), so it must stay self-contained: standard library only, no import of
anything else of ours. `dagyard.dsl` re-exports everything here under KFP's names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

T = TypeVar("T")

# KFP maps remote URIs onto paths where a FUSE mount is expected inside the container.
_REMOTE_PREFIXES = {
    "gs://": "/gcs/",
    "s3://": "/s3/",
    "minio://": "/minio/",
    "oci://": "/oci/",
}


class Artifact:
    """A file or folder produced or consumed by a task, addressed by `uri`.

    `path` is where task code reads or writes the bytes; `metadata` is a JSON-able dict
    recorded with the artifact.
    """

    schema_title = "system.Artifact"
    schema_version = "0.0.1"

    def __init__(
        self, name: str = "", uri: str = "", metadata: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.uri = uri
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._custom_path: str | None = None

    @property
    def path(self) -> str:
        if self._custom_path is not None:
            return self._custom_path
        return uri_to_path(self.uri)

    @path.setter
    def path(self, value: str) -> None:
        self._custom_path = value

    def set_path(self, path: str) -> None:
        """Write the artifact at `path` instead (kfp's `set_path`); collected from there."""
        self._custom_path = path

    @property
    def custom_path(self) -> str:
        """Where `set_path` put the artifact; '' when it is at its own place (kfp's)."""
        return self._custom_path or ""

    @custom_path.setter
    def custom_path(self, value: str) -> None:
        self._custom_path = value or None  # '' is no custom path, as kfp reads it

    def __repr__(self) -> str:
        fields = f"name={self.name!r}, uri={self.uri!r}, metadata={self.metadata!r}"
        return f"{type(self).__name__}({fields})"


def uri_to_path(uri: str) -> str:
    """The local path at which the bytes of `uri` are found inside a task."""
    for prefix, mount in _REMOTE_PREFIXES.items():
        if uri.startswith(prefix):
            return mount + uri[len(prefix) :]
    if uri.startswith("file://"):
        return uri[len("file://") :]
    return uri


class Dataset(Artifact):
    schema_title = "system.Dataset"


class Model(Artifact):
    schema_title = "system.Model"

    @property
    def framework(self) -> str:
        return str(self.metadata.get("framework", ""))

    @framework.setter
    def framework(self, value: str) -> None:
        self.metadata["framework"] = value


class Metrics(Artifact):
    """Scalar metrics; each `log_metric` becomes one metadata entry."""

    schema_title = "system.Metrics"

    def log_metric(self, metric: str, value: float) -> None:
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """A confusion matrix and ROC curve, stored in metadata in KFP's layout."""

    schema_title = "system.ClassificationMetrics"

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        points = self.metadata.setdefault("confidenceMetrics", [])
        points.append({"confidenceThreshold": threshold, "recall": tpr, "falsePositiveRate": fpr})

    def log_roc_curve(self, fpr: list[float], tpr: list[float], threshold: list[float]) -> None:
        if not len(fpr) == len(tpr) == len(threshold):
            raise ValueError(
                f"log_roc_curve needs lists of one length; got fpr={len(fpr)}, "
                f"tpr={len(tpr)}, threshold={len(threshold)}."
            )
        # Indexing, not zip(strict=True): tasks may run on Python 3.9 images.
        for i in range(len(fpr)):
            self.log_roc_data_point(fpr=fpr[i], tpr=tpr[i], threshold=threshold[i])

    def set_confusion_matrix_categories(self, categories: list[str]) -> None:
        size = len(categories)
        self.metadata["confusionMatrix"] = {
            "annotationSpecs": [{"displayName": c} for c in categories],
            "rows": [{"row": [0] * size} for _ in range(size)],
        }

    def _matrix(self) -> dict[str, Any]:
        matrix = self.metadata.get("confusionMatrix")
        if not isinstance(matrix, dict):
            raise ValueError(
                "No confusion-matrix categories yet: call set_confusion_matrix_categories first."
            )
        return matrix

    def _index(self, category: str) -> int:
        names = [spec["displayName"] for spec in self._matrix()["annotationSpecs"]]
        if category not in names:
            raise ValueError(f"Category {category!r} is not one of {names}.")
        return names.index(category)

    def log_confusion_matrix_row(self, row_category: str, row: Sequence[float]) -> None:
        matrix = self._matrix()
        if len(row) != len(matrix["annotationSpecs"]):
            raise ValueError(
                f"Row for {row_category!r} has {len(row)} cells; the matrix has "
                f"{len(matrix['annotationSpecs'])} categories."
            )
        matrix["rows"][self._index(row_category)] = {"row": list(row)}

    def log_confusion_matrix_cell(self, row_category: str, col_category: str, value: int) -> None:
        matrix = self._matrix()
        matrix["rows"][self._index(row_category)]["row"][self._index(col_category)] = value

    def log_confusion_matrix(
        self, categories: list[str], matrix: Sequence[Sequence[float]]
    ) -> None:
        self.set_confusion_matrix_categories(categories)
        if len(matrix) != len(categories):
            raise ValueError(f"The matrix has {len(matrix)} rows for {len(categories)} categories.")
        for i, category in enumerate(categories):
            self.log_confusion_matrix_row(category, matrix[i])


class SlicedClassificationMetrics(Artifact):
    """Classification metrics per named slice of the data."""

    schema_title = "system.SlicedClassificationMetrics"

    def _slice(self, slice_name: str) -> ClassificationMetrics:
        # KFP's layout: a list of {"slice": name, "sliceClassificationMetrics": {...}}.
        slices = self.metadata.setdefault("evaluationSlices", [])
        entry = next((e for e in slices if e.get("slice") == slice_name), None)
        if entry is None:
            entry = {"slice": slice_name, "sliceClassificationMetrics": {}}
            slices.append(entry)
        metrics = ClassificationMetrics()
        metrics.metadata = entry["sliceClassificationMetrics"]
        return metrics

    def log_roc_reading(self, slice: str, threshold: float, tpr: float, fpr: float) -> None:
        self._slice(slice).log_roc_data_point(fpr=fpr, tpr=tpr, threshold=threshold)

    def load_roc_readings(self, slice: str, readings: list[list[float]]) -> None:
        for threshold, tpr, fpr in readings:
            self.log_roc_reading(slice, threshold, tpr, fpr)

    def set_confusion_matrix_categories(self, slice: str, categories: list[str]) -> None:
        self._slice(slice).set_confusion_matrix_categories(categories)

    def log_confusion_matrix_row(self, slice: str, row_category: str, row: list[int]) -> None:
        self._slice(slice).log_confusion_matrix_row(row_category, row)

    def log_confusion_matrix_cell(
        self, slice: str, row_category: str, col_category: str, value: int
    ) -> None:
        self._slice(slice).log_confusion_matrix_cell(row_category, col_category, value)

    def load_confusion_matrix(
        self, slice: str, categories: list[str], matrix: list[list[int]]
    ) -> None:
        self._slice(slice).log_confusion_matrix(categories, matrix)


class HTML(Artifact):
    schema_title = "system.HTML"


class Markdown(Artifact):
    schema_title = "system.Markdown"


ARTIFACT_CLASSES: dict[str, type[Artifact]] = {
    cls.schema_title: cls
    for cls in (
        Artifact,
        Dataset,
        Model,
        Metrics,
        ClassificationMetrics,
        SlicedClassificationMetrics,
        HTML,
        Markdown,
    )
}


def is_artifact_class(obj: Any) -> bool:
    """Whether `obj` is an artifact class: ours, or one that names its schema as kfp's do
    (kfp's type_annotations.is_artifact_class: a schema_title and a schema_version), such
    as those built on kfp's own Artifact (Google Cloud Pipeline Components' VertexModel)."""
    if not isinstance(obj, type):
        return False
    if issubclass(obj, Artifact):
        return True
    title, version = getattr(obj, "schema_title", None), getattr(obj, "schema_version", None)
    return isinstance(title, str) and isinstance(version, str)


def artifact_class(schema_title: str) -> type[Artifact]:
    """The class for a schema title; unknown titles (e.g. `google.VertexModel`) are Artifact."""
    return ARTIFACT_CLASSES.get(schema_title, Artifact)


class InputAnnotation:
    """Marker inside `Annotated[...]` for an input artifact."""


class OutputAnnotation:
    """Marker inside `Annotated[...]` for an output artifact."""


class EmbeddedAnnotation:
    """Marker inside `Annotated[...]` for what the component embeds (`EmbeddedInput`)."""


Input = Annotated[T, InputAnnotation]
Output = Annotated[T, OutputAnnotation]
# Not an input of the component: the file or folder of `embedded_artifact_path`, given to
# the function as an artifact whose path is the unpacked file (or folder) when it runs.
EmbeddedInput = Annotated[T, EmbeddedAnnotation]


class InputPath:
    """A parameter or artifact handed to the function as the path of a local file."""

    def __init__(self, type: Any = None) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"InputPath({self.type!r})"


class OutputPath:
    """A parameter or artifact the function writes to the file at the given path."""

    def __init__(self, type: Any = None) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"OutputPath({self.type!r})"


@dataclasses.dataclass
class PipelineTaskFinalStatus:
    """What an exit task learns about the pipeline it guards."""

    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: int | None
    error_message: str | None


@dataclasses.dataclass
class TaskConfig:
    """The task's own settings, as Kubernetes pod spec fragments (docs/sdk.md)."""

    affinity: dict[str, Any] | None = None
    tolerations: list[dict[str, Any]] | None = None
    node_selector: dict[str, str] | None = None
    env: list[dict[str, Any]] | None = None
    volumes: list[dict[str, Any]] | None = None
    volume_mounts: list[dict[str, Any]] | None = None
    resources: dict[str, Any] | None = None


# The folder of the running task's own outputs, set by the executor when a task starts.
_task_root: str | None = None


def set_task_root(path: str | None) -> None:
    global _task_root
    _task_root = path


def get_uri(suffix: str = "Output") -> str:
    """A URI for an output under the running task's own folder (for artifacts a
    component returns). Only valid while a task runs."""
    if _task_root is None:
        raise RuntimeError("dsl.get_uri can only be called while a task runs.")
    return _task_root.rstrip("/") + "/" + suffix


# What the component embeds, unpacked by the executor when a task starts: the folder, and
# the path to hand to an EmbeddedInput (the one embedded file, else the folder).
_embedded: tuple[str, str] | None = None


def set_embedded(folder: str | None, path: str | None = None) -> None:
    global _embedded
    _embedded = (folder, path or folder) if folder is not None else None


def embedded_asset() -> tuple[str, str]:
    """(folder, path) of the running task's embedded asset (see `set_embedded`)."""
    if _embedded is None:
        raise RuntimeError(
            "This component embeds nothing: give @dsl.component an embedded_artifact_path."
        )
    return _embedded
