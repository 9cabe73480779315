"""The web UI in a real browser: the runs page over 100,000 runs, and the graph of a run
with a 1,000-iteration ParallelFor and 50 more tasks.

The server is the real `dagyard up` (API, run worker, scheduler and the built UI) in a
child process, over a SQLite database seeded by `api_bench`'s bulk seeding; the browser
is Debian's Chromium driven by Playwright, as in tests/ui. Times are taken inside the
page with `performance.now()` (0 = the navigation's start) unless said otherwise.

1. Runs page: `/runs` opened N times, each in a new page of one browser context (so the
   first load has a cold HTTP cache, the later ones reuse the cached bundle), until the
   25th row is visible; wall time around `page.goto` + that wait is printed next to it.
   Then the "Next" button is clicked and timed until page 2's rows are drawn.
2. A big run: the pipeline below is submitted through the REST API and run for real by
   the server's worker; its page is opened N times until the loop group shows its counts
   and all 50 other task nodes are in the DOM, then the loop's expand toggle (until its
   iterations node is visible) and a click on a task node (until the task panel is
   visible) are timed.
3. The same pipeline while it runs: the page opened right after the submit, until the
   first graph is drawn; long main-thread tasks (over 50 ms) while it polls are counted.
4. Watching a live 2,000-iteration loop (`--watch`): a run of 2,000 quick iterations is
   submitted, and once it holds 1,000 task records its page is opened and left for 20 s.
   What the page and its workers received in those 20 s is summed from Playwright's
   request sizes (bodies as sent, so after compression, and headers; a worker's
   script, whose size Chromium does not give the page, is asked for again with the
   same Accept-Encoding and its bytes counted), the API calls apart; the longest main-thread task
   is taken from the page's long-task observer.

A benchmark, not a test: it prints and asserts nothing.

    .venv/bin/python bench/ui_bench.py                 # 100,000 runs, 10 + 5 repetitions
    .venv/bin/python bench/ui_bench.py --runs 10000 --page-repeat 3 --graph-repeat 3
    .venv/bin/python bench/ui_bench.py --watch-only    # only the 20 s watch of part 4
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import api_bench

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.server.ui import UI_DIST
from dagyard.store.sql.database import create_engine, parse_url
from dagyard.store.sql.schema import RunRow, TaskRow

CHROMIUM = "/usr/bin/chromium"
# As in tests/ui/conftest.py: without the networking flags Chromium keeps trying Google's
# hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API = "/apis/v2beta1"
ROWS = 25  # the runs table's page size
LOOP_ITEMS = 1000
CHAIN = 50
WATCH_ITEMS = 2000
WATCH_SECONDS = 20


@dsl.component
def step(i: int) -> int:
    return i


@dsl.component
def count(xs: list) -> int:
    return len(xs)


@dsl.pipeline(name="ui-bench-big")
def big_run() -> None:
    """1,000 loop iterations, then a chain of 50 tasks (the first collects the loop); no
    caching, so every run of it runs every task."""
    with dsl.ParallelFor(list(range(LOOP_ITEMS))) as item:
        inner = step(i=item).set_caching_options(False)
    previous = count(xs=dsl.Collected(inner.output)).set_caching_options(False)
    for _ in range(CHAIN - 1):
        previous = step(i=previous.output).set_caching_options(False)


@dsl.pipeline(name="ui-bench-watch")
def watched_run() -> None:
    """2,000 quick iterations, uncached: a big loop that stays live for a minute or two."""
    with dsl.ParallelFor(list(range(WATCH_ITEMS))) as item:
        step(i=item).set_caching_options(False)


# -- the server -----------------------------------------------------------------------
def _settle_seeded_runs(url: str) -> int:
    """Mark the seeded runs left RUNNING or PENDING as CANCELED: `dagyard up`'s run worker
    would otherwise start driving thousands of them during the measurement."""
    engine = create_engine(parse_url(url))
    with engine.begin() as connection:
        unfinished = sa.select(RunRow.run_id).where(RunRow.state.in_(["RUNNING", "PENDING"]))
        connection.execute(
            sa.update(TaskRow)
            .where(TaskRow.run_id.in_(unfinished), TaskRow.state == "PENDING")
            .values(state="CANCELED")
        )
        changed = connection.execute(
            sa.update(RunRow)
            .where(RunRow.state.in_(["RUNNING", "PENDING"]))
            .values(state="CANCELED", finished_at=RunRow.created_at)
        ).rowcount
    engine.dispose()
    return int(changed)


def _start(home: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).with_name("dagyard")),
        "up",
        "--home",
        str(home),
        "--database-url",
        url,
        "--port",
        str(port),
    ]
    log = (home / "server.log").open("wb")
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}{API}/healthz", timeout=1).status_code == 200:
                return child, base
        except httpx.HTTPError:
            pass
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise RuntimeError((home / "server.log").read_text())
        time.sleep(0.1)


def _submit(api: httpx.Client, spec: dict[str, Any], name: str) -> str:
    response = api.post("/runs", json={"display_name": name, "pipeline_spec": spec})
    response.raise_for_status()
    run_id: str = response.json()["run_id"]
    return run_id


def _wait_done(api: httpx.Client, run_id: str, seconds: float = 600) -> tuple[str, float]:
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = api.get(f"/runs/{run_id}").json()["state"]
        if state in ("SUCCEEDED", "FAILED", "CANCELED"):
            return state, time.perf_counter() - started
        time.sleep(0.25)
    return "TIMEOUT", time.perf_counter() - started


# -- in-page probes ---------------------------------------------------------------------
# Click an element and wait, frame by frame, until `done()` holds; ms from the click.
_CLICK_UNTIL = """async ([selector, doneBody]) => {
  const done = new Function(doneBody);
  const el = document.querySelector(selector);
  if (!el) return -1;
  const t0 = performance.now();
  el.click();
  while (!done()) {
    if (performance.now() - t0 > 60000) return -1;
    await new Promise((r) => requestAnimationFrame(r));
  }
  return performance.now() - t0;
}"""
_VISIBLE = """(s) => {
  const e = document.querySelector(s);
  return !!e && e.checkVisibility({ visibilityProperty: true });
}"""
_LONG_TASKS = """window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push(e.duration);
}).observe({ type: "longtask", buffered: true });"""


def _resources(page: Any) -> dict[str, dict[str, float]]:
    """The API requests the page made: duration (ms) and bytes received, by path."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').map((e) => [e.name, e.startTime,"
        " e.responseEnd, e.encodedBodySize, e.decodedBodySize])"
    )
    out: dict[str, dict[str, float]] = {}
    for name, start, end, encoded, decoded in entries:
        path = name.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        out.setdefault(
            "/" + path,
            {"start": start, "end": end, "ms": end - start, "kb": max(encoded, decoded) / 1024},
        )
    return out


