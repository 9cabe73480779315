"""A component with helper functions (`additional_funcs`), and artifact classes imported
from their own module (`kfp.dsl.types.artifact_types`).

kfp puts each helper's source before the function's in the component
(component_factory._get_command_and_args_for_lightweight_component), so the function and
the helpers may call them; the helpers here call each other.
"""

from kfp import dsl
from kfp.dsl import Input, Output
from kfp.dsl.types.artifact_types import Dataset


def normalise(word: str) -> str:
    return word.strip(".,!?").lower()


def vocabulary(text: str) -> list:
    return sorted({normalise(word) for word in text.split()})


@dsl.component(base_image="python:3.11", additional_funcs=[normalise, vocabulary])
def build_vocabulary(text: str, words: Output[Dataset]) -> int:
    found = vocabulary(text)
    with open(words.path, "w") as f:
        f.write("\n".join(found))
    return len(found)


@dsl.component(base_image="python:3.11", additional_funcs=[normalise])
def lookup(words: Input[Dataset], word: str) -> bool:
    with open(words.path) as f:
        return normalise(word) in f.read().splitlines()


@dsl.pipeline(name="sdk-helpers")
def pipeline(text: str = "Hello world", word: str = "WORLD!"):
    built = build_vocabulary(text=text)
    lookup(words=built.outputs["words"], word=word)


ARGUMENTS = {"text": "The cat saw the dog. The dog ran!", "word": "Dog"}
