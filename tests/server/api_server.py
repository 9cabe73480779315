"""A real API server for the tests: uvicorn on a free port of 127.0.0.1 in a thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dagyard.server.app import create_app
from dagyard.service.platform import Platform
from dagyard.settings import Settings


class Server:
    def __init__(
        self,
        platform: Platform,
        *,
        token: str | None = None,
        ui_folder: Path | None = None,
        host: str = "127.0.0.1",
        **app_options: Any,
    ) -> None:
        with socket.socket() as probe:
            probe.bind((host, 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.platform = platform
        if ui_folder is not None:
            app_options["ui_folder"] = ui_folder
        config = uvicorn.Config(
            create_app(platform, token=token, **app_options),
            host=host,
            port=self.port,
            log_level="warning",
            ws="none",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> Server:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/apis/v2beta1", timeout=30, **kwargs)  # type: ignore[arg-type]


def open_platform(home: Path) -> Platform:
    return Platform.open(Settings(container_runtime="off", home=home, max_parallel=2))
