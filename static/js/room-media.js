// LocalMedia: this member's camera, microphone and screen share, and what the
// others should receive. Knows nothing about peers: RoomSession listens to
//   tracks {audio, video}           the track to send changed (replaceTrack on every call)
//   state {camera, mic, screen}     what the others should show (placeholder, mute badge)
//   error {kind, error}             a device or screen capture failed

export const VIDEO_SIZES = {
  low: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15 } },
  normal: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } },
};

// The microphone as a call wants it (the join preview opens it the same way).
export const AUDIO_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true };

export class LocalMedia extends EventTarget {
  constructor({ video = VIDEO_SIZES.normal } = {}) {
    super();
    this.videoConstraints = video;
    this.cameraTrack = null;
    this.micTrack = null;
    this.screenTrack = null;
    this.camera = false; // the user wants the camera on
    this.mic = false;
    this.cameraId = null;
    this.micId = null;
    this.preview = new MediaStream(); // what the local tile shows
  }

  get videoTrack() {
    return this.screenTrack || (this.camera ? this.cameraTrack : null);
  }

  get audioTrack() {
    return this.micTrack;
  }

  get screen() {
    return Boolean(this.screenTrack);
  }

  state() {
    return { camera: this.camera && Boolean(this.cameraTrack), mic: this.mic && Boolean(this.micTrack), screen: this.screen };
  }

  /** Open what the user asked for on the join screen; a missing device is reported, not fatal. */
  async start({ camera, mic }) {
    const failures = [];
    if (camera) await this.setCamera(true).catch((error) => failures.push(error));
    if (mic) await this.setMic(true).catch((error) => failures.push(error));
    return failures;
  }

  /** Take over tracks already open (the join preview's), so joining prompts for nothing. */
  adopt({ camera = null, mic = null }) {
    this.cameraTrack = camera;
    this.micTrack = mic;
    this.camera = Boolean(camera);
    this.mic = Boolean(mic);
    this.cameraId = camera?.getSettings().deviceId || null;
    this.micId = mic?.getSettings().deviceId || null;
    this._changed();
  }

  async setCamera(on) {
    if (on && !this.cameraTrack) {
      this.cameraTrack = await this._open('video', this.cameraId);
      this.cameraId = this.cameraTrack.getSettings().deviceId || this.cameraId;
    } else if (!on && this.cameraTrack) {
      // Release the camera (its light goes off); the others get a placeholder, not a frozen frame.
      this.cameraTrack.stop();
      this.cameraTrack = null;
    }
    this.camera = on;
    this._changed();
  }

  async setMic(on) {
    if (on && !this.micTrack) {
      this.micTrack = await this._open('audio', this.micId);
      this.micId = this.micTrack.getSettings().deviceId || this.micId;
      this.mic = true;
      this._changed();
      return;
    }
    // Muting keeps the microphone open (so unmuting is instant) and sends silence.
    this.mic = on;
    if (this.micTrack) this.micTrack.enabled = on;
    this._emit('state', this.state());
  }

  /** Switch to another camera or microphone mid-call. */
  async useDevice(kind, deviceId) {
    if (kind === 'video') {
      this.cameraId = deviceId;
      if (!this.cameraTrack) return;
      const next = await this._open('video', deviceId);
      this.cameraTrack.stop();
      this.cameraTrack = next;
    } else {
      this.micId = deviceId;
      if (!this.micTrack) return;
      const next = await this._open('audio', deviceId);
      next.enabled = this.mic;
      this.micTrack.stop();
      this.micTrack = next;
    }
    this._changed();
  }

  async startScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" button ends the track: go back to the camera.
    track.addEventListener('ended', () => { if (this.screenTrack === track) this.stopScreen(); });
    this.screenTrack?.stop();
    this.screenTrack = track;
    this._changed();
  }

  stopScreen() {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    this._changed();
  }

  stopAll() {
    for (const track of [this.cameraTrack, this.micTrack, this.screenTrack]) track?.stop();
    this.cameraTrack = this.micTrack = this.screenTrack = null;
    this.camera = this.mic = false;
    this._changed();
  }

  async _open(kind, deviceId) {
    const constraints = kind === 'video' ? { ...this.videoConstraints } : { ...AUDIO_CONSTRAINTS };
    if (deviceId) constraints.deviceId = { exact: deviceId };
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    return stream.getTracks()[0];
  }

  _changed() {
    for (const track of this.preview.getTracks()) this.preview.removeTrack(track);
    if (this.videoTrack) this.preview.addTrack(this.videoTrack);
    this._emit('tracks', { audio: this.audioTrack, video: this.videoTrack });
    this._emit('state', this.state());
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
