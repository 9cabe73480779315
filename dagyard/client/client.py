"""`Client`: the Python client of a Dagyard server's REST API (KFP v2beta1).

Method names and parameters are kfp.Client's, so notebook code moves between the two;
they are positional-or-keyword as in kfp. What comes back are the frozen dataclasses of
`objects.py`, not dicts. An error answer of the server raises `ApiError`. This module
talks HTTP and nothing else: it never opens the server's store.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from dagyard.client import objects
from dagyard.client.objects import (
    Experiment,
    ExperimentList,
    Pipeline,
    PipelineList,
    PipelineVersion,
    RecurringRun,
    RecurringRunList,
    Run,
    RunList,
)
from dagyard.errors import ApiError

DEFAULT_HOST = "http://127.0.0.1:8888"
DEFAULT_EXPERIMENT = "Default"
_PREFIX = "/apis/v2beta1"
# How often run_pipeline polls a run it waits for; a notebook should see the end quickly.
_POLL_SECONDS = 0.5


class Client:
    """A Dagyard (or Kubeflow Pipelines v2) server at `host`. With a `token`, every
    request carries `Authorization: Bearer <token>`, as `dagyard up` with
    DAGYARD_AUTH_TOKEN requires."""

    def __init__(
        self, host: str = DEFAULT_HOST, token: str | None = None, *, timeout: float = 30.0
    ) -> None:
        host = host.rstrip("/")
        if "://" not in host:
            host = f"http://{host}"
        self.host = host
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=host + _PREFIX, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(host={self.host!r})"

    # -- experiments --------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str | None = None, namespace: str | None = None
    ) -> Experiment:
        """The experiment called `name`, created if there is none (as kfp does)."""
        found = self._find_experiment(name, namespace)
        if found is not None:
            return found
        body = {"display_name": name, "description": description, "namespace": namespace}
        return objects.experiment(self._call("POST", "/experiments", json=_drop_none(body)))

    def get_experiment(
        self,
        experiment_id: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
    ) -> Experiment:
        """The experiment with `experiment_id`, or else the one called `experiment_name`."""
        if experiment_id:
            return objects.experiment(self._call("GET", f"/experiments/{experiment_id}"))
        if not experiment_name:
            raise ValueError("Give experiment_id or experiment_name.")
        found = self._find_experiment(experiment_name, namespace)
        if found is None:
            raise ApiError(
                f"No experiment is called {experiment_name!r}; create it with "
                "create_experiment or list them with list_experiments.",
                status=404,
                code=5,
            )
        return found

    def list_experiments(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        namespace: str | None = None,
        filter: str | None = None,
    ) -> ExperimentList:
        data = self._list("/experiments", page_token, page_size, sort_by, filter, namespace)
        return ExperimentList(
            experiments=tuple(objects.experiment(e) for e in data.get("experiments", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def archive_experiment(self, experiment_id: str) -> None:
        self._call("POST", f"/experiments/{experiment_id}:archive")

    def unarchive_experiment(self, experiment_id: str) -> None:
        self._call("POST", f"/experiments/{experiment_id}:unarchive")

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("DELETE", f"/experiments/{experiment_id}")

    # -- pipelines ----------------------------------------------------------------

    def upload_pipeline(
        self,
        pipeline_package_path: str | os.PathLike[str],
        pipeline_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> Pipeline:
        """Upload a compiled pipeline (.yaml, .zip, .tar.gz) as a new pipeline."""
        params = {"name": pipeline_name, "description": description, "namespace": namespace}
        data = self._upload("/pipelines/upload", pipeline_package_path, params)
        return objects.pipeline(data)

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
        if not pipeline_id:
            if not pipeline_name:
                raise ValueError("Give pipeline_id or pipeline_name.")
            pipeline_id = self._call("GET", f"/pipelines/names/{pipeline_name}")["pipeline_id"]
        params = {
            "pipelineid": pipeline_id,
            "name": pipeline_version_name,
            "description": description,
        }
        data = self._upload("/pipelines/upload_version", pipeline_package_path, params)
        return objects.pipeline_version(data)

    def list_pipelines(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        namespace: str | None = None,
        filter: str | None = None,
    ) -> PipelineList:
        data = self._list("/pipelines", page_token, page_size, sort_by, filter, namespace)
        return PipelineList(
            pipelines=tuple(objects.pipeline(p) for p in data.get("pipelines", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        return objects.pipeline(self._call("GET", f"/pipelines/{pipeline_id}"))

    def get_pipeline_id(self, name: str) -> str | None:
        """The id of the pipeline called `name`, or None if there is none."""
        try:
            return str(self._call("GET", f"/pipelines/names/{name}")["pipeline_id"])
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def delete_pipeline(self, pipeline_id: str) -> None:
        self._call("DELETE", f"/pipelines/{pipeline_id}")

    # -- runs ---------------------------------------------------------------------

    def create_run_from_pipeline_package(
        self,
        pipeline_file: str | os.PathLike[str],
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> Run:
        """Submit the compiled pipeline YAML in `pipeline_file`; returns the new run."""
        spec = _read_spec(Path(pipeline_file))
        return self._create_run(
            spec,
            arguments=arguments,
            run_name=run_name or f"{_pipeline_name(spec)} {time.strftime('%Y-%m-%d %H-%M-%S')}",
            experiment_name=experiment_name,
            namespace=namespace,
            pipeline_root=pipeline_root,
            enable_caching=enable_caching,
            service_account=service_account,
            experiment_id=experiment_id,
        )

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> Run:
        """Compile `pipeline_func` (a @dsl.pipeline or @dsl.component) with
        dagyard.compiler and submit it; returns the new run."""
        from dagyard.compiler.compiler import compile_to_dict

        spec = compile_to_dict(pipeline_func)
        return self._create_run(
            spec,
            arguments=arguments,
            run_name=run_name or f"{_pipeline_name(spec)} {time.strftime('%Y-%m-%d %H-%M-%S')}",
            experiment_name=experiment_name,
            namespace=namespace,
            pipeline_root=pipeline_root,
            enable_caching=enable_caching,
            service_account=service_account,
            experiment_id=experiment_id,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its tasks."""
        return objects.run(self._call("GET", f"/runs/{run_id}"))

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
        data = self._list("/runs", page_token, page_size, sort_by, filter, namespace, extra)
        return RunList(
            runs=tuple(objects.run(r) for r in data.get("runs", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def wait_for_run_completion(
        self, run_id: str, timeout: float | None, sleep_duration: float = 5
    ) -> Run:
        """Poll the run until it is SUCCEEDED, FAILED, SKIPPED or CANCELED (kfp's client
        keeps waiting on CANCELED); TimeoutError after `timeout` seconds (None: never)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run.done:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Run {run_id} is still {run.state} after {timeout} s; wait longer or "
                    "terminate it with terminate_run."
                )
            time.sleep(sleep_duration)

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

    def terminate_run(self, run_id: str) -> None:
        self._call("POST", f"/runs/{run_id}:terminate")

    def retry_run(self, run_id: str) -> None:
        self._call("POST", f"/runs/{run_id}:retry")

    def archive_run(self, run_id: str) -> None:
        self._call("POST", f"/runs/{run_id}:archive")

    def unarchive_run(self, run_id: str) -> None:
        self._call("POST", f"/runs/{run_id}:unarchive")

    def delete_run(self, run_id: str) -> None:
        self._call("DELETE", f"/runs/{run_id}")

    # -- recurring runs -----------------------------------------------------------

    def create_recurring_run(
        self,
        experiment_id: str,
        job_name: str,
        description: str | None = None,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        interval_second: int | None = None,
        cron_expression: str | None = None,
        max_concurrency: int | None = 1,
        no_catchup: bool | None = None,
        params: dict[str, Any] | None = None,
        pipeline_package_path: str | os.PathLike[str] | None = None,
        pipeline_id: str | None = None,
        version_id: str | None = None,
        enabled: bool = True,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
        timezone: str | None = None,
    ) -> RecurringRun:
        """A new recurring run in `experiment_id` of the compiled pipeline YAML at
        `pipeline_package_path`, or of an uploaded pipeline's version (`version_id`; with
        `pipeline_id` alone, its latest). The trigger is `cron_expression` (six fields,
        seconds first, or five) or `interval_second`, between the optional RFC 3339
        `start_time` and `end_time`; `timezone` (IANA, default UTC) is beyond kfp."""
        if (cron_expression is None) == (interval_second is None):
            raise ValueError(
                f"Give exactly one of cron_expression ({cron_expression!r}) or "
                f"interval_second ({interval_second!r}), e.g. cron_expression='0 0 9 * * *' "
                "or interval_second=3600."
            )
        if (pipeline_package_path is None) == (pipeline_id is None and version_id is None):
            raise ValueError(
                "Give either pipeline_package_path or pipeline_id/version_id (an uploaded "
                "pipeline), not both and not neither."
            )
        spec = reference = None
        if pipeline_package_path is not None:
            spec = _read_spec(Path(pipeline_package_path))
            if enable_caching is not None:
                _set_caching(spec, enable_caching, cache_key)
        else:
            if enable_caching is not None:
                raise ValueError(
                    "enable_caching applies to a pipeline_package_path only; an uploaded "
                    "version runs with the caching it was compiled with."
                )
            reference = _drop_none({"pipeline_id": pipeline_id, "pipeline_version_id": version_id})
        schedule = _drop_none({"start_time": _rfc3339(start_time), "end_time": _rfc3339(end_time)})
        if cron_expression is not None:
            trigger = {"cron_schedule": {**schedule, "cron": cron_expression}}
        else:
            trigger = {"periodic_schedule": {**schedule, "interval_second": interval_second}}
        body = {
            "experiment_id": experiment_id or None,
            "display_name": job_name,
            "description": description,
            "pipeline_spec": spec,
            "pipeline_version_reference": reference,
            "runtime_config": _drop_none(
                {"parameters": params or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
            "max_concurrency": max_concurrency,
            "trigger": trigger,
            "mode": "ENABLE" if enabled else "DISABLE",
            "no_catchup": no_catchup,
            "timezone": timezone,
        }
        return objects.recurring_run(self._call("POST", "/recurringruns", json=_drop_none(body)))

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        return objects.recurring_run(self._call("GET", f"/recurringruns/{recurring_run_id}"))

    def list_recurring_runs(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
    ) -> RecurringRunList:
        """A page of recurring runs; `filter` is KFP's filter JSON."""
        extra = {"experiment_id": experiment_id} if experiment_id else {}
        data = self._list(
            "/recurringruns", page_token, page_size, sort_by, filter, namespace, extra
        )
        # KFP's proto names the list `recurringRuns`, unlike every other field.
        found = data.get("recurringRuns") or data.get("recurring_runs") or ()
        return RecurringRunList(
            recurring_runs=tuple(objects.recurring_run(r) for r in found),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def enable_recurring_run(self, recurring_run_id: str) -> None:
        """Schedule it again, from now on: due times missed while disabled are skipped."""
        self._call("POST", f"/recurringruns/{recurring_run_id}:enable")

    def disable_recurring_run(self, recurring_run_id: str) -> None:
        """Stop scheduling it; runs it already created go on."""
        self._call("POST", f"/recurringruns/{recurring_run_id}:disable")

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        """Delete it; the runs it created are kept."""
        self._call("DELETE", f"/recurringruns/{recurring_run_id}")

    # -- beyond kfp ---------------------------------------------------------------

    def run_pipeline(
        self,
        func_or_path: Any,
        params: dict[str, Any] | None = None,
        experiment: str = DEFAULT_EXPERIMENT,
        wait: bool = True,
    ) -> Run:
        """Submit a pipeline function or a compiled YAML file in `experiment`; with
        `wait`, return the finished run (with its tasks), else the new one."""
        if isinstance(func_or_path, str | os.PathLike):
            run = self.create_run_from_pipeline_package(
                func_or_path, arguments=params, experiment_name=experiment
            )
        else:
            run = self.create_run_from_pipeline_func(
                func_or_path, arguments=params, experiment_name=experiment
            )
        if not wait:
            return run
        return self.wait_for_run_completion(run.run_id, None, sleep_duration=_POLL_SECONDS)

    # -- HTTP ---------------------------------------------------------------------

    def _create_run(
        self,
        spec: dict[str, Any],
        *,
        arguments: dict[str, Any] | None,
        run_name: str,
        experiment_name: str | None,
        namespace: str | None,
        pipeline_root: str | None,
        enable_caching: bool | None,
        service_account: str | None,
        experiment_id: str | None,
    ) -> Run:
        if enable_caching is not None:
            _set_caching(spec, enable_caching)
        if not experiment_id:
            name = experiment_name or os.environ.get(
                "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME", DEFAULT_EXPERIMENT
            )
            experiment_id = self.create_experiment(name, namespace=namespace).experiment_id
        body = {
            "experiment_id": experiment_id,
            "display_name": run_name,
            "pipeline_spec": spec,
            "runtime_config": _drop_none(
                {"parameters": arguments or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
        }
        return objects.run(self._call("POST", "/runs", json=_drop_none(body)))

    def _find_experiment(self, name: str, namespace: str | None) -> Experiment | None:
        by_name = {"predicates": [{"operation": "EQUALS", "key": "display_name"}]}
        by_name["predicates"][0]["string_value"] = name
        found = self.list_experiments(page_size=1, namespace=namespace, filter=json.dumps(by_name))
        return found.experiments[0] if found.experiments else None

    def _list(
        self,
        path: str,
        page_token: str,
        page_size: int,
        sort_by: str,
        filter: str | None,
        namespace: str | None,
        extra: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        params = {
            "page_token": page_token,
            "page_size": page_size,
            "sort_by": sort_by,
            "filter": filter,
            "namespace": namespace,
            **(extra or {}),
        }
        return self._call("GET", path, params={k: v for k, v in params.items() if v})

    def _upload(
        self, path: str, package: str | os.PathLike[str], params: dict[str, str | None]
    ) -> dict[str, Any]:
        file = Path(package)
        try:
            content = file.read_bytes()
        except OSError as error:
            raise ApiError(
                f"Cannot read the pipeline package {str(file)!r}: {error.strerror}.",
                status=0,
            ) from error
        return self._call(
            "POST", path, params=_drop_none(params), files={"uploadfile": (file.name, content)}
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise ApiError(
                f"Cannot reach the Dagyard server at {self.host}: {error}. Is it running "
                "(`dagyard up`), and is the host right?",
                status=0,
            ) from error
        if response.is_success:
            data = response.json() if response.content else {}
            return data if isinstance(data, dict) else {}
        raise _api_error(response)


def _api_error(response: httpx.Response) -> ApiError:
    """The server's `{error, code, message}` as an ApiError; any other body as its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message" in body or "error" in body):
        message = str(body.get("message") or body.get("error"))
        code = body.get("code")
        return ApiError(
            message, status=response.status_code, code=code if isinstance(code, int) else 0
        )
    text = response.text.strip() or response.reason_phrase
    return ApiError(
        f"{response.request.method} {response.request.url}: {text}", status=response.status_code
    )


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _read_spec(path: Path) -> dict[str, Any]:
    """The IR in a compiled pipeline YAML; with a second document (the PlatformSpec),
    the `{pipeline_spec, platform_spec}` pair kfp sends."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except OSError as error:
        raise ApiError(
            f"Cannot read the pipeline file {str(path)!r}: {error.strerror}.", status=0
        ) from error
    except yaml.YAMLError as error:
        raise ApiError(f"The pipeline file {str(path)!r} is not YAML: {error}", status=0) from error
    if not documents or not isinstance(documents[0], dict):
        raise ApiError(f"The pipeline file {str(path)!r} holds no pipeline spec.", status=0)
    if len(documents) > 1:
        return {"pipeline_spec": documents[0], "platform_spec": documents[1]}
    spec: dict[str, Any] = documents[0]
    return spec


def _pipeline_name(spec: dict[str, Any]) -> str:
    inner = spec.get("pipeline_spec", spec)
    return str(inner.get("pipelineInfo", {}).get("name", "run"))


def _set_caching(spec: dict[str, Any], enabled: bool, cache_key: str | None = None) -> None:
    # As kfp's client does: root-level tasks only, on the client side.
    inner = spec.get("pipeline_spec", spec)
    for task in inner.get("root", {}).get("dag", {}).get("tasks", {}).values():
        options = task.setdefault("cachingOptions", {})
        options["enableCache"] = enabled
        if cache_key:
            options["cacheKey"] = cache_key


def _rfc3339(moment: str | datetime | None) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else moment
