"""Pipelines the browser tests upload: a greeting with typed parameters whose second task
logs a metric, so that runs of it have logs, artifacts and something to compare."""

from __future__ import annotations

from dagyard import dsl, kubernetes
from dagyard.dsl import HTML, Dataset, Input, Markdown, Metrics, Output


@dsl.component
def greet(name: str, times: int, gate: str) -> str:
    import os
    import time

    for i in range(times):
        print(f"hello {name} #{i + 1}", flush=True)
    # A test holds the task running until it creates the gate file.
    while gate and not os.path.exists(gate):
        time.sleep(0.02)
    return f"greeted {name} {times} times"


@dsl.component
def score(message: str, times: int, metrics: Output[Metrics]) -> None:
    print(message)
    metrics.log_metric("score", times * 1.5)


@dsl.pipeline(name="ui-greeting", description="Greets and scores; used by the UI tests.")
def ui_greeting(name: str = "world", times: int = 2, gate: str = "") -> None:
    greeted = greet(name=name, times=times, gate=gate)
    score(message=greeted.output, times=times)


@dsl.component
def rate(ratings: Output[Metrics]) -> None:
    ratings.log_metric("stars", 4)


@dsl.pipeline(name="ui-rated", description="Logs a metric no greeting has.")
def ui_rated() -> None:
    rate()


# More pipelines for tests/ui/test_ui_pages.py.


@dsl.component
def flaky(marker: str) -> str:
    import os

    # A test makes the task fail until it creates the marker file (never, for a run
    # that is to stay FAILED).
    if not os.path.exists(marker):
        raise RuntimeError(f"no marker file at {marker}")
    return "recovered"


@dsl.pipeline(name="ui-flaky", description="Fails until its marker file exists.")
def ui_flaky(marker: str) -> str:
    return flaky(marker=marker).output


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def never(message: str) -> None:
    print(message)


@dsl.pipeline(name="ui-loop", description="A loop of 30 iterations and a branch that is skipped.")
def ui_loop(threshold: int = 100) -> None:
    with dsl.ParallelFor(list(range(30))) as item:
        square(x=item)
    with dsl.If(threshold < 0):
        never(message="negative threshold")


# An HTML report whose script draws into its own page (as Plotly's and Bokeh's do) and
# says what it could reach of the app: the app's cookie and storage, its document, its API.
REPORT_PAGE = """<html><body><p>framed page</p><div id="drawn"></div><pre id="reach"></pre>
<script>
document.getElementById("drawn").textContent = "drawn by script";
const reach = document.getElementById("reach");
const tell = (what, attempt) => {
  try { reach.textContent += what + ": " + attempt() + "\\n"; }
  catch (e) { reach.textContent += what + ": blocked\\n"; }
};
tell("cookie", () => document.cookie);
tell("storage", () => localStorage.getItem("secret"));
tell("parent", () => { parent.document.title = "pwned"; return parent.document.cookie; });
fetch("/apis/v2beta1/runs?page_size=1").then(
  (r) => r.text().then((t) => { reach.textContent += "api: " + r.status + " " + t + "\\n"; }),
  () => { reach.textContent += "api: blocked\\n"; },
);
</script></body></html>"""

REPORT_MARKDOWN = """# Quarterly report

All *good*.

| model | accuracy |
|---|---:|
| small | 0.91 |
| large | 0.95 |

~~draft~~ final; see https://example.com/q3

- [x] trained
- [ ] deployed

<script>window.__pwned = 1</script>
"""


@dsl.component
def write_views(
    report: Output[Markdown], page: Output[HTML], table: Output[Dataset], markdown: str, html: str
) -> None:
    with open(report.path, "w") as f:
        f.write(markdown)
    with open(page.path, "w") as f:
        f.write(html)
    with open(table.path, "w") as f:
        f.write("id,fruit\n1,apple\n2,banana\n3,cherry\n")


@dsl.component
def count_rows(table: Input[Dataset]) -> int:
    with open(table.path) as f:
        return len(f.read().splitlines()) - 1


@dsl.pipeline(name="ui-views", description="Writes Markdown, HTML and a CSV, then reads it.")
def ui_views(markdown: str = REPORT_MARKDOWN, html: str = REPORT_PAGE) -> None:
    written = write_views(markdown=markdown, html=html)
    count_rows(table=written.outputs["table"])


@dsl.component
def check_item(x: int) -> int:
    if x == 2:
        raise ValueError(f"item {x} is bad")
    return x


@dsl.pipeline(name="ui-failing-loop", description="A loop whose second iteration fails.")
def ui_failing_loop() -> None:
    with dsl.ParallelFor([1, 2, 3]) as item:
        check_item(x=item)


@dsl.component
def link(i: int) -> int:
    return i + 1


CHAINS = 12


def chain_length(chain: int) -> int:
    """Chains of 2 to 5 tasks, mixed, so that packing them by size would reorder them."""
    return 2 + (chain * 5) % 4


@dsl.pipeline(name="ui-chains", description="Twelve independent chains of tasks.")
def ui_chains() -> None:
    for chain in range(CHAINS):
        previous = None
        for step in range(chain_length(chain)):
            task = link(i=previous.output if previous else chain).set_caching_options(False)
            task.set_display_name(f"chain-{chain}-step-{step}")
            previous = task


@dsl.component
def source(raw: Output[Dataset]) -> None:
    with open(raw.path, "w") as f:
        f.write("n\n1\n2\n")


@dsl.component
def refine(data: Input[Dataset], refined: Output[Dataset]) -> None:
    # One more row each time: the second refine's input differs from the first's, so
    # the cache cannot hand it the first one's output.
    with open(data.path) as f, open(refined.path, "w") as out:
        text = f.read()
        out.write(f"{text}{len(text.splitlines())}\n")


@dsl.pipeline(name="ui-chain", description="A chain of datasets, for lineage several steps long.")
def ui_chain() -> None:
    raw = source()
    first = refine(data=raw.outputs["raw"])
    second = refine(data=first.outputs["refined"])
    count_rows(table=second.outputs["refined"])


@dsl.component
def fails_first(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("the first attempt fails")
    return "second attempt"


@dsl.pipeline(name="ui-retried", description="Its task fails once and is retried after 2 s.")
def ui_retried(marker: str) -> str:
    return fails_first(marker=marker).set_retry(num_retries=1, backoff_duration="2s").output


@dsl.component
def cube(x: int) -> int:
    return x * x * x


@dsl.pipeline(name="ui-cubes", description="A loop of 12 iterations, for the address tests.")
def ui_cubes() -> None:
    with dsl.ParallelFor(list(range(12))) as item:
        cube(x=item)


@dsl.component
def labelled_step(x: int) -> int:
    return x


@dsl.pipeline(
    name="ui-labelled-loop",
    description="A loop of 120 iterations whose task asks for a pod label (a warning each).",
)
def ui_labelled_loop() -> None:
    with dsl.ParallelFor(list(range(120))) as item:
        kubernetes.add_pod_label(labelled_step(x=item), "team", "ml")


@dsl.component
def flaky_item(x: int, marker: str) -> int:
    import os

    if x == 2 and not os.path.exists(marker):
        raise RuntimeError(f"item 2 waits for a marker file at {marker}")
    return x


@dsl.pipeline(name="ui-flaky-loop", description="Its second iteration fails until a marker exists.")
def ui_flaky_loop(marker: str) -> None:
    with dsl.ParallelFor([1, 2, 3]) as item:
        flaky_item(x=item, marker=marker)
