"""Headers every response carries, whichever way it was answered (Flask or the send shortcut)."""

from __future__ import annotations

from werkzeug.wrappers import Response

# Pages load only what ships in static/: no CDN, no inline script or style.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Tokens may ride in EventSource URLs; never leak them in a Referer.
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    return response
