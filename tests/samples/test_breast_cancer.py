"""The breast-cancer sample, run end to end through the service layer in a fresh home.

The first run builds the sample's virtual environment (scikit-learn, pandas) with uv, so
this is slow: about 20 s here with a warm uv cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagyard.compiler import compile_to_dict
from dagyard.samples.breast_cancer import breast_cancer
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Artifact, Run, RunState

pytestmark = pytest.mark.slow


class Finished:
    """The run and its artifacts by output name."""

    def __init__(self, run: Run, artifacts: list[Artifact]) -> None:
        self.run = run
        self.artifacts = {a.name: a for a in artifacts}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    home = tmp_path_factory.mktemp("dagyard-home")
    platform = Platform.open(Settings(container_runtime="off", home=home))
    try:
        run = runs.submit_run(platform, compile_to_dict(breast_cancer), parameters={})
        run = runs.drive_run(platform, run.run_id)
        yield Finished(run, platform.store.list_artifacts(run.run_id))
    finally:
        platform.close()


def test_the_run_succeeds_and_returns_the_accuracy(finished: Finished) -> None:
    assert finished.run.state == RunState.SUCCEEDED, finished.run.error
    assert finished.run.outputs["Output"] == finished.artifacts["metrics"].metadata["accuracy"]


def test_the_classifier_is_better_than_ninety_percent_accurate(finished: Finished) -> None:
    metrics = finished.artifacts["metrics"]
    assert metrics.schema_title == "system.Metrics"
    assert set(metrics.metadata) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert metrics.metadata["accuracy"] > 0.9


def test_the_confusion_matrix_covers_both_classes_and_the_whole_test_set(
    finished: Finished,
) -> None:
    matrix = finished.artifacts["classification"].metadata["confusionMatrix"]
    names = [spec["displayName"] for spec in matrix["annotationSpecs"]]
    assert names == ["malignant", "benign"]
    cells = [cell for row in matrix["rows"] for cell in row["row"]]
    test_csv = Path(finished.artifacts["test"].uri).read_text().splitlines()
    assert len(cells) == 4
    assert sum(cells) == len(test_csv) - 1 == finished.artifacts["test"].metadata["rows"]


def test_the_roc_curve_runs_from_the_origin_to_the_top_corner(finished: Finished) -> None:
    points = finished.artifacts["classification"].metadata["confidenceMetrics"]
    assert len(points) > 2
    assert (points[0]["falsePositiveRate"], points[0]["recall"]) == (0.0, 0.0)
    assert (points[-1]["falsePositiveRate"], points[-1]["recall"]) == (1.0, 1.0)


def test_datasets_and_model_flow_as_files(finished: Finished) -> None:
    for name in ("train", "test", "train_scaled", "test_scaled", "predictions"):
        dataset = finished.artifacts[name]
        assert dataset.schema_title == "system.Dataset"
        assert Path(dataset.uri).read_text().startswith(("mean radius,", "target,"))
    model = finished.artifacts["model"]
    assert model.schema_title == "system.Model"
    assert model.metadata["framework"] == "scikit-learn"
    assert Path(model.uri).stat().st_size > 10_000
    report = Path(finished.artifacts["report"].uri).read_text()
    assert report.startswith("# Breast-cancer classifier")
