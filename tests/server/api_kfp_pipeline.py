"""A kfp-SDK pipeline for kfp.Client.create_run_from_pipeline_func. No `from __future__
import annotations` here: kfp reads the annotations as types, not text."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def kfp_double(x: int) -> int:
    return 2 * x


@dsl.pipeline(name="kfp-double")
def kfp_pipeline(x: int = 3) -> None:
    kfp_double(x=kfp_double(x=x).output)
