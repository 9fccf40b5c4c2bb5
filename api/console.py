"""The channels console under ``/app/``: the built bundle of ``ui/`` (``ui/dist``).

Any path below ``/app/`` that is not a file of the bundle answers ``index.html`` (the
console routes in the browser). Hashed assets (``/app/assets/…``) are cached for a year as
immutable; ``index.html`` is revalidated on every load (``no-cache``), so a new build is
picked up at once. Every answer carries a Content-Security-Policy without inline script and
with ``connect-src 'self'``: the console calls this service's API only. Without a built
bundle, ``/app/`` answers a page saying how to build it; the API routes are untouched.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

PREFIX = "/app"
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"

# Radix's dialog and select add small <style> elements (scroll lock, hidden scrollbars):
# styles may be inline, scripts never; the host product may frame the console.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SMS channels console: not built</title>
</head><body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The console is not built</h1>
<p>This service serves the channels console from <code>ui/dist</code>, which does not exist
yet. Build it (Node 20 and npm needed), then reload this page:</p>
<pre>make install        # runs npm ci &amp;&amp; npm run build in ui/ when npm is present
# or: cd ui &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>The API works without it: <a href="/docs">/docs</a>.</p>
</body></html>
"""


def console_headers(frame_ancestors: list[str]) -> dict[str, str]:
    """The security headers of every console answer."""
    ancestors = " ".join(["'self'", *frame_ancestors])
    return {
        "Content-Security-Policy": _CSP.format(ancestors=ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def install_console(app: FastAPI, dist: Path | None, frame_ancestors: list[str]) -> None:
    """Serve the bundle in ``dist`` (default ``ui/dist``) under ``/app/``."""
    root = (dist or DEFAULT_DIST).resolve()
    headers = console_headers(frame_ancestors)

    @app.get(PREFIX, include_in_schema=False)
    def console_root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @app.get(PREFIX + "/{path:path}", include_in_schema=False)
    def console(path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers=_no_cache(headers))
        file = _file_of(root, path)
        if file is not None:
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(file, headers={**headers, "Cache-Control": cache})
        if path.startswith("assets/"):
            # A stale hashed name (an old build): a 404, never index.html as script.
            return Response(status_code=404, headers=_no_cache(headers))
        return FileResponse(index, media_type="text/html", headers=_no_cache(headers))


def _no_cache(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Cache-Control": "no-cache"}


def _file_of(root: Path, path: str) -> Path | None:
    """The bundle's file at ``path``, None when there is none (or it would leave ``root``)."""
    if not path or path.endswith("/"):
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