def _runs_page(context: Any, repeat: int) -> dict[str, Any]:
    row = f"tr[data-testid^=run-row-]:nth-child({ROWS})"
    loads: list[dict[str, float]] = []
    for _ in range(repeat):
        page = context.new_page()
        wall0 = time.perf_counter()
        page.goto("/runs", wait_until="commit")
        handle = page.wait_for_function(
            f"() => ({_VISIBLE})({row!r}) && performance.now()", timeout=120_000, polling=16
        )
        wall = (time.perf_counter() - wall0) * 1000
        in_page = handle.json_value()
        api = _resources(page).get(f"{API}/runs", {})
        loads.append({"page": in_page, "wall": wall, "api_ms": api.get("ms", 0.0)})
        loads[-1]["api_kb"] = api.get("kb", 0.0)
        loads[-1]["api_end"] = api.get("end", 0.0)
        page.close()
    page = context.new_page()
    page.goto("/runs")
    page.wait_for_selector(row, state="visible", timeout=120_000)
    first = page.eval_on_selector("tr[data-testid^=run-row-]", "e => e.dataset.testid")
    changed = (
        f"const r = document.querySelectorAll('tr[data-testid^=run-row-]');"
        f" return r.length === {ROWS} && r[0].dataset.testid !== '{first}';"
    )
    next_ms = page.evaluate(_CLICK_UNTIL, [".dy-runs .dy-pager button:last-of-type", changed])
    page.close()
    return {"loads": loads, "next_ms": next_ms}


