"""docker-compose.yml is a valid Compose file whose services fit together, checked without a Docker engine.

The file is validated against the Compose Specification's JSON schema
(vendored in tests/deploy/compose_spec/, see SOURCE.md there), then read the
way Compose does (``${VAR:-default}`` interpolation, ``$$`` escapes) to check
the wiring: the app runs the Procfile's command on Redis with two workers and
settings config.py accepts, and coturn verifies the credentials the app mints.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex

import jsonschema
import yaml

from signaling import config
from tests.deploy.support import procfile_command
from tests.support.processes import ROOT

SCHEMA = ROOT / "tests" / "deploy" / "compose_spec" / "compose-spec.json"
SCHEMA_SHA256 = "56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c"
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution: ``${X:-default}`` and ``${X}`` from ``env``, ``$$`` is a literal ``$``."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1)) or (match.group(2) or "")

    return VARIABLE.sub(one, value)


def service_env(service: dict, env: dict[str, str] | None = None) -> dict[str, str]:
    return {k: interpolate(str(v), env or {}) for k, v in service["environment"].items()}


def test_the_vendored_schema_is_the_recorded_copy():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (SCHEMA.parent / "SOURCE.md").read_text()
    assert "Apache License" in (SCHEMA.parent / "LICENSE").read_text()


def test_compose_file_is_valid_against_the_compose_spec():
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_check_catches_a_broken_file():
    """The validation above can fail: a misspelt key and a wrong type are reported."""
    broken = compose()
    broken["services"]["app"]["enviroment"] = broken["services"]["app"].pop("environment")
    broken["services"]["redis"]["ports"] = "6379"
    errors = list(jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text())).iter_errors(broken))
    assert len(errors) >= 2


def test_the_app_runs_the_procfile_command_on_redis_with_two_workers():
    services = compose()["services"]
    app = services["app"]
    assert app["build"] == "." and "command" not in app and "entrypoint" not in app  # the Dockerfile's CMD
    env = service_env(app)
    assert env["WEB_CONCURRENCY"] == "2"
    assert env["REDIS_URL"] == "redis://redis:6379/0" and "redis" in services
    assert app["depends_on"]["redis"]["condition"] == "service_healthy" and "healthcheck" in services["redis"]
    settings = config.load(env)  # what the app's gunicorn master will check at start
    assert settings.redis_url and settings.turn_urls and settings.turn_secret
    # Secrets come from the environment when set, defaults otherwise.
    assert service_env(app, {"SECRET_KEY": "from-the-env-0123456789"})["SECRET_KEY"] == "from-the-env-0123456789"


def test_coturn_shares_the_turn_secret_with_the_app():
    services = compose()["services"]
    for env in ({}, {"TURN_SECRET": "my-own-secret-0123456789"}):
        app_secret = service_env(services["app"], env)["TURN_SECRET"]
        assert service_env(services["coturn"], env)["TURN_SECRET"] == app_secret != ""
    command = shlex.split(" ".join(services["coturn"]["command"]))
    command = [interpolate(part, {}) for part in command]
    assert "--use-auth-secret" in command and "--static-auth-secret=$TURN_SECRET" in command
    turn_urls = service_env(services["app"])["TURN_URLS"].split(",")
    assert all(url.startswith("turn:") and ":3478" in url for url in turn_urls)
    assert "--listening-port=3478" in command


def test_dockerfile_cmd_is_the_procfile_web_command():
    """Cloud Run, Docker and Compose must run exactly what Heroku and App Engine run."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmds = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    assert len(cmds) == 1
    assert shlex.join(json.loads(cmds[0][4:])) == procfile_command("web")
