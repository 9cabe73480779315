"""One attempt of a container task: its executor input going in, its outputs coming back.

Builds KFP's ExecutorInput JSON (where each output goes), and after the process exits
reads the ExecutorOutput JSON and the parameter output files, and turns output artifacts
into stored records with their digests. No scheduling here.

An output artifact on a local root that is, or holds, a symbolic link leading out of its
task's folder fails the task here, when outputs are collected (on an object-store root
`staging.stage_out` refuses to upload it): its bytes are not the task's to publish, and
the store would refuse to serve them anyway.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from dagyard.engine.failures import TaskFailure
from dagyard.engine.values import from_ir, parse_output
from dagyard.errors import ExecutorError, StoreError
from dagyard.executors.staging import Staging, stage_out
from dagyard.ir.pipeline import ArtifactType, Definitions, ParameterDefinition
from dagyard.runtime.artifacts import uri_to_path
from dagyard.store.artifact_store import ArtifactStore, leaving_link
from dagyard.store.records import Artifact


def artifact_json(artifact: Artifact) -> dict[str, Any]:
    """An artifact as it appears in ExecutorInput."""
    return {
        "name": artifact.name,
        "type": {"schemaTitle": artifact.schema_title, "schemaVersion": artifact.schema_version},
        "uri": artifact.uri,
        "metadata": artifact.metadata,
    }


@dataclasses.dataclass(frozen=True)
class StagedFiles:
    """Where an attempt's files are on the host that runs it, and the copies that put
    them there (`staging`, made on that host around the command).

    On an object-store root the task works on local copies under its scratch folder; on
    a local root it works on the store's own files, and there is nothing to copy: the
    same shape, with an empty `staging`, no results to fetch and no names to translate.

    inputs/output_uris: what ExecutorInput names (local paths in place of store URIs);
    task_root: where the executor output file goes; log_path: where the attempt writes
    its log; results: (local path, store URI) of the files the engine reads back after
    the attempt (executor output, parameter files); names: (local prefix, store prefix)
    pairs that `to_store` turns back into store URIs.
    """

    inputs: dict[str, list[Artifact]]
    output_uris: dict[str, str]
    task_root: Path
    log_path: Path
    staging: Staging
    results: tuple[tuple[str, str], ...] = ()
    names: tuple[tuple[str, str], ...] = ()

    def to_store(self, value: Any) -> Any:
        """`value` with every local copy's path it mentions replaced by the store URI it
        stands for: the task saw local paths as its artifacts' URIs (as on KFP, where a
        task sees `/s3/...` paths), and what it reports (an artifact's URI, metadata, an
        output parameter naming an artifact) must name the stored artifact."""
        if not self.names:
            return value
        if isinstance(value, str):
            for local, stored in self.names:
                if local in value:
                    value = value.replace(local, stored)
            return value
        if isinstance(value, list):
            return [self.to_store(v) for v in value]
        if isinstance(value, dict):
            return {k: self.to_store(v) for k, v in value.items()}
        return value


def staged_files(
    store: ArtifactStore,
    *,
    run_id: str,
    task_path: str,
    attempt: int,
    workdir: Path,
    inputs: dict[str, list[Artifact]],
    output_uris: dict[str, str],
    output_parameters: list[str],
    log_uri: str,
) -> StagedFiles:
    """The files of one attempt and the copies to make around it (none on a local root,
    where the output folders are made here)."""
    if store.is_local:
        for uri in output_uris.values():
            store.prepare_output(uri)
        return StagedFiles(
            inputs=inputs,
            output_uris=output_uris,
            task_root=store.local_path(store.task_uri(run_id, task_path)),
            log_path=store.local_path(log_uri),
            staging=Staging(),
        )
    base = workdir / "files"
    imported: dict[str, str] = {}

    def local(uri: str) -> str:
        relative = store.relative(uri)
        if relative:
            return str(base / "store" / relative)
        # Imported from elsewhere: a folder per URI, keeping the file's own name.
        name = uri.rstrip("/").rsplit("/", 1)[-1] or "artifact"
        path = str(base / "imports" / hashlib.sha256(uri.encode()).hexdigest()[:16] / name)
        imported[path] = uri
        return path

    local_inputs = {
        key: [dataclasses.replace(a, uri=local(a.uri)) for a in items]
        for key, items in inputs.items()
    }
    downloads = {a.uri: local(a.uri) for items in inputs.values() for a in items}
    local_outputs = {name: local(uri) for name, uri in output_uris.items()}
    task_uri = store.task_uri(run_id, task_path)
    task_root = Path(local(task_uri))
    # Per attempt, so that a retry never reads what an earlier attempt left.
    attempt_uri = f"{task_uri}/.dagyard/attempt-{attempt}"
    results = [(str(task_root / "executor_output.json"), f"{attempt_uri}/executor_output.json")]
    results += [
        (str(workdir / "outputs" / name), f"{attempt_uri}/outputs/{name}")
        for name in output_parameters
    ]
    uploads = [(local_outputs[name], uri) for name, uri in output_uris.items()] + results
    return StagedFiles(
        inputs=local_inputs,
        output_uris=local_outputs,
        task_root=task_root,
        log_path=workdir / "attempt.log",
        staging=Staging(
            downloads=tuple(downloads.items()), uploads=tuple(uploads), log_uri=log_uri
        ),
        results=tuple(results),
        # Longest first, so that no pair rewrites part of a longer one's path.
        names=tuple(
            sorted(
                [(str(base / "store") + "/", store.root_uri.rstrip("/") + "/"), *imported.items()],
                key=lambda pair: -len(pair[0]),
            )
        ),
    )


def fetch_results(store: ArtifactStore, files: StagedFiles) -> None:
    """Bring an attempt's result files to this machine, where the engine reads them
    (nothing to do when the attempt ran here)."""
    for local, uri in files.results:
        path = Path(local)
        if path.exists():
            continue
        try:
            if not store.exists(uri):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(store.read_bytes(uri))
        except (StoreError, OSError) as e:
            raise TaskFailure(f"Cannot read the task's results back from {uri!r}: {e}") from e


def artifact_type_json(type_: ArtifactType) -> dict[str, str]:
    """An artifact type as ExecutorInput writes it: the fields that are set."""
    fields = {
        "schemaTitle": type_.schema_title,
        "schemaVersion": type_.schema_version,
        "schemaUri": type_.schema_uri,
        "instanceSchema": type_.instance_schema,
    }
    return {key: value for key, value in fields.items() if value}


def executor_input(
    *,
    outputs: Definitions,
    parameters: dict[str, Any],
    artifacts: dict[str, list[Artifact]],
    output_uris: dict[str, str],
    workdir: Path,
    task_root: Path,
) -> dict[str, Any]:
    """ExecutorInput for one attempt. Parameter output files go in `workdir`; output
    artifacts at `output_uris`; the executor output file in `task_root`, the task's folder
    in the artifact store (so `dsl.get_uri` names a place there, as on KFP)."""
    out_params = {
        name: {"outputFile": str(workdir / "outputs" / name)} for name in outputs.parameters
    }
    out_artifacts = {
        name: {
            "artifacts": [
                {
                    "name": name,
                    "type": artifact_type_json(definition.type),
                    "uri": output_uris[name],
                    "metadata": {},
                }
            ]
        }
        for name, definition in outputs.artifacts.items()
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
    outputs: Definitions,
    document: dict[str, Any],
    store: ArtifactStore,
    run_id: str,
    task_id: str,
    staged: StagedFiles | None = None,
) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
    """Parameter values and new artifact records of a finished attempt. Raises TaskFailure
    when a declared output is missing. `staged`: the attempt's local copies of a remote
    store, whose paths are recorded as the store URIs they stand for."""
    to_store = staged.to_store if staged is not None else (lambda value: value)
    written: dict[str, Any] = {}
    output_file = Path(document["outputs"]["outputFile"])
    if output_file.exists():
        try:
            written = json.loads(output_file.read_text() or "{}")
        except json.JSONDecodeError as e:
            raise TaskFailure(f"The task wrote an unreadable executor output file: {e}.") from e
    values = dict(written.get("parameterValues", {}))
    for name, entry in document["outputs"]["parameters"].items():
        path = Path(entry["outputFile"])
        # Whoever read the file (the task's runtime, into the executor output, or this
        # function), a link out of the task's folder must not become the value.
        _refuse_linked_parameter(name, path, within=output_file.parent)
        if name not in values and path.exists():
            values[name] = _read_parameter_file(path, outputs.parameters[name])
    parameters: dict[str, Any] = {}
    for name, definition in outputs.parameters.items():
        if name not in values:
            if definition.is_optional:
                continue
            raise TaskFailure(f"The task finished without writing its output parameter '{name}'.")
        parameters[name] = to_store(from_ir(values[name], definition.type))
    reported = written.get("artifacts", {})
    artifacts: dict[str, list[Artifact]] = {}
    for name, artifact_definition in outputs.artifacts.items():
        declared = document["outputs"]["artifacts"][name]["artifacts"][0]
        items = reported.get(name, {}).get("artifacts") or [declared]
        records = []
        for item in items:
            if item.get("custom_path"):
                _move_from_custom_path(name, item, declared["uri"], staged)
            uri = to_store(item.get("uri") or declared["uri"])
            _refuse_leaving_link(store, name=name, uri=uri, staged=staged)
            type_ = artifact_definition.type
            records.append(
                Artifact(
                    artifact_id=uuid.uuid4().hex,
                    run_id=run_id,
                    name=item.get("name") or name,
                    uri=uri,
                    schema_title=type_.schema_title or "system.Artifact",
                    schema_version=type_.schema_version or "0.0.1",
                    metadata=to_store(item.get("metadata") or {}),
                    digest=store.digest(uri),
                    producer_task_id=task_id,
                    output_key=name,
                )
            )
        artifacts[name] = records
    return parameters, artifacts


def _move_from_custom_path(
    name: str, item: dict[str, Any], declared_uri: str, staged: StagedFiles | None
) -> None:
    """Bring output `name`'s bytes from where the task put them (kfp's `set_path`: the
    executor output's `custom_path`) to the artifact's own place, as KFP's launcher
    uploads them from there; on an object-store root, sent to the store. TaskFailure if
    there is nothing at that path."""
    source = Path(str(item["custom_path"]))
    local = uri_to_path(str(item.get("uri") or declared_uri))
    if staged is not None and staged.names:
        local = uri_to_path(declared_uri)  # the local copy the store's URI stands for
    target = Path(local)
    if source.resolve() == target.resolve():
        return
    if not source.exists():
        raise TaskFailure(
            f"Output artifact '{name}' was given the path {str(source)!r} (set_path), but "
            "nothing is there when the task ends; write the artifact there, or leave its "
            "path as it was."
        )
    try:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)
        if staged is not None and staged.names:
            stage_out(Staging(uploads=((str(target), staged.to_store(declared_uri)),)))
    except (OSError, ExecutorError) as e:
        raise TaskFailure(
            f"Cannot collect output artifact '{name}' from its path {str(source)!r}: {e}"
        ) from e


def _refuse_leaving_link(
    store: ArtifactStore, *, name: str, uri: str, staged: StagedFiles | None
) -> None:
    """TaskFailure if output `name` at `uri` (on a local root) is, or holds, a symbolic
    link to something outside its task's folder."""
    if not (store.is_local and store.is_within(uri)):
        return
    relative = store.relative(uri) or ""
    path = Path(store.local_path(store.root_uri), *relative.split("/"))
    within = staged.task_root if staged is not None else path.parent
    found = leaving_link(path, within=within)
    if found is not None:
        link, target = found
        raise TaskFailure(
            f"Output artifact '{name}' is a symbolic link (or holds one: {str(link)!r}) to "
            f"{target!r}, outside the task's folder {str(within)!r}; write or copy the file "
            "itself into the output's path instead of linking to it."
        )


def _refuse_linked_parameter(name: str, path: Path, *, within: Path) -> None:
    """TaskFailure if output parameter `name`'s file is a symbolic link out of the task's
    folder: its target's content would become the parameter's value."""
    found = leaving_link(path, within=within)
    if found is not None:
        raise TaskFailure(
            f"Output parameter '{name}' is a symbolic link to {found[1]!r}, outside the "
            f"task's folder; write the value itself into {path.name}."
        )


def _read_parameter_file(path: Path, definition: ParameterDefinition) -> Any:
    text = path.read_text()
    try:
        return parse_output(text, definition.type.value)
    except ValueError as e:
        raise TaskFailure(
            f"Output parameter file {path.name} holds {text[:80]!r}, which is not a "
            f"{definition.type.value} value: {e}."
        ) from e
