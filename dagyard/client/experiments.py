"""The experiment methods of `dagyard.Client` (kfp.Client's names and parameters)."""

from __future__ import annotations

import json
from typing import Any

from dagyard.client.core import (
    ClientCore,
    drop_none,
)
from dagyard.client.objects import (
    Experiment,
    ExperimentList,
)
from dagyard.errors import ApiError


class ExperimentCalls(ClientCore):
    """The experiment methods of `dagyard.Client` (kfp.Client's names and parameters)."""

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
        return self._experiment(self._call("POST", "/experiments", json=drop_none(body)))

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

    def _find_experiment(self, name: str, namespace: str | None) -> Experiment | None:
        by_name = {"predicates": [{"operation": "EQUALS", "key": "display_name"}]}
        by_name["predicates"][0]["string_value"] = name
        found = self.list_experiments(page_size=1, namespace=namespace, filter=json.dumps(by_name))
        return found.experiments[0] if found.experiments else None
