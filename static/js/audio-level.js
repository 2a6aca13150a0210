// Audio level of a MediaStream's audio track, from a WebAudio AnalyserNode.
// Used by the device check meter and the room's speaking indicator.

let sharedContext = null;

/** One AudioContext per page (browsers limit how many may exist). */
export function audioContext() {
  if (!sharedContext) sharedContext = new AudioContext();
  if (sharedContext.state === 'suspended') sharedContext.resume().catch(() => {});
  return sharedContext;
}

export class AudioLevel {
  /** Measure the first audio track of `stream`; nothing is played. */
  constructor(stream) {
    const context = audioContext();
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 512;
    this.analyser.smoothingTimeConstant = 0.3;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
  }

  /** Current level 0..1 (RMS, scaled so normal speech fills most of the range). */
  level() {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const s of this.samples) sum += s * s;
    const rms = Math.sqrt(sum / this.samples.length);
    return Math.min(1, rms * 4);
  }

  close() {
    try { this.source.disconnect(); } catch { /* already gone */ }
  }
}
