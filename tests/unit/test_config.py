"""Settings from the environment: a bad deploy stops with one readable line naming the variable."""

from __future__ import annotations

import pytest

from signaling.config import ConfigError, load

REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/0", "SECRET_KEY": "s" * 32}


def _error(env: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        load(env)
    message = str(caught.value)
    assert "\n" not in message, "a ConfigError is one line"
    return message


def test_defaults_from_an_empty_environment_use_the_embedded_store():
    settings = load({})
    assert settings.embedded
    assert settings.transports == ("sse", "longpoll")
    assert settings.keepalive_interval < settings.presence_ttl


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PRESENCE_TTL", "soon"),
        ("MAILBOX_MAXLEN", "1.5"),
        ("MAX_BODY_BYTES", "64k"),
        ("SEND_RATE", "fast"),
        ("ROOM_CAPACITY", "1"),
        ("LONGPOLL_MAX_WAIT", "-1"),
    ],
)
def test_a_malformed_number_names_the_variable(name, raw):
    assert name in _error({name: raw})


def test_redis_needs_a_secret_key():
    assert "SECRET_KEY" in _error({"REDIS_URL": REDIS["REDIS_URL"]})
    assert "SECRET_KEY" in _error({**REDIS, "SECRET_KEY": "short"})
    assert load(REDIS).redis_url == REDIS["REDIS_URL"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://"])
def test_a_bad_redis_url_is_refused(url):
    assert "REDIS_URL" in _error({**REDIS, "REDIS_URL": url})


def test_heroku_tls_url_is_taken_when_redis_url_is_absent():
    settings = load({"REDIS_TLS_URL": "rediss://h.example:6380", "SECRET_KEY": "s" * 32})
    assert settings.redis_url == "rediss://h.example:6380"


@pytest.mark.parametrize("env", [{"GAE_ENV": "standard"}, {"GAE_APPLICATION": "s~demo"}])
def test_app_engine_standard_gets_longpoll_only(env):
    """App Engine standard buffers responses, so SSE would deliver nothing until the stream ends."""
    assert load({**env, **REDIS}).transports == ("longpoll",)


def test_transports_can_be_set_and_unknown_ones_are_refused():
    assert load({"TRANSPORTS": "longpoll, sse"}).transports == ("longpoll", "sse")
    assert "TRANSPORTS" in _error({"TRANSPORTS": "sse,websocket"})


def test_keepalive_must_be_shorter_than_presence():
    """Otherwise an idle SSE stream would let its own session expire."""
    assert "PRESENCE_TTL" in _error({"PRESENCE_TTL": "10", "SSE_KEEPALIVE": "10"})
    assert "PRESENCE_TTL" in _error({"PRESENCE_TTL": "10", "HEARTBEAT_INTERVAL": "12"})


def test_turn_urls_need_a_secret():
    assert "TURN_SECRET" in _error({"TURN_URLS": "turn:t.example:3478"})


def test_ssl_cert_reqs_is_checked():
    assert "REDIS_SSL_CERT_REQS" in _error({"REDIS_SSL_CERT_REQS": "sometimes"})


@pytest.mark.parametrize(
    "env",
    [{"MAX_BATCH": "300"}, {"SEND_BURST": "50"}, {"MAX_BATCH": "20", "MAILBOX_MAXLEN": "10"}],
)
def test_a_batch_must_fit_the_send_burst_and_the_mailbox(env):
    """A batch larger than either could never be accepted: its sender would retry 429s forever."""
    assert "MAX_BATCH" in _error(env)


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf"])
def test_a_decimal_setting_must_be_finite(raw):
    """NaN compares false with every bound, so without this check it slipped past the minimum."""
    assert "PRESENCE_TTL" in _error({"PRESENCE_TTL": raw})


@pytest.mark.parametrize("raw", ["1.5", "ten", "1e3"])
def test_an_integer_setting_refuses_what_is_not_a_whole_number(raw):
    assert "MAX_BATCH" in _error({"MAX_BATCH": raw})
