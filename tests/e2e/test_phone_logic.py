"""Runs the Node tests of the phone's call flow and the client library's helpers (node --test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_phone_line_node_tests():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed; these logic tests need Node 20+ (the browser tests cover the same flows)")
    result = subprocess.run(
        [node, "--test", str(HERE / "test_phone_line.mjs")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
