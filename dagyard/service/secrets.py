"""Secrets and config maps: set, list and delete the named values that tasks read through
kfp-kubernetes' settings (use_secret_as_env, use_config_map_as_volume, ...). Plain
functions over a `Platform`; `dagyard secrets` and `dagyard configmaps` are shells over
them. The engine reads the values from the store itself when a task needs them.

Names and keys follow Kubernetes' rules, so that a pipeline written for KFP finds its
secrets under the same names, and a key is always a safe file name in a mounted volume.
No function here returns or says a secret's value except to the caller that gave it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dagyard.errors import UsageError
from dagyard.service.platform import Platform
from dagyard.store.records import NamedValues, ValuesKind

# Kubernetes: an object name is a DNS subdomain; a data key is letters, digits, '-', '_'
# and '.', at most 253 characters.
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_LONGEST = 253


def set_values(
    platform: Platform,
    kind: ValuesKind,
    name: str,
    data: Mapping[str, str],
    *,
    namespace: str = "",
) -> NamedValues:
    """Create the secret or config map `name`, or replace all its values with `data`."""
    _check_name(kind, name)
    if not data:
        raise UsageError(
            f"Give the {_noun(kind)} {name!r} at least one value, as KEY=VALUE; to remove "
            f"it, delete it."
        )
    for key in data:
        if len(key) > _LONGEST or not _KEY.fullmatch(key) or key in (".", ".."):
            raise UsageError(
                f"{key!r} cannot be a key of a {_noun(kind)}: use letters, digits, '-', '_' "
                f"and '.' (at most {_LONGEST}), not '.' or '..', as Kubernetes does (each key "
                "is a file name when the values are mounted as a volume)."
            )
    return platform.store.put_values(
        NamedValues(kind=kind, name=name, data=dict(data), namespace=namespace)
    )


def list_values(platform: Platform, kind: ValuesKind, *, namespace: str = "") -> list[NamedValues]:
    """The secrets or config maps of one namespace, by name. A caller that shows secrets
    shows their keys only."""
    return platform.store.list_values(kind, namespace)


def delete_values(platform: Platform, kind: ValuesKind, name: str, *, namespace: str = "") -> None:
    """Delete the secret or config map `name`; NotFound if there is none."""
    platform.store.delete_values(kind, name, namespace)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` arguments as a dict (the value may hold '='); UsageError naming the
    argument by its place, never its text (it may be a value), for one without '='."""
    data: dict[str, str] = {}
    for number, pair in enumerate(pairs, start=1):
        key, equals, value = pair.partition("=")
        if not equals:
            raise UsageError(
                f"Value argument {number} has no '=' (not shown: it may be a secret); "
                "write each as KEY=VALUE."
            )
        data[key] = value
    return data


def _check_name(kind: ValuesKind, name: str) -> None:
    if len(name) > _LONGEST or not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} cannot name a {_noun(kind)}: use lower-case letters, digits, '-' and "
            f"'.', starting and ending with a letter or digit (at most {_LONGEST}), as "
            "Kubernetes names do."
        )


def _noun(kind: ValuesKind) -> str:
    return kind.value.replace("_", " ")
