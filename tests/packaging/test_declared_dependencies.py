"""Every third-party module Dagyard imports comes from a distribution pyproject declares.

A plain `pip install dagyard` installs `[project] dependencies` and nothing else, so an
import of anything outside them works in the development environment (where the test
extra brings it) and fails for a user. These tests read every module under `dagyard/`
with `ast`, take the modules each one imports, find the installed distribution that
provides each (the one holding the module's files, so that namespace packages such as
`google.protobuf` and `google.rpc` map to their own distributions) and check it against
pyproject.toml.

What is not held to `[project] dependencies`, and why:
- imports under `if TYPE_CHECKING:` (never run);
- imports inside a `@dsl.component` function: that code runs in the task's own
  environment, which its `packages_to_install` provides (`dagyard/samples/`);
- optional features, whose distribution must be in the matching extra instead
  (`OPTIONAL_FEATURES`): the Ray executor imports `ray` only when it is used;
- `OPTIONAL_IMPORTS`: modules used when a user has them and never required (IPython, for
  rich display in notebooks), imported inside `try: ... except ImportError` or in the
  files listed there, each with the reason its import cannot fail.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dagyard"

# Distribution -> the extra that must carry it, for features a user opts into.
OPTIONAL_FEATURES = {
    "ray": "ray",
    "s3fs": "s3",  # loaded by fsspec for s3:// artifact roots, never imported by us
    "psycopg": "postgres",  # loaded by SQLAlchemy for postgresql:// databases
    "pymysql": "mysql",  # loaded by SQLAlchemy for mysql:// and mariadb:// databases
}
# Modules no install brings, imported only where their absence is handled: inside a
# `try` that catches ImportError, or in the files listed here, which say why.
OPTIONAL_IMPORTS: dict[str, dict[str, str]] = {
    "IPython": {
        # Rich display in notebooks: imported only once an IPython kernel is running,
        # which `sys.modules["IPython"]` shows first.
        "dagyard/client/notebook.py": "inside a running IPython kernel only",
    },
    # A notebook component's runner: its source runs in the task, whose environment gets
    # them from the component's packages_to_install (kfp's default list has all three).
    **{
        module: {"dagyard/runtime/notebooks.py": "in a notebook task, which installs it"}
        for module in ("nbformat", "nbclient", "jupyter_client")
    },
}
_COMPONENT_DECORATORS = {"component", "container_component"}


@dataclass(frozen=True)
class Import:
    module: str
    file: Path
    line: int
    guarded: bool  # inside a `try` whose handlers catch ImportError

    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = handler.type
        caught = names.elts if isinstance(names, ast.Tuple) else [names]
        for name in caught:
            if name is None or (
                isinstance(name, ast.Name)
                and name.id in {"ImportError", "ModuleNotFoundError", "Exception"}
            ):
                return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_component(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _COMPONENT_DECORATORS:
            return True
    return False


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments (import_module is sometimes given one)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _imports_in(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _constants(tree)

    def walk(node: ast.AST, guarded: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from walk(child, guarded)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_component(node):
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, path, node.lineno, guarded)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(node.module, path, node.lineno, guarded)
        elif isinstance(node, ast.Call) and _is_import_module(node) and node.args:
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield Import(argument.value, path, node.lineno, guarded)
            elif isinstance(argument, ast.Name) and argument.id in constants:
                yield Import(constants[argument.id], path, node.lineno, guarded)
        if isinstance(node, ast.Try):
            inner = guarded or _catches_import_error(node)
            for child in node.body:
                yield from walk(child, inner)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from walk(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from walk(child, guarded)

    yield from walk(tree, False)


def _is_import_module(node: ast.Call) -> bool:
    function = node.func
    return (isinstance(function, ast.Attribute) and function.attr == "import_module") or (
        isinstance(function, ast.Name) and function.id == "import_module"
    )


def third_party_imports() -> list[Import]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for item in _imports_in(path):
            top = item.module.partition(".")[0]
            if top in sys.stdlib_module_names or top in {"dagyard", "__future__"}:
                continue
            found.append(item)
    return found


@functools.cache
def providers(module: str) -> frozenset[str]:
    """The installed distributions holding `module`'s files (canonical names).

    Among the distributions that provide the top-level name, those with files under the
    longest prefix of the dotted path: `google.rpc.status_pb2` is googleapis-common-protos'
    though `google` is shared by many.
    """
    top = module.partition(".")[0]
    candidates = _packages_distributions().get(top, [])
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        stem = "/".join(parts[:length])
        holders = {
            canonicalize_name(name)
            for name in candidates
            if any(
                str(file) == f"{stem}.py" or str(file).startswith(f"{stem}/")
                for file in importlib.metadata.distribution(name).files or ()
            )
        }
        if holders:
            return frozenset(holders)
    return frozenset()


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _pyproject() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project: dict[str, object] = tomllib.load(handle)["project"]
    return project


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def declared() -> set[str]:
    dependencies = _pyproject()["dependencies"]
    assert isinstance(dependencies, list)
    return _names(dependencies)


def extra(name: str) -> set[str]:
    extras = _pyproject()["optional-dependencies"]
    assert isinstance(extras, dict)
    if name not in extras:
        pytest.fail(f"pyproject.toml has no extra {name!r} under [project.optional-dependencies].")
    return _names(extras[name])


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    required = declared()
    problems = []
    for item in third_party_imports():
        top = item.module.partition(".")[0]
        if top in OPTIONAL_IMPORTS and _handled(item):
            continue
        holders = providers(item.module)
        if not holders:
            problems.append(
                f"{item.where()} imports {item.module!r}, which no installed distribution "
                "provides: install it in the development environment and declare it."
            )
            continue
        if holders & required:
            continue
        optional = sorted(
            holder
            for holder in holders
            if holder in OPTIONAL_FEATURES and holder in extra(OPTIONAL_FEATURES[holder])
        )
        if optional:
            continue
        problems.append(
            f"{item.where()} imports {item.module!r} from {' or '.join(sorted(holders))}, "
            "which is not in pyproject's [project] dependencies: add it there (or, for an "
            "optional feature, to its extra and to OPTIONAL_FEATURES in this test)."
        )
    assert not problems, "\n".join(problems)


def test_optional_features_are_in_their_extras_and_not_required() -> None:
    required = declared()
    for distribution, feature in OPTIONAL_FEATURES.items():
        assert distribution in extra(feature), (
            f"{distribution!r} is missing from the {feature!r} extra in pyproject.toml."
        )
        assert distribution not in required, (
            f"{distribution!r} is an optional feature ({feature!r}) but is in [project] "
            "dependencies, so every user installs it."
        )


def _handled(item: Import) -> bool:
    files = OPTIONAL_IMPORTS.get(item.module.partition(".")[0], {})
    return item.guarded or str(item.file.relative_to(ROOT)) in files


def test_optional_modules_are_imported_only_where_their_absence_is_handled() -> None:
    unguarded = [
        item.where()
        for item in third_party_imports()
        if item.module.partition(".")[0] in OPTIONAL_IMPORTS and not _handled(item)
    ]
    assert not unguarded, (
        f"These import an optional module outside `try: ... except ImportError`: {unguarded}; "
        "guard the import, or list the file in OPTIONAL_IMPORTS saying why it is safe."
    )


def test_install_hints_in_messages_name_existing_extras() -> None:
    hint = re.compile(r"pip install '?dagyard\[([a-z0-9_,-]+)\]")
    named = {
        (path.relative_to(ROOT), feature)
        for path in PACKAGE.rglob("*.py")
        for match in hint.finditer(path.read_text(encoding="utf-8"))
        for feature in match.group(1).split(",")
    }
    assert named, "Expected the optional features' error messages to say which extra to install."
    extras = _pyproject()["optional-dependencies"]
    assert isinstance(extras, dict)
    wrong = sorted(
        f"{path}: dagyard[{feature}]" for path, feature in named if feature not in extras
    )
    assert not wrong, f"Messages name extras pyproject.toml does not define: {wrong}"


def test_the_scan_sees_imports_of_every_kind() -> None:
    # The checks above are only as good as the scan: it must see plain, from, lazy
    # (inside functions) and import_module imports, and map namespace packages finely.
    modules = {(item.file.name, item.module) for item in third_party_imports()}
    assert ("app.py", "fastapi") in modules
    assert ("ray_driver.py", "ray") in modules  # imported inside a function
    assert ("schema.py", "kfp.pipeline_spec.pipeline_spec_pb2") in modules  # import_module
    assert providers("google.protobuf.descriptor") == {"protobuf"}
    assert providers("kfp.pipeline_spec.pipeline_spec_pb2") == {"kfp-pipeline-spec"}
    assert not any(file == "breast_cancer.py" for file, _ in modules)  # component bodies
