"""What runs in the Ray driver process: the connection to the cluster, Ray tasks and
their resources, collecting outcomes and cancelling (`_Driver`), and the loop that serves
the orchestrator's calls and sends it each outcome as its attempt ends (`serve`).
`RayExecutor` (`ray.py`) starts this process and talks to it; nothing else imports this
module, and `ray` is imported only here, in that process.

Belongs here: connecting to the cluster (and again after losing its head), asking Ray
for a task's resources, refusing at once what no node can ever fit, submitting,
collecting outcomes, cancelling. Not here: how a launch's resource settings become a Ray
request, and when one can never fit or waits (`ray_resources.py`); what the Ray task
does on its host (`ray_attempt.py` and `lifecycle.py`: the same attempt's life as the
local executor's, with cached virtual environments for `packages_to_install` built on
that host), and anything about pipelines. `ray` is imported only in the driver process.

A node selector and volumes place a task by `ray_placement.place`: on nodes with the
selector's labels, and on the engine's host's node when it mounts volumes.

A task that no alive node could ever fit fails at once, with a message naming the
resource; one that fits some node but finds it busy waits in Ray's queue, and `waiting`
reports it with the resource it waits for ("resource 'worker_node': needs 1, 0 free on
the only node that can run it"), so that the engine shows it as PENDING until it starts.
To know which attempts have started, each Ray task that asks for resources (only those
can wait for them) first writes one key to the cluster's key-value store (GCS; no
dashboard needed); `waiting` lists this executor's keys in one
call, only for attempts submitted more than `START_GRACE` seconds ago and not yet seen
started, at most once per `WAITING_TTL`, and reads the nodes' free resources then too.
An attempt is reported only while no node able to run it has its resources free (as
the cluster last reported them); one that Ray has placed but whose worker process is
still starting holds its resources, and may be reported until its key is seen.

An attempt whose node dies under it, or whose Ray worker process crashes, is reported
as lost (`Outcome.lost`), never retried by Ray itself (`max_retries=0`): the engine
decides, and records it as a system retry. Ray notices a dead node by missed health
checks (`RAY_health_check_*` settings of the head).

The node that ran an attempt is reported as its Ray node id (as `ray list nodes` shows
it). Logs are written by the Ray task to `Launch.log_path` on its host while it runs;
with an object-store artifact root, the launch's `staging` also ships them there, and
fetches inputs and uploads outputs on that node, so nodes need no shared file system.

Every node must run the same Python with dagyard installed: the Ray task imports
`dagyard.executors.ray_attempt` there.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from dagyard.errors import ExecutorError
from dagyard.executors.base import Launch, Outcome
from dagyard.executors.ray_attempt import run_attempt
from dagyard.executors.ray_placement import NodeView, Placement, place
from dagyard.executors.ray_resources import RayRequest, busy_reason, ray_request, unfit_reason
from dagyard.executors.staging import append_log

# How long the cluster's node list is trusted before asking again.
_NODES_TTL = 10.0
# An attempt younger than this is not asked about: most start well within it.
START_GRACE = 1.0
# How long `waiting`'s answer (started keys, free resources) is reused.
WAITING_TTL = 1.0
# The namespace of the cluster's key-value store where attempts say they started.
_KV_NAMESPACE = "dagyard"
_log = logging.getLogger(__name__)


def _attempt_task(started_key: str, *args: Any) -> Outcome:
    """The body of the executor's Ray task: say that the attempt started (one key in the
    cluster's key-value store, listed by `_Driver.waiting`; none if `started_key` is
    empty), then run it."""
    if started_key:
        from ray.experimental import internal_kv

        # Best effort: an attempt must not fail for it; unseen, it may only be reported
        # as waiting while its resources are not free anyway.
        with contextlib.suppress(Exception):
            internal_kv._internal_kv_put(started_key, b"", namespace=_KV_NAMESPACE)
    return run_attempt(*args)


@dataclasses.dataclass(eq=False)
class _Attempt:
    launch: Launch
    # None: never submitted (refused at once); its outcome is waiting for `collect`.
    ref: Any = None
    cancelled: bool = False
    # For `waiting`: what the Ray task asks for, when it was submitted, the key it
    # writes when it starts, and whether that key has been seen.
    needed: dict[str, float] = dataclasses.field(default_factory=dict)
    submitted_at: float = 0.0
    started_key: str = ""
    started: bool = False
    # What its placement could not honour (`ray_placement.place`), for its outcome.
    warnings: tuple[str, ...] = ()


class _Driver:
    """The Ray driver: runs attempts as Ray tasks on the cluster at `address`. It lives
    in the driver process (`serve`), never in the orchestrator's: see `RayExecutor`.

    Not an `Executor`: instead of waiting on given handles, `collect` hands over every
    attempt as it ends, and `serve` sends them on unasked."""

    def __init__(
        self,
        address: str,
        *,
        environments_root: Path | None = None,
        kill_grace: float = 5.0,
        container_runtime: str = "off",
        task_isolation: str = "host",
    ) -> None:
        # Another user of Ray in this process (a test, a second executor) keeps its
        # connection: only a connection made here is shut down by `close`.
        self._ray, self._owns_connection = _connect(address)
        self.address = address
        self._environments_root = str(environments_root) if environments_root else None
        self._kill_grace = kill_grace
        # Settings the attempt's host reads on the node that runs it (its own runtime).
        self._containers = (container_runtime, task_isolation)
        # No retries by Ray: a failed attempt is the engine's to retry (its retry policy).
        self._task = self._ray.remote(max_retries=0, retry_exceptions=False)(_attempt_task)
        # `_task` with each request's options, made once: Ray checks them on every call.
        self._tasks: dict[tuple[Any, ...], Any] = {}
        self._handles = itertools.count(1)
        self._attempts: dict[str, _Attempt] = {}
        # Attempts that ended, for `collect`: with their outcome, or the future of their
        # Ray task's result (put there by Ray, on a thread of its own).
        self._ended: queue.SimpleQueue[tuple[str, Outcome | concurrent.futures.Future[Any]]]
        self._ended = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._nodes: dict[str, dict[str, float]] = {}
        # The same nodes with their labels, for placing by node selector.
        self._views: dict[str, NodeView] = {}
        self._nodes_read = -_NODES_TTL
        # The keys this executor's attempts write when they start (`_attempt_task`).
        self._started_prefix = f"started:{uuid.uuid4().hex}:"
        # `waiting`'s last answer and when it was made; one caller refreshes it at a time.
        self._waiting_lock = threading.Lock()
        self._queued: dict[str, str] = {}
        self._queued_read = -WAITING_TTL
        self._closed = False
        # Set when an attempt was lost with its node, until the head is seen to answer.
        self.suspect = False

    def submit(self, launch: Launch, handle: str | None = None) -> str:
        """Submit `launch`, under `handle` if given (the orchestrator's own)."""
        with self._lock:
            if self._closed:
                raise ExecutorError("This RayExecutor is closed; open a new one to run tasks.")
            handle = handle or f"ray-{next(self._handles)}"
            attempt = _Attempt(launch)
            self._attempts[handle] = attempt
        placement = Placement()
        try:
            request = ray_request(launch.resources)
            reason = self._unfit(request)
            if reason is None and (launch.node_selector or launch.binds):
                placement = self._place(launch, request)
                reason = placement.refused
        except ExecutorError as e:
            reason = str(e)
        if reason is not None:
            write_log(launch, f"dagyard: {reason}\n")
            self._ended.put((handle, Outcome(exit_code=None, error=reason)))
            return handle
        for warning in placement.warnings:
            write_log(launch, f"dagyard: warning: {warning}\n")
        task = self._task_for(request, placement)
        # Only an attempt that asks for resources can wait for them (`waiting`); one
        # that asks for none is spared the two round trips to the head its key costs.
        started_key = self._started_prefix + handle if request.amounts() else ""
        ref = task.remote(
            started_key, launch, self._environments_root, self._kill_grace, *self._containers
        )
        with self._lock:
            attempt.ref = ref
            attempt.warnings = placement.warnings
            attempt.needed = request.amounts()
            attempt.submitted_at = time.monotonic()
            attempt.started_key = started_key
        # Ray calls this back once the task has ended: no thread of ours waits for it.
        ref.future().add_done_callback(lambda result: self._ended.put((handle, result)))
        return handle

    def refuse(self, handle: str, launch: Launch, reason: str) -> None:
        """Report `handle` as failed with `reason` without running it (a submit that
        raised where no caller was waiting to hear it)."""
        write_log(launch, f"dagyard: {reason}\n")
        with self._lock:
            self._attempts[handle] = _Attempt(launch)
        self._ended.put((handle, Outcome(exit_code=None, error=reason)))

    def collect(self) -> dict[str, Outcome]:
        """Block until attempts have ended; the outcome of every one that has, by handle.
        Each is handed over once, then forgotten."""
        ended = [self._ended.get()]
        with contextlib.suppress(queue.Empty):
            while True:
                ended.append(self._ended.get_nowait())
        finished = {}
        for handle, result in ended:
            with self._lock:
                attempt = self._attempts.pop(handle)
            if isinstance(result, Outcome):
                finished[handle] = result
                continue
            outcome = self._outcome(attempt, result)
            if attempt.warnings:
                outcome = dataclasses.replace(outcome, warnings=attempt.warnings)
            finished[handle] = outcome
            if attempt.started_key:
                self._forget_started(attempt.started_key)
        return finished

    def waiting(self, handles: Collection[str]) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            unsure = {
                h: a
                for h in handles
                if (a := self._attempts.get(h)) is not None
                and a.ref is not None
                and not a.started
                and not a.cancelled
                and a.needed  # a task that asks for nothing is never held for capacity
                and now - a.submitted_at >= START_GRACE
            }
        if not unsure:
            return {}
        with self._waiting_lock:
            if now - self._queued_read >= WAITING_TTL:
                self._queued = self._read_queued(unsure)
                self._queued_read = time.monotonic()
            return {h: self._queued[h] for h in unsure if h in self._queued}

    def cancel(self, handle: str) -> None:
        with self._lock:
            attempt = self._attempts.get(handle)
            if attempt is None or attempt.ref is None or attempt.cancelled:
                return
            attempt.cancelled = True
        # Not force: the Ray task gets KeyboardInterrupt and kills its child's process
        # group (force would kill the Ray worker and leave the group running).
        self._ray.cancel(attempt.ref, force=False)

    def close(self) -> None:
        with self._lock:  # `collect` forgets attempts meanwhile, on its own thread
            self._closed = True
            attempts = dict(self._attempts)
        for handle in attempts:
            self.cancel(handle)
        refs = [a.ref for a in attempts.values() if a.ref is not None]
        if refs:  # let the cancelled tasks kill their children
            self._ray.wait(refs, num_returns=len(refs), timeout=self._kill_grace + 5)
            self._forget_started(self._started_prefix, by_prefix=True)
        if self._owns_connection:
            self._ray.shutdown()
            self._owns_connection = False

    def _read_queued(self, unsure: Mapping[str, _Attempt]) -> dict[str, str]:
        """Of `unsure`, the attempts not started yet that wait for resources, with the
        reason: one listing of the started keys and one read of the nodes' free resources."""
        from ray._private.state import available_resources_per_node  # a DeveloperAPI
        from ray.experimental import internal_kv

        try:
            keys = internal_kv._internal_kv_list(self._started_prefix, namespace=_KV_NAMESPACE)
            free_by_node: dict[str, dict[str, float]] = available_resources_per_node()  # type: ignore[no-untyped-call]
        except Exception:  # the cluster does not answer now: report nothing this time
            return {}
        started = {key.decode() for key in keys}
        with self._lock:
            for attempt in unsure.values():
                attempt.started = attempt.started or attempt.started_key in started
        nodes = self._alive_nodes(fresh=False)
        ids = list(nodes)
        totals = [nodes[i] for i in ids]
        free = [{str(k): float(v) for k, v in free_by_node.get(i, {}).items()} for i in ids]
        queued = {}
        for handle, attempt in unsure.items():
            if not attempt.started:
                reason = busy_reason(attempt.needed, totals, free)
                if reason is not None:
                    queued[handle] = reason
        return queued

    def _task_for(self, request: RayRequest, placement: Placement) -> Any:
        """The Ray task with the options for `request`, placed as `placement` says."""
        custom = sorted(request.custom.items())
        selector = sorted((placement.label_selector or {}).items())
        shape = (
            request.num_cpus,
            request.memory,
            request.num_gpus,
            tuple(custom),
            tuple(selector),
            placement.node_id,
        )
        task = self._tasks.get(shape)
        if task is None:
            options: dict[str, Any] = {"num_cpus": request.num_cpus, "num_gpus": request.num_gpus}
            if request.memory:
                options["memory"] = request.memory
            if request.custom:
                options["resources"] = dict(request.custom)
            if placement.label_selector:
                options["label_selector"] = dict(placement.label_selector)
            if placement.node_id is not None:
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                    placement.node_id, soft=False
                )
            elif not request.num_cpus:
                options["scheduling_strategy"] = "SPREAD"
            task = self._tasks[shape] = self._task.options(**options)
        return task

    def _place(self, launch: Launch, request: RayRequest) -> Placement:
        """Where `launch` may run given its node selector and volumes (`ray_placement`),
        from the nodes as last read (read again before refusing: one may have joined)."""
        for fresh in (False, True):
            self._alive_nodes(fresh=fresh)
            placement = place(
                node_selector=launch.node_selector,
                mount_paths=tuple(bind.target for bind in launch.binds),
                needed=request.amounts(),
                nodes=self._views,
                home_node=self._home_node(),
                address=self.address,
            )
            if placement.refused is None and not placement.warnings:
                break
        return placement

    def _home_node(self) -> str | None:
        """The Ray node id of the node this driver is attached to: the engine's host."""
        try:
            return str(self._ray.get_runtime_context().get_node_id())
        except Exception:  # no node attached: the engine's host has none
            return None

    def _forget_started(self, key: str, *, by_prefix: bool = False) -> None:
        from ray.experimental import internal_kv

        with contextlib.suppress(Exception):  # a leftover key costs a few bytes of GCS
            internal_kv._internal_kv_del(key, del_by_prefix=by_prefix, namespace=_KV_NAMESPACE)

    def _unfit(self, request: RayRequest) -> str | None:
        needed = request.amounts()
        if not needed:
            return None
        reason = unfit_reason(needed, list(self._alive_nodes(fresh=False).values()))
        if reason is not None:  # a node may have joined since the list was read
            reason = unfit_reason(needed, list(self._alive_nodes(fresh=True).values()))
        return reason

    def _alive_nodes(self, *, fresh: bool) -> dict[str, dict[str, float]]:
        """The total resources of each alive node, by Ray node id."""
        if fresh or time.monotonic() - self._nodes_read > _NODES_TTL:
            alive = [node for node in self._ray.nodes() if node.get("Alive")]
            self._nodes = {
                str(node["NodeID"]): {
                    str(k): float(v) for k, v in node.get("Resources", {}).items()
                }
                for node in alive
            }
            self._views = {
                str(node["NodeID"]): NodeView(
                    self._nodes[str(node["NodeID"])],
                    {str(k): str(v) for k, v in (node.get("Labels") or {}).items()},
                )
                for node in alive
            }
            self._nodes_read = time.monotonic()
        return self._nodes

    def _outcome(self, attempt: _Attempt, future: concurrent.futures.Future[Any]) -> Outcome:
        exceptions = self._ray.exceptions
        try:  # the task has ended: this raises what `ray.get` would, at once
            result: Outcome = future.result(timeout=0)
        except exceptions.TaskCancelledError:
            return Outcome(exit_code=None, error="cancelled")
        except exceptions.RayError as e:
            if attempt.cancelled:
                return Outcome(exit_code=None, error=f"cancelled ({type(e).__name__})")
            if isinstance(e, _lost_errors(exceptions)):
                # The head itself may be what died: then this whole driver is done for,
                # and must take no attempt more (`serve` ends it).
                try:
                    check_reachable(self.address)
                except ExecutorError as gone:
                    raise _HeadLost(str(gone)) from e
                self.suspect = True  # or it restarted already: `serve` checks it
                self._nodes_read = -_NODES_TTL  # the dead node must not count as alive
                message = f"The Ray node or worker running this attempt was lost: {e}"
                write_log(attempt.launch, f"\ndagyard: {message}\n")
                return Outcome(exit_code=None, error=message, lost=True)
            return Outcome(exit_code=None, error=f"The Ray task failed: {e}")
        if attempt.cancelled:
            detail = result.error or f"exited with code {result.exit_code}"
            return Outcome(exit_code=None, error=f"cancelled ({detail})", host=result.host)
        return result


