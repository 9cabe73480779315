# mypy: disable-error-code="import-not-found,import-untyped"
# (scikit-learn, pandas and joblib are installed in the tasks' environment, not here.)
"""A real training pipeline on one machine: breast-cancer classification, end to end.

KFP's documentation trains XGBoost on a downloaded dataset in containers; this is the
same shape redone to run anywhere Python does. The data is scikit-learn's bundled
Wisconsin breast-cancer table (569 rows, 30 features, nothing downloaded at run time) and
the model is scikit-learn's `GradientBoostingClassifier`: XGBoost's Linux wheels pull in
a CUDA NCCL package of a few hundred MB, too heavy for a first run on a laptop.

    load_data -> transform -> train -> predict -> evaluate

Datasets flow between tasks as CSV `Dataset` artifacts, the model as a joblib `Model`
artifact. `evaluate` logs a confusion matrix and ROC curve (`ClassificationMetrics`),
accuracy, precision, recall, F1 and ROC AUC (`Metrics`) and writes a Markdown report.

Every component declares the same `packages_to_install`, so Dagyard builds one virtual
environment for them on the first run (downloading from PyPI) and reuses it afterwards.
"""

from dagyard import dsl
from dagyard.dsl import ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output

# Components run from their own source, so they see none of this module's names: each one
# imports what it uses, and the label column is spelled "target" (0 malignant, 1 benign).
PACKAGES = ["scikit-learn==1.9.1", "pandas==3.1.1"]


@dsl.component(packages_to_install=PACKAGES)
def load_data(
    test_fraction: float,
    seed: int,
    train: Output[Dataset],
    test: Output[Dataset],
    analysis: Output[Markdown],
) -> None:
    """Load the bundled dataset, describe it, and split it (stratified) into train/test CSVs."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame
    train_frame, test_frame = train_test_split(
        frame, test_size=test_fraction, random_state=seed, stratify=frame["target"]
    )
    train_frame.to_csv(train.path, index=False)
    test_frame.to_csv(test.path, index=False)
    for artifact, part in ((train, train_frame), (test, test_frame)):
        artifact.metadata["rows"] = len(part)
        artifact.metadata["benign_share"] = round(float(part["target"].mean()), 4)

    counts = frame["target"].value_counts().sort_index()
    widest = frame.drop(columns="target").std().sort_values(ascending=False).head(5)
    missing = int(frame.isna().sum().sum())
    lines = [
        "# Breast-cancer data",
        "",
        f"{len(frame)} rows, {frame.shape[1] - 1} numeric features, {missing} missing values.",
        "",
        "| class | rows |",
        "|---|---:|",
        f"| malignant (0) | {int(counts[0])} |",
        f"| benign (1) | {int(counts[1])} |",
        "",
        f"Split {len(train_frame)} train / {len(test_frame)} test, stratified, seed {seed}.",
        "",
        "Features with the widest spread (standard deviation), hence the scaling step:",
        "",
        *[f"- {name}: {value:.1f}" for name, value in widest.items()],
    ]
    with open(analysis.path, "w") as f:
        f.write("\n".join(lines) + "\n")


@dsl.component(packages_to_install=PACKAGES)
def transform(
    train: Input[Dataset],
    test: Input[Dataset],
    train_scaled: Output[Dataset],
    test_scaled: Output[Dataset],
) -> None:
    """Standardize every feature with the training split's mean and standard deviation."""
    import pandas as pd

    train_frame = pd.read_csv(train.path)
    test_frame = pd.read_csv(test.path)
    features = [c for c in train_frame.columns if c != "target"]
    mean = train_frame[features].mean()
    std = train_frame[features].std().replace(0.0, 1.0)
    for frame, artifact in ((train_frame, train_scaled), (test_frame, test_scaled)):
        frame[features] = (frame[features] - mean) / std
        frame.to_csv(artifact.path, index=False)
        artifact.metadata["rows"] = len(frame)
        artifact.metadata["features"] = len(features)


