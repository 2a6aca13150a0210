"""The display-name, room-name and search rules as regular expressions that openapi.yaml states verbatim.

Unicode categories cannot be written in a JSON Schema pattern that every
tool reads (no ``\\p{...}`` in Python's ``re``), so the characters are listed
as code point ranges (Unicode 14, Python 3.11's ``unicodedata``;
tests/unit/test_text_rules.py re-derives them and checks openapi.yaml holds
these exact patterns). Code points unassigned in Unicode 14 are allowed: a
newer emoji is not a reason to refuse a name.

Patterns use ``\\uXXXX`` escapes for the BMP and literal characters beyond
it, which both Python's ``re`` and ECMA-262 (with the ``u`` flag) read alike.
"""

from __future__ import annotations

import re

# Control, format (bidi overrides, zero-width) and private-use characters:
# Unicode categories Cc, Cf and Co, but not the two supplementary private-use
# planes (15 and 16): 131,068 code points that render as nothing in
# particular, and that make a negated class too costly for test generators to
# draw from. Surrogates (Cs) cannot be in a pattern Rust-based validators
# compile; a lone one is not valid JSON text for the server either, and no
# decoded URL holds one.
UNSAFE = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xE000, 0xF8FF),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
# What str.strip() removes (str.isspace()).
SPACE = (
    (0x0009, 0x000D), (0x001C, 0x0020), (0x0085, 0x0085), (0x00A0, 0x00A0), (0x1680, 0x1680),
    (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000),
)  # fmt: skip
# ASCII other than letters, digits, '-' and '_'; the two characters whose
# NFC form is ASCII punctuation (Greek question mark -> ';', varia -> '`');
# and U+FFFD, which stands for bytes of an address that were not UTF-8.
ROOM_PUNCTUATION = (
    (0x0000, 0x002C), (0x002E, 0x002F), (0x003A, 0x0040), (0x005B, 0x005E), (0x0060, 0x0060),
    (0x007B, 0x007F), (0x037E, 0x037E), (0x1FEF, 0x1FEF), (0xFFFD, 0xFFFD),
)  # fmt: skip

NAME_MAX = 64
ROOM_MAX = 64


def _char(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)


def char_class(*groups: tuple[tuple[int, int], ...], negate: bool = False) -> str:
    """A regex character class of the given code point ranges."""
    body = "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for group in groups for a, b in group)
    return f"[{'^' if negate else ''}{body}]"


_SPACE = char_class(SPACE)
_NAME_CHAR = char_class(SPACE, UNSAFE, negate=True)
_INNER = char_class(UNSAFE, negate=True)
# 1-64 characters once surrounding space is trimmed, the first and last not
# space, none of them unsafe.
NAME_PATTERN = f"^{_SPACE}*(?:{_NAME_CHAR}|{_NAME_CHAR}{_INNER}{{0,{NAME_MAX - 2}}}{_NAME_CHAR}){_SPACE}*$"
ROOM_PATTERN = f"^{char_class(ROOM_PUNCTUATION, SPACE, UNSAFE, negate=True)}{{1,{ROOM_MAX}}}$"
SEARCH_PATTERN = f"^{_INNER}{{0,{NAME_MAX}}}$"

NAME = re.compile(NAME_PATTERN)
ROOM = re.compile(ROOM_PATTERN)
SEARCH = re.compile(SEARCH_PATTERN)
