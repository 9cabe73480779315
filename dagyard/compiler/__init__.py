"""The IR writer: `Compiler().compile(pipeline_func, path)` writes KFP PipelineSpec YAML."""

from dagyard.compiler.compiler import Compiler, compile_to_dict

__all__ = ["Compiler", "compile_to_dict"]
