"""One attempt of a container task: its executor input going in, its outputs coming back.

Builds KFP's ExecutorInput JSON (where each output goes), and after the process exits
reads the ExecutorOutput JSON and the parameter output files, and turns output artifacts
into stored records with their digests. No scheduling here.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from dagyard.engine.values import from_ir
from dagyard.errors import RunError
from dagyard.store.artifacts import ArtifactStore
from dagyard.store.records import Artifact


def artifact_json(artifact: Artifact) -> dict[str, Any]:
    """An artifact as it appears in ExecutorInput."""
    return {
        "name": artifact.name,
        "type": {"schemaTitle": artifact.schema_title, "schemaVersion": artifact.schema_version},
        "uri": artifact.uri,
        "metadata": artifact.metadata,
    }


def executor_input(
    *,
    component: dict[str, Any],
    parameters: dict[str, Any],
    artifacts: dict[str, list[Artifact]],
    output_uris: dict[str, str],
    workdir: Path,
    task_root: Path,
) -> dict[str, Any]:
    """ExecutorInput for one attempt. Parameter output files go in `workdir`; output
    artifacts at `output_uris`; the executor output file in `task_root`, the task's folder
    in the artifact store (so `dsl.get_uri` names a place there, as on KFP)."""
    outputs = component.get("outputDefinitions", {})
    out_params = {
        name: {"outputFile": str(workdir / "outputs" / name)}
        for name in outputs.get("parameters", {})
    }
    out_artifacts = {
        name: {
            "artifacts": [
                {
                    "name": name,
                    "type": definition.get("artifactType", {}),
                    "uri": output_uris[name],
                    "metadata": {},
                }
            ]
        }
        for name, definition in outputs.get("artifacts", {}).items()
    }
    (workdir / "outputs").mkdir(parents=True, exist_ok=True)
    task_root.mkdir(parents=True, exist_ok=True)
    # A file left by an earlier attempt must not pass for this attempt's outputs.
    (task_root / "executor_output.json").unlink(missing_ok=True)
    document: dict[str, Any] = {
        "inputs": {
            "parameterValues": parameters,
            "artifacts": {
                name: {"artifacts": [artifact_json(a) for a in items]}
                for name, items in artifacts.items()
            },
        },
        "outputs": {
            "parameters": out_params,
            "artifacts": out_artifacts,
            "outputFile": str(task_root / "executor_output.json"),
        },
    }
    if not document["inputs"]["artifacts"]:
        del document["inputs"]["artifacts"]
    return document


def collect_outputs(
    *,
    component: dict[str, Any],
    document: dict[str, Any],
    store: ArtifactStore,
    run_id: str,
    task_id: str,
) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
    """Parameter values and new artifact records of a finished attempt. Raises RunError
    when a declared output is missing."""
    outputs = component.get("outputDefinitions", {})
    written: dict[str, Any] = {}
    output_file = Path(document["outputs"]["outputFile"])
    if output_file.exists():
        try:
            written = json.loads(output_file.read_text() or "{}")
        except json.JSONDecodeError as e:
            raise RunError(f"The task wrote an unreadable executor output file: {e}.") from e
    values = dict(written.get("parameterValues", {}))
    for name, entry in document["outputs"]["parameters"].items():
        path = Path(entry["outputFile"])
        if name not in values and path.exists():
            values[name] = _read_parameter_file(path, outputs["parameters"][name])
    parameters: dict[str, Any] = {}
    for name, definition in outputs.get("parameters", {}).items():
        if name not in values:
            if definition.get("isOptional"):
                continue
            raise RunError(f"The task finished without writing its output parameter '{name}'.")
        parameters[name] = from_ir(values[name], definition.get("parameterType"))
    reported = written.get("artifacts", {})
    artifacts: dict[str, list[Artifact]] = {}
    for name, definition in outputs.get("artifacts", {}).items():
        declared = document["outputs"]["artifacts"][name]["artifacts"][0]
        items = reported.get(name, {}).get("artifacts") or [declared]
        records = []
        for item in items:
            uri = item.get("uri") or declared["uri"]
            type_ = definition.get("artifactType", {})
            records.append(
                Artifact(
                    artifact_id=uuid.uuid4().hex,
                    run_id=run_id,
                    name=item.get("name") or name,
                    uri=uri,
                    schema_title=type_.get("schemaTitle", "system.Artifact"),
                    schema_version=type_.get("schemaVersion", "0.0.1"),
                    metadata=item.get("metadata") or {},
                    digest=store.digest(uri),
                    producer_task_id=task_id,
                    output_key=name,
                )
            )
        artifacts[name] = records
    return parameters, artifacts


def _read_parameter_file(path: Path, definition: dict[str, Any]) -> Any:
    text = path.read_text()
    if definition.get("parameterType") == "STRING":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RunError(
            f"Output parameter file {path.name} holds {text[:80]!r}, which is not a "
            f"{definition.get('parameterType')} value."
        ) from e
