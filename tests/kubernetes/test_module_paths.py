"""kfp-kubernetes' functions under its module paths (`from kfp.kubernetes.node_affinity
import add_node_affinity`), checked against the real kfp-kubernetes 2.17: each of its
modules that holds public functions (kubernetes/python/kfp/kubernetes/*.py, e.g.
node_affinity.py, which KFP's snapshot data nodeaffinity.py imports from) has a
`dagyard.kubernetes` twin holding the same names, the very functions of
`dagyard.kubernetes`."""

import importlib
import pkgutil

import pytest
from kfp import kubernetes as kfp_kubernetes

from dagyard import kubernetes

pytestmark = pytest.mark.kfp


def _kfp_modules() -> dict[str, list[str]]:
    """Each kfp-kubernetes module and the names of kfp.kubernetes.__all__ it holds."""
    found = {}
    for info in pkgutil.iter_modules(kfp_kubernetes.__path__):
        module = importlib.import_module(f"kfp.kubernetes.{info.name}")
        names = [n for n in kfp_kubernetes.__all__ if getattr(module, n, None) is not None]
        if names:
            found[info.name] = names
    return found


def test_kfp_kubernetes_has_the_modules_this_test_expects() -> None:
    assert {"node_affinity", "secret", "volume", "toleration"} <= set(_kfp_modules())


@pytest.mark.parametrize("module_name", sorted(_kfp_modules()))
def test_each_kfp_kubernetes_module_path_imports_the_same_functions(module_name: str) -> None:
    module = importlib.import_module(f"dagyard.kubernetes.{module_name}")
    for name in _kfp_modules()[module_name]:
        assert getattr(module, name) is getattr(kubernetes, name), (module_name, name)
    assert sorted(module.__all__) == sorted(_kfp_modules()[module_name])
