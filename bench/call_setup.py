"""Call-setup time of the phone app on loopback, over SSE and over long-poll.

One command starts everything it needs: a throwaway redis-server, one
``gunicorn main:app`` (gevent worker) and Debian's Chromium, inside a private
network namespace (loopback only; the script re-runs itself under
``unshare -n`` when it is not already in one). Two browser contexts open
/phone; the callee answers automatically (``line.autoAnswer``), so the numbers
are the protocol's, not a human's reaction time. For each transport it makes
``--calls`` calls and reports, measured in the caller's page from the moment
``dial`` is called:

* ICE connected: ``iceConnectionState`` reaches connected;
* first remote audio: the remote audio track's ``unmute`` event (Chromium
  fires it when the first RTP packet for the track arrives; getStats()
  inbound-rtp ``packetsReceived`` is checked to be > 0 afterwards).

"dial" includes opening the microphone (fake device here), the invite, the
callee's ring + auto-accept, offer/answer and trickle ICE, so it is what a
user waits for, minus the callee's hand.

Baseline, measured first in the same run and the same browser (same flags,
same fake devices), with as many calls and warm-ups: "direct, no server".
One same-origin page (/) builds the two ends itself: getUserMedia({audio:
true}) for the caller, then for the callee (the phone opens both microphones
too, one after the other), two RTCPeerConnections with the phone's
RTCConfiguration (max-bundle, the session's iceServers: none here, as
STUN_URLS is empty) and PeerCall's media layout (the offerer adds an audio
transceiver with the microphone and an empty video one, both sendrecv, plus
the negotiated data channel id 0; the answerer attaches its microphone to the
offered audio transceiver). Offer/answer and trickle candidates are handed
over by plain function calls, no HTTP. The same two times are taken on the
caller's connection from the start (getUserMedia included). The table then
says how many times the baseline each transport takes, and the difference in
ms, which is what signaling (and the phone's call flow around it) adds.

    .venv/bin/python bench/call_setup.py [--calls 20] [--transports sse,longpoll] [--json out.json]
    # or, explicitly in a netns:
    unshare -n sh -c 'ip link set lo up && .venv/bin/python bench/call_setup.py'
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import browser as browser_support  # noqa: E402
from tests.support.netns import interfaces  # noqa: E402
from tests.support.processes import AppServer, RedisServer  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"
WAIT_MS = 30_000

ONE_CALL = """
async ([peer, name, waitMs]) => {
  const phone = window.phone;
  const t0 = performance.now();
  phone.ui.dial(peer, name);
  const deadline = t0 + waitMs;
  while (performance.now() < deadline) {
    const call = phone.call;
    const t = call && call.timings;
    if (t && t.iceConnected && t.firstRemoteAudio) {
      // Cross-check with getStats(): inbound audio packets must show up too.
      let stats = await call.stats();
      while (stats.packetsReceived === 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
        stats = await call.stats();
      }
      return {
        iceConnected: t.iceConnected - t0,
        connected: t.connected ? t.connected - t0 : null,
        firstAudio: t.firstRemoteAudio - t0,
        statsAudio: performance.now() - t0,
        packetsReceived: stats.packetsReceived,
      };
    }
    if (phone.state === 'idle' && performance.now() - t0 > 50) {
      return { error: 'call ended: ' + (phone.line.lastCall && phone.line.lastCall.reason) };
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { error: 'timed out' };
}
"""


DIRECT_CALL = """
async ([waitMs]) => {
  // The "no signaling server" baseline: both ends in this page, wired by calls.
  const t0 = performance.now();
  const deadline = t0 + waitMs;
  const t = {};
  const callerStream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const calleeStream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const config = { bundlePolicy: 'max-bundle', iceServers: [] };
  const caller = new RTCPeerConnection(config);
  const callee = new RTCPeerConnection(config);
  const pcs = [caller, callee];
  const cleanup = () => {
    pcs.forEach((pc) => pc.close());
    [callerStream, calleeStream].forEach((s) => s.getTracks().forEach((track) => track.stop()));
  };
  try {
    // Trickle ICE by function call; a candidate waits for its remote description.
    const remoteSet = new Map(pcs.map((pc) => {
      let resolve;
      const promise = new Promise((r) => { resolve = r; });
      return [pc, { promise, resolve }];
    }));
    const trickle = (from, to) => from.addEventListener('icecandidate', ({ candidate }) => {
      if (!candidate) return;
      const json = candidate.toJSON();
      remoteSet.get(to).promise.then(() => to.addIceCandidate(json)).catch(() => {});
    });
    trickle(caller, callee);
    trickle(callee, caller);
    caller.addEventListener('iceconnectionstatechange', () => {
      const s = caller.iceConnectionState;
      if ((s === 'connected' || s === 'completed') && !t.iceConnected) t.iceConnected = performance.now();
    });
    caller.addEventListener('connectionstatechange', () => {
      if (caller.connectionState === 'connected' && !t.connected) t.connected = performance.now();
    });
    caller.addEventListener('track', ({ track }) => {
      if (track.kind !== 'audio') return;
      track.addEventListener('unmute', () => { if (!t.firstAudio) t.firstAudio = performance.now(); });
    });
    // PeerCall's layout: the offerer's audio (microphone) + video (empty)
    // transceivers and the negotiated data channel; the answerer adopts them.
    caller.addTransceiver(callerStream.getAudioTracks()[0], { direction: 'sendrecv' });
    caller.addTransceiver('video', { direction: 'sendrecv' });
    caller.createDataChannel('data', { negotiated: true, id: 0 });
    await caller.setLocalDescription();
    await callee.setRemoteDescription(caller.localDescription.toJSON());
    remoteSet.get(callee).resolve();
    for (const transceiver of callee.getTransceivers()) {
      transceiver.direction = 'sendrecv';
      if (transceiver.receiver.track.kind === 'audio') {
        await transceiver.sender.replaceTrack(calleeStream.getAudioTracks()[0]);
      }
    }
    callee.createDataChannel('data', { negotiated: true, id: 0 });
    await callee.setLocalDescription();
    await caller.setRemoteDescription(callee.localDescription.toJSON());
    remoteSet.get(caller).resolve();
    while (!(t.iceConnected && t.firstAudio) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    if (!(t.iceConnected && t.firstAudio)) return { error: 'timed out' };
    // Cross-check with getStats(), as the phone path does.
    const received = async () => {
      let n = 0;
      (await caller.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.packetsReceived || 0;
      });
      return n;
    };
    let packetsReceived = await received();
    while (packetsReceived === 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      packetsReceived = await received();
    }
    return {
      iceConnected: t.iceConnected - t0,
      connected: t.connected ? t.connected - t0 : null,
      firstAudio: t.firstAudio - t0,
      statsAudio: performance.now() - t0,
      packetsReceived,
    };
  } finally {
    cleanup();
  }
}
"""

BASELINE = "baseline (direct, no server)"


def in_private_netns() -> bool:
    return interfaces() == ["lo"]


def reexec_in_netns() -> None:
    unshare = shutil.which("unshare")
    if not unshare:
        sys.exit("bench: needs util-linux's unshare (or run it inside a private network namespace yourself)")
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    script = 'ip link set lo up && exec "$0" "$@"'
    os.execv(unshare, [unshare, *flags, "--", "sh", "-c", script, sys.executable, *sys.argv])


def register(context, server: AppServer, name: str, transport: str):
    page = context.new_page()
    page.goto(server.url(f"/phone?transport={transport}"))
    page.fill("#name-input", name)
    page.click("#register-button")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)
    used = page.evaluate("() => window.phone.client.transport")
    if used != transport:
        raise RuntimeError(f"asked for {transport}, the client uses {used}")
    ice_servers = page.evaluate("() => window.phone.client.iceServers")
    if ice_servers:  # the baseline's RTCConfiguration has none; keep them comparable
        raise RuntimeError(f"the session hands out iceServers {ice_servers}; the bench expects none")
    return page, page.evaluate("() => window.phone.client.peerId")


def wait_idle(*pages) -> None:
    for page in pages:
        page.wait_for_function("() => window.phone.state === 'idle'", timeout=WAIT_MS)


def run_transport(chromium, server: AppServer, transport: str, calls: int, warmup: int) -> list[dict]:
    caller_ctx, callee_ctx = chromium.new_context(), chromium.new_context()
    try:
        caller, _ = register(caller_ctx, server, "Caller", transport)
        callee, callee_id = register(callee_ctx, server, "Callee", transport)
        callee.evaluate("() => { window.phone.line.autoAnswer = true; }")
        results = []
        for n in range(warmup + calls):
            result = caller.evaluate(ONE_CALL, [callee_id, "Callee", WAIT_MS])
            if "error" in result:
                raise RuntimeError(f"{transport} call {n}: {result['error']}")
            if result["packetsReceived"] <= 0:
                raise RuntimeError(f"{transport} call {n}: no audio packets counted by getStats")
            if n >= warmup:
                results.append(result)
            caller.evaluate("() => window.phone.line.hangup()")
            wait_idle(caller, callee)
            time.sleep(0.3)  # let the hang-up settle on both sides
        return results
    finally:
        caller_ctx.close()
        callee_ctx.close()


def run_baseline(chromium, server: AppServer, calls: int, warmup: int) -> list[dict]:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(server.url("/"))
        results = []
        for n in range(warmup + calls):
            result = page.evaluate(DIRECT_CALL, [WAIT_MS])
            if "error" in result:
                raise RuntimeError(f"baseline call {n}: {result['error']}")
            if result["packetsReceived"] <= 0:
                raise RuntimeError(f"baseline call {n}: no audio packets counted by getStats")
            if n >= warmup:
                results.append(result)
            time.sleep(0.3)  # same pause between calls as the phone path
        return results
    finally:
        context.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(results: list[dict], key: str) -> dict:
    values = [r[key] for r in results if r.get(key) is not None]
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 0.9),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="measured calls per transport (default 20)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured calls first (default 1)")
    parser.add_argument("--transports", default="sse,longpoll")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    if not in_private_netns():
        reexec_in_netns()

    from playwright.sync_api import sync_playwright

    redis_server = RedisServer()
    server = AppServer({"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "bench:"})
    report = {}
    try:
        with sync_playwright() as p:
            chromium = browser_support.launch(p)
            try:
                runs = [(BASELINE, lambda: run_baseline(chromium, server, args.calls, args.warmup))]
                for transport in args.transports.split(","):
                    runs.append(
                        (transport, lambda t=transport: run_transport(chromium, server, t, args.calls, args.warmup))
                    )
                for name, run in runs:
                    results = run()
                    report[name] = {
                        "ice_connected_ms": summary(results, "iceConnected"),
                        "connected_ms": summary(results, "connected"),
                        "first_audio_ms": summary(results, "firstAudio"),
                        "calls": results,
                    }
            finally:
                chromium.close()
    finally:
        server.stop()
        redis_server.stop()

    print(
        f"call setup on loopback, {args.calls} calls per transport after {args.warmup} warm-up "
        "(caller's view, from dial; baseline from its getUserMedia)"
    )
    print("| transport | ICE connected median | p90 | first remote audio median | p90 |")
    print("| --- | --- | --- | --- | --- |")
    for transport, r in report.items():
        ice, audio = r["ice_connected_ms"], r["first_audio_ms"]
        print(
            f"| {transport} | {ice['median']:.0f} ms | {ice['p90']:.0f} ms "
            f"| {audio['median']:.0f} ms | {audio['p90']:.0f} ms |"
        )
    base = report[BASELINE]
    for transport, r in report.items():
        if transport == BASELINE:
            continue
        parts = []
        for key, label in (("ice_connected_ms", "ICE connected"), ("first_audio_ms", "first remote audio")):
            ours, theirs = r[key]["median"], base[key]["median"]
            parts.append(
                f"{label} median = {ours / theirs:.1f}x baseline, signaling overhead = {ours - theirs:+.0f} ms"
            )
        print(f"{transport}: " + "; ".join(parts))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