def _graph_page(context: Any, run_id: str, loop: str, chain: list[str]) -> dict[str, float]:
    page = context.new_page()
    page.goto(f"/runs/{run_id}", wait_until="commit")
    loop_sel = f'[data-testid="node-{loop}"]'
    drawn = f"""() => {{
      const loop = document.querySelector('{loop_sel}');
      if (!loop || !loop.checkVisibility({{visibilityProperty: true}})) return false;
      if (!loop.textContent.includes('{LOOP_ITEMS} succeeded')) return false;
      const ids = {chain!r};
      const all = ids.every((p) => document.querySelector(`[data-testid="node-${{p}}"]`));
      // Zoomed out, the whole chain is one band.
      const band = document.querySelector('[data-testid="band:{chain[0]}"]');
      const banded = !!band && band.textContent.includes('{len(chain)} tasks');
      return (all || banded) && performance.now();
    }}"""
    graph_ms = page.wait_for_function(drawn, timeout=120_000, polling=16).json_value()
    api = _resources(page)
    band = f'[data-testid="band:{chain[0]}"]'
    first_visible = page.evaluate(_VISIBLE, f'[data-testid="node-{chain[0]}"], {band}')
    last_visible = page.evaluate(_VISIBLE, f'[data-testid="node-{chain[-1]}"], {band}')
    zoomed_out = page.locator(band).count() > 0
    iterations = f"{loop}/#iterations"
    expand_ms = page.evaluate(
        _CLICK_UNTIL,
        [
            f'[data-testid="toggle-{loop}"]',
            f"const e = document.querySelector('[data-testid=\"node-{iterations}\"]');"
            " return !!e && e.checkVisibility({visibilityProperty: true});",
        ],
    )
    if page.locator(band).count():
        page.click(band)  # zooms in on the chain: its tasks show
        page.wait_for_selector(f'[data-testid="node-{chain[0]}"]')
    panel_ms = page.evaluate(
        _CLICK_UNTIL,
        [
            f'[data-testid="node-{chain[0]}"]',
            "const e = document.querySelector('[data-testid=\"task-panel\"]');"
            " return !!e && e.checkVisibility();",
        ],
    )
    nodes = page.evaluate("document.querySelectorAll('.react-flow__node').length")
    page.close()
    tasks = api.get(f"{API}/runs/{run_id}/tasks", {})
    return {
        "graph": graph_ms,
        "expand": expand_ms,
        "panel": panel_ms,
        "tasks_ms": tasks.get("ms", 0.0),
        "tasks_end": tasks.get("end", 0.0),
        "tasks_kb": tasks.get("kb", 0.0),
        "first_visible": float(first_visible),
        "last_visible": float(last_visible),
        "rf_nodes": float(nodes),
        "zoomed_out": float(zoomed_out),
    }


def _live_page(
    context: Any, api: httpx.Client, spec: dict[str, Any], loop: str, chain: list[str]
) -> dict[str, Any]:
    page = context.new_page()
    page.add_init_script(_LONG_TASKS)
    run_id = _submit(api, spec, "ui-bench live")
    submitted = time.perf_counter()
    page.goto(f"/runs/{run_id}", wait_until="commit")
    first_ms = page.wait_for_function(
        f"() => ({_VISIBLE})('[data-testid=\"node-{loop}\"]') && performance.now()",
        timeout=120_000,
        polling=16,
    ).json_value()
    state_at_first = page.get_attribute(f'[data-testid="node-{loop}"]', "data-state")
    # The chain's last task, or zoomed out the chain's band, succeeded.
    done = (
        f'[data-testid="node-{chain[-1]}"][data-state="SUCCEEDED"],'
        f' [data-testid="band:{chain[0]}"][data-state="SUCCEEDED"]'
    )
    page.wait_for_selector(done, timeout=600_000)
    shown_done = time.perf_counter() - submitted
    long_tasks = page.evaluate("window.__longTasks")
    page.close()
    state, _ = _wait_done(api, run_id)
    return {
        "first_ms": first_ms,
        "state_at_first": state_at_first,
        "shown_done_s": shown_done,
        "state": state,
        "long_n": len(long_tasks),
        "long_max": max(long_tasks, default=0.0),
        "long_sum": sum(long_tasks),
    }


