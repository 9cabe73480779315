"""Artifact classes of another module in a component's signature: the import lines its
source gets, and the schemas refused, each checked against the real kfp 2.17.

kfp puts, after `from typing import *`, one line per class that is not its own, in the
order of the parameters and then the return values, naming the class by the name the
annotation starts with (types/custom_artifact_types.py,
get_custom_artifact_type_import_statements), and refuses an artifact type outside the
`system` and `google` namespaces or with a version not of three parts
(types/type_utils.py, validate_bundled_artifact_type). Each case is a module written in
kfp's form, and the same with dagyard's imports (custom_types_kfp -> custom_types_dy,
the twins in tests/pipelines).
"""

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from dagyard.errors import DslError

pytestmark = pytest.mark.kfp

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
FLAVORS = pytest.mark.parametrize("flavor", ["kfp", "dagyard"])


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PIPELINES))
    monkeypatch.syspath_prepend(str(tmp_path))


def _define(tmp_path: Path, flavor: str, source: str, *, as_written: bool = False) -> Any:
    """Import `source` (kfp's form, turned into dagyard's for "dagyard" unless
    `as_written`) as a new module; its component `f`."""
    if flavor == "dagyard" and not as_written:
        source = re.sub(
            r"^from kfp((?:\.\w+)*) import", r"from dagyard\1 import", source, flags=re.M
        )
        source = source.replace("custom_types_kfp", "custom_types_dy")
    name = f"custom_artifact_case_{flavor}_{len(list(tmp_path.iterdir()))}"
    (tmp_path / f"{name}.py").write_text(source)
    try:
        return importlib.import_module(name).f
    finally:
        sys.modules.pop(name, None)


def _imports(flavor: str, component: Any) -> list[str]:
    """The lines after `from typing import *` in the component's source, in kfp's names."""
    if flavor == "kfp":
        source = component.component_spec.implementation.container.command[-1]
    else:
        source = component.source
    after = source.split("from typing import *\n", 1)[1].splitlines()
    lines = after[: after.index("")]
    return [line.replace("custom_types_dy", "custom_types_kfp") for line in lines]


_HEAD = (
    "from typing import NamedTuple\n\n"
    "from kfp import dsl\nfrom kfp.dsl import Dataset, Input, Output\n"
)


@FLAVORS
def test_a_class_named_through_its_module_imports_the_module(tmp_path: Path, flavor: str) -> None:
    f = _define(
        tmp_path,
        flavor,
        _HEAD + "import custom_types_kfp\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[custom_types_kfp.Checkpoint]):\n"
        "    pass\n",
    )
    assert _imports(flavor, f) == ["import custom_types_kfp"]


@FLAVORS
def test_the_class_read_through_its_module_in_the_body_is_no_use_of_a_global_of_its_name(
    tmp_path: Path, flavor: str
) -> None:
    """`custom_types_kfp.Checkpoint` in the body reads an attribute of the module the
    source imports, not the module's global `Checkpoint`, which the task lacks. KFP's
    test data pipeline_with_google_artifact_type.py imports its class both ways and its
    producer checks isinstance against the module's attribute; kfp embeds the body as
    written (component_factory._get_function_source_definition)."""
    f = _define(
        tmp_path,
        flavor,
        _HEAD + "import custom_types_kfp\nfrom custom_types_kfp import Checkpoint\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[custom_types_kfp.Checkpoint]):\n"
        "    assert isinstance(c, custom_types_kfp.Checkpoint)\n",
    )
    assert _imports(flavor, f) == ["import custom_types_kfp"]


