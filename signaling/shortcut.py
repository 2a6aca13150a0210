"""``POST /v1/messages`` served straight from WSGI, without Flask's per-request machinery.

A relayed message is one POST, so this request's fixed cost is the server's
cost per message. Profiling it (py-spy ``--gil``, bench/README.md) put a
third of its Python time in Flask around the view: request and app
contexts, URL matching, signals, the before/after hooks and error-handler
lookup. This layer sits in front of the Flask app and hands exactly that
route to :func:`signaling.api.send_messages`, the same function the Flask
view calls, then does what the hooks would have done: the problem+json
mapping of errors (:func:`signaling.errors.error_response`), the security
headers, the request id, the access line and the request metrics. Every other
request goes to Flask unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from . import logs, metrics
from .api import send_messages
from .errors import error_response
from .headers import security_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .state import Signaling

PATH = "/v1/messages"


class SendShortcut:
    """WSGI middleware: ``POST /v1/messages`` to the send handler, anything else to ``app``."""

    def __init__(self, app: WSGIApplication, state: Signaling) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        request = Request(environ)
        # Flask's request enforces MAX_CONTENT_LENGTH (413); a bare one must be told.
        request.max_content_length = self.state.settings.max_body_bytes
        rid = logs.request_id(request.headers)
        try:
            response: Any = send_messages(self.state, request)
        except Exception as error:  # noqa: BLE001  # every error becomes its problem+json answer
            response = error_response(error, PATH)
        security_headers(response)
        logs.finish(response, rid, "POST", PATH, started)
        metrics.count_request(PATH, "POST", response.status_code, started)
        return response(environ, start_response)  # type: ignore[no-any-return]
