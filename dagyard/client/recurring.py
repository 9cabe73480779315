"""The recurring-run methods of `dagyard.Client` (kfp.Client's names and parameters, and
its deprecated `*_job` ones)."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path
from typing import Any

from dagyard.client import objects, packages
from dagyard.client.core import (
    ClientCore,
    drop_none,
    one_source,
    renamed,
    rfc3339,
)
from dagyard.client.objects import (
    RecurringRun,
    RecurringRunList,
)


class RecurringRunCalls(ClientCore):
    """The recurring-run methods of `dagyard.Client` (kfp.Client's names and parameters, and"""

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
        one_source(pipeline_package_path, pipeline_id, version_id)
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
            reference = drop_none({"pipeline_id": pipeline_id, "pipeline_version_id": version_id})
        schedule = drop_none({"start_time": rfc3339(start_time), "end_time": rfc3339(end_time)})
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
            "runtime_config": drop_none(
                {"parameters": params or {}, "pipeline_root": pipeline_root}
            ),
            "service_account": service_account,
            "max_concurrency": max_concurrency,
            "trigger": trigger,
            "mode": "ENABLE" if enabled else "DISABLE",
            "no_catchup": no_catchup,
            "timezone": timezone,
        }
        return objects.recurring_run(self._call("POST", "/recurringruns", json=drop_none(body)))

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
        renamed("enable_job", "enable_recurring_run")
        return self.enable_recurring_run(job_id)

    def disable_job(self, job_id: str) -> dict[str, Any]:
        """kfp's deprecated name of `disable_recurring_run`."""
        renamed("disable_job", "disable_recurring_run")
        return self.disable_recurring_run(job_id)

    def delete_job(self, job_id: str) -> dict[str, Any]:
        """kfp's deprecated name of `delete_recurring_run`."""
        renamed("delete_job", "delete_recurring_run")
        return self.delete_recurring_run(job_id)