@FLAVORS
def test_imports_follow_the_parameters_then_the_returns_each_once(
    tmp_path: Path, flavor: str
) -> None:
    f = _define(
        tmp_path,
        flavor,
        _HEAD + "import custom_types_kfp\nfrom custom_types_kfp import Checkpoint\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(\n"
        "    data: Input[Dataset],\n"
        "    a: Input[Checkpoint],\n"
        "    b: Output[custom_types_kfp.Checkpoint],\n"
        "    c: Output[Checkpoint],\n"
        ") -> NamedTuple('Outputs', [('best', Checkpoint), ('count', int)]):\n"
        "    return (Checkpoint(uri=dsl.get_uri()), 1)\n",
    )
    assert _imports(flavor, f) == [
        "from custom_types_kfp import Checkpoint",
        "import custom_types_kfp",
    ]


@FLAVORS
def test_a_component_without_a_class_of_another_module_imports_nothing_more(
    tmp_path: Path, flavor: str
) -> None:
    f = _define(
        tmp_path,
        flavor,
        _HEAD + "\n\n@dsl.component(base_image='python:3.11')\n"
        "def f(data: Input[Dataset], out: Output[Dataset]) -> int:\n"
        "    return 1\n",
    )
    assert _imports(flavor, f) == []


@FLAVORS
def test_the_artifact_type_is_the_classes_schema_title_and_version(
    tmp_path: Path, flavor: str
) -> None:
    f = _define(
        tmp_path,
        flavor,
        _HEAD + "from custom_types_kfp import Checkpoint\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[Checkpoint]):\n"
        "    pass\n",
    )
    spec = f.component_spec.outputs["c"]
    if flavor == "kfp":
        assert spec.type == "google.Checkpoint@0.0.2"
    else:
        assert (spec.artifact_type, spec.schema_version) == ("google.Checkpoint", "0.0.2")


_BAD_SCHEMAS = [
    ("acme.Checkpoint", "0.0.1", r"schema_title 'acme.Checkpoint'.*'system' or 'google'"),
    ("Checkpoint", "0.0.1", r"schema_title 'Checkpoint'.*'namespace.Name'"),
    ("google.Checkpoint", "1.0", r"schema_version '1.0'; give three parts"),
]


@FLAVORS
@pytest.mark.parametrize(("title", "version", "message"), _BAD_SCHEMAS)
def test_a_schema_kfp_cannot_load_is_refused_when_the_component_is_defined(
    tmp_path: Path, flavor: str, title: str, version: str, message: str
) -> None:
    source = (
        _HEAD + "\n\nclass Odd(dsl.Artifact):\n"
        f"    schema_title = {title!r}\n    schema_version = {version!r}\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[Odd]):\n"
        "    pass\n"
    )
    expected = (TypeError, "Artifact") if flavor == "kfp" else (DslError, message)
    with pytest.raises(expected[0], match=expected[1]):
        _define(tmp_path, flavor, source)


@FLAVORS
def test_a_class_imported_under_another_name_keeps_that_name(tmp_path: Path, flavor: str) -> None:
    """kfp refuses the alias (get_symbol_import_path); Dagyard imports it as written."""
    source = (
        _HEAD + "from custom_types_kfp import Checkpoint as Saved\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[Saved]):\n"
        "    pass\n"
    )
    if flavor == "kfp":
        with pytest.raises(TypeError, match="aliases are not supported"):
            _define(tmp_path, flavor, source)
        return
    assert _imports(flavor, _define(tmp_path, flavor, source)) == [
        "from custom_types_kfp import Checkpoint as Saved"
    ]


def test_a_class_defined_inside_a_function_is_refused_naming_it(tmp_path: Path) -> None:
    """A task could not import it (kfp writes `from <module>.make.<locals> import`)."""
    source = (
        "from dagyard import dsl\nfrom dagyard.dsl import Output\n\n\n"
        "def make():\n"
        "    class Local(dsl.Artifact):\n"
        "        schema_title = 'google.Local'\n\n"
        "    @dsl.component(base_image='python:3.11')\n"
        "    def f(c: Output[Local]):\n"
        "        pass\n\n"
        "    return f\n\n\n"
        "f = make()\n"
    )
    with pytest.raises(DslError, match=r"make.<locals>.Local \(c\) is defined where a task cannot"):
        _define(tmp_path, "dagyard", source)