def _task_count(api: httpx.Client, run_id: str) -> int:
    return len(api.get(f"/runs/{run_id}/tasks").json().get("tasks", []))


def _watch_page(context: Any, api: httpx.Client) -> dict[str, Any]:
    """Part 4: bytes and the longest main-thread task while a page watches a live
    2,000-iteration run for WATCH_SECONDS."""
    run_id = _submit(api, compile_to_dict(watched_run), "ui-bench watch")
    deadline = time.monotonic() + 600
    while (before := _task_count(api, run_id)) < WATCH_ITEMS // 2:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the watched run made only {before} task records in 10 min")
        time.sleep(0.5)
    page = context.new_page()
    page.add_init_script(_LONG_TASKS)
    received = {"api": 0.0, "other": 0.0}
    unsized: list[tuple[str, str]] = []

    def finished(request: Any) -> None:
        sizes = request.sizes()
        if not sizes["responseBodySize"] and API not in request.url:
            unsized.append((request.url, request.all_headers().get("accept-encoding", "")))
        kind = "api" if API in request.url else "other"
        received[kind] += sizes["responseBodySize"] + sizes["responseHeadersSize"]

    page.on("requestfinished", finished)
    page.goto(f"/runs/{run_id}", wait_until="commit")
    # Let the page's own polling run; the Python side only reads the browser's events.
    page.wait_for_timeout(WATCH_SECONDS * 1000)
    page.remove_listener("requestfinished", finished)
    # A worker's script (ELK's): Chromium tells its size to the worker, not to the page.
    # Asked again with the same Accept-Encoding, the bytes that come are what it received.
    for address, accepted in unsized:
        again = httpx.get(address, headers={"Accept-Encoding": accepted})
        received["other"] += again.num_bytes_downloaded
    long_tasks = page.evaluate("window.__longTasks")
    state = api.get(f"/runs/{run_id}").json()["state"]
    after = _task_count(api, run_id)
    page.close()
    api.post(f"/runs/{run_id}:terminate")
    return {
        "tasks_before": before,
        "tasks_after": after,
        "state": state,
        "api_kb": received["api"] / 1024,
        "other_kb": received["other"] / 1024,
        "long_n": len(long_tasks),
        "long_max": max(long_tasks, default=0.0),
    }


def _print_watch(watch: dict[str, Any]) -> None:
    print(
        f"\nwatching a live {WATCH_ITEMS}-iteration run for {WATCH_SECONDS} s "
        f"({watch['tasks_before']} -> {watch['tasks_after']} task records, run "
        f"{watch['state']} at the end):\n"
        f"  received: API {watch['api_kb']:.0f} KB, UI files {watch['other_kb']:.0f} KB, "
        f"total {watch['api_kb'] + watch['other_kb']:.0f} KB (on the wire)\n"
        f"  long main-thread tasks > 50 ms: {watch['long_n']}, "
        f"longest {watch['long_max']:.0f} ms"
    )


# -- reporting --------------------------------------------------------------------------
def _stats(values: list[float]) -> str:
    return (
        f"first {values[0]:.0f} | median {statistics.median(values):.0f} | "
        f"median after first {statistics.median(values[1:] or values):.0f} | max {max(values):.0f}"
    )