def _lost_errors(exceptions: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors for a task whose node or worker process died under it (Ray 2.60
    raises NodeDiedError when the node is killed mid-task), as opposed to the attempt's
    own failure. Its small result never lives in the object store, but an object lost
    with its node means the same."""
    return (
        exceptions.NodeDiedError,
        exceptions.WorkerCrashedError,
        exceptions.LocalRayletDiedError,
        exceptions.ObjectLostError,
    )


def write_log(launch: Launch, text: str) -> None:
    """Add a line of ours to the attempt's log (the outcome carries it anyway)."""
    if launch.staging.log_uri is not None:
        with contextlib.suppress(ExecutorError):
            append_log(launch.staging.log_uri, text)
        return
    try:
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(launch.log_path, "a") as log:
            log.write(text)
    except OSError:
        pass


def check_reachable(address: str) -> None:
    """Fail fast on a head that does not answer: `ray.init` waits minutes for one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", or a form Ray itself will judge
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as e:
        raise ExecutorError(
            f"Cannot reach the Ray cluster at {address!r}: {e}. Is its head running? "
            "Start one with `ray start --head --port PORT`, or fix --ray-address "
            "(DAGYARD_RAY_ADDRESS)."
        ) from e


def _connect(address: str) -> tuple[Any, bool]:
    """The `ray` module, connected to the cluster at `address`, and whether this call
    made the connection (Ray has one per process)."""
    try:
        import ray
    except ImportError as e:
        raise ExecutorError(
            "The Ray executor needs the 'ray' package: pip install 'dagyard[ray]'."
        ) from e
    check_reachable(address)
    if ray.is_initialized():
        return ray, False
    try:
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    except Exception as e:  # ConnectionError, or ValueError for a malformed address
        if _asks_for_a_token(e):
            raise ExecutorError(
                f"The Ray cluster at {address!r} asks for a token. Give this process the "
                "cluster's: RAY_AUTH_MODE=token, with the token in RAY_AUTH_TOKEN or in "
                "the file ~/.ray/auth_token (or the file that RAY_AUTH_TOKEN_PATH names)."
            ) from e
        raise ExecutorError(
            f"Cannot connect to the Ray cluster at {address!r}: {e}. Start one with "
            "`ray start --head --port PORT` and pass its address as --ray-address HOST:PORT."
        ) from e
    return ray, True


def _asks_for_a_token(error: BaseException) -> bool:
    """Whether Ray's connection error comes of the cluster asking for a token (Ray wraps
    that in a ConnectionError whose causes say so)."""
    seen: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and cause not in seen:  # a chain can loop back on itself
        if type(cause).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(cause):
            return True
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    return False


# How often the driver process checks that its head still answers.
HEAD_CHECK_EVERY = 1.0
# Calls the driver process answers on a thread of their own: they may block.
_BLOCKING = frozenset({"close"})
# The exit code of a driver process that lost its head.
EXIT_HEAD_LOST = 3


class _HeadLost(Exception):
    """The driver process's head no longer answers: the process must end."""


