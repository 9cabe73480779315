"""Artifact classes from outside `dagyard.dsl` in a lightweight component's signature:
the checks kfp makes of their schema, and the import lines their source needs.

A component may take or give an artifact class of another module
(`Output[custom_types.Checkpoint]`, `-> Checkpoint`). Its source runs in the task
without the module around it, so kfp puts one import line per class before the function
(component_factory._get_command_and_args_for_lightweight_component, from
types/custom_artifact_types.get_custom_artifact_type_import_statements), which we write
the same way: the name the annotation starts with (`custom_types` or `Checkpoint`) is
imported from the class's module. The task must be able to import that module, so its
package belongs in `packages_to_install`, as with kfp.

Only reading signatures and writing import lines belongs here; building the component
does not.
"""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any

from dagyard.errors import DslError
from dagyard.runtime import artifacts as ar

_OURS = frozenset(ar.ARTIFACT_CLASSES.values())
# kfp's type_utils.validate_schema_title: an IR artifact type is `namespace.Name`, and kfp
# loads only these namespaces (a title outside them makes the YAML unloadable by kfp).
_NAMESPACES = ("system", "google")


def check_schema(cls: type[ar.Artifact]) -> None:
    """Refuse an artifact class whose schema kfp refuses (type_utils.
    validate_bundled_artifact_type): a title `system.X` or `google.X`, a version of three
    parts."""
    if cls in _OURS:
        return
    title, version = cls.schema_title, cls.schema_version
    where = f"Artifact class {_qualified(cls)}"
    parts = title.split(".") if isinstance(title, str) else []
    if len(parts) != 2 or parts[0] not in _NAMESPACES or not parts[1]:
        raise DslError(
            f"{where} has schema_title {title!r}; an artifact type is 'namespace.Name' with "
            f"the namespace 'system' or 'google', as kfp requires (e.g. "
            f"'google.{cls.__name__}')."
        )
    if not isinstance(version, str) or len(version.split(".")) != 3:
        raise DslError(f"{where} has schema_version {version!r}; give three parts, e.g. '0.0.1'.")


def import_lines(
    func: Callable[..., Any], tree: ast.FunctionDef | ast.AsyncFunctionDef
) -> list[str]:
    """The import lines the source of `func` (parsed as `tree`) needs for the artifact
    classes of its signature that are not `dagyard.dsl`'s, in kfp's order: parameters,
    then return values; each line once."""
    hints = typing.get_type_hints(func, include_extras=True)
    lines: list[str] = []
    for name, annotation, node in _annotated(func, tree, hints):
        for cls in _custom_classes(annotation):
            line = _import_line(func, cls, node, name)
            if line not in lines:
                lines.append(line)
    return lines


def imported_names(lines: list[str]) -> set[str]:
    """The names `lines` (from `import_lines`) bind: each line's last word."""
    return {line.rsplit(" ", 1)[-1] for line in lines}


def _annotated(
    func: Callable[..., Any],
    tree: ast.FunctionDef | ast.AsyncFunctionDef,
    hints: dict[str, Any],
) -> Iterator[tuple[str, Any, ast.expr | None]]:
    nodes = {arg.arg: arg.annotation for arg in [*tree.args.args, *tree.args.kwonlyargs]}
    for name in inspect.signature(func).parameters:
        if name in hints:
            yield name, hints[name], nodes.get(name)
    returns = hints.get("return")
    fields = getattr(returns, "__annotations__", None)
    if isinstance(returns, type) and issubclass(returns, tuple) and fields:
        for field, annotation in fields.items():
            yield f"return value {field!r}", annotation, tree.returns
    elif returns is not None:
        yield "return value", returns, tree.returns


def _custom_classes(annotation: Any) -> Iterator[type[ar.Artifact]]:
    """Artifact classes not ours inside an annotation (Input[...], Optional[...], lists)."""
    if ar.is_artifact_class(annotation):
        if annotation not in _OURS:
            yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _custom_classes(arg)


def _import_line(
    func: Callable[..., Any], cls: type[ar.Artifact], node: ast.expr | None, where: str
) -> str:
    component = func.__name__
    if "." in cls.__qualname__ or cls.__module__ in (None, "__main__"):
        raise DslError(
            f"Component '{component}': artifact class {_qualified(cls)} ({where}) is defined "
            "where a task cannot import it; define it at the top of a module the task can "
            "import, and list that module's package in packages_to_install."
        )
    base = _base_name(func, cls, node)
    if base is None:
        raise DslError(
            f"Component '{component}': the annotation of {where} does not name artifact "
            f"class {_qualified(cls)} by a name of the function's module; import the class "
            f"or its module at the top of that module and write it as imported (e.g. "
            f"Output[{cls.__name__}])."
        )
    target = func.__globals__.get(base)
    if target is cls:
        # kfp's get_symbol_import_path: the class's qualified name up to the name used;
        # a class imported under another name keeps it (kfp refuses such an alias).
        alias = f" as {base}" if base != cls.__qualname__ else ""
        return f"from {cls.__module__} import {cls.__qualname__}{alias}"
    module = getattr(target, "__name__", "")
    parent, _, last = module.rpartition(".")
    if last != base:
        return f"import {module} as {base}"
    if not parent and cls.__module__.startswith(f"{module}."):
        # `pkg.types.Checkpoint`: kfp writes `import pkg`, which leaves pkg.types unloaded
        # unless pkg imports it; this binds the same name and loads it.
        return f"import {cls.__module__}"
    return f"from {parent} import {base}" if parent else f"import {base}"


def _base_name(func: Callable[..., Any], cls: type, node: ast.expr | None) -> str | None:
    """The first name of the dotted expression in `node` that evaluates to `cls` in the
    function's module (`custom_types` for `Output[custom_types.Checkpoint]`)."""
    if node is None:
        return None
    for sub in ast.walk(node):
        dotted = _dotted(sub)
        if dotted and _resolve(func.__globals__, dotted) is cls:
            return dotted[0]
    return None


def _dotted(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return [*head, node.attr] if head else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a string annotation
        parts = node.value.split(".")
        return parts if all(part.isidentifier() for part in parts) else None
    return None


def _resolve(namespace: dict[str, Any], dotted: list[str]) -> Any:
    value = namespace.get(dotted[0])
    for part in dotted[1:]:
        value = getattr(value, part, None)
    return value


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
