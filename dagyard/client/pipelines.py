"""The pipeline and pipeline-version methods of `dagyard.Client` (kfp.Client's names and
parameters)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import yaml

from dagyard.client import packages
from dagyard.client.core import (
    ClientCore,
)
from dagyard.client.objects import (
    Pipeline,
    PipelineList,
    PipelineVersion,
    PipelineVersionList,
)
from dagyard.errors import ApiError


class PipelineCalls(ClientCore):
    """The pipeline and pipeline-version methods of `dagyard.Client` (kfp.Client's names and"""

    # -- pipelines and their versions -----------------------------------------------

    def upload_pipeline(
        self,
        pipeline_package_path: str | os.PathLike[str],
        pipeline_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> Pipeline:
        """Upload a compiled pipeline (.yaml, .zip, .tar.gz) as a new pipeline."""
        params = {
            "name": pipeline_name,
            "description": description,
            "namespace": self._in(namespace),
        }
        data = self._upload(
            "/pipelines/upload", packages.read_package(pipeline_package_path), params
        )
        return self._pipeline(data)

    def upload_pipeline_from_pipeline_func(
        self,
        pipeline_func: Any,
        pipeline_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> Pipeline:
        """Compile `pipeline_func` with dagyard.compiler and upload it as a new pipeline."""
        package = packages.compiled_package(pipeline_func)
        params = {
            "name": pipeline_name or packages.pipeline_name(yaml.safe_load(package[1])),
            "description": description,
            "namespace": self._in(namespace),
        }
        return self._pipeline(self._upload("/pipelines/upload", package, params))

    def upload_pipeline_version(
        self,
        pipeline_package_path: str | os.PathLike[str],
        pipeline_version_name: str,
        pipeline_id: str | None = None,
        pipeline_name: str | None = None,
        description: str | None = None,
    ) -> PipelineVersion:
        """Upload a compiled pipeline as a new version of the pipeline with `pipeline_id`
        (or called `pipeline_name`)."""
        return self._upload_version(
            packages.read_package(pipeline_package_path),
            pipeline_version_name,
            pipeline_id,
            pipeline_name,
            description,
        )

    def upload_pipeline_version_from_pipeline_func(
        self,
        pipeline_func: Any,
        pipeline_version_name: str,
        pipeline_id: str | None = None,
        pipeline_name: str | None = None,
        description: str | None = None,
    ) -> PipelineVersion:
        """Compile `pipeline_func` and upload it as a new version of the pipeline with
        `pipeline_id` (or called `pipeline_name`)."""
        return self._upload_version(
            packages.compiled_package(pipeline_func),
            pipeline_version_name,
            pipeline_id,
            pipeline_name,
            description,
        )

    def list_pipelines(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        filter: str | None = None,
        namespace: str | None = None,
    ) -> PipelineList:
        data = self._list("/pipelines", page_token, page_size, sort_by, filter, self._in(namespace))
        return PipelineList(
            pipelines=tuple(self._pipeline(p) for p in data.get("pipelines", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        return self._pipeline(self._call("GET", f"/pipelines/{pipeline_id}"))

    def get_pipeline_id(self, name: str) -> str | None:
        """The id of the pipeline called `name`, or None if there is none."""
        try:
            return str(self._call("GET", f"/pipelines/names/{quote(name)}")["pipeline_id"])
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def delete_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/pipelines/{pipeline_id}")

    def list_pipeline_versions(
        self,
        pipeline_id: str,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        filter: str | None = None,
    ) -> PipelineVersionList:
        """A page of the versions of the pipeline with `pipeline_id`."""
        data = self._list(
            f"/pipelines/{pipeline_id}/versions", page_token, page_size, sort_by, filter, None
        )
        return PipelineVersionList(
            pipeline_versions=tuple(self._version(v) for v in data.get("pipeline_versions", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def get_pipeline_version(self, pipeline_id: str, pipeline_version_id: str) -> PipelineVersion:
        """One version of a pipeline, with its compiled IR (`pipeline_spec`)."""
        return self._version(
            self._call("GET", f"/pipelines/{pipeline_id}/versions/{pipeline_version_id}")
        )

    def delete_pipeline_version(self, pipeline_id: str, pipeline_version_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/pipelines/{pipeline_id}/versions/{pipeline_version_id}")

    def _upload_version(
        self,
        package: tuple[str, bytes],
        version_name: str,
        pipeline_id: str | None,
        pipeline_name: str | None,
        description: str | None,
    ) -> PipelineVersion:
        if not pipeline_id:
            if not pipeline_name:
                raise ValueError("Give pipeline_id or pipeline_name.")
            pipeline_id = self._call("GET", f"/pipelines/names/{quote(pipeline_name)}")[
                "pipeline_id"
            ]
        params = {"pipelineid": pipeline_id, "name": version_name, "description": description}
        return self._version(self._upload("/pipelines/upload_version", package, params))
