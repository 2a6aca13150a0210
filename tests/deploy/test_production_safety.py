"""On a hosting platform the server refuses the embedded store and a missing SECRET_KEY, with one line.

Autoscaled instances would each keep their own mailboxes and sign tokens with
their own random secret: split state and 401 loops. Each platform is detected
from the variables it sets; every case runs the real Procfile command
(gunicorn reads the settings in its master) and must stop with exit 2 and
exactly one line.
"""

from __future__ import annotations

import logging
import subprocess

import pytest

from signaling import config
from signaling.logformat import JsonFormatter, TextFormatter
from tests.conftest import SECRET
from tests.deploy.support import procfile_command, shell_env
from tests.support.processes import ROOT, free_port

PLATFORMS = {
    "app-engine-standard": ({"GAE_ENV": "standard", "GAE_APPLICATION": "s~demo"}, "App Engine"),
    "app-engine-flex": ({"GAE_APPLICATION": "s~demo"}, "App Engine"),
    "cloud-run": ({"K_SERVICE": "signaling", "K_REVISION": "signaling-00001"}, "Cloud Run"),
    "cloud-functions": ({"FUNCTION_TARGET": "handle", "K_SERVICE": "signaling"}, "Cloud Functions"),
    "heroku": ({"DYNO": "web.1"}, "Heroku"),
}
IDS = list(PLATFORMS)
REDIS = {"REDIS_URL": "redis://127.0.0.1:1/0"}


def gunicorn(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The Procfile's command on a free port (it must exit by itself; killed at 30 s if it does not)."""
    full_env = {**shell_env(), "HOST": "127.0.0.1", "PORT": str(free_port()), **env}
    command = ["bash", "-c", procfile_command("web")]
    return subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=30)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("name", IDS)
def test_the_platform_is_detected_from_its_variables(name):
    env, platform = PLATFORMS[name]
    assert config.platform(env) == platform
    settings = config.load({**env, **REDIS, "SECRET_KEY": SECRET})
    assert settings.platform == platform and settings.log_format == "json"


def test_a_developer_machine_is_no_platform():
    assert config.platform({}) is None
    # The Functions Framework run by hand sets FUNCTION_TARGET itself; only Cloud Functions adds K_SERVICE.
    assert config.platform({"FUNCTION_TARGET": "handle"}) is None
    settings = config.load({})
    assert settings.platform is None and settings.embedded and settings.log_format == "text"


@pytest.mark.parametrize("name", IDS)
def test_gunicorn_refuses_the_embedded_store_on_a_platform(name):
    env, platform = PLATFORMS[name]
    line = one_line(gunicorn({**env, "SECRET_KEY": SECRET}))
    assert line.startswith(f"signaling: configuration error: running on {platform} needs REDIS_URL"), line


@pytest.mark.parametrize("name", IDS)
def test_gunicorn_refuses_a_missing_secret_key_on_a_platform(name):
    env, platform = PLATFORMS[name]
    line = one_line(gunicorn({**env, **REDIS}))
    assert line.startswith(f"signaling: configuration error: running on {platform} needs SECRET_KEY"), line


def test_the_functions_framework_entry_point_refuses_too():
    """Cloud Functions does not run gunicorn.conf.py: main.py turns the error into its one line."""
    env, _ = PLATFORMS["cloud-functions"]
    port = free_port()
    command = ["functions-framework", "--target=handle", "--port", str(port)]
    full_env = {**shell_env(), "HOST": "127.0.0.1", **env, "SECRET_KEY": SECRET}
    result = subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        "signaling: configuration error: running on Cloud Functions needs REDIS_URL (the embedded store lives "
        "in one process and would give every instance its own mailboxes); see docs/DEPLOY.md"
    ]


def test_log_format_is_text_in_development_json_on_request_and_checked():
    assert config.load({"LOG_FORMAT": "json"}).log_format == "json"
    assert config.load({"LOG_FORMAT": "TEXT"}).log_format == "text"
    assert config.load({"DYNO": "web.1", **REDIS, "SECRET_KEY": SECRET, "LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(config.ConfigError, match="LOG_FORMAT='xml' must be text or json"):
        config.load({"LOG_FORMAT": "xml"})


def test_one_formatter_serves_app_and_gunicorn_lines():
    """gunicorn.conf.py builds its formatter from signaling.logformat, the module the app uses."""
    text = (ROOT / "gunicorn.conf.py").read_text()
    assert '"()": _logformat.formatter' in text and "json.dumps" not in text
    record = logging.LogRecord("signaling.access", logging.INFO, __file__, 1, "GET %s %s", ("/x", 200), None)
    record.fields = {"path": "/x", "status": 200, "request_id": "r1", "ms": 1.5}
    text_line = TextFormatter().format(record)
    assert text_line.endswith("INFO signaling.access: GET /x 200  request_id=r1 ms=1.5"), text_line
    assert '"request_id": "r1"' in JsonFormatter().format(record)


def test_gunicorn_logs_text_in_development_and_json_with_log_format(tmp_path):
    """The master's own lines (a refused start after the log is set up) follow LOG_FORMAT."""
    bad = {"WEB_CONCURRENCY": "2"}  # refused in on_starting, after gunicorn configured its logging
    for fmt, check in (("text", lambda s: not s.lstrip().startswith("{")), ("json", lambda s: s.startswith("{"))):
        result = gunicorn({**bad, "LOG_FORMAT": fmt})
        logged = [line for line in result.stderr.splitlines() if "configuration error" not in line and line.strip()]
        assert logged and all(check(line) for line in logged), (fmt, result.stderr)
