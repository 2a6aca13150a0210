"""The browser harness itself: Chromium in the private netns gets fake media and pairs over loopback."""

from __future__ import annotations

LOOPBACK_CALL = """
async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
  stream.getTracks().forEach(t => a.addTrack(t, stream));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  for (let i = 0; i < 100; i++) {
    let bytes = 0, pairAddress = null;
    (await b.getStats()).forEach(r => {
      if (r.type === 'inbound-rtp') bytes += r.bytesReceived || 0;
      if (r.type === 'local-candidate') pairAddress = r.address;
    });
    if (bytes > 0) return {bytes, pairAddress, state: b.connectionState};
    await new Promise(r => setTimeout(r, 100));
  }
  return {bytes: 0, state: b.connectionState};
}
"""


def test_chromium_streams_fake_media_over_loopback(app_server, new_context):
    page = new_context().new_page()
    page.goto(app_server.url("/"))
    result = page.evaluate(LOOPBACK_CALL)
    assert result["bytes"] > 0, result
    assert result["pairAddress"] in ("127.0.0.1", None) or result["pairAddress"].startswith("127."), result
