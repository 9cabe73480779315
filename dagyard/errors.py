"""Every error Dagyard raises on purpose. One root, a few branches:

    DagyardError
    ├── DslError            a pipeline or component is defined wrongly (raised at definition)
    │   └── ComponentLoadError   a component file or text cannot be loaded
    ├── CompileError        a valid definition cannot be written as IR
    ├── IRError             an IR document is malformed or inconsistent
    ├── UsageError          a command-line or API argument is wrong
    ├── ExecutorError       an executor cannot prepare or start a task (e.g. its environment)
    ├── StoreError          the metadata or artifact store failed or was asked wrongly
    │   ├── NotFound        no record with that id
    │   └── AlreadyExists   a record with that unique name exists
    ├── RunError            a run cannot be started, resumed or retried as asked
    ├── TaskFailed          a run called from Python (dagyard.local) ended with a failed task;
    │                       also a RuntimeError, which is what kfp.local raises
    ├── UserCodeError       the user's own file raised while it was loaded
    └── ApiError            a Dagyard server answered a client's request with an error

Messages name the offending value and say how to fix it. Nothing else belongs here.
"""


class DagyardError(Exception):
    """Root of every error Dagyard raises deliberately."""


class DslError(DagyardError):
    """A component or pipeline definition is wrong; raised while it is being defined."""


class ComponentLoadError(DslError):
    """A component YAML (IR or v1 `component.yaml`) cannot be turned into a component."""


class CompileError(DagyardError):
    """A definition cannot be compiled to pipeline IR."""


class IRError(DagyardError):
    """An IR document is invalid. `path` locates the problem inside the document."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UsageError(DagyardError):
    """A command-line argument or option is wrong."""


class ExecutorError(DagyardError):
    """An executor cannot prepare or start a task, e.g. its Python environment fails to build."""


class StoreError(DagyardError):
    """The metadata or artifact store cannot do what was asked."""


class NotFound(StoreError):
    """No record with the given id."""


class AlreadyExists(StoreError):
    """A record with the same unique name exists already."""


class LeaseLost(StoreError):
    """A write fenced by a run's lease was refused: its owner no longer holds the lease
    (another process took the run over), and nothing was written."""


class RunError(DagyardError):
    """A run cannot be started, resumed or retried as asked (e.g. a bad parameter)."""


class UserCodeError(DagyardError):
    """A user's pipeline file raised an exception of its own (not a DagyardError) while it
    was loaded: an import error, or an exception in a definition. The original is the
    `__cause__`; `traceback` is its traceback cut to the user's frames."""

    def __init__(self, message: str, *, traceback: str) -> None:
        self.traceback = traceback
        super().__init__(message)


class TaskFailed(DagyardError, RuntimeError):
    """A component or pipeline run by `dagyard.local` did not succeed. `run_id` is its run,
    `task` the path of the task that failed ("" when no task did, e.g. a bad input), `state`
    that task's (or else the run's) final state, and `log_tail` the end of its log."""

    def __init__(
        self, message: str, *, run_id: str, task: str, state: str, log_tail: str = ""
    ) -> None:
        self.run_id = run_id
        self.task = task
        self.state = state
        self.log_tail = log_tail
        super().__init__(message)


class ApiError(DagyardError):
    """The server refused a request of `dagyard.Client`. `status` is the HTTP status,
    `code` the gRPC code of KFP's error JSON, and the message the server's own."""

    def __init__(self, message: str, *, status: int, code: int = 0) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{message} (HTTP {status})")
