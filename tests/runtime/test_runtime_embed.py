"""The lightweight command: its shape, and running it in real processes without dagyard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dagyard.errors import CompileError
from dagyard.runtime import embed
from dagyard.runtime.embed import RUNTIME_MARKER, is_lightweight_command, lightweight_container

TRAIN = '''\
from dagyard import dsl
from dagyard.dsl import *
from typing import *


def train(
    data: Input[List[Dataset]],
    epochs: int,
    rate: float,
    model: Output[Model],
    metrics: Output[dsl.Metrics],
) -> NamedTuple("Outputs", [("best_epoch", int), ("sizes", List[int]), ("report", Markdown)]):
    """A docstring the component keeps."""
    import collections

    sizes = []
    for part in data:
        with open(part.path) as f:
            sizes.append(len(f.read()))
    with open(model.path, "w") as f:
        f.write(f"epochs={epochs} rate={rate}")
    model.metadata["epochs"] = epochs
    metrics.log_metric("loss", 0.25)
    Outputs = collections.namedtuple("Outputs", ["best_epoch", "sizes", "report"])
    return Outputs(epochs - 1, sizes, "# report")
'''


def executor_input(root: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """Inputs for TRAIN: two dataset parts, and outputs under `root`."""
    parts = []
    for i, text in enumerate(["abc", "defgh"]):
        (root / f"part{i}").write_text(text)
        parts.append({"name": f"p{i}", "type": {"schemaTitle": "system.Dataset"}})
        parts[-1] |= {"uri": str(root / f"part{i}"), "metadata": {}}

    def output(name: str, schema: str) -> dict[str, Any]:
        runtime = {"name": name, "type": {"schemaTitle": schema}, "metadata": {}}
        return {"artifacts": [runtime | {"uri": str(root / "out" / name / "data")}]}

    return {
        "inputs": {"parameterValues": parameters, "artifacts": {"data": {"artifacts": parts}}},
        "outputs": {
            "parameters": {name: {"outputFile": str(root / "p" / name)} for name in ("sizes",)},
            "artifacts": {
                "model": output("model", "system.Model"),
                "metrics": output("metrics", "system.Metrics"),
                "report": output("report", "system.Markdown"),
            },
            "outputFile": str(root / "out" / "executor_output.json"),
        },
    }


def run(
    command: Sequence[str], args: Sequence[str], document: dict[str, Any], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run the container command as a launcher would: `{{$}}` replaced by the input."""
    argv = [*command, *(a.replace("{{$}}", json.dumps(document)) for a in args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)


def test_args_are_kfps() -> None:
    _, args = lightweight_container(function_source=TRAIN, function_name="train")
    assert args == ["--executor_input", "{{$}}", "--function_to_execute", "train"]


def test_command_carries_the_source_after_the_bootstrap() -> None:
    command, _ = lightweight_container(function_source=TRAIN, function_name="train")
    assert command[:2] == ["python3", "-c"]
    assert command[2].startswith(f"# {RUNTIME_MARKER}:")
    assert command[3:] == ["--function_source", TRAIN]


def test_packages_and_index_urls_travel_as_json() -> None:
    command, _ = lightweight_container(
        function_source=TRAIN,
        function_name="train",
        packages_to_install=["pandas==2.2.2", "numpy"],
        pip_index_urls=["http://mirror:8080/simple", "https://pypi.org/simple"],
    )
    assert command[3:] == [
        *("--packages_to_install", '["pandas==2.2.2", "numpy"]'),
        *("--pip_index_urls", '["http://mirror:8080/simple", "https://pypi.org/simple"]'),
        *("--function_source", TRAIN),
    ]
    # Index URLs without packages change nothing, so such components still deduplicate.
    bare = lightweight_container(function_source=TRAIN, function_name="train")
    assert (
        lightweight_container(
            function_source=TRAIN, function_name="train", pip_index_urls=["https://x/simple"]
        )
        == bare
    )


def test_same_inputs_give_byte_identical_commands() -> None:
    first = lightweight_container(function_source=TRAIN, function_name="train")
    embed.bootstrap.cache_clear()  # rebuilt from the files, not just remembered
    assert lightweight_container(function_source=TRAIN, function_name="train") == first


def test_a_component_stays_small() -> None:
    command, _ = lightweight_container(function_source=TRAIN, function_name="train")
    # The embedded runtime, compressed. Was 13,000; raised for what KFP's launcher does
    # and the runtime must do alike (booleans in output files read as Go's ParseBool), then
    # to 14,000 for embedded files (unpacked, on sys.path, given to EmbeddedInput), then
    # to 14,400 for dsl.TaskConfig inputs (the class and reading the engine's value).
    assert len(command[2]) < 14_400


def test_lightweight_commands_are_recognised() -> None:
    command, _ = lightweight_container(function_source=TRAIN, function_name="train")
    assert is_lightweight_command(command)
    assert not is_lightweight_command(["sh", "-c", command[2]])
    assert not is_lightweight_command(["python3", "-c", "print('hello')"])
    assert not is_lightweight_command(["python3"])


def test_a_function_name_that_is_no_identifier_is_a_compile_error() -> None:
    with pytest.raises(CompileError, match="'train-model'"):
        lightweight_container(function_source=TRAIN, function_name="train-model")


def test_embedding_drops_comments_and_docstrings_but_no_code() -> None:
    source = textwrap.dedent('''\
        """Module doc."""
        import os  # why
        # a whole comment line
        def f(x):
            """Function
            doc."""
            "".join(["a"])  # a string that starts a statement is code
            return "#" + x
    ''')
    assert embed._strip_for_embedding(source) == textwrap.dedent("""\
        ""
        import os
        def f(x):
            ""
            "".join(["a"])
            return "#" + x
    """)


def test_the_embedded_runtime_is_used_even_where_dagyard_is_installed(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        from dagyard.dsl import *

        def where() -> list:
            import sys
            import dagyard.runtime.executor
            modules = [sys.modules[n] for n in ("dagyard", "dagyard.runtime.executor")]
            same = Model is sys.modules["dagyard.runtime.artifacts"].Model
            return [getattr(m, "__file__", None) for m in modules] + [same]
    """)
    command, args = lightweight_container(function_source=source, function_name="where")
    document = {"outputs": {"outputFile": str(tmp_path / "out.json")}}
    # This interpreter has dagyard installed, and the repository is the working directory.
    done = run([sys.executable, *command[1:]], args, document, cwd=Path(embed.__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["parameterValues"] == {
        "Output": [None, None, True]
    }


# --- in a fresh virtual environment, as in a plain python image ---------------------------


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment variables that put a new venv without dagyard first on PATH."""
    home = tmp_path_factory.mktemp("venv")
    subprocess.run(["python3", "-m", "venv", str(home / "env")], check=True, cwd=home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{home / 'env' / 'bin'}{os.pathsep}{env['PATH']}"
    probe = subprocess.run(
        ["python3", "-c", "import dagyard"], env=env, cwd=home, capture_output=True, text=True
    )
    assert "No module named 'dagyard'" in probe.stderr
    return env


@pytest.mark.slow
def test_a_component_runs_where_dagyard_is_not_installed(
    venv: dict[str, str], tmp_path: Path
) -> None:
    command, args = lightweight_container(function_source=TRAIN, function_name="train")
    document = executor_input(tmp_path, {"epochs": 3.0, "rate": 1})
    done = run(command, args, document, env=venv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = tmp_path / "out"
    assert (out / "model" / "data").read_text() == "epochs=3 rate=1.0"
    assert (out / "report" / "data").read_text() == "# report"
    written = json.loads((out / "executor_output.json").read_text())
    assert written["parameterValues"] == {"best_epoch": 2, "sizes": [3, 5]}
    assert json.dumps(written["parameterValues"]) == '{"best_epoch": 2, "sizes": [3, 5]}'
    artifacts = {name: entry["artifacts"][0] for name, entry in written["artifacts"].items()}
    assert artifacts["model"] == {
        "name": "model",
        "uri": str(out / "model" / "data"),
        "metadata": {"epochs": 3},
    }
    assert artifacts["metrics"]["metadata"] == {"loss": 0.25}
    assert artifacts["report"]["uri"] == str(out / "report" / "data")


@pytest.mark.slow
def test_a_failing_component_exits_1_with_its_traceback(
    venv: dict[str, str], tmp_path: Path
) -> None:
    source = "def fail(x: int):\n    return 10 // x\n"
    command, args = lightweight_container(function_source=source, function_name="fail")
    document = {"inputs": {"parameterValues": {"x": 0}}, "outputs": {"outputFile": "o.json"}}
    done = run(command, args, document, env=venv, cwd=tmp_path)
    assert done.returncode == 1
    assert "    return 10 // x" in done.stderr
    assert done.stderr.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")


def offline(env: dict[str, str]) -> dict[str, str]:
    # Any pip download fails at once: no index, and an address where nothing listens.
    return env | {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}


@pytest.mark.slow
def test_installed_packages_are_not_installed_again(venv: dict[str, str], tmp_path: Path) -> None:
    pip_version = subprocess.run(
        ["python3", "-c", "import importlib.metadata as m; print(m.version('pip'))"],
        env=venv,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    command, args = lightweight_container(
        function_source="def f() -> str:\n    return 'ran'\n",
        function_name="f",
        packages_to_install=["pip", "PIP", f"pip=={pip_version}", "pip>=1", "pip; os_name=='nt'"],
    )
    document = {"outputs": {"outputFile": str(tmp_path / "out.json")}}
    done = run(command, args, document, env=offline(venv), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no install line, and no pip error
    assert json.loads((tmp_path / "out.json").read_text())["parameterValues"] == {"Output": "ran"}


@pytest.mark.slow
def test_a_missing_package_is_installed_with_pip(venv: dict[str, str], tmp_path: Path) -> None:
    command, args = lightweight_container(
        function_source="def f() -> str:\n    return 'ran'\n",
        function_name="f",
        packages_to_install=["pip", "dagyard-no-such-package==1.0"],
        pip_index_urls=["http://127.0.0.1:9/simple"],
    )
    document = {"outputs": {"outputFile": str(tmp_path / "out.json")}}
    done = run(command, args, document, env=offline(venv), cwd=tmp_path)
    assert done.returncode == 3
    lines = done.stderr.splitlines()
    assert lines[0] == "dagyard: installing missing packages: dagyard-no-such-package==1.0"
    assert "No matching distribution found for dagyard-no-such-package==1.0" in done.stderr
    assert "pip install of dagyard-no-such-package==1.0 failed" in lines[-1]
    assert not (tmp_path / "out.json").exists()
