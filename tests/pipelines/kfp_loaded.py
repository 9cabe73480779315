"""Components loaded from YAML text with load_component_from_text.

- standardize_component.yaml and word_count_component.yaml: KFP v2 IR component files
  compiled by kfp 2.17.0 from a lightweight Python and a container component (sources in
  README.md).
- tokenize_component_v1.yaml: a KFP v1 component.yaml (implementation.container with
  inputValue, inputPath and outputPath).
"""

from pathlib import Path

from kfp import components, dsl
from kfp.dsl import Dataset, Output

_HERE = Path(__file__).parent
standardize = components.load_component_from_text(
    (_HERE / "standardize_component.yaml").read_text()
)
word_count = components.load_component_from_text((_HERE / "word_count_component.yaml").read_text())
tokenize = components.load_component_from_text((_HERE / "tokenize_component_v1.yaml").read_text())


@dsl.component(base_image="python:3.11")
def write_corpus(corpus: Output[Dataset], text: str = "The quick brown fox"):
    with open(corpus.path, "w") as f:
        f.write(text)


@dsl.component(base_image="python:3.11")
def to_floats(count: int) -> list:
    return [float(i) for i in range(count)]


@dsl.pipeline(name="loaded-components-pipeline")
def pipeline(text: str = "Pipelines compile to IR and run anywhere"):
    corpus = write_corpus(text=text)
    tokens = tokenize(text=corpus.outputs["corpus"], min_length=3)
    word_count(text=tokens.outputs["tokens"], min_length=2)
    floats = to_floats(count=tokens.outputs["token_count"])
    standardize(values=floats.output, scale=2.0)
    standardize(values=[1, 2, 3])


ARGUMENTS = {"text": "a b c dd eee"}
