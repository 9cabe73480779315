"""Evaluation outputs that the UI renders: metrics, confusion matrix, ROC, HTML, Markdown.

Covers Metrics.log_metric, ClassificationMetrics (log_confusion_matrix, log_roc_curve,
log_roc_data_point), SlicedClassificationMetrics, HTML and Markdown outputs.
"""

from kfp import dsl
from kfp.dsl import (
    HTML,
    ClassificationMetrics,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
    SlicedClassificationMetrics,
)


@dsl.component(base_image="python:3.11")
def fake_model(model: Output[Model]):
    with open(model.path, "w") as f:
        f.write("weights")


@dsl.component(base_image="python:3.11")
def evaluate(
    model: Input[Model],
    metrics: Output[Metrics],
    classification: Output[ClassificationMetrics],
    sliced: Output[SlicedClassificationMetrics],
    threshold: float = 0.5,
):
    metrics.log_metric("accuracy", 0.75)
    metrics.log_metric("threshold", threshold)
    classification.log_confusion_matrix(["cat", "dog"], [[3, 1], [1, 3]])
    classification.log_roc_curve(
        fpr=[0.0, 0.25, 1.0], tpr=[0.0, 0.75, 1.0], threshold=[1.0, 0.5, 0.0]
    )
    classification.log_roc_data_point(fpr=0.5, tpr=0.9, threshold=0.3)
    sliced.log_roc_reading("cats", threshold=0.5, tpr=0.8, fpr=0.1)
    sliced.load_confusion_matrix("dogs", ["cat", "dog"], [[2, 0], [1, 2]])


@dsl.component(base_image="python:3.11")
def render(metrics: Input[Metrics], html: Output[HTML], markdown: Output[Markdown]):
    accuracy = metrics.metadata.get("accuracy")
    with open(html.path, "w") as f:
        f.write(f"<h1>Accuracy</h1><p>{accuracy}</p>")
    with open(markdown.path, "w") as f:
        f.write(f"# Accuracy\n\n| metric | value |\n|---|---|\n| accuracy | {accuracy} |\n")


@dsl.pipeline(name="metrics-pipeline", description="Evaluation outputs for the UI.")
def pipeline(threshold: float = 0.5):
    model = fake_model()
    scores = evaluate(model=model.output, threshold=threshold)
    render(metrics=scores.outputs["metrics"])
