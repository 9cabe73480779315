"""The web UI's files: the built single-page app (ui/ built into `ui_dist/`), served
beside the API so that `dagyard up` needs no Node at run time.

`/assets/...` are the bundle's content-hashed files (cached for a year), sent as the
build's Brotli copies to browsers that accept them (gzipped on the fly otherwise); any other GET
outside `/apis` that matches no route is answered with `index.html`, so that the app's
own routes (`/runs/<id>`) survive a reload. Nothing here reads the platform.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

UI_DIST = Path(__file__).resolve().parent / "ui_dist"

_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>Dagyard</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Dagyard</h1><p>The API is up at <a href="/docs">/docs</a>, but this installation has no
built web UI. Build it with <code>make ui</code> (needs Node.js 20) in a source checkout, or
install a wheel built with the UI.</p></body></html>"""


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        packed = self._brotli(path, scope)
        if packed is not None:
            media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            response: Response = FileResponse(
                packed, media_type=media_type, headers={"Content-Encoding": "br"}
            )
        else:
            response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["Vary"] = "Accept-Encoding"
        return response

    def _brotli(self, path: str, scope: Scope) -> Path | None:
        """The build's Brotli copy of the file (`<file>.br`, made by the UI's build) when
        the client accepts Brotli and there is one; the gzip middleware leaves a response
        that has its encoding alone."""
        accepted = Headers(scope=scope).get("accept-encoding", "")
        if "br" not in {part.split(";")[0].strip() for part in accepted.split(",")}:
            return None
        full, _ = self.lookup_path(path)
        packed = Path(full + ".br") if full else None
        return packed if packed is not None and packed.is_file() else None


def add_ui(app: FastAPI, folder: Path = UI_DIST) -> None:
    """Serve the built UI in `folder` (a page saying how to build it when it is missing)."""
    app.state.ui_folder = folder
    app.mount("/assets", _Assets(directory=folder / "assets", check_dir=False), name="assets")


def page_for(request: Request) -> Response | None:
    """The app's page for a GET that matched no route, or None for API paths and other
    methods (they keep their JSON 404)."""
    folder: Path | None = getattr(request.app.state, "ui_folder", None)
    path = request.url.path
    if folder is None or request.method not in ("GET", "HEAD"):
        return None
    if path.startswith(("/apis/", "/assets/")):
        return None
    if path in ("/openapi.json", "/docs", "/redoc"):
        return None
    index = folder / "index.html"
    if not index.is_file():
        return HTMLResponse(_NOT_BUILT)
    top = folder / path.lstrip("/")
    # Top-level files of the bundle (favicon and the like); nothing outside the folder.
    if top.parent == folder and top.is_file():
        return FileResponse(top)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
