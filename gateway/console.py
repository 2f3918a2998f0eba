"""The web console (``web/``, built into ``web/dist``) on the gateway's own origin.

Every GET that no API or system route answers is the console's: a file of the build when one
has that path (hashed assets are cached for a year), otherwise ``index.html``, so that the
console's client-side routes (``/e/demands/...``) load on a reload or a shared link. Paths
under ``/api``, ``/docs``, ``/openapi.json``, ``/metrics``, ``/healthz`` and ``/readyz`` are
never the console's: they keep their own 404. HTML answers carry a strict
Content-Security-Policy (scripts and styles from this origin only, no inline script, no
framing); every answer ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy``.
Files are gzipped once, in memory, for clients that accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIST = ROOT / "web" / "dist"
#: paths the console never answers: the API and the operators' endpoints keep their 404s
RESERVED = ("/api", "/docs", "/openapi.json", "/metrics", "/healthz", "/readyz")

#: measured with the browser tests (tests/browser): Element Plus and Vue set styles through
#: the CSSOM only, which CSP does not restrict, so no 'unsafe-inline' is needed anywhere
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HTML_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json", ".map", ".txt")

NOT_BUILT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>控制台尚未构建</title></head><body>
<h1>控制台尚未构建</h1>
<p>请在项目目录运行 <code>make web</code>（<code>make run</code> 会自动构建）。
接口仍在 <a href="/docs">/docs</a>。</p></body></html>"""


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def dist_directory() -> Path:
    return Path(os.environ.get("WEB_DIST") or DEFAULT_DIST)


def is_console_path(path: str) -> bool:
    return not any(path == p or path.startswith(p + "/") or path.startswith(p + ".")
                   for p in RESERVED)


class Console:
    """The router's fallback: the console for GET and HEAD, ``fallback`` (404) otherwise."""

    def __init__(self, fallback: ASGIApp, dist: Path | None = None) -> None:
        self.fallback = fallback
        self.dist = (dist or dist_directory()).resolve()
        self._cache: dict[Path, Asset] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "/")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") \
                or not is_console_path(path):
            await self.fallback(scope, receive, send)
            return
        response = self.respond(path, Headers(scope=scope))
        if scope["method"] == "HEAD":
            response.body = b""
        await response(scope, receive, send)

    def respond(self, path: str, headers: Headers) -> Response:
        file = self._file(path)
        if file is None:
            if path.startswith("/assets/"):
                return Response("not found", status_code=404, media_type="text/plain",
                                headers=SECURITY_HEADERS)
            file = self.dist / "index.html"
            if not file.is_file():
                return HTMLResponse(NOT_BUILT, status_code=503, headers=HTML_HEADERS)
        asset = self._asset(file)
        extra = dict(HTML_HEADERS if asset.media_type.startswith("text/html") else
                     SECURITY_HEADERS)
        extra["Cache-Control"] = IMMUTABLE if path.startswith("/assets/") \
            else extra.get("Cache-Control", "no-cache")
        extra["ETag"] = asset.etag
        extra["Vary"] = "Accept-Encoding"
        if headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=extra)
        body = asset.body
        if asset.gzipped is not None and "gzip" in headers.get("accept-encoding", ""):
            body = asset.gzipped
            extra["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=extra)

    def _file(self, path: str) -> Path | None:
        """The build's file at ``path``, never outside the build directory."""
        relative = path.lstrip("/")
        if not relative or relative.endswith("/"):
            return None
        candidate = (self.dist / relative).resolve()
        if candidate.is_relative_to(self.dist) and candidate.is_file():
            return candidate
        return None

    def _asset(self, file: Path) -> Asset:
        stat = file.stat()
        cached = self._cache.get(file)
        if cached is not None and not file.name == "index.html":
            return cached
        body = file.read_bytes()
        if cached is not None and cached.body == body:
            return cached
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type in ("application/javascript",
                                                            "image/svg+xml"):
            media_type += "; charset=utf-8"
        gzipped = gzip.compress(body, 9, mtime=0) if file.suffix in COMPRESSIBLE \
            and stat.st_size > 512 else None
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        asset = Asset(body, gzipped, media_type, etag)
        self._cache[file] = asset
        return asset
