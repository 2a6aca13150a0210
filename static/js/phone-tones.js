// Ringtone and ringback made with WebAudio oscillators: no sound files.
//   ringback (the caller hears): 440 + 480 Hz, 2 s on, 4 s off
//   ringtone (the callee hears): two alternating tones, 1.2 s on, 1.8 s off
// `playing` says which one is on ('ringback' | 'ringtone' | null).

const PATTERNS = {
  ringback: { period: 6, bursts: [{ at: 0, length: 2, freqs: [440, 480] }], volume: 0.08 },
  ringtone: {
    period: 3,
    bursts: [0, 0.2, 0.4, 0.6, 0.8, 1.0].map((at, i) => ({ at, length: 0.19, freqs: [i % 2 ? 660 : 880] })),
    volume: 0.12,
  },
};

export class Tones {
  constructor() {
    this.context = null;
    this.playing = null;
    this._timer = null;
    this._nodes = [];
  }

  _ctx() {
    if (!this.context) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      this.context = new Ctx();
    }
    if (this.context.state === 'suspended') this.context.resume().catch(() => {});
    return this.context;
  }

  /** Call from a user gesture so later tones may start (autoplay policy). */
  unlock() { this._ctx(); }

  play(name) {
    if (this.playing === name) return;
    this.stop();
    const pattern = PATTERNS[name];
    const ctx = this._ctx();
    if (!pattern || !ctx) return;
    this.playing = name;
    const schedule = () => {
      const start = ctx.currentTime + 0.05;
      for (const burst of pattern.bursts) this._burst(ctx, start + burst.at, burst.length, burst.freqs, pattern.volume);
    };
    schedule();
    this._timer = setInterval(schedule, pattern.period * 1000);
  }

  _burst(ctx, at, length, freqs, volume) {
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(volume, at + 0.02);
    gain.gain.setValueAtTime(volume, at + length - 0.02);
    gain.gain.linearRampToValueAtTime(0, at + length);
    gain.connect(ctx.destination);
    for (const freq of freqs) {
      const osc = ctx.createOscillator();
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(at);
      osc.stop(at + length);
      this._nodes.push(osc);
      osc.addEventListener('ended', () => {
        this._nodes = this._nodes.filter((n) => n !== osc);
        osc.disconnect();
      });
    }
    this._nodes.push(gain);
  }

  stop() {
    clearInterval(this._timer);
    this._timer = null;
    for (const node of this._nodes) {
      try { if (node.stop) node.stop(); } catch { /* not started yet */ }
      try { node.disconnect(); } catch { /* already */ }
    }
    this._nodes = [];
    this.playing = null;
  }
}
