"""The platforms' own start commands serve real signaling: the Procfile's web command and the Functions Framework."""

from __future__ import annotations

import signal

from tests.deploy.support import frames_until_end, procfile_command, register, round_trip, shell_env, split
from tests.support.processes import free_port


def test_procfile_web_command_serves_a_round_trip(app_server_factory):
    # Heroku (and Cloud Native Buildpacks) run the line with `bash -c`, PORT set by the platform.
    command = procfile_command("web")
    app = app_server_factory(shell_env(), command=["bash", "-c", command])
    round_trip(app.base)
    assert app.stop() == 0


def functions_framework(app_server_factory, env: dict[str, str] | None = None):
    """``functions-framework --target=handle`` as Cloud Functions 2nd gen runs it (source: main.py)."""
    port = free_port()
    command = split(f"functions-framework --target=handle --port {port}")
    return app_server_factory({**shell_env(), **(env or {})}, command=command, port=port)


def test_functions_framework_entry_point_streams_sse_and_long_polls(app_server_factory):
    round_trip(functions_framework(app_server_factory).base)


def test_functions_framework_sigterm_ends_streams_with_retry(app_server_factory):
    """Cloud Run sends SIGTERM before scaling in; the function's open streams end with ``retry:`` at once."""
    ff = functions_framework(app_server_factory, {"SSE_RETRY_MS": "1500"})
    bob = register(ff.base, "Bob")
    stream = bob.sse(query_token=False)
    assert stream.next_frame()["event"] == "ready"
    # Without the drain the worker would hold the stream for its 30 s graceful timeout, then cut it.
    code = ff.stop(signal.SIGTERM, timeout=25)
    frames = frames_until_end(stream)
    assert frames and frames[-1] == {"retry": "1500"}, frames
    assert code == 0, ff.output()
