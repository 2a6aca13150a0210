"""Start-up: bad settings stop every entry point with one line; ``rediss://`` works with a self-signed certificate."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import redis

from signaling import config, state
from tests.conftest import SECRET
from tests.deploy.support import procfile_command, round_trip, shell_env, split
from tests.support.processes import ROOT, free_port, wait_until

BAD_SETTINGS = [
    ({"REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "short"}, "SECRET_KEY must be set (16+ characters)"),
    ({"REDIS_URL": "http://redis.example:6379"}, "REDIS_URL must start with redis://, rediss:// or unix://"),
    ({"PRESENCE_TTL": "soon"}, "PRESENCE_TTL='soon' is not a valid float"),
    ({"TURN_URLS": "turn:turn.example.org:3478"}, "TURN_URLS is set but TURN_SECRET is empty"),
    ({"REDIS_SSL_CERT_REQS": "maybe"}, "REDIS_SSL_CERT_REQS must be none, optional or required"),
    ({"PORT": "eighty"}, "PORT='eighty' is not a valid int"),
    # (WEB_CONCURRENCY='two' is not ours to report: gunicorn's own import fails on it first.)
]


def start(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run an entry point that should refuse to start (bounded: a server that starts is killed at 30 s)."""
    port = free_port()
    full_env = {**shell_env(), "HOST": "127.0.0.1", "PORT": str(port), **env}
    command = [part.replace("{port}", str(port)) for part in command]
    return subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("env", "message"), BAD_SETTINGS, ids=[next(iter(e)) for e, _ in BAD_SETTINGS])
def test_gunicorn_stops_with_one_line(env, message):
    result = start(["bash", "-c", procfile_command("web")], env)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"signaling: configuration error: {message}"), lines
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_several_workers_on_the_embedded_store():
    result = start(["bash", "-c", procfile_command("web")], {"WEB_CONCURRENCY": "2"})
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        "signaling: configuration error: the embedded store lives inside one process; "
        "set REDIS_URL to run 2 workers (or use WEB_CONCURRENCY=1)"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [split("functions-framework --target=handle --port {port}"), ["python", "main.py"]],
    ids=["functions-framework", "dev-server"],
)
def test_other_entry_points_stop_with_one_line(command):
    result = start(command, {"PRESENCE_TTL": "soon"})
    assert result.returncode != 0
    assert (result.stdout + result.stderr).strip().splitlines() == [
        "signaling: configuration error: PRESENCE_TTL='soon' is not a valid float"
    ]


# rediss:// -------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_redis():
    """redis-server speaking only TLS, with a self-signed certificate like Heroku Key-Value Store's."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed to make the test certificate")
    folder = Path(tempfile.mkdtemp(prefix="redis-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=redis.test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
        + ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no"]
        + ["--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"rediss://127.0.0.1:{port}/0"
    wait_until(lambda: redis.Redis.from_url(url, ssl_cert_reqs="none").ping(), what="TLS redis-server")
    yield url
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def test_rediss_url_round_trip_with_a_self_signed_certificate(tls_redis, app_server_factory):
    app = app_server_factory({"REDIS_URL": tls_redis})  # REDIS_SSL_CERT_REQS defaults to none
    round_trip(app.base)
    assert app.stop() == 0


def test_rediss_clients_use_tls_and_check_certificates_only_when_asked(tls_redis):
    relaxed = config.load({"REDIS_TLS_URL": tls_redis, "SECRET_KEY": SECRET})  # Heroku's older variable
    commands, pubsub, kind = state.redis_clients(relaxed)
    assert kind == "redis" and commands.ping() and pubsub.ping()
    strict = config.load({"REDIS_URL": tls_redis, "SECRET_KEY": SECRET, "REDIS_SSL_CERT_REQS": "required"})
    commands, pubsub, _ = state.redis_clients(strict)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        commands.ping()
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        pubsub.ping()
