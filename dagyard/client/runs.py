"""The run methods of `dagyard.Client`: kfp.Client's, then Dagyard's own (`run`, run
metrics, retry, task logs)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dagyard.client import packages
from dagyard.client.core import (
    DEFAULT_EXPERIMENT,
    DEFAULT_EXPERIMENT_VARIABLE,
    POLL_SECONDS,
    drop_none,
    one_source,
)
from dagyard.client.experiments import ExperimentCalls
from dagyard.client.notebook import live_progress
from dagyard.client.objects import (
    Run,
    RunList,
)
from dagyard.errors import ApiError


class RunPipelineResult:
    """A run just created by `create_run_from_pipeline_func` or `..._package` (kfp's
    RunPipelineResult): `run_id`, `run_info` (the `Run` as created) and
    `wait_for_run_completion`."""

    def __init__(self, client: RunCalls, run_info: Run) -> None:
        self._client = client
        self.run_info = run_info
        self.run_id = run_info.run_id

    def wait_for_run_completion(
        self, timeout: float | dt.timedelta | None = None, sleep_duration: float = POLL_SECONDS
    ) -> Run:
        """The run once it has ended (see Client.wait_for_run_completion); `timeout`
        None waits as long as it takes."""
        return self._client.wait_for_run_completion(self.run_id, timeout, sleep_duration)

    def __repr__(self) -> str:
        return f"RunPipelineResult(run_id={self.run_id})"

    def _repr_html_(self) -> str:
        return self.run_info._repr_html_()


class RunCalls(ExperimentCalls):
    """The run methods of `dagyard.Client`: kfp.Client's, then Dagyard's own (`run`, run"""

    # -- runs ---------------------------------------------------------------------

    def run_pipeline(
        self,
        experiment_id: str,
        job_name: str,
        pipeline_package_path: str | os.PathLike[str] | None = None,
        params: dict[str, Any] | None = None,
        pipeline_id: str | None = None,
        version_id: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
    ) -> Run:
        """Start a run called `job_name` in `experiment_id`, of the compiled pipeline at
        `pipeline_package_path` or of an uploaded pipeline's version (`version_id`; with
        `pipeline_id` alone, its latest version). `enable_caching` set turns caching on
        or off for every task of this run (for an uploaded version, False runs every task
        afresh and True keeps its compiled settings). Returns the new run at once."""
        one_source(pipeline_package_path, pipeline_id, version_id)
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "display_name": job_name,
            "runtime_config": drop_none(
                {"parameters": params or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
        }
        if pipeline_package_path is not None:
            spec = packages.read_spec(Path(pipeline_package_path))
            if enable_caching is not None:
                packages.set_caching(spec, enable_caching, cache_key)
            body["pipeline_spec"] = spec
        else:
            body["pipeline_version_reference"] = drop_none(
                {"pipeline_id": pipeline_id, "pipeline_version_id": version_id}
            )
            # The spec lives on the server: False asks it to run every task afresh; True
            # keeps the caching the version was compiled with.
            body["cache_enabled"] = enable_caching
        return self._run(self._call("POST", "/runs", json=drop_none(body)))

    def create_run_from_pipeline_package(
        self,
        pipeline_file: str | os.PathLike[str],
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> RunPipelineResult:
        """Submit the compiled pipeline YAML in `pipeline_file`, in the experiment with
        `experiment_id` or called `experiment_name` (created when missing; default
        KF_PIPELINES_DEFAULT_EXPERIMENT_NAME, else "Default")."""
        spec = packages.read_spec(Path(pipeline_file))
        return self._create_run(
            spec, arguments, run_name, experiment_name, namespace, pipeline_root,
            enable_caching, cache_key, service_account, experiment_id,
        )  # fmt: skip

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> RunPipelineResult:
        """Compile `pipeline_func` (a @dsl.pipeline or @dsl.component) with
        dagyard.compiler and submit it, as `create_run_from_pipeline_package` does."""
        from dagyard.compiler.compiler import compile_to_dict

        spec = compile_to_dict(pipeline_func)
        return self._create_run(
            spec, arguments, run_name, experiment_name, namespace, pipeline_root,
            enable_caching, cache_key, service_account, experiment_id,
        )  # fmt: skip

    def get_run(self, run_id: str) -> Run:
        """The run with its tasks."""
        return self._run(self._call("GET", f"/runs/{run_id}"))

    def list_runs(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
    ) -> RunList:
        """A page of runs; `filter` is KFP's filter JSON, `sort_by` e.g. "created_at desc"."""
        extra = {"experiment_id": experiment_id} if experiment_id else {}
        data = self._list(
            "/runs", page_token, page_size, sort_by, filter, self._in(namespace), extra
        )
        return RunList(
            runs=tuple(self._run(r) for r in data.get("runs", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def wait_for_run_completion(
        self, run_id: str, timeout: float | dt.timedelta | None, sleep_duration: float = 5
    ) -> Run:
        """Poll the run until it is SUCCEEDED, FAILED, SKIPPED or CANCELED (kfp's client
        keeps waiting on CANCELED); TimeoutError after `timeout` seconds (None: never).
        In a Jupyter notebook the run is shown, and updated in place at every poll."""
        if isinstance(timeout, dt.timedelta):
            timeout = timeout.total_seconds()
        deadline = None if timeout is None else time.monotonic() + timeout
        show = live_progress()
        while True:
            run = self.get_run(run_id)
            if show is not None:
                show(run)
            if run.done:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Run {run_id} is still {run.state} after {timeout} s; wait longer or "
                    "terminate it with terminate_run."
                )
            time.sleep(sleep_duration)

    def terminate_run(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", f"/runs/{run_id}:terminate")

    def archive_run(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", f"/runs/{run_id}:archive")

    def unarchive_run(self, run_id: str) -> dict[str, Any]:
        return self._call("POST", f"/runs/{run_id}:unarchive")

    def delete_run(self, run_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/runs/{run_id}")

    # -- beyond kfp ---------------------------------------------------------------

    def run(
        self,
        pipeline: Any,
        params: dict[str, Any] | None = None,
        *,
        experiment: str = DEFAULT_EXPERIMENT,
        wait: bool = True,
    ) -> Run:
        """Submit a pipeline function or a compiled YAML file in `experiment`; with
        `wait`, return the finished run (with its tasks), else the new one."""
        if isinstance(pipeline, str | os.PathLike):
            started = self.create_run_from_pipeline_package(
                pipeline, arguments=params, experiment_name=experiment
            )
        else:
            started = self.create_run_from_pipeline_func(
                pipeline, arguments=params, experiment_name=experiment
            )
        if not wait:
            return started.run_info
        return started.wait_for_run_completion()

    def get_run_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """The scalar metrics (system.Metrics artifacts) of each run: run id ->
        {"<task path>/<metric name>": value}; at most 200 runs at once."""
        data = self._call("GET", "/runs:metrics", params={"run_ids": list(run_ids)})
        metrics: dict[str, dict[str, float]] = data.get("metrics") or {}
        return metrics

    def retry_run(self, run_id: str) -> dict[str, Any]:
        """Run the failed or canceled tasks of a finished run again, in the same run."""
        return self._call("POST", f"/runs/{run_id}:retry")

    def logs(self, run_id: str, task: str, *, attempt: int | None = None) -> str:
        """The log (stdout and stderr) of a task of a run, as written so far. `task` is
        its name, path (`for-loop-2/3/square`) or id; `attempt` 1 is the first, default
        the latest. A cached task shows the log of the task it reused."""
        return "".join(self.iter_logs(run_id, task, attempt=attempt))

    def iter_logs(
        self,
        run_id: str,
        task: str,
        *,
        attempt: int | None = None,
        follow: bool = False,
        poll_seconds: float = 0.5,
    ) -> Iterator[str]:
        """The log of a task in pieces as they are read; with `follow`, keep reading
        while the task runs (waiting for it to start, too), until it ends."""
        offset = 0
        path = f"/runs/{run_id}/nodes/{quote(task, safe='/')}/logs"
        while True:
            params: dict[str, Any] = {"offset": offset}
            if attempt is not None:
                params["attempt"] = attempt
            try:
                piece = self._call("GET", path, params=params)
            except ApiError as error:
                # Following a task that has not started yet: wait while the run goes on.
                if not follow or error.status != 404 or self.get_run(run_id).done:
                    raise
                time.sleep(poll_seconds)
                continue
            if piece.get("text"):
                yield piece["text"]
            offset = piece.get("next_offset", offset)
            if piece.get("complete"):
                return
            if offset < piece.get("size", 0):
                continue  # more is written already
            if not follow:
                return
            time.sleep(poll_seconds)

    def _create_run(
        self,
        spec: dict[str, Any],
        arguments: dict[str, Any] | None,
        run_name: str | None,
        experiment_name: str | None,
        namespace: str | None,
        pipeline_root: str | None,
        enable_caching: bool | None,
        cache_key: str | None,
        service_account: str | None,
        experiment_id: str | None,
    ) -> RunPipelineResult:
        """What both `create_run_from_*` do once they have the spec, with their
        parameters in their order."""
        if enable_caching is not None:
            packages.set_caching(spec, enable_caching, cache_key)
        if not experiment_id:
            name = experiment_name or os.environ.get(
                DEFAULT_EXPERIMENT_VARIABLE, DEFAULT_EXPERIMENT
            )
            experiment_id = self.create_experiment(name, namespace=namespace).experiment_id
        body = {
            "experiment_id": experiment_id,
            "display_name": run_name
            or f"{packages.pipeline_name(spec)} {time.strftime('%Y-%m-%d %H-%M-%S')}",
            "pipeline_spec": spec,
            "runtime_config": drop_none(
                {"parameters": arguments or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
        }
        created = self._run(self._call("POST", "/runs", json=drop_none(body)))
        return RunPipelineResult(self, created)
