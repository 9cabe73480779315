"""Whole pipelines loaded from YAML with load_component_from_file, used as tasks.

- sum_of_squares_pipeline.yaml: compiled by kfp 2.17.0; a loop over a task's output
  list, dsl.Collected, a condition and a nested pipeline (source in README.md).
- letters_pipeline.yaml: compiled by Dagyard; two tasks in a row (source in README.md).

kfp folds each into the calling pipeline as a sub-DAG, its components and executors
merged with the caller's. The outer pipeline calls the first twice, once with its own
default limit and once with another, and passes the results on.
"""

from pathlib import Path

from dagyard import components, dsl

_HERE = Path(__file__).parent
sum_of_squares = components.load_component_from_file(str(_HERE / "sum_of_squares_pipeline.yaml"))
letters = components.load_component_from_file(str(_HERE / "letters_pipeline.yaml"))


@dsl.component(base_image="python:3.11")
def summarise(small: int, large: int, letter_count: int) -> str:
    return f"small={small} large={large} letters={letter_count}"


@dsl.pipeline(name="loaded-pipelines")
def pipeline(numbers: str = "1 2 3", words: str = "hi there"):
    small = sum_of_squares(text=numbers)
    large = sum_of_squares(text="3 4 5", limit=100)
    counted = letters(text=words)
    summarise(small=small.output, large=large.output, letter_count=counted.output)


ARGUMENTS = {"numbers": "2 3 4"}