@FLAVORS
def test_a_plain_input_of_the_class_imports_it_too(tmp_path: Path, flavor: str) -> None:
    """kfp's get_param_to_custom_artifact_class reads a variable it has not set for a
    plain (pythonic) input, and fails; Dagyard imports the class as for Input[...]."""
    source = (
        _HEAD + "from custom_types_kfp import Checkpoint\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Checkpoint) -> int:\n"
        "    return c.step\n"
    )
    if flavor == "kfp":
        with pytest.raises(UnboundLocalError):
            _define(tmp_path, flavor, source)
        return
    assert _imports(flavor, _define(tmp_path, flavor, source)) == [
        "from custom_types_kfp import Checkpoint"
    ]


def test_a_class_built_on_kfps_artifact_is_taken_as_kfp_takes_it(tmp_path: Path) -> None:
    """kfp's type_annotations.is_artifact_class asks only for a schema_title and a
    schema_version, so a class on kfp's own Artifact (as Google Cloud Pipeline Components'
    are) is an artifact class for dagyard.dsl too."""
    f = _define(
        tmp_path,
        "dagyard",
        "from dagyard import dsl\nfrom dagyard.dsl import Output\n"
        "from custom_types_kfp import Checkpoint as KfpCheckpoint\n\n\n"
        "@dsl.component(base_image='python:3.11')\n"
        "def f(c: Output[KfpCheckpoint]):\n"
        "    pass\n",
        as_written=True,
    )
    spec = f.component_spec.outputs["c"]
    assert (spec.artifact_type, spec.schema_version) == ("google.Checkpoint", "0.0.2")
    assert f.source.splitlines()[3] == "from custom_types_kfp import Checkpoint as KfpCheckpoint"


class _SchemaOnly:
    """Names its schema as kfp's classes do, built on neither library's Artifact."""

    schema_title = "google.VertexModel"
    schema_version = "0.0.1"


class _Unloadable:
    schema_title = "acme.Thing"
    schema_version = "0.0.1"


def _import_as(flavor: str, artifact_class: type, out: Path) -> Any:
    """The IR of a pipeline importing one URI as `artifact_class`, compiled by `flavor`."""
    import yaml

    if flavor == "kfp":
        from kfp import compiler, dsl
    else:
        from dagyard import compiler, dsl  # type: ignore[no-redef]

    @dsl.pipeline(name="import-custom")
    def imported():  # type: ignore[no-untyped-def]
        dsl.importer(artifact_uri="s3://bucket/weights", artifact_class=artifact_class)

    compiler.Compiler().compile(imported, str(out))
    return yaml.safe_load(out.read_text())


@FLAVORS
def test_an_importer_takes_a_class_of_another_module_as_kfp_does(
    tmp_path: Path, flavor: str
) -> None:
    """kfp's importer (importer_node.importer) writes the class's schema_title and
    schema_version as the artifact's type, whatever the class is built on."""
    written = _import_as(flavor, _SchemaOnly, tmp_path / f"{flavor}.yaml")

    expected = {"schemaTitle": "google.VertexModel", "schemaVersion": "0.0.1"}
    assert (
        written["deploymentSpec"]["executors"]["exec-importer"]["importer"]["typeSchema"]
        == expected
    )
    outputs = written["components"]["comp-importer"]["outputDefinitions"]
    assert outputs["artifacts"]["artifact"]["artifactType"] == expected


@FLAVORS
def test_an_importer_of_a_schema_kfp_cannot_load_is_refused(tmp_path: Path, flavor: str) -> None:
    expected = (TypeError, "Artifact") if flavor == "kfp" else (DslError, "'acme.Thing'")
    with pytest.raises(expected[0], match=expected[1]):
        _import_as(flavor, _Unloadable, tmp_path / f"{flavor}.yaml")
