"""Hyperparameter plumbing: every parameter type, with and without defaults.

Covers the component decorator options (base_image, packages_to_install,
pip_index_urls), @dsl.pipeline(name, description, pipeline_root), str/int/float/bool/
list/dict parameters, typed generics, Optional, integer-list constants and defaults,
and a pipeline-level return value.
"""

from typing import Dict, List, Optional

from kfp import dsl


@dsl.component(
    base_image="python:3.11-slim",
    packages_to_install=["numpy==1.26.4"],
    pip_index_urls=["https://pypi.org/simple"],
)
def scale_features(values: List[int], factor: float = 0.5) -> list:
    import numpy as np

    return (np.asarray(values) * factor).tolist()


@dsl.component(base_image="python:3.11")
def make_config(
    model_name: str,
    epochs: int,
    learning_rate: float,
    shuffle: bool,
    layers: list,
    extra: dict,
    class_weights: Dict[str, int],
    tags: list[str],
    seeds: List[int] = [1, 2, 3],  # noqa: B006
    notes: Optional[str] = None,
) -> dict:
    return {
        "model_name": model_name,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "shuffle": shuffle,
        "layers": layers,
        "extra": extra,
        "class_weights": class_weights,
        "tags": tags,
        "seeds": seeds,
        "notes": notes,
    }


@dsl.component(base_image="python:3.11")
def summarize(config: dict, scaled: List[float], verbose: bool = False) -> str:
    text = f"{config['model_name']} x{config['epochs']} on {sum(scaled)}"
    if verbose:
        print(text)
    return text


@dsl.pipeline(
    name="params-pipeline",
    description="Every parameter type flows from pipeline inputs into components.",
    pipeline_root="file:///tmp/dagyard-root",
)
def pipeline(
    model_name: str = "tiny-mlp",
    epochs: int = 3,
    learning_rate: float = 0.01,
    shuffle: bool = True,
    layers: list = [16, 8],  # noqa: B006
    extra: dict = {"dropout": 0.1},  # noqa: B006
    class_weights: Dict[str, int] = {"cat": 1, "dog": 2},  # noqa: B006
    tags: list[str] = ["demo"],  # noqa: B006
    seeds: List[int] = [1, 2, 3],  # noqa: B006
    notes: Optional[str] = None,
) -> str:
    config = make_config(
        model_name=model_name,
        epochs=epochs,
        learning_rate=learning_rate,
        shuffle=shuffle,
        layers=layers,
        extra=extra,
        class_weights=class_weights,
        tags=tags,
        seeds=seeds,
        notes=notes,
    )
    scaled = scale_features(values=[1, 2, 3])
    defaults = make_config(
        model_name="baseline",
        epochs=1,
        learning_rate=0.1,
        shuffle=False,
        layers=[4],
        extra={},
        class_weights={"cat": 1},
        tags=[],
    )
    summarize(config=defaults.output, scaled=scaled.output)
    return summarize(config=config.output, scaled=scaled.output, verbose=True).output


ARGUMENTS = {"epochs": 5, "notes": "smoke test"}
