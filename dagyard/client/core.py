"""The core of `dagyard.Client`: where the server is (host, token, TLS, namespace), the
server's health, and the HTTP calls every resource's methods go through.

The methods users call live in one module per resource (experiments.py, pipelines.py,
runs.py, recurring.py); `client.py` puts them together. Nothing here knows a resource
beyond turning its JSON into the objects of `objects.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from collections.abc import Mapping
from typing import Any, Self

import httpx

from dagyard.client import connection, objects
from dagyard.client.objects import (
    Experiment,
    Healthz,
    Pipeline,
    PipelineVersion,
    Run,
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
POLL_SECONDS = 0.5


class ClientCore:
    """The connection to one server and the calls every resource's methods share; see
    `Client` for the parameters."""

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
        # Sent as UTF-8 bytes: httpx would encode a str header as ASCII, and refuse a
        # token with any other character (the server takes UTF-8 or Latin-1).
        headers: dict[bytes, bytes] = {}
        if bearer:
            headers[b"Authorization"] = f"Bearer {bearer}".encode()
        if cookies:
            headers[b"Cookie"] = cookies.encode()
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

    def __enter__(self) -> Self:
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
            "POST", path, params=drop_none(dict(params)), files={"uploadfile": package}
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


def one_source(package: object, pipeline_id: str | None, version_id: str | None) -> None:
    if (package is None) == (pipeline_id is None and version_id is None):
        raise ValueError(
            "Give either pipeline_package_path or pipeline_id/version_id (an uploaded "
            "pipeline), not both and not neither."
        )


def renamed(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated (as in kfp); call {new} instead.", DeprecationWarning, stacklevel=3
    )


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def rfc3339(moment: str | dt.datetime | None) -> str | None:
    return moment.isoformat() if isinstance(moment, dt.datetime) else moment
