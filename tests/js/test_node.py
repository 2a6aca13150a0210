"""Runs the Node tests of the browser code's logic (node --test tests/js).

PhoneLine's call flow, PeerCall's negotiation against a fake RTCPeerConnection,
SignalingClient's transports and send queue against a fake fetch/EventSource.
No browser and no network: they run outside the test network namespace too.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_node_logic_tests():
    node = shutil.which("node")
    assert node, "node is not installed: run scripts/test.sh (it apt-installs nodejs)"
    result = subprocess.run(
        [node, "--test", "--test-timeout=60000", str(HERE)], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout, result.stdout
