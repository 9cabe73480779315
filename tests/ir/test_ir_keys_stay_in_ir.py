"""The IR's field names are read in `dagyard.ir` only: everyone else reads the typed plan.

An AST scan of `dagyard/` finds every string constant that is the camelCase name of a
PipelineSpec or deploymentSpec field (taken from the protobuf schema itself). Outside
`dagyard/ir`, such a string may appear only in the IR's writers and, until they are
switched to `dagyard.ir.plan`, in the readers listed in NOT_YET_SWITCHED. That list only
shrinks: a module in it that no longer names an IR field fails the test until it is
removed from the list, and a module not in it that starts naming one fails too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from google.protobuf.descriptor import Descriptor

from dagyard.ir import pipeline_spec_pb2

PACKAGE = Path(__file__).resolve().parents[2] / "dagyard"

# Modules (or packages, ending in "/") that write IR, or speak it as a file format of
# their own: naming its fields is their job.
WRITERS = (
    "compiler/",
    "client/packages.py",  # switches a compiled pipeline's caching before upload
    # Loads a compiled lone component as a dsl ComponentSpec that the compiler writes
    # back byte for byte: the compiler's inverse, on the SDK side (it imports no
    # dagyard.ir). It must see what the plan deliberately forgets (which keys a task
    # carries, command strings as written) and name the line of a refused document,
    # which validating and planning it first would lose.
    "components/",
    # The kfp-kubernetes settings of a task, written as the PlatformSpec holds them.
    "kubernetes/",
    # A pipeline's own settings (PipelineConfig), written as the PlatformSpec holds them.
    "dsl/pipeline_config.py",
)

# Readers of the IR not yet switched to the plan. Remove an entry once it reads the plan.
# Empty since every reader was switched: a new reader reads the plan from the start.
NOT_YET_SWITCHED: tuple[str, ...] = ()

# Names that are also fields of other formats these modules speak: ExecutorInput and
# ExecutorOutput (the contract between the engine and the task, shared with the IR's
# artifact types and values), and `displayName`, a word of KFP's REST API and metrics.
_SHARED_WITH_OTHER_FORMATS = frozenset({"displayName"})


def _camel_names(descriptor: Descriptor, seen: set[str]) -> Iterator[str]:
    if descriptor.full_name in seen:
        return
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        if re.search("[A-Z]", field.json_name):
            yield field.json_name
        message = field.message_type
        if message is not None and message.GetOptions().map_entry:
            message = message.fields_by_name["value"].message_type
        if message is not None:
            yield from _camel_names(message, seen)


def ir_field_names() -> frozenset[str]:
    """The camelCase field names of PipelineSpec and deploymentSpec, minus the shared ones."""
    ir_names: set[str] = set()
    for message in (pipeline_spec_pb2.PipelineSpec, pipeline_spec_pb2.PipelineDeploymentConfig):
        ir_names.update(_camel_names(message.DESCRIPTOR, set()))
    task_contract: set[str] = set()
    for message in (pipeline_spec_pb2.ExecutorInput, pipeline_spec_pb2.ExecutorOutput):
        task_contract.update(_camel_names(message.DESCRIPTOR, set()))
    return frozenset(ir_names - task_contract - _SHARED_WITH_OTHER_FORMATS)


def ir_names_used() -> dict[str, set[str]]:
    """Module path (relative to dagyard/) -> the IR field names it holds as strings."""
    names = ir_field_names()
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("ir/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.setdefault(relative, set()).add(node.value)
    return found


def _listed(module: str, entries: tuple[str, ...]) -> str | None:
    return next((e for e in entries if module == e or module.startswith(e.rstrip("/") + "/")), None)


def test_the_scan_knows_the_irs_field_names() -> None:
    names = ir_field_names()

    assert {"retryPolicy", "componentInputParameter", "parameterIterator", "defaultValue"} <= names
    assert "parameterValues" not in names  # ExecutorInput's, not the IR's
    assert "outputFile" not in names


def test_no_module_outside_the_ir_names_ir_fields_unless_listed() -> None:
    used = ir_names_used()

    unlisted = {
        module: sorted(names)
        for module, names in used.items()
        if _listed(module, WRITERS + NOT_YET_SWITCHED) is None
    }

    assert unlisted == {}, (
        "These modules read IR fields by name; read the typed plan instead "
        f"(dagyard.ir.plan(document)): {unlisted}"
    )


def test_the_list_of_readers_not_yet_switched_only_shrinks() -> None:
    used = ir_names_used()

    stale = [entry for entry in NOT_YET_SWITCHED if not any(_listed(m, (entry,)) for m in used)]

    assert stale == [], (
        f"{stale} no longer name IR fields: remove them from NOT_YET_SWITCHED so that they "
        "stay switched"
    )