@dsl.component(packages_to_install=PACKAGES)
def train_model(
    train: Input[Dataset],
    n_estimators: int,
    learning_rate: float,
    max_depth: int,
    seed: int,
    model: Output[Model],
) -> float:
    """Fit a gradient-boosted tree ensemble; returns its accuracy on the training split."""
    import joblib
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier

    frame = pd.read_csv(train.path)
    x, y = frame.drop(columns="target"), frame["target"]
    classifier = GradientBoostingClassifier(
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        max_depth=max_depth,
        random_state=seed,
    )
    classifier.fit(x, y)
    joblib.dump(classifier, model.path)
    model.framework = "scikit-learn"
    model.metadata["estimator"] = "GradientBoostingClassifier"
    model.metadata["n_estimators"] = n_estimators
    model.metadata["learning_rate"] = learning_rate
    model.metadata["max_depth"] = max_depth
    return round(float(classifier.score(x, y)), 4)


@dsl.component(packages_to_install=PACKAGES)
def predict(model: Input[Model], test: Input[Dataset], predictions: Output[Dataset]) -> None:
    """Score the test split: the true label, the predicted one and P(benign) per row."""
    import joblib
    import pandas as pd

    classifier = joblib.load(model.path)
    frame = pd.read_csv(test.path)
    x = frame.drop(columns="target")
    out = pd.DataFrame(
        {
            "target": frame["target"],
            "predicted": classifier.predict(x),
            "probability": classifier.predict_proba(x)[:, 1],
        }
    )
    out.to_csv(predictions.path, index=False)
    predictions.metadata["rows"] = len(out)


@dsl.component(packages_to_install=PACKAGES)
def evaluate(
    predictions: Input[Dataset],
    metrics: Output[Metrics],
    classification: Output[ClassificationMetrics],
    report: Output[Markdown],
) -> float:
    """Confusion matrix, ROC curve, scalar metrics and a Markdown report; returns accuracy."""
    import math

    import pandas as pd
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
        roc_curve,
    )

    frame = pd.read_csv(predictions.path)
    y, predicted, probability = frame["target"], frame["predicted"], frame["probability"]
    scores = {
        "accuracy": accuracy_score(y, predicted),
        "precision": precision_score(y, predicted),
        "recall": recall_score(y, predicted),
        "f1": f1_score(y, predicted),
        "roc_auc": roc_auc_score(y, probability),
    }
    for name, value in scores.items():
        metrics.log_metric(name, round(float(value), 4))

    classes = ["malignant", "benign"]
    matrix = confusion_matrix(y, predicted, labels=[0, 1])
    classification.log_confusion_matrix(classes, [[int(v) for v in row] for row in matrix])
    fpr, tpr, thresholds = roc_curve(y, probability)
    # roc_curve's first threshold is +inf, which JSON cannot carry; 1.0 means the same here.
    finite = [min(float(t), 1.0) if math.isfinite(t) else 1.0 for t in thresholds]
    classification.log_roc_curve([float(v) for v in fpr], [float(v) for v in tpr], finite)

    lines = [
        "# Breast-cancer classifier",
        "",
        f"Evaluated on {len(frame)} held-out rows.",
        "",
        "| metric | value |",
        "|---|---:|",
        *[f"| {name} | {value:.4f} |" for name, value in scores.items()],
        "",
        "Confusion matrix (rows: actual, columns: predicted):",
        "",
        "| | " + " | ".join(classes) + " |",
        "|---|" + "---:|" * len(classes),
        *[
            f"| {name} | " + " | ".join(str(int(v)) for v in matrix[i]) + " |"
            for i, name in enumerate(classes)
        ],
        "",
    ]
    with open(report.path, "w") as f:
        f.write("\n".join(lines))
    return round(float(scores["accuracy"]), 4)


@dsl.pipeline(
    name="breast-cancer",
    description="Load, transform, train, predict and evaluate a breast-cancer classifier.",
)
def breast_cancer(
    test_fraction: float = 0.25,
    seed: int = 42,
    n_estimators: int = 100,
    learning_rate: float = 0.1,
    max_depth: int = 3,
) -> float:
    data = load_data(test_fraction=test_fraction, seed=seed)
    scaled = transform(train=data.outputs["train"], test=data.outputs["test"])
    trained = train_model(
        train=scaled.outputs["train_scaled"],
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        max_depth=max_depth,
        seed=seed,
    )
    scored = predict(model=trained.outputs["model"], test=scaled.outputs["test_scaled"])
    evaluated = evaluate(predictions=scored.outputs["predictions"])
    return evaluated.outputs["Output"]  # type: ignore[return-value]  # a channel stands for it
