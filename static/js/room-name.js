// The room-name rule: the server's own pattern (signaling/textrules.py ROOM_PATTERN,
// which openapi.yaml states too), copied verbatim; tests/unit/test_text_rules.py
// checks the copy. 1-64 characters of any script (emoji too), none of them space,
// ASCII punctuation but '-' and '_', or control/format/private-use characters.
// Shared by the landing form and the room page.

const ROOM = new RegExp(String.raw`^[^\u0000-\u002c\u002e-\u002f\u003a-\u0040\u005b-\u005e\u0060\u007b-\u007f\u037e\u1fef\ufffd\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ue000-\uf8ff\ufeff\ufff9-\ufffb𑂽𑃍𓐰-𓐸𛲠-𛲣𝅳-𝅺󠀁󠀠-󠁿]{1,64}$`, 'u');

/** The text as a room name (trimmed, NFC), or null when the server would refuse it. */
export function roomName(text) {
  const name = String(text ?? '').trim().normalize('NFC');
  return ROOM.test(name) ? name : null;
}

/** The room name in this page's address (/room/<name>), decoded; '' when there is none or it is malformed. */
export function roomFromPath(pathname) {
  const rest = pathname.replace(/^\/room\/?/, '');
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}
