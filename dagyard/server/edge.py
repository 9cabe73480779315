"""The HTTP server's edge: what any request must be before a route, the token check or
the body parser sees it. Two ASGI middlewares:

`BodyLimit` refuses (413) a request body over a size, counted as the bytes arrive: a
chunked body (no Content-Length) is cut off at the limit like one that declares its
length, and none is held in memory past it.

`HostCheck` has two rules. The Host header must name an allowed
host (`AllowedHosts`): a web page whose own DNS name an attacker rebinds to 127.0.0.1
reaches a loopback server under that name, and is refused. A write (POST, PUT, PATCH,
DELETE) that a browser sends from another origin is refused: its Origin must be the
server's own or an allowed host's, and without an Origin its Sec-Fetch-Site must not be
cross-site. Clients that are not browsers (kfp.Client, dagyard.Client, curl) send no
Origin and pass.

Nothing here reads the platform or the token.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dagyard.server.responses import INVALID_ARGUMENT, PERMISSION_DENIED, error_response

# Always allowed: the names of this machine's loopback interface.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# The setting and the option that add hosts, as messages name them.
SETTING = "DAGYARD_ALLOWED_HOSTS"
OPTION = "dagyard up --allowed-host"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def host_name(value: str) -> str:
    """The host of a Host header or an allowed-host entry, without its port, brackets
    or final dot, in lower case: "[::1]:8888" -> "::1", "Example.org.:80" -> "example.org"."""
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class AllowedHosts:
    """The hosts a request may name: the loopback names (any 127.x.y.z too), and each
    entry given. An entry is a name or an address ("dagyard.example.org", "10.0.0.5"),
    "*.example.org" (any name under it), an unspecified address ("0.0.0.0" or "::":
    any address, for a server listening on every interface) or "*" (any host at all).
    Ports do not matter."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        names = [host_name(entry) for entry in entries if entry.strip()]
        self.any_host = "*" in names
        self.any_address = any((ip := _ip(n)) is not None and ip.is_unspecified for n in names)
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))
        self.names = frozenset(LOOPBACK_HOSTS) | {n for n in names if not n.startswith("*")}

    def allows(self, host: str) -> bool:
        """Whether a request may name `host` (a Host header's value) in its Host."""
        return self.any_host or self._names(host_name(host), any_address=self.any_address)

    def allows_origin(self, host: str) -> bool:
        """Whether a page on `host` may write to this server from its own origin: only
        hosts allowed by name or address, never by "*" or an unspecified address."""
        return self._names(host_name(host), any_address=False)

    def _names(self, name: str, *, any_address: bool) -> bool:
        ip = _ip(name)
        if ip is not None and (ip.is_loopback or any_address):
            return True
        return name in self.names or name.endswith(self.suffixes)


class HostCheck:
    """ASGI middleware: refuses (400) a request whose Host is not allowed, and (403) a
    write from a browser page of a foreign origin."""

    def __init__(self, app: ASGIApp, *, allowed: AllowedHosts) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            host = headers.get("host", "")
            if not self.allowed.allows(host):
                response = error_response(400, INVALID_ARGUMENT, _foreign_host(host))
                return await response(scope, receive, send)
            if scope["method"] in _WRITES and (refusal := self._cross_origin(headers, host)):
                response = error_response(403, PERMISSION_DENIED, refusal)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def _cross_origin(self, headers: Headers, host: str) -> str | None:
        """Why a write with these headers comes from a foreign page, or None."""
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site", "").lower() == "cross-site":
                return (
                    "Refused a write sent by a page of another site (Sec-Fetch-Site: "
                    "cross-site); use the UI of this server, or a client that is not a "
                    "browser."
                )
            return None
        netloc = urlsplit(origin).netloc.lower()
        if netloc and (netloc == host.lower() or self.allowed.allows_origin(netloc)):
            return None
        return (
            f"Refused a write sent by a page of origin {origin!r}, not this server's; "
            f"if that page is yours, add its host to {SETTING} (or {OPTION})."
        )


class _BodyTooLarge(Exception):
    """Raised from `receive` to whatever is reading a body past the limit."""


class BodyLimit:
    """ASGI middleware: a request body of more than `max_bytes` gets a 413 with
    `message`, whether its Content-Length says so or its bytes do as they arrive."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, message: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(scope, receive, send)
        received = 0
        cut = started = False

        async def counted() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    cut = True
                    raise _BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if cut:
                return  # the app's answer to a body cut short; ours replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            # The reader may re-raise the cut as an error of its own (a 400, a 500).
            if not cut or started:
                raise
        if cut and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, INVALID_ARGUMENT, self.message)(scope, receive, send)


def _foreign_host(host: str) -> str:
    if not host:
        return "The request has no Host header; send the name the server is reached under."
    name = host_name(host)
    return (
        f"Host {host!r} is not a name of this server. If it is one, allow it: "
        f"{SETTING}={name} (comma-separated, or {OPTION} {name})."
    )
