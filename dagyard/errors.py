"""Every error Dagyard raises on purpose. One root, a few branches, each either the
caller's fault (4xx: the request must change) or ours (5xx: the request was fine):

    DagyardError                 ours (500) unless a branch says otherwise
    ├── DslError            400  a pipeline or component is defined wrongly (at definition)
    │   └── ComponentLoadError   a component file or text cannot be loaded
    ├── CompileError        400  a valid definition cannot be written as IR
    ├── IRError             400  an IR document is malformed or inconsistent
    ├── UsageError          400  a command-line or API argument is wrong
    ├── RunError            400  a run cannot be started, resumed or retried as asked
    ├── UserCodeError       400  the user's own file raised while it was loaded
    ├── StoreError          400  the metadata or artifact store cannot hold or find what
    │   │                        was asked (a bad value, an unreadable file)
    │   ├── NotFound        404  no record with that id
    │   ├── AlreadyExists   409  a record with that unique name exists
    │   ├── Conflict        409  a write broke a unique or foreign key of the database
    │   ├── LeaseLost       409  a write fenced by a run's lease came from a process that
    │   │                        no longer holds it
    │   ├── StoreUnavailable 503 the database does not answer (unreachable, or a lock not
    │   │                        granted in time): retry later, nothing was written
    │   └── StoreFailure    500  the database refused in a way no request explains
    ├── ExecutorError       500  an executor cannot prepare or start a task (e.g. its environment)
    ├── TaskFailed               a run called from Python (dagyard.local) ended with a failed
    │                            task; also a RuntimeError, which is what kfp.local raises
    └── ApiError                 a Dagyard server answered a client's request with an error
                                 (`status` is the server's)

`status` is the HTTP status the API answers with; the server maps it in one place
(`dagyard.server.app`) and never shows the message of a 5xx, which may hold a database
URL or a path, to the client. The CLI maps the same classes to exit codes
(`dagyard.cli.exit_codes`). Messages name the offending value and say how to fix it.
Nothing else belongs here.
"""


class DagyardError(Exception):
    """Root of every error Dagyard raises deliberately."""

    #: The HTTP status of an API answer with this error: 500 (ours) unless a subclass
    #: is the caller's fault.
    status: int = 500


class DslError(DagyardError):
    """A component or pipeline definition is wrong; raised while it is being defined."""

    status = 400


class ComponentLoadError(DslError):
    """A component YAML (IR or v1 `component.yaml`) cannot be turned into a component."""


class CompileError(DagyardError):
    """A definition cannot be compiled to pipeline IR."""

    status = 400


class IRError(DagyardError):
    """An IR document is invalid. `path` locates the problem inside the document."""

    status = 400

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UsageError(DagyardError):
    """A command-line argument or option is wrong."""

    status = 400


class Forbidden(DagyardError):
    """The caller's token may not do this (another namespace's listing, a change with a
    view token, a shared resource changed by a namespace token)."""

    status = 403


class ExecutorError(DagyardError):
    """An executor cannot prepare or start a task, e.g. its Python environment fails to build."""


class StoreError(DagyardError):
    """The metadata or artifact store cannot do what was asked."""

    status = 400


class NotFound(StoreError):
    """No record with the given id."""

    status = 404


class AlreadyExists(StoreError):
    """A record with the same unique name exists already."""

    status = 409


class LeaseLost(StoreError):
    """A write fenced by a run's lease was refused: its owner no longer holds the lease
    (another process took the run over), and nothing was written."""

    status = 409


class Conflict(StoreError):
    """A write broke a unique key or a foreign key of the database; the store's callers
    say which, in words (most turn it into AlreadyExists or NotFound)."""

    status = 409


class StoreUnavailable(StoreError):
    """The metadata database does not answer: it cannot be reached, or a lock was not
    granted within the timeout, or its disk is full. Nothing was written (unless the
    connection was lost during COMMIT); the same call may succeed later. `reason` says
    why in words a client may read (no URL, no path), when it is known."""

    status = 503

    def __init__(self, message: str, *, reason: str = "") -> None:
        self.reason = reason
        super().__init__(message)


class StoreFailure(StoreError):
    """The metadata database refused a statement in a way no request explains (e.g. a
    schema it does not have): a fault of ours or of the database's set-up."""

    status = 500


class RunError(DagyardError):
    """A run cannot be started, resumed or retried as asked (e.g. a bad parameter)."""

    status = 400


class UserCodeError(DagyardError):
    """A user's pipeline file raised an exception of its own (not a DagyardError) while it
    was loaded: an import error, or an exception in a definition. The original is the
    `__cause__`; `traceback` is its traceback cut to the user's frames."""

    status = 400

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
