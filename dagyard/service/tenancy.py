"""Namespaces, their tokens, and who a request is: plain functions over a `Platform`.
`dagyard namespaces` and `dagyard tokens` are shells over them; the server asks
`authenticate` for every API call and holds each call to its `Principal`.

A namespace token is made here, shown once to whoever made it, and stored as its SHA-256
digest only: a token is 32 random bytes, so a plain digest cannot be reversed, and it is
compared as a digest (an index lookup), never as text. The admin token is the server's
own (DAGYARD_AUTH_TOKEN, or `<home>/token`) and sees every namespace.

Rules (docs/service.md): a namespace token reaches its namespace's pipelines,
experiments, runs, recurring runs, artifacts and logs, and reads the shared pipelines
(those of no namespace); an `edit` token may create, change and delete there, a `view`
token only read; shared pipelines are changed by the admin only. Experiments, runs and
recurring runs of no namespace are the admin's. A run's namespace is its experiment's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagyard.errors import Forbidden, RunError, UsageError
from dagyard.service.platform import Platform
from dagyard.store.listing import ListQuery
from dagyard.store.records import ApiToken, Namespace, Role, RunState, TaskKind, TaskState

# A namespace's name: a Kubernetes namespace's (a DNS label), so that KFP's names work.
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# What starts every namespace token (it tells a leaked token's origin at a glance).
TOKEN_PREFIX = "dgy_"
_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a request is: the admin (every namespace, any change), or the holder of a
    namespace token (one namespace), or a user named by a trusted proxy (the namespaces
    of the user mapping), each namespace with its role. `user` names the caller in
    messages ("" for a token)."""

    roles: tuple[tuple[str, Role], ...] = ()
    admin: bool = False
    user: str = ""

    @property
    def namespaces(self) -> dict[str, Role]:
        return dict(self.roles)

    @property
    def namespace(self) -> str | None:
        """The caller's one namespace; None for the admin or a caller with several."""
        return self.roles[0][0] if len(self.roles) == 1 and not self.admin else None

    def visible(self, namespace: str, *, shared: bool = False) -> bool:
        """Whether a resource of `namespace` is visible to this caller. "" is the admin's
        namespace, except for resources that are `shared` there (pipelines), which
        every caller reads. A caller that may not see a resource is told it does not
        exist (NotFound, worded as for an unknown id), never that it is another's."""
        return self.admin or namespace in self.namespaces or (shared and namespace == "")

    def check_write(self, namespace: str, what: str) -> None:
        """Forbidden unless this caller may create or change `what` in `namespace`."""
        if self.admin:
            return
        role = self.namespaces.get(namespace)
        if role is Role.EDIT:
            return
        if role is Role.VIEW:
            viewer = (
                f"User {self.user!r} may only view namespace {namespace!r}"
                if self.user
                else f"Your token is a view token for namespace {namespace!r}"
            )
            raise Forbidden(
                f"{viewer}: it cannot change {what}. Ask for an edit token (`dagyard tokens "
                "create --role edit`) or an edit role."
            )
        place = "shared (no namespace)" if not namespace else f"in namespace {namespace!r}"
        raise Forbidden(
            f"{self._who()} is for {self._mine()}; {what} is {place}, which only the admin "
            "token may change."
        )

    def listing_namespace(self, asked: str | None) -> str | None:
        """The namespace a listing is held to: what was `asked` (None: any) for the
        admin; one of the caller's own otherwise (its only one when it asks for none),
        Forbidden for another."""
        if self.admin:
            return asked
        if asked:
            if asked not in self.namespaces:
                raise Forbidden(
                    f"{self._who()} is for {self._mine()}; it cannot list namespace {asked!r}."
                )
            return asked
        if self.namespace is None:
            raise UsageError(
                f"{self._who()} reaches several namespaces ({', '.join(self.namespaces)}); "
                "name one (namespace=, or the experiment's id for a run)."
            )
        return self.namespace

    def default_namespace(self, given: str | None) -> str:
        """The namespace of a resource this caller creates without naming one: its only
        namespace (the admin's: shared); UsageError for a caller with several."""
        if given:
            return given
        if self.admin:
            return ""
        return self.listing_namespace(None) or ""

    def _who(self) -> str:
        return f"User {self.user!r}" if self.user else "Your token"

    def _mine(self) -> str:
        names = list(self.namespaces)
        if len(names) == 1:
            return f"namespace {names[0]!r}"
        return "namespaces " + ", ".join(repr(n) for n in names)


ADMIN = Principal(admin=True)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} cannot be a namespace name: use at most 63 lower-case letters, digits "
            "and '-', starting and ending with a letter or digit (a Kubernetes namespace's "
            "rules)."
        )


def create_namespace(platform: Platform, name: str) -> Namespace:
    check_name(name)
    return platform.store.create_namespace(name)


def list_namespaces(platform: Platform) -> list[Namespace]:
    return platform.store.list_namespaces()


def delete_namespace(platform: Platform, name: str) -> None:
    """Delete the namespace and its tokens; refused while it holds pipelines, experiments
    or recurring runs (delete those first: nothing is lost by a typo)."""
    platform.store.get_namespace(name)
    one = ListQuery(page_size=1)
    held = [
        noun
        for noun, page in (
            ("pipelines", platform.store.page_pipelines(one, namespace=name)),
            ("experiments", platform.store.page_experiments(one, namespace=name)),
            ("recurring runs", platform.store.page_recurring_runs(one, namespace=name)),
        )
        if page.records
    ]
    if held:
        raise RunError(
            f"Namespace {name!r} still holds {', '.join(held)}; delete them first (its runs "
            "go with their experiments)."
        )
    platform.store.delete_namespace(name)


