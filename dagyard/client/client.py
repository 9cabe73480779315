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

from dagyard.client.pipelines import PipelineCalls
from dagyard.client.recurring import RecurringRunCalls
from dagyard.client.runs import RunCalls, RunPipelineResult

__all__ = ["Client", "RunPipelineResult"]


class Client(RunCalls, PipelineCalls, RecurringRunCalls):
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
