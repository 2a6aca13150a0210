// Speaking indicator: samples the audio level of every participant's audio
// (WebAudio analyser) a few times a second and marks the tiles that speak.
import { AudioLevel } from './audio-level.js';

const THRESHOLD = 0.06;
const HOLD_MS = 500;
const EVERY_MS = 150;

export class SpeakingDetector {
  constructor(onChange) {
    this.onChange = onChange; // (id, speaking) => void
    this.sources = new Map(); // id -> {meter, track, speaking, lastLoud, enabled}
    this.timer = setInterval(() => this.sample(), EVERY_MS);
  }

  /** Watch `track` (an audio MediaStreamTrack) for participant `id`; null stops watching. */
  watch(id, track) {
    const current = this.sources.get(id);
    if (current && current.track === track) return;
    this.unwatch(id);
    if (!track) return;
    try {
      const meter = new AudioLevel(new MediaStream([track]));
      this.sources.set(id, { meter, track, speaking: false, lastLoud: 0, enabled: true });
    } catch { /* no audio context: no indicator */ }
  }

  /** A muted participant is never shown as speaking. */
  setEnabled(id, enabled) {
    const source = this.sources.get(id);
    if (source) source.enabled = enabled;
  }

  unwatch(id) {
    const source = this.sources.get(id);
    if (!source) return;
    source.meter.close();
    this.sources.delete(id);
    if (source.speaking) this.onChange(id, false);
  }

  sample() {
    const now = performance.now();
    for (const [id, source] of this.sources) {
      const loud = source.enabled && source.track.readyState === 'live' && source.meter.level() > THRESHOLD;
      if (loud) source.lastLoud = now;
      const speaking = loud || (source.enabled && now - source.lastLoud < HOLD_MS);
      if (speaking !== source.speaking) {
        source.speaking = speaking;
        this.onChange(id, speaking);
      }
    }
  }

  stop() {
    clearInterval(this.timer);
    for (const id of [...this.sources.keys()]) this.unwatch(id);
  }
}
