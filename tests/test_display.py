"""The HTML view of a run: parsed with html.parser, as a browser would read its structure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from dagyard.display import MAX_GRAPH_TASKS, RunView, TaskView, format_duration, run_html


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class _Collector(HTMLParser):
    """Every start tag with its attributes and the text directly inside it."""

    elements: list[_Element] = field(default_factory=list)
    open: list[_Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {key: value or "" for key, value in attrs})
        self.elements.append(element)
        if tag not in {"rect", "path", "br"}:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(_Element(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data

    def with_class(self, css_class: str) -> list[_Element]:
        return [e for e in self.elements if css_class in e.attrs.get("class", "").split()]

    def text(self) -> str:
        return "".join(e.text for e in self.elements if e.tag == "div")


def _parse(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


def _view(**changes: object) -> RunView:
    base: dict[str, object] = {
        "run_id": "run-1",
        "name": "train",
        "state": "SUCCEEDED",
        "created_at": datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC),
        "finished_at": datetime(2024, 5, 1, 12, 3, 5, tzinfo=UTC),
        "parameters": {"lr": 0.1, "name": "x"},
        "outputs": {"accuracy": 0.93},
        "tasks": (
            TaskView("load", "SUCCEEDED"),
            TaskView("train", "CACHED", upstream=("load",)),
            TaskView("eval", "FAILED", upstream=("load", "train")),
        ),
        "url": "http://localhost:8888/runs/run-1",
    }
    base.update(changes)
    return RunView(**base)  # type: ignore[arg-type]


def test_run_html_shows_state_times_and_duration() -> None:
    doc = _parse(run_html(_view()))
    (state,) = doc.with_class("dagyard-state")
    assert state.attrs["data-state"] == "SUCCEEDED"
    assert "#2e7d32" in state.attrs["style"]
    (times,) = doc.with_class("dagyard-times")
    assert "2024-05-01 12:00:00" in times.text
    assert "took 3m 05s" in times.text


def test_run_html_has_a_node_per_task_and_an_edge_per_dependency() -> None:
    doc = _parse(run_html(_view()))
    nodes = {e.attrs["data-task"]: e.attrs["data-state"] for e in doc.with_class("dagyard-node")}
    assert nodes == {"load": "SUCCEEDED", "train": "CACHED", "eval": "FAILED"}
    edges = {(e.attrs["data-from"], e.attrs["data-to"]) for e in doc.with_class("dagyard-edge")}
    assert edges == {("load", "train"), ("load", "eval"), ("train", "eval")}


def test_graph_layers_follow_dependencies_top_down() -> None:
    doc = _parse(run_html(_view()))
    tops = {}
    for node in doc.with_class("dagyard-node"):
        index = doc.elements.index(node)
        rect = doc.elements[index + 2]  # after <title>
        assert rect.tag == "rect"
        tops[node.attrs["data-task"]] = float(rect.attrs["y"])
    assert tops["load"] < tops["train"] < tops["eval"]


def test_run_html_links_to_the_run_in_the_ui() -> None:
    doc = _parse(run_html(_view()))
    (link,) = doc.with_class("dagyard-link")
    assert link.tag == "a"
    assert link.attrs["href"] == "http://localhost:8888/runs/run-1"
    assert link.attrs["target"] == "_blank"


def test_run_html_renders_no_link_for_unsafe_or_missing_urls() -> None:
    for url in (None, "javascript:alert(1)", "//evil.example/x"):
        assert _parse(run_html(_view(url=url))).with_class("dagyard-link") == []


def test_run_html_escapes_everything_that_comes_from_the_run() -> None:
    nasty = '<script>alert("x")</script>'
    view = _view(
        name=nasty,
        run_id=nasty,
        parameters={nasty: nasty},
        outputs={"o": nasty},
        error=nasty,
        tasks=(TaskView(nasty, nasty), TaskView("b", "RUNNING", upstream=(nasty,))),
        url='http://h/runs/"><script>',
    )
    markup = run_html(view)
    assert "<script" not in markup
    doc = _parse(markup)
    assert all(e.tag != "script" for e in doc.elements)
    (name,) = doc.with_class("dagyard-name")
    assert name.text == nasty
    (error,) = doc.with_class("dagyard-error")
    assert error.text == nasty
    (link,) = doc.with_class("dagyard-link")
    assert link.attrs["href"] == 'http://h/runs/"><script>'
    assert {e.attrs["data-task"] for e in doc.with_class("dagyard-node")} == {nasty, "b"}
    assert nasty in doc.with_class("dagyard-parameters")[0].text


def test_run_html_tables_show_parameters_and_outputs() -> None:
    doc = _parse(run_html(_view(parameters={"lr": 0.1, "tags": ["a", "b"]})))
    (params,) = doc.with_class("dagyard-parameters")
    assert "lr" in params.text and "0.1" in params.text
    assert '["a", "b"]' in params.text
    (outputs,) = doc.with_class("dagyard-outputs")
    assert "accuracy" in outputs.text and "0.93" in outputs.text


def test_big_runs_show_counts_by_state_instead_of_a_graph() -> None:
    tasks = [TaskView(f"t{i}", "SUCCEEDED" if i % 3 else "FAILED") for i in range(100)]
    doc = _parse(run_html(_view(tasks=tasks)))
    assert doc.with_class("dagyard-node") == []
    counts = doc.with_class("dagyard-count")
    values = [e.text for e in doc.with_class("dagyard-count-value")]
    assert [e.attrs["data-state"] for e in counts] == ["SUCCEEDED", "FAILED"]
    assert values == ["66", "34"]
    assert len(
        _parse(run_html(_view(tasks=tasks[:MAX_GRAPH_TASKS]))).with_class("dagyard-node")
    ) == (MAX_GRAPH_TASKS)


def test_a_running_run_without_end_shows_no_duration_and_unknown_upstream_is_ignored() -> None:
    view = _view(
        state="RUNNING",
        finished_at=None,
        tasks=(TaskView("a", "RUNNING", upstream=("gone", "a")),),
    )
    doc = _parse(run_html(view))
    (times,) = doc.with_class("dagyard-times")
    assert "took" not in times.text
    assert doc.with_class("dagyard-edge") == []
    assert len(doc.with_class("dagyard-node")) == 1


def test_format_duration_is_short_and_readable() -> None:
    assert format_duration(0.42) == "0.4s"
    assert format_duration(42) == "42s"
    assert format_duration(185) == "3m 05s"
    assert format_duration(7260) == "2h 01m"