def serve(argv: list[str]) -> None:
    """The driver process: a `_Driver` connected to the head, answering calls from the
    orchestrator until it goes (its end of the connection closes) or the head is lost.
    Outcomes are sent unasked, as attempts end: `(0, "ended", {handle: outcome})`."""
    import multiprocessing.connection
    import os

    fd, address, environments_root, kill_grace, container_runtime, task_isolation = argv
    conn = multiprocessing.connection.Connection(int(fd))
    send_lock = threading.Lock()

    def answer(number: int, kind: str, value: Any) -> None:
        with send_lock, contextlib.suppress(OSError):
            conn.send((number, kind, value))

    try:
        driver = _Driver(
            address,
            environments_root=Path(environments_root) if environments_root else None,
            kill_grace=float(kill_grace),
            container_runtime=container_runtime,
            task_isolation=task_isolation,
        )
    except ExecutorError as e:
        answer(0, "error", e)
        return
    answer(0, "ok", None)
    threading.Thread(target=_watch_head, args=(driver,), daemon=True).start()

    def report() -> None:
        try:
            while True:
                answer(0, "ended", driver.collect())
        except _HeadLost:
            os._exit(EXIT_HEAD_LOST)
        except BaseException:
            # A driver that can no longer report outcomes must not keep its attempts:
            # ended, it has them reported lost and run again.
            _log.exception("The Ray driver process cannot report outcomes any more.")
            os._exit(1)

    threading.Thread(target=report, name="dagyard-ray-outcomes", daemon=True).start()

    def run(number: int, method: str, args: tuple[Any, ...]) -> None:
        try:
            answer(number, "ok", getattr(driver, method)(*args))
        except _HeadLost:
            os._exit(EXIT_HEAD_LOST)
        except Exception as e:
            answer(number, "error", e)

    while True:
        try:
            number, method, args = conn.recv()
        except (EOFError, OSError):
            break
        if method == "submit":  # its failure is the attempt's outcome, not an error
            launch, handle = args
            if driver.suspect:  # a node was lost: was it the head's? Then take nothing.
                try:
                    _check_head(driver)
                except Exception:
                    os._exit(EXIT_HEAD_LOST)
                driver.suspect = False
            try:
                driver.submit(launch, handle)
            except Exception as e:
                driver.refuse(handle, launch, f"Cannot submit this attempt to Ray: {e}")
            answer(number, "ok", handle)
        elif method in _BLOCKING:
            threading.Thread(target=run, args=(number, method, args), daemon=True).start()
        else:  # quick: answered in order, without a thread
            run(number, method, args)
    with contextlib.suppress(Exception):  # closed already, by a `close` call
        driver.close()
    os._exit(0)  # Ray's own threads must not keep a driver without an orchestrator


def _watch_head(driver: _Driver) -> None:
    """End the driver process once its head stops answering, or answers as another
    cluster (a head restarted without fault tolerance): Ray would only end it later, or
    never resolve its attempts."""
    import os

    while True:
        time.sleep(HEAD_CHECK_EVERY)
        try:
            _check_head(driver)
        except Exception:
            os._exit(EXIT_HEAD_LOST)


def _check_head(driver: _Driver) -> None:
    """Raise unless the driver's head answers as the cluster it connected to (one read
    from its key-value store; Ray may also end the process if it is another cluster)."""
    from ray.experimental import internal_kv

    check_reachable(driver.address)
    internal_kv._internal_kv_get("head-check", namespace=_KV_NAMESPACE)
