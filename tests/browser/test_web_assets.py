"""The chat page's files as served, without a browser: what mount_web routes, and that the
page needs nothing from outside the server."""

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from web import STATIC_DIR, mount_web


def client() -> TestClient:
    app = FastAPI()
    mount_web(app)
    return TestClient(app)


def test_serve_page_at_root() -> None:
    response = client().get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/static/app.js">' in response.text


def test_serve_assets_under_static() -> None:
    with client() as http:
        for name, media in (("app.js", "javascript"), ("app.css", "text/css")):
            response = http.get(f"/static/{name}")
            assert response.status_code == 200
            assert media in response.headers["content-type"]
            assert response.headers["cache-control"] == "no-cache"
        assert http.get("/static/missing.js").status_code == 404


def test_load_nothing_from_other_hosts() -> None:
    # Every script, stylesheet, import, fetch and image is a path on this server: no CDN.
    remote = re.compile(r"""(?:src|href|url\(|import|from|fetch\()\s*=?\s*["']?(?:https?:)?//""")
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not remote.search(text), f"{path.name} loads something from another host"
    assert remote.search('<script src="https://cdn.example/x.js">'), "the check finds one"
