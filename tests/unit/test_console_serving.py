"""How the gateway serves the web console (``gateway/console.py``), against a build of the
test's own: client-side routes, the reserved paths, security headers, caching, gzip, no file
outside the build; and ``make bench``'s rows for the console. The journeys are in
tests/browser; the built console through the real gateway in tests/api/test_console_api.py."""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from bench import console as console_bench
from gateway.console import CONTENT_SECURITY_POLICY, Console

INDEX = ("<!doctype html><html><body><div id=app></div>"
         "<script type=module src=/assets/app-1a2b.js></script></body></html>")


# --- serving: a build of our own, the gateway's Console fallback -----------------------------

class Served:
    """Requests to an ASGI app in this process (httpx's ASGI transport), one at a time."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def request(self, method: str, path: str, headers: dict[str, str] | None = None
                ) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as c:
                return await c.request(method, path, headers=headers)
        # a thread of its own: Playwright's sync API (tests/browser) keeps a loop in this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(go())).result()

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", path, headers)

    def head(self, path: str) -> httpx.Response:
        return self.request("HEAD", path)

    def post(self, path: str) -> httpx.Response:
        return self.request("POST", path)


@pytest.fixture
def served(tmp_path: Path) -> Served:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('控制台');\n" * 100)
    (tmp_path / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")

    async def api(request):  # a route the console must never shadow
        from starlette.responses import JSONResponse
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/api/v1/thing", api)])
    app.router.default = Console(app.router.default, dist=tmp_path)
    (tmp_path.parent / "secret.txt").write_text("outside the build")
    return Served(app)


def test_client_side_routes_get_index_html_with_the_security_headers(served):
    for path in ("/", "/e/demands/3f1c", "/triage", "/login?redirect=%2Ftasks"):
        answer = served.get(path)
        assert answer.status_code == 200, path
        assert answer.text == INDEX
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-cache"
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'" and "unsafe" not in CONTENT_SECURITY_POLICY
    assert policy["frame-ancestors"] == "'none'"


def test_hashed_assets_are_cached_for_a_year_and_gzipped(served):
    answer = served.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "javascript" in answer.headers["content-type"]
    assert "控制台" in answer.text  # the client decoded it
    raw = served.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)
    again = served.get("/assets/app-1a2b.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    assert served.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")


def test_a_missing_asset_is_404_not_the_page(served):
    answer = served.get("/assets/gone-0000.js")
    assert answer.status_code == 404
    assert "<html" not in answer.text


def test_the_api_and_the_operators_paths_are_never_the_console(served):
    assert served.get("/api/v1/thing").json() == {"ok": True}
    for path in ("/api/v1/nothing", "/api", "/docs/x", "/metrics/x", "/healthz/x",
                 "/openapi.json.bak"):
        answer = served.get(path)
        assert answer.status_code == 404, path
        assert answer.text != INDEX
    assert served.post("/e/demands").status_code == 404  # only GET and HEAD are the console's


def test_no_file_outside_the_build_is_served(served):
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        answer = served.get(path)
        assert "outside the build" not in answer.text, path


def test_head_answers_the_headers_only(served):
    answer = served.head("/triage")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path):
    app = Starlette()
    app.router.default = Console(app.router.default, dist=tmp_path / "missing")
    answer = Served(app).get("/")
    assert answer.status_code == 503
    assert "make web" in answer.text


def test_the_console_benchmark_table():
    """``make bench``'s rows for the console: figures with their budgets, never a verdict."""
    figures = {
        "open_demands": 1000,
        "sign_in": {"gzip_bytes": 150 * 1024, "js_gzip_bytes": 120 * 1024,
                    "css_gzip_bytes": 30 * 1024, "bytes": 500 * 1024},
        "triage_queue": {"render_p50_ms": 80.0, "render_max_ms": 120.0, "loads": 7},
        "api_calls": {"/triage": {"calls": 1}, "/ledger": {"calls": 4},
                      "coordinator: first page after sign-in": {"calls": 6}},
        "max_calls_per_page": 4,
        "overview": {"charts_p50_ms": 640.0, "charts_max_ms": 900.0, "after_api_p50_ms": 210.0,
                     "loads": 7, "chunk_gzip_bytes": 190 * 1024},
    }
    rows = console_bench.summary_rows(figures)
    text = "\n".join("  ".join(r) for r in rows)
    assert "150 KB" in text and "budget 300 KB" in text
    assert "p50 80 ms" in text and "budget 500 ms" in text
    assert "4 (/ledger)" in text and "budget 3" in text
    assert "p50 640 ms" in text and "budget 1000 ms" in text and "190 KB" in text
    assert all(len(r) == 4 for r in rows)
