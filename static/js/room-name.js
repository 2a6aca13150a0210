// The room-name rule, the same as the server's (signaling/validation.py room_name):
// 1-64 letters or decimal digits of any script, '-' or '_', combining marks after
// the first character, in Unicode NFC. Shared by the landing form and the room page.

const ROOM = /^(?!\p{M})[\p{L}\p{M}\p{Nd}_-]{1,64}$/u;

/** The text as a room name (trimmed, NFC), or null when the server would refuse it. */
export function roomName(text) {
  const name = String(text ?? '').trim().normalize('NFC');
  return ROOM.test(name) && [...name].length <= 64 ? name : null;
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
