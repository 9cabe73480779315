"""The folders behind a task's Kubernetes volumes on this host, and the values of its
secrets and config maps.

Belongs here: `Volumes` (one per run driver), which reads secrets and config maps from
the metadata store (in the namespace of the run's experiment, as KFP reads them in the
namespace of the run's pod), makes the folders an attempt's mounts show (a volume
claim's folder under `<home>/volumes/<namespace or _>/<name>`, a secret or config map
written out one file per key, a fresh empty folder), and does what kfp-kubernetes'
CreatePVC and DeletePVC tasks ask (KFP's driver does it for them, without a pod:
backend/src/v2/driver/k8s.go, createPVC and deletePVC). Not here: deciding what a
setting means (`platform_settings`), or showing a folder at its mount path
(`dagyard.executors.mounts`).

A secret's files are written under the attempt's temporary folder, which the executor
removes when the attempt ends; its values are never logged nor stored in a record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagyard.engine.failures import TaskFailure
from dagyard.errors import NotFound
from dagyard.executors.base import Bind
from dagyard.ir.kubernetes import ValuesKind as IRValuesKind
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import ValuesKind

# The folder of a run's attempt that the executor empties at its end (lifecycle's
# TMP_FOLDER), where secret and config map files and empty dirs are made.
_ATTEMPT_TMP = "tmp"
_KINDS = {IRValuesKind.SECRET: ValuesKind.SECRET, IRValuesKind.CONFIG_MAP: ValuesKind.CONFIG_MAP}


@dataclasses.dataclass(frozen=True)
class MountPlan:
    """What one mount of a task shows at `mount_path`: the values `data` (one file per
    key), the volume claim `claim` (its folder `sub_path`), or, with neither, an empty
    folder of its own."""

    mount_path: str
    data: Mapping[str, str] | None = None
    claim: str | None = None
    sub_path: str = ""
    read_only: bool = False


class Volumes:
    """A run's volumes: `root` holds the volume claims' folders, `store` the secrets and
    config maps, read in the namespace of the run's experiment (looked up once, when a
    task first needs it)."""

    def __init__(self, root: Path, store: MetadataStore, *, experiment_id: str | None) -> None:
        self.root = root
        self._store = store
        self._experiment_id = experiment_id
        self._namespace: str | None = None

    @property
    def namespace(self) -> str:
        if self._namespace is None:
            namespace = ""
            if self._experiment_id:
                with contextlib.suppress(NotFound):  # deleted since: the default namespace
                    namespace = self._store.get_experiment(self._experiment_id).namespace
            self._namespace = namespace
        return self._namespace

    def values(self, kind: IRValuesKind, name: str) -> dict[str, str] | None:
        """The values of a secret or config map, None if there is none by that name."""
        try:
            return dict(self._store.get_values(_KINDS[kind], name, self.namespace).data)
        except NotFound:
            return None

    def claim_folder(self, name: str) -> Path:
        """Where the volume claim `name` keeps its files (it may not exist)."""
        if not name or "/" in name or name in (".", ".."):
            raise TaskFailure(
                f"{name!r} cannot name a volume claim (it is a folder name here); give a "
                "Kubernetes name, e.g. my-data."
            )
        return self.root / (self.namespace or "_") / name

    def create_claim(self, parameters: Mapping[str, Any]) -> str:
        """CreatePVC: make the claim's folder; its name, as KFP's driver picks it
        (`pvc_name`, or a new UUID followed by `pvc_name_suffix`, or a new UUID)."""
        name = str(parameters.get("pvc_name") or "")
        suffix = str(parameters.get("pvc_name_suffix") or "")
        if name and suffix:
            raise TaskFailure(
                "CreatePVC was given both pvc_name and pvc_name_suffix; give at most one."
            )
        if not name:
            name = str(uuid.uuid4()) + suffix
        folder = self.claim_folder(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TaskFailure(f"Cannot make the folder of volume claim {name!r}: {e}") from e
        return name

    def delete_claim(self, parameters: Mapping[str, Any]) -> None:
        """DeletePVC: remove the claim's folder and all it holds."""
        name = str(parameters.get("pvc_name") or "")
        folder = self.claim_folder(name)
        if not folder.is_dir():
            raise TaskFailure(
                f"DeletePVC: there is no volume claim {name!r} in namespace "
                f"{self.namespace!r} (no folder {str(folder)!r}) to delete."
            )
        try:
            shutil.rmtree(folder)
        except OSError as e:
            raise TaskFailure(f"Cannot delete volume claim {name!r}: {e}") from e

    def binds(self, plans: tuple[MountPlan, ...], workdir: Path) -> tuple[Bind, ...]:
        """The host folders behind an attempt's mounts, made now."""
        binds = []
        for number, plan in enumerate(plans):
            try:
                source = self._source(plan, workdir / _ATTEMPT_TMP / f".volume-{number}")
            except OSError as e:
                raise TaskFailure(
                    f"Cannot make the folder to mount at {plan.mount_path!r}: {e}"
                ) from e
            binds.append(Bind(source=source, target=plan.mount_path, read_only=plan.read_only))
        return tuple(binds)

    def _source(self, plan: MountPlan, scratch: Path) -> Path:
        if plan.claim is None:
            shutil.rmtree(scratch, ignore_errors=True)  # a retried attempt's left-overs
            scratch.mkdir(parents=True, mode=0o700)
            for key, text in (plan.data or {}).items():
                (scratch / key).write_text(text, encoding="utf-8")
            return scratch
        folder = self.claim_folder(plan.claim)
        if not folder.is_dir():
            raise TaskFailure(
                f"The task mounts volume claim {plan.claim!r} at {plan.mount_path!r}, and "
                f"there is none in namespace {self.namespace!r} (no folder {str(folder)!r}): "
                "create it with CreatePVC earlier in the pipeline, or make that folder."
            )
        sub = Path(plan.sub_path)
        if sub.is_absolute() or ".." in sub.parts:
            raise TaskFailure(
                f"The sub_path {plan.sub_path!r} of the mount at {plan.mount_path!r} leaves "
                "its volume claim; give a relative path inside it."
            )
        source = folder / sub
        source.mkdir(parents=True, exist_ok=True)  # as Kubernetes makes a missing subPath
        return source
