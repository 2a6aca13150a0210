// One classifier for getUserMedia / getDisplayMedia failures, shared by every
// app (phone, room, manual, devices) so each explains the same failure the
// same way. Pure: no DOM, no strings; callers map the kind to their text.

/**
 * True when this page cannot use the camera or microphone at all because it
 * is not a secure context (plain http from another device: the browser hides
 * navigator.mediaDevices everywhere but https and localhost).
 * @returns {boolean}
 */
export function mediaBlockedByInsecurePage() {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return false; // Node tests
  return window.isSecureContext === false || !navigator.mediaDevices;
}

/**
 * The kind of a media failure: insecure | permission | nodevice | inuse | generic.
 * @param {unknown} error what getUserMedia threw (or null when it could not be called)
 * @returns {'insecure'|'permission'|'nodevice'|'inuse'|'generic'}
 */
export function mediaErrorKind(error) {
  if (mediaBlockedByInsecurePage()) return 'insecure';
  const name = /** @type {{name?: string}} */ (error || {}).name || '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'permission';
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return 'nodevice';
  if (name === 'NotReadableError' || name === 'AbortError') return 'inuse';
  return 'generic';
}

/** The common string key for each kind (static/js/strings/common.js). */
export const MEDIA_ERROR_KEYS = {
  insecure: 'common.error.insecure',
  permission: 'common.error.permission',
  nodevice: 'common.error.nodevice',
  inuse: 'common.error.inuse',
  generic: 'common.error.generic',
};
