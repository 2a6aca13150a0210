"""Debian's Chromium driven by Playwright, launched the one way this project allows."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def launch_options(extra_args: list[str] | None = None) -> dict:
    """Options for launching /usr/bin/chromium (never a downloaded browser); fail loudly if it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/test.sh (it apt-installs chromium)")
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS + (extra_args or [])}


def launch(playwright, extra_args: list[str] | None = None):
    """A second Chromium with extra flags, for the tests that need one (the file's own comes from conftest)."""
    return playwright.chromium.launch(**launch_options(extra_args))


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
