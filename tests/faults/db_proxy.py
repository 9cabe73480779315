"""A PostgreSQL server that goes away and comes back, for the fault tests: a TCP proxy on
a loopback port, run by an event loop in a thread of its own, between Dagyard and a
real server.

`cut()` drops every connection and refuses new ones (a server stopped or unreachable),
`restore()` listens again on the same port. `lose_commit_answers(n)` makes the next `n`
transactions that inserted rows commit on the server and then drops their connection
before the answer comes back: the client meets a lost connection during COMMIT, and its
writes are stored all the same (an ambiguous commit). Transactions are followed in
PostgreSQL's wire protocol only as far as that needs: an `INSERT 0 <n>` command tag
from the server marks one that inserted, and the client's `COMMIT` query ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

_INSERTED = b"INSERT 0 "
_COMMIT = b"COMMIT\x00"


class _Link:
    """One client's connection and the proxy's own to the server."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server
        self.inserted = False  # the open transaction has inserted rows
        self.losing = False  # the answer to its COMMIT is not to reach the client

    def drop(self) -> None:
        for writer in (self.client, self.server):
            writer.transport.abort()


class PostgresProxy:
    """Forwards connections to `127.0.0.1:port` to the server at `target`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._to_lose = 0
        #: How many answers to a COMMIT were dropped.
        self.lost_answers = 0
        self.port = 0
        self.restore()

    def url(self, database_url: str) -> str:
        """`database_url` (a PostgreSQL URL on the target) through this proxy."""
        import sqlalchemy as sa

        url = sa.make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self._run(self._cut())

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._run(self._listen())

    def lose_commit_answers(self, count: int) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "_to_lose", count)

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(10)

    async def _listen(self) -> None:
        if self._server is None or not self._server.is_serving():
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in self._links:
            link.drop()
        self._links.clear()

    async def _serve(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_in, server = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        link = _Link(client, server)
        if self._server is None or not self._server.is_serving():  # cut meanwhile
            link.drop()
            return
        self._links.add(link)
        await asyncio.gather(
            self._requests(client_in, link), self._answers(server_in, link), return_exceptions=True
        )
        link.drop()
        self._links.discard(link)

    async def _requests(self, source: asyncio.StreamReader, link: _Link) -> None:
        tail = b""
        while data := await source.read(65536):
            seen, tail = tail + data, data[-len(_COMMIT) :]
            if _COMMIT in seen:
                tail = b""
                if link.inserted and self._to_lose > 0:
                    self._to_lose -= 1
                    link.losing = True
                link.inserted = False
            link.server.write(data)
            await link.server.drain()

    async def _answers(self, source: asyncio.StreamReader, link: _Link) -> None:
        tail = b""
        while data := await source.read(65536):
            seen, tail = tail + data, data[-len(_INSERTED) :]
            if link.losing:
                if _COMMIT in seen:  # committed on the server; the client never hears it
                    self.lost_answers += 1
                    link.drop()
                    return
                continue
            if _INSERTED in seen:
                link.inserted = True
            link.client.write(data)
            with contextlib.suppress(ConnectionError):
                await link.client.drain()
