"""The per-message requests served straight from WSGI, without Flask's per-request machinery.

A relayed message costs one ``POST /v1/messages`` and, for a long-polling
reader, one ``GET /v1/messages``, so these two requests' fixed cost is the
server's cost per message. Profiling them (py-spy ``--gil``, bench/README.md)
put a third of a send's Python time in Flask around the view: request and app
contexts, URL matching, signals, the before/after hooks and error-handler
lookup. This layer sits in front of the Flask app and hands exactly these
two routes to :func:`signaling.api.send_messages` and
:func:`signaling.delivery.poll_messages`, the same functions their Flask
views call, then does what the hooks would have done: the problem+json
mapping of errors (:func:`signaling.errors.error_response`), the security
headers, the request id, the access line and the request metrics. Every
other request goes to Flask unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import logs, metrics
from .api import send_messages
from .delivery import Slots, poll_messages
from .errors import error_response
from .headers import security_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .state import Signaling

PATH = "/v1/messages"


class Shortcut:
    """WSGI middleware: ``POST`` and ``GET /v1/messages`` to their handlers, anything else to ``app``."""

    def __init__(self, app: WSGIApplication, state: Signaling, slots: Slots) -> None:
        self.app = app
        self.state = state
        self.handlers: dict[str, Callable[[Request], Response]] = {
            "POST": lambda request: send_messages(state, request),
            "GET": lambda request: poll_messages(state, slots, request),
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        handler = self.handlers.get(method) if environ.get("PATH_INFO") == PATH else None
        if handler is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        request = Request(environ)
        # Flask's request enforces MAX_CONTENT_LENGTH (413); a bare one must be told.
        request.max_content_length = self.state.settings.max_body_bytes
        rid = logs.request_id(request.headers)
        try:
            response: Any = handler(request)
        except Exception as error:  # noqa: BLE001  # every error becomes its problem+json answer
            response = error_response(error, PATH)
        security_headers(response)
        logs.finish(response, rid, method, PATH, started)
        metrics.count_request(PATH, method, response.status_code, started)
        return response(environ, start_response)  # type: ignore[no-any-return]
