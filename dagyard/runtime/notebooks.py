"""`dsl.run_notebook(**parameters)` inside the task of a `@dsl.notebook_component`: the
embedded notebook run on a Python kernel, with the parameters injected.

This source goes into a notebook component's function source (`dsl/notebooks.py` puts it
there, then binds `dsl.run_notebook` to `run_notebook`), after the lines that import the
runtime's `dsl`. So: standard library only at module level, no `from __future__` import,
Python 3.9 syntax; nbformat, nbclient and jupyter_client are imported when a notebook
runs: they are the component's `packages_to_install`, as kfp's defaults have them. Nothing
else of ours is shipped for notebooks: other components do not carry this.

Parameters are injected as kfp does, after Papermill: a code cell tagged
`injected-parameters` that sets each one from its JSON text, right after the first code
cell tagged `parameters`, else first (kfp's templates/notebook_executor.py).
"""

import json
import sys
from typing import Any


def run_notebook(**parameters: Any) -> None:
    """Run the component's notebook with `parameters` set in it, in the folder it was
    embedded from; its cells' output goes to the task's log as each cell ends. A cell that
    raises fails the call with the cell's error."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from dagyard.runtime.artifacts import embedded_asset

    folder, path = embedded_asset()
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    _inject_parameters(notebook, parameters, nbformat.v4.new_code_cell)
    if "python3" not in KernelSpecManager().find_kernel_specs():
        raise RuntimeError(
            "No 'python3' Jupyter kernel here to run the notebook: add ipykernel to the "
            "component's packages_to_install (the default list has it)."
        )
    print(f"[notebook] running {path} ({len(notebook.cells)} cells)", flush=True)
    client = NotebookClient(notebook, timeout=None, allow_errors=False, kernel_name="python3")
    client.on_cell_executed = _print_outputs
    try:
        client.execute(cwd=folder)
    except CellExecutionError as e:
        raise RuntimeError(f"The notebook {path} failed: {_plain(str(e))}") from None


def _plain(text: str) -> str:
    """`text` without the terminal colours of IPython's tracebacks: logs are plain text."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _inject_parameters(notebook: Any, parameters: dict[str, Any], new_cell: Any) -> None:
    if not parameters:
        return
    lines = ["import json"]
    for name, value in parameters.items():
        if not name.isidentifier():
            raise ValueError(f"run_notebook parameter {name!r} is not a Python name.")
        lines.append(f"{name} = json.loads({json.dumps(value)!r})")
    cell = new_cell(source="\n".join(lines) + "\n")
    cell.metadata["tags"] = ["injected-parameters"]
    where = 0
    for index, existing in enumerate(notebook.cells):
        tags = existing.get("metadata", {}).get("tags") or []
        if existing.get("cell_type") == "code" and "parameters" in tags:
            where = index + 1
            break
    notebook.cells.insert(where, cell)


def _print_outputs(cell: Any, cell_index: int, execute_reply: Any) -> None:
    """What a cell printed, displayed or raised, in the task's log once it has run."""
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            stream = sys.stderr if output.get("name") == "stderr" else sys.stdout
            stream.write(output.get("text", ""))
            stream.flush()
        elif kind == "error":
            print(_plain("\n".join(output.get("traceback", []))), file=sys.stderr, flush=True)
        elif "text/plain" in output.get("data", {}):
            print(output["data"]["text/plain"], flush=True)
