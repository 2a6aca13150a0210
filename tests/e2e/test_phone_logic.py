"""Runs the Node tests of the phone's call flow and the client library's helpers (node --test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_phone_line_node_tests():
    node = shutil.which("node")
    assert node, "node is not installed: run scripts/test.sh (it apt-installs nodejs)"
    result = subprocess.run(
        [node, "--test", str(HERE / "test_phone_line.mjs")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
