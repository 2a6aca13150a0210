"""The deploy files agree with each other, with the Procfile and with the settings the server reads."""

from __future__ import annotations

import json
import re
import shlex

import yaml

from signaling import config
from tests.deploy.support import procfile_command, read

SETTINGS_IN_DOCS = ("REDIS_URL", "SECRET_KEY", "REDIS_SSL_CERT_REQS", "TURN_URLS", "TURN_SECRET", "TURN_TTL")


def test_procfile_runs_gunicorn_on_the_wsgi_app():
    assert procfile_command("web") == "gunicorn main:app"


def test_app_yaml_uses_the_procfile_command_and_suits_long_polling():
    app = yaml.safe_load(read("app.yaml"))
    assert app["entrypoint"] == procfile_command("web")
    assert app["runtime"] == "python" + read(".python-version").strip().replace(".", "")
    scaling = app["automatic_scaling"]
    # Every waiting long-poll is one concurrent request; App Engine's default of 10 would starve them.
    assert scaling["max_concurrent_requests"] >= 100
    # No REDIS_URL or secret in the shipped file (the server refuses to start on App Engine
    # without them, see test_production_safety.py); instances share Redis, so they may scale out.
    assert "REDIS_URL" not in app.get("env_variables", {}) and "SECRET_KEY" not in app.get("env_variables", {})
    assert scaling["max_instances"] > 1
    text = read("app.yaml")
    assert re.search(r"^# vpc_access_connector:\n#\s+name: projects/\S+/locations/\S+/connectors/\S+$", text, re.M)
    assert re.search(r"^\s*# REDIS_URL: \"redis://", text, re.M) and re.search(r"^\s*# SECRET_KEY:", text, re.M)


def test_app_engine_standard_gets_long_poll_only():
    production = {"REDIS_URL": "redis://10.0.0.3:6379/0", "SECRET_KEY": "s" * 32}
    assert config.load({"GAE_ENV": "standard", **production}).transports == ("longpoll",)
    assert config.load({}).transports == ("sse", "longpoll")


def test_app_json_makes_a_working_heroku_button():
    app = json.loads(read("app.json"))
    assert [b["url"] for b in app["buildpacks"]] == ["heroku/python"]
    assert any(addon["plan"].startswith("heroku-redis:") for addon in app["addons"])
    env = app["env"]
    assert env["SECRET_KEY"]["generator"] == "secret"
    assert env["REDIS_SSL_CERT_REQS"]["value"] == "none"
    # No shared TURN credentials are shipped: the secret is the deployer's own, or absent.
    assert "value" not in env["TURN_SECRET"] and env["TURN_SECRET"]["required"] is False
    assert "web" in app["formation"]
    # The settings the button sets are the server's own: loading them gives a valid configuration.
    values = {"REDIS_URL": "rediss://:pw@ec2-1-2-3-4.compute-1.amazonaws.com:6380", "SECRET_KEY": "x" * 64}
    values.update({k: v["value"] for k, v in env.items() if "value" in v})
    settings = config.load(values)
    assert settings.redis_ssl_cert_reqs == "none" and settings.redis_url.startswith("rediss://")


def test_python_version_is_pinned_the_way_heroku_reads_it():
    assert read(".python-version").strip() == "3.11"
    assert re.search(r"^FROM python:3\.11-slim$", read("Dockerfile"), re.M)


def test_dockerfile_runs_the_procfile_command_as_a_non_root_user():
    dockerfile = read("Dockerfile")
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd and json.loads(cmd.group(1)) == shlex.split(procfile_command("web"))
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    ignored = read(".dockerignore").split()
    assert ".venv" in ignored and ".git" in ignored


def test_heroku_router_windows_are_respected_by_default():
    settings = config.load({})
    # Heroku closes a response idle for 55 s and wants the first byte within 30 s.
    assert settings.keepalive_interval < 55
    assert settings.longpoll_max_wait < 30


def test_deploy_docs_give_each_command_and_the_settings_it_needs():
    docs = read("docs/DEPLOY.md")
    for command in (
        "gcloud app deploy",
        "gcloud run deploy",
        "gcloud functions deploy",
        "--entry-point=handle",
        "heroku create",
        "docker build",
    ):
        assert command in docs, command
    for name in SETTINGS_IN_DOCS + tuple(json.loads(read("app.json"))["env"]):
        assert name in docs, name
    turn = read("docs/TURN.md")
    for word in ("use-auth-secret", "static-auth-secret", "realm", "TURN_SECRET", "TURN_URLS"):
        assert word in turn, word