def _uptime() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--page-repeat", type=int, default=10)
    parser.add_argument("--graph-repeat", type=int, default=5)
    parser.add_argument("--no-live", action="store_true", help="skip the live-run page")
    parser.add_argument(
        "--watch-only", action="store_true", help="only part 4, over an empty database"
    )
    args = parser.parse_args()
    if not (UI_DIST / "index.html").is_file():
        sys.exit(f"The web UI is not built in {UI_DIST}: run `make ui`.")
    from playwright.sync_api import sync_playwright

    print(f"load average at start: {_uptime()}")
    spec = compile_to_dict(big_run)
    root_tasks = spec["root"]["dag"]["tasks"]
    loop = next(name for name, t in root_tasks.items() if "parameterIterator" in t)
    chain = sorted((n for n in root_tasks if n != loop), key=lambda n: (len(n), n))
    with tempfile.TemporaryDirectory(prefix="dagyard-ui-bench-") as folder:
        home = Path(folder)
        url = f"sqlite:///{home / 'dagyard.db'}"
        if not args.watch_only:
            seed_s, _ = api_bench._seed(url, args.runs, api_bench._spec(home))
            settled = _settle_seeded_runs(url)
            print(f"seeded {args.runs} runs in {seed_s:.1f} s; {settled} unfinished CANCELED")
        child, base = _start(home, url)
        try:
            with (
                httpx.Client(base_url=base + API, timeout=120) as api,
                sync_playwright() as playwright,
            ):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                viewport = {"width": 1440, "height": 900}
                context = browser.new_context(base_url=base, viewport=viewport)
                context.set_default_timeout(120_000)
                if args.watch_only:
                    _print_watch(_watch_page(context, api))
                    browser.close()
                    return

                runs = _runs_page(context, args.page_repeat)
                print(f"\nruns page, {args.runs} runs, {args.page_repeat} loads (ms):")
                for key, label in [
                    ("page", "25th row visible, performance.now()"),
                    ("wall", "25th row visible, wall around goto+wait"),
                    ("api_ms", "GET /runs request, start to end"),
                    ("api_end", "GET /runs response end, performance.now()"),
                    ("api_kb", "GET /runs body KB"),
                ]:
                    print(f"  {label}: {_stats([load[key] for load in runs['loads']])}")
                print(f"  Next until page 2 drawn: {runs['next_ms']:.0f}")

                run_id = _submit(api, spec, "ui-bench big")
                state, took = _wait_done(api, run_id)
                print(f"\nbig run {run_id}: {state} in {took:.1f} s (loop {loop!r})")
                graphs = [
                    _graph_page(context, run_id, loop, chain) for _ in range(args.graph_repeat)
                ]
                print(f"run page, {args.graph_repeat} loads (ms):")
                for key, label in [
                    ("graph", "graph drawn (loop counts + 50 nodes), performance.now()"),
                    ("tasks_ms", "GET /runs/{id}/tasks request"),
                    ("tasks_end", "GET /runs/{id}/tasks response end, performance.now()"),
                    ("tasks_kb", "GET /runs/{id}/tasks body KB"),
                    ("expand", "expand the loop until its iterations node is visible"),
                    ("panel", "click a task node until the task panel is visible"),
                ]:
                    print(f"  {label}: {_stats([g[key] for g in graphs])}")
                last = graphs[-1]
                print(
                    f"  zoomed out (chain as a band): {bool(last['zoomed_out'])}, "
                    f"first chain node visible: {bool(last['first_visible'])}, last: "
                    f"{bool(last['last_visible'])}; React Flow nodes after expanding: "
                    f"{last['rf_nodes']:.0f}"
                )
                if not args.no_live:
                    live = _live_page(context, api, spec, loop, chain)
                    print(
                        f"\nlive run: first graph at {live['first_ms']:.0f} ms "
                        f"(loop {live['state_at_first']}); the page showed the last task "
                        f"SUCCEEDED {live['shown_done_s']:.1f} s after the submit (run "
                        f"{live['state']}); long tasks > 50 ms while polling: "
                        f"{live['long_n']}, max {live['long_max']:.0f} ms, "
                        f"sum {live['long_sum']:.0f} ms"
                    )
                _print_watch(_watch_page(context, api))
                browser.close()
        finally:
            child.terminate()
            child.wait(30)
    print(f"\nload average at end: {_uptime()}")


if __name__ == "__main__":
    main()