def create_token(
    platform: Platform,
    namespace: str,
    role: Role | str,
    *,
    label: str = "",
    expires_in: str | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `namespace` with `role`: its record and the token itself, which
    nothing can tell again. `expires_in`: "12h", "30d", "8w" (None: never)."""
    try:
        role = Role(role)
    except ValueError as e:
        raise UsageError(f"A token's role is edit or view, not {role!r}.") from e
    platform.store.get_namespace(namespace)
    moment = now or datetime.now(UTC)
    expires_at = moment + parse_duration(expires_in) if expires_in else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = platform.store.create_token(
        ApiToken(
            token_id=uuid.uuid4().hex[:12],
            namespace=namespace,
            role=role,
            digest=digest(token),
            label=label,
            created_at=moment,
            expires_at=expires_at,
        )
    )
    return record, token


def parse_duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise UsageError(
            f"{text!r} is not a token lifetime; give a whole number of hours, days or weeks, "
            "such as 12h, 30d or 8w."
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def list_tokens(platform: Platform, namespace: str | None = None) -> list[ApiToken]:
    return platform.store.list_tokens(namespace)


def revoke_token(platform: Platform, token_id: str) -> ApiToken:
    return platform.store.revoke_token(token_id)


def authenticate(platform: Platform, token: str, now: datetime | None = None) -> Principal | None:
    """The principal of a namespace token; None when it is no token of ours, or revoked,
    or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = platform.store.find_token(digest(token))
    moment = now or datetime.now(UTC)
    if found is None or found.revoked_at is not None:
        return None
    if found.expires_at is not None and found.expires_at <= moment:
        return None
    return Principal(roles=((found.namespace, found.role),))


def load_users(path: Path) -> dict[str, Principal]:
    """The principals of the users an authenticating proxy names, from the JSON file at
    `path`: {"USER": {"NAMESPACE": "edit" or "view", ...}, ...}. UsageError naming the
    file and what is wrong in it."""
    try:
        given = json.loads(path.read_text())
    except OSError as e:
        raise UsageError(f"Cannot read the user namespaces file {str(path)!r}: {e}") from e
    except ValueError as e:
        raise UsageError(f"The user namespaces file {str(path)!r} is not JSON: {e}") from e
    if not isinstance(given, dict):
        raise UsageError(
            f"The user namespaces file {str(path)!r} must hold an object of users, such as "
            '{"alice@example.com": {"team-a": "edit"}}.'
        )
    users = {}
    for user, namespaces in given.items():
        if not isinstance(namespaces, dict) or not namespaces:
            raise UsageError(
                f"In {str(path)!r}, user {user!r} needs an object of namespaces and roles, "
                'such as {"team-a": "edit", "team-b": "view"}.'
            )
        roles = []
        for namespace, role in namespaces.items():
            check_name(namespace)
            if role not in (Role.EDIT.value, Role.VIEW.value):
                raise UsageError(
                    f"In {str(path)!r}, user {user!r} has role {role!r} in {namespace!r}; a "
                    "role is edit or view."
                )
            roles.append((namespace, Role(role)))
        users[user] = Principal(roles=tuple(sorted(roles)), user=user)
    return users


@dataclasses.dataclass(frozen=True)
class Work:
    """A namespace's unfinished work at one moment: its runs running (or stopping), its
    runs pending (of which `runs_waiting` are held back by DAGYARD_NAMESPACE_MAX_RUNS),
    and the tasks of its runs that are running."""

    namespace: str
    runs_running: int = 0
    runs_pending: int = 0
    runs_waiting: int = 0
    tasks_running: int = 0


def work(platform: Platform, principal: Principal = ADMIN) -> list[Work]:
    """The unfinished work of each namespace the caller reaches (the admin: every
    namespace with any, "" included), by namespace."""
    store = platform.store
    namespace_of = {e.experiment_id: e.namespace for e in store.list_experiments()}
    unfinished = store.list_runs(states=[RunState.PENDING, RunState.RUNNING, RunState.CANCELING])
    found: dict[str, dict[str, int]] = {}
    if not principal.admin:
        found = {name: {} for name in principal.namespaces}
    for run in unfinished:
        namespace = namespace_of.get(run.experiment_id or "", "")
        if not principal.visible(namespace):
            continue
        counts = found.setdefault(namespace, {})
        if run.state is RunState.PENDING:
            counts["runs_pending"] = counts.get("runs_pending", 0) + 1
            if run.waiting_reason:
                counts["runs_waiting"] = counts.get("runs_waiting", 0) + 1
        else:
            counts["runs_running"] = counts.get("runs_running", 0) + 1
            running = sum(
                1
                for task in store.list_tasks(run.run_id)
                if task.state is TaskState.RUNNING and task.kind is TaskKind.CONTAINER
            )
            counts["tasks_running"] = counts.get("tasks_running", 0) + running
    return [Work(namespace=name, **counts) for name, counts in sorted(found.items())]
