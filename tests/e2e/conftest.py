"""Browser-test fixtures: private netns check, real redis-server + gunicorn, Debian Chromium.

The browser comes from pytest-playwright's fixtures (``playwright``,
``launch_browser``, ``new_context``), so a failing test leaves a trace and a
screenshot of each open page under ``test-artifacts/playwright/<test>/``
(``--tracing retain-on-failure --screenshot only-on-failure`` in pytest.ini).
Two of its defaults are overridden here:

* the launch uses /usr/bin/chromium with this project's flags (never a
  browser that ``playwright install`` downloads);
* ``browser`` is one Chromium per test file, not per session: crashed
  renderers, killed peers and many WebRTC connections in one file left later
  files' rooms unable to connect in a full run.
"""

from __future__ import annotations

import pytest

from tests.conftest import SECRET
from tests.support import browser as browser_support
from tests.support.netns import require_private_netns
from tests.support.spares import SpareApps


@pytest.fixture(scope="session", autouse=True)
def _loopback_only():
    require_private_netns()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, with Debian's Chromium and our flags."""
    return {**browser_type_launch_args, **browser_support.launch_options()}


@pytest.fixture(scope="module")
def browser(launch_browser):
    """One Chromium per test file (see the module docstring)."""
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def chromium(browser):
    """The file's browser, for module-scoped contexts (they are not traced: no test owns them)."""
    return browser


@pytest.fixture(scope="session")
def playwright_instance(playwright):
    """Playwright itself, for tests that launch a second browser with other flags."""
    return playwright


@pytest.fixture(scope="session")
def _spare_apps(redis_server):
    """Servers for ``app_server``, each booted while the test before it runs."""
    spares = SpareApps(lambda n: {"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": f"e2e{n}:"})
    yield spares
    spares.close()


@pytest.fixture
def app_server(_spare_apps):
    """One gunicorn gevent instance on real Redis, of this test's own (its own key prefix)."""
    server = _spare_apps.take()
    yield server
    server.discard()
