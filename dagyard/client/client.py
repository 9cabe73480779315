"""`Client`: the Python client of a Dagyard server's REST API (KFP v2beta1).

A superset of kfp.Client 2.17: every public method of kfp's client is here with the same
parameter names, order and defaults, so code written for kfp.Client runs with
`dagyard.Client` after changing the import; tests/client/test_kfp_client_surface.py holds
us to that against the installed kfp. What comes back are the frozen dataclasses of
`objects.py` (each with the attribute names of the kfp model it stands for), and
`RunPipelineResult` for the `create_run_from_*` methods. Dagyard's own additions carry
names kfp does not use: `run`, `logs`, `iter_logs`, `retry_run`, `get_run_metrics`. An
error answer of the server raises `ApiError`. This module talks HTTP and nothing else: it
never opens the server's store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from dagyard.client import connection, objects, packages
from dagyard.client.notebook import live_progress
from dagyard.client.objects import (
    Experiment,
    ExperimentList,
    Healthz,
    Pipeline,
    PipelineList,
    PipelineVersion,
    PipelineVersionList,
    RecurringRun,
    RecurringRunList,
    Run,
    RunList,
)
from dagyard.errors import ApiError, UsageError

DEFAULT_HOST = "http://127.0.0.1:8888"
DEFAULT_EXPERIMENT = "Default"
# Where the client looks for its server and token when not given them, first found
# first: Dagyard's names (the CLI reads the same), then kfp.Client's.
ENDPOINT_VARIABLES = ("DAGYARD_ENDPOINT", "KF_PIPELINES_ENDPOINT")
UI_ENDPOINT_VARIABLE = "KF_PIPELINES_UI_ENDPOINT"
TOKEN_VARIABLE = "DAGYARD_AUTH_TOKEN"
DEFAULT_EXPERIMENT_VARIABLE = "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME"
# kfp.Client's default namespace, which it takes as "none given".
_KFP_DEFAULT_NAMESPACE = "kubeflow"
_PREFIX = "/apis/v2beta1"
# How often `run` and RunPipelineResult poll a run they wait for; a notebook should see
# the end quickly.
_POLL_SECONDS = 0.5


class RunPipelineResult:
    """A run just created by `create_run_from_pipeline_func` or `..._package` (kfp's
    RunPipelineResult): `run_id`, `run_info` (the `Run` as created) and
    `wait_for_run_completion`."""

    def __init__(self, client: Client, run_info: Run) -> None:
        self._client = client
        self.run_info = run_info
        self.run_id = run_info.run_id

    def wait_for_run_completion(
        self, timeout: float | dt.timedelta | None = None, sleep_duration: float = _POLL_SECONDS
    ) -> Run:
        """The run once it has ended (see Client.wait_for_run_completion); `timeout`
        None waits as long as it takes."""
        return self._client.wait_for_run_completion(self.run_id, timeout, sleep_duration)

    def __repr__(self) -> str:
        return f"RunPipelineResult(run_id={self.run_id})"

    def _repr_html_(self) -> str:
        return self.run_info._repr_html_()


class Client:
    """A Dagyard (or Kubeflow Pipelines v2) server at `host`.

    The parameters are kfp.Client's, in its order, plus `token` and `timeout`:
    - `host`: the server's URL; else DAGYARD_ENDPOINT, else KF_PIPELINES_ENDPOINT, else
      http://127.0.0.1:8888.
    - `existing_token` or `token`: sent as `Authorization: Bearer <token>` (what
      `dagyard up` with DAGYARD_AUTH_TOKEN asks for); else DAGYARD_AUTH_TOKEN.
      `credentials` (kfp's TokenCredentialsBase) supplies a fresh token per request.
    - `namespace`: the default namespace of experiments, runs, pipelines and recurring
      runs this client creates and lists (kfp's default "kubeflow" means none); see
      `set_user_namespace`.
    - `cookies` (a Cookie header), `proxy`, `ssl_ca_cert`, `verify_ssl`: as in kfp.
    - `ui_host`: where links point (the objects' `url` and notebook output); else
      KF_PIPELINES_UI_ENDPOINT, else `host`.
    - `kube_context` is accepted and ignored: a Dagyard server is not reached through
      the Kubernetes API. `client_id`, `other_client_id` and `other_client_secret`
      (Google IAP sign-in) are refused with an error, since Dagyard cannot honour them.
    """

    def __init__(
        self,
        host: str | None = None,
        client_id: str | None = None,
        namespace: str = _KFP_DEFAULT_NAMESPACE,
        other_client_id: str | None = None,
        other_client_secret: str | None = None,
        existing_token: str | None = None,
        cookies: str | None = None,
        proxy: str | None = None,
        ssl_ca_cert: str | None = None,
        kube_context: str | None = None,
        credentials: Any = None,
        ui_host: str | None = None,
        verify_ssl: bool | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        del kube_context  # documented as ignored
        for name, value in (
            ("client_id", client_id),
            ("other_client_id", other_client_id),
            ("other_client_secret", other_client_secret),
        ):
            if value:
                raise UsageError(
                    f"{name}={value!r} is Google IAP sign-in, which a Dagyard server does not "
                    "use; pass the server's API token as existing_token=... (or token=...)."
                )
        if token and existing_token and token != existing_token:
            raise UsageError("Give the token once: existing_token and token differ.")
        self.host = connection.base_url(
            host or connection.first_env(ENDPOINT_VARIABLES) or DEFAULT_HOST
        )
        self.ui_host = connection.base_url(
            ui_host or os.environ.get(UI_ENDPOINT_VARIABLE) or self.host
        )
        self._namespace = "" if namespace == _KFP_DEFAULT_NAMESPACE else namespace
        bearer = token or existing_token or os.environ.get(TOKEN_VARIABLE, "").strip()
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if cookies:
            headers["Cookie"] = cookies
        verify: Any = True
        if verify_ssl is False:
            verify = False
        elif ssl_ca_cert:
            verify = connection.ssl_context(ssl_ca_cert)
        self._http = httpx.Client(
            base_url=self.host + _PREFIX,
            headers=headers,
            timeout=timeout,
            proxy=proxy,
            verify=verify,
            auth=connection.CredentialsAuth(credentials) if credentials is not None else None,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(host={self.host!r})"

    # -- server and namespace -------------------------------------------------------

    def get_kfp_healthz(self, sleep_duration: float = 5) -> Healthz:
        """The server's health answer; asks up to five times, `sleep_duration` seconds
        apart, while the server cannot be reached or fails, then raises TimeoutError."""
        attempts = 5
        for attempt in range(1, attempts + 1):
            try:
                data = self._call("GET", "/healthz")
            except ApiError as error:
                if error.status not in (0, 502, 503, 504):
                    raise
                if attempt == attempts:
                    raise TimeoutError(
                        f"No health answer from {self.host} after {attempts} tries: {error}"
                    ) from error
                time.sleep(sleep_duration)
            else:
                return Healthz(
                    multi_user=bool(data.get("multi_user")),
                    pipeline_store=str(data.get("pipeline_store") or ""),
                )
        raise AssertionError("unreachable")  # the loop returns or raises

    def set_user_namespace(self, namespace: str) -> None:
        """Make `namespace` the default of this client's calls that take one. Unlike
        kfp, which writes it to ~/.config/kfp/context.json, it lasts as long as this
        client."""
        self._namespace = namespace

    def get_user_namespace(self) -> str:
        """The default namespace of this client's calls ("" when none)."""
        return self._namespace

    # -- experiments --------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str | None = None, namespace: str | None = None
    ) -> Experiment:
        """The experiment called `name`, created if there is none (as kfp does)."""
        namespace = self._in(namespace)
        found = self._find_experiment(name, namespace)
        if found is not None:
            return found
        body = {"display_name": name, "description": description, "namespace": namespace}
        return self._experiment(self._call("POST", "/experiments", json=_drop_none(body)))

    def get_experiment(
        self,
        experiment_id: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
    ) -> Experiment:
        """The experiment with `experiment_id`, or else the one called `experiment_name`."""
        if experiment_id:
            return self._experiment(self._call("GET", f"/experiments/{experiment_id}"))
        if not experiment_name:
            raise ValueError("Give experiment_id or experiment_name.")
        found = self._find_experiment(experiment_name, self._in(namespace))
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
        data = self._list(
            "/experiments", page_token, page_size, sort_by, filter, self._in(namespace)
        )
        return ExperimentList(
            experiments=tuple(self._experiment(e) for e in data.get("experiments", ())),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def archive_experiment(self, experiment_id: str) -> dict[str, Any]:
        return self._call("POST", f"/experiments/{experiment_id}:archive")

    def unarchive_experiment(self, experiment_id: str) -> dict[str, Any]:
        return self._call("POST", f"/experiments/{experiment_id}:unarchive")

    def delete_experiment(self, experiment_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/experiments/{experiment_id}")

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
        _one_source(pipeline_package_path, pipeline_id, version_id)
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "display_name": job_name,
            "runtime_config": _drop_none(
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
            body["pipeline_version_reference"] = _drop_none(
                {"pipeline_id": pipeline_id, "pipeline_version_id": version_id}
            )
            # The spec lives on the server: False asks it to run every task afresh; True
            # keeps the caching the version was compiled with.
            body["cache_enabled"] = enable_caching
        return self._run(self._call("POST", "/runs", json=_drop_none(body)))

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
        if enable_caching is not None:
            packages.set_caching(spec, enable_caching, cache_key)
        return self._create_run(
            spec,
            arguments=arguments,
            run_name=run_name,
            experiment_name=experiment_name,
            namespace=namespace,
            pipeline_root=pipeline_root,
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
        cache_key: str | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> RunPipelineResult:
        """Compile `pipeline_func` (a @dsl.pipeline or @dsl.component) with
        dagyard.compiler and submit it, as `create_run_from_pipeline_package` does."""
        from dagyard.compiler.compiler import compile_to_dict

        spec = compile_to_dict(pipeline_func)
        if enable_caching is not None:
            packages.set_caching(spec, enable_caching, cache_key)
        return self._create_run(
            spec,
            arguments=arguments,
            run_name=run_name,
            experiment_name=experiment_name,
            namespace=namespace,
            pipeline_root=pipeline_root,
            service_account=service_account,
            experiment_id=experiment_id,
        )

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

    # -- recurring runs -----------------------------------------------------------

    def create_recurring_run(
        self,
        experiment_id: str,
        job_name: str,
        description: str | None = None,
        start_time: str | dt.datetime | None = None,
        end_time: str | dt.datetime | None = None,
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
        _one_source(pipeline_package_path, pipeline_id, version_id)
        spec = reference = None
        if pipeline_package_path is not None:
            spec = packages.read_spec(Path(pipeline_package_path))
            if enable_caching is not None:
                packages.set_caching(spec, enable_caching, cache_key)
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

    def get_recurring_run(self, recurring_run_id: str, job_id: str | None = None) -> RecurringRun:
        """The recurring run with `recurring_run_id` (`job_id` is kfp's deprecated name)."""
        if job_id is not None:
            warnings.warn(
                "get_recurring_run's job_id is deprecated (as in kfp); pass recurring_run_id.",
                DeprecationWarning,
                stacklevel=2,
            )
            recurring_run_id = recurring_run_id or job_id
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
            "/recurringruns", page_token, page_size, sort_by, filter, self._in(namespace), extra
        )
        # KFP's proto names the list `recurringRuns`, unlike every other field.
        found = data.get("recurringRuns") or data.get("recurring_runs") or ()
        return RecurringRunList(
            recurring_runs=tuple(objects.recurring_run(r) for r in found),
            total_size=data.get("total_size", 0),
            next_page_token=data.get("next_page_token", ""),
        )

    def enable_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        """Schedule it again, from now on: due times missed while disabled are skipped."""
        return self._call("POST", f"/recurringruns/{recurring_run_id}:enable")

    def disable_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        """Stop scheduling it; runs it already created go on."""
        return self._call("POST", f"/recurringruns/{recurring_run_id}:disable")

    def delete_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        """Delete it; the runs it created are kept."""
        return self._call("DELETE", f"/recurringruns/{recurring_run_id}")

    def enable_job(self, job_id: str) -> dict[str, Any]:
        """kfp's deprecated name of `enable_recurring_run`."""
        _renamed("enable_job", "enable_recurring_run")
        return self.enable_recurring_run(job_id)

    def disable_job(self, job_id: str) -> dict[str, Any]:
        """kfp's deprecated name of `disable_recurring_run`."""
        _renamed("disable_job", "disable_recurring_run")
        return self.disable_recurring_run(job_id)

    def delete_job(self, job_id: str) -> dict[str, Any]:
        """kfp's deprecated name of `delete_recurring_run`."""
        _renamed("delete_job", "delete_recurring_run")
        return self.delete_recurring_run(job_id)

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

    # -- HTTP ---------------------------------------------------------------------

    def _in(self, namespace: str | None) -> str | None:
        """The namespace a call uses: the one given, else this client's default."""
        return namespace or self._namespace or None

    def _experiment(self, data: dict[str, Any]) -> Experiment:
        return objects.experiment(data, self.ui_host)

    def _pipeline(self, data: dict[str, Any]) -> Pipeline:
        return objects.pipeline(data, self.ui_host)

    def _version(self, data: dict[str, Any]) -> PipelineVersion:
        return objects.pipeline_version(data, self.ui_host)

    def _run(self, data: dict[str, Any]) -> Run:
        return objects.run(data, self.ui_host)

    def _create_run(
        self,
        spec: dict[str, Any],
        *,
        arguments: dict[str, Any] | None,
        run_name: str | None,
        experiment_name: str | None,
        namespace: str | None,
        pipeline_root: str | None,
        service_account: str | None,
        experiment_id: str | None,
    ) -> RunPipelineResult:
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
            "runtime_config": _drop_none(
                {"parameters": arguments or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
        }
        created = self._run(self._call("POST", "/runs", json=_drop_none(body)))
        return RunPipelineResult(self, created)

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
        self, path: str, package: tuple[str, bytes], params: Mapping[str, str | None]
    ) -> dict[str, Any]:
        return self._call(
            "POST", path, params=_drop_none(dict(params)), files={"uploadfile": package}
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
        raise connection.api_error(response)


def _one_source(package: object, pipeline_id: str | None, version_id: str | None) -> None:
    if (package is None) == (pipeline_id is None and version_id is None):
        raise ValueError(
            "Give either pipeline_package_path or pipeline_id/version_id (an uploaded "
            "pipeline), not both and not neither."
        )


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated (as in kfp); call {new} instead.", DeprecationWarning, stacklevel=3
    )


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _rfc3339(moment: str | dt.datetime | None) -> str | None:
    return moment.isoformat() if isinstance(moment, dt.datetime) else moment
