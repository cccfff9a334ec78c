"""The merchant chat page: a static page served at `/`, its assets under `/static/`.

The page is plain HTML, CSS and JavaScript with nothing fetched from elsewhere, so it works
with no internet; it talks to the chat API with the API key the user signs in with.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

STATIC_DIR = Path(__file__).parent / "static"

# The files are small and change with each release: the browser revalidates them each time
# (a 304 when unchanged) rather than running a stale script against a newer API.
NO_CACHE = "no-cache"


class RevalidatedStaticFiles(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = NO_CACHE
        return response


def mount_web(app: FastAPI) -> None:
    """Serve the chat page at `/` and its assets under `/static/`."""
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": NO_CACHE}
        )
