"""Browser-test fixtures: private netns check, real redis-server + gunicorn, Debian Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.support import browser as browser_support
from tests.support.netns import require_private_netns


@pytest.fixture(scope="session", autouse=True)
def _loopback_only():
    require_private_netns()


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright_instance):
    """One browser per test file: crashed renderers, killed peers and many WebRTC
    connections in one file must not leave state that another file's calls inherit."""
    browser = browser_support.launch(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def app_server(app_server_factory):
    """One gunicorn gevent instance on real Redis."""
    return app_server_factory()


@pytest.fixture
def new_context(chromium):
    """Fresh, isolated browser contexts (like separate people); closed after the test."""
    contexts = []

    def make(**kwargs):
        context = chromium.new_context(**kwargs)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
