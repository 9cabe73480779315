"""Components that carry local files: `embedded_artifact_path` packs a file or a folder
into the component when it is compiled, and the task gets it back through a parameter
annotated `dsl.EmbeddedInput[...]`, which is no input of the component.

kfp packs the path as a gzip'd tar in the component's source and unpacks it into a
temporary folder when the task starts, the folder first on sys.path
(component_factory._generate_shared_extraction_helper); its executor gives an
EmbeddedInput parameter an artifact whose path is the one embedded file, or the folder
when a folder was embedded (executor.Executor._get_function_kwargs). The task's source
imports kfp.dsl with `import *`, which leaves EmbeddedInput out: hence `dsl.EmbeddedInput`.
"""

import os

from kfp import dsl
from kfp.dsl import Dataset

HERE = os.path.dirname(os.path.abspath(__file__))


@dsl.component(
    base_image="python:3.11",
    embedded_artifact_path=os.path.join(HERE, "embedded", "stopwords.txt"),
)
def count_content_words(text: str, stopwords: dsl.EmbeddedInput[Dataset]) -> int:
    with open(stopwords.path) as f:
        stop = set(f.read().split())
    return len([word for word in text.lower().split() if word not in stop])


@dsl.component(
    base_image="python:3.11",
    embedded_artifact_path=os.path.join(HERE, "embedded", "lexicon"),
)
def score(text: str, lexicon: dsl.EmbeddedInput[Dataset]) -> int:
    import os

    from sentiment import polarity

    weights = {}
    with open(os.path.join(lexicon.path, "weights.txt")) as f:
        for line in f:
            word, weight = line.split()
            weights[word] = int(weight)
    return polarity(text.lower().split(), weights)


@dsl.component(base_image="python:3.11")
def verdict(content_words: int, polarity: int) -> str:
    return f"{content_words} content words, polarity {polarity}"


@dsl.pipeline(name="sdk-embedded")
def pipeline(text: str = "a good day"):
    counted = count_content_words(text=text)
    scored = score(text=text)
    verdict(content_words=counted.output, polarity=scored.output)


ARGUMENTS = {"text": "The service was slow and the food was great"}
