"""The one text rule: what a string must be before it may reach the event log.

Every string a command, the agent directory (HTTP or Kafka), a token claim or a provider
fact carries passes one of these checks, so no stored event can hold a value that a
projection cannot write (PostgreSQL ``text`` refuses NUL; lone surrogates are not UTF-8; an
over-long key exceeds a btree row) or that reads as something else (bidi overrides, CR/LF
in names, look-alike ids). Transport checks in ``api/`` are only a first line.

- ``check_id``: ids (account, workspace, agent, knowledge base, user): 1 to 128 visible
  ASCII characters from a fixed set, so look-alikes (fullwidth, NBSP, U+202E) cannot pose
  as another id.
- ``check_name``: one-line text (names): NFC, no control or format characters (Cc, Cf, Cs,
  Zl, Zp, Co, Cn: NUL, CR/LF, bidi overrides, zero-width characters, lone surrogates,
  unassigned code points), trimmed, non-empty, capped.
- ``check_free_text``: multi-line text (compliance answers, provider reasons): as a name,
  but tab and line breaks are allowed; not normalised (stored exactly as entered).
- ``clean_provider_text``: a provider's words are facts we must not refuse: the same rule,
  applied by replacing what it forbids and truncating.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidTextError

ID_MAX_LENGTH = 128
NAME_MAX_LENGTH = 200
FREE_TEXT_MAX_LENGTH = 4096

# Letters, digits and a few separators that ids in the wild use (``agent_1``, ``kb-7``,
# ``user@example.com``, ``org:acme/ws.1``, ``auth0|5f7c``). Nothing that displays like
# something else.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/+=|-]*")
# Categories no name needs: controls, formats (bidi, zero-width), surrogates, line and
# paragraph separators, private use, unassigned.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
_LINE_BREAKS = frozenset("\t\n\r")
# The zero-width joiner is a format character that emoji sequences need.
_ZERO_WIDTH_JOINER = "\u200d"


def check_id(value: str, field: str, *, max_length: int = ID_MAX_LENGTH) -> str:
    """``value`` if it is a valid id; InvalidTextError naming ``field`` otherwise."""
    if not value:
        raise InvalidTextError(field, "empty", "This id may not be empty.")
    if len(value) > max_length:
        raise InvalidTextError(field, "too_long", f"Ids are at most {max_length} characters.")
    if not ID_PATTERN.fullmatch(value):
        raise InvalidTextError(
            field,
            "invalid_id",
            "Ids use ASCII letters, digits and _ . : @ / + = | - (from a letter or digit).",
        )
    return value


def check_name(value: str, field: str, *, max_length: int = NAME_MAX_LENGTH) -> str:
    """``value`` as NFC, trimmed, if it is valid one-line text; InvalidTextError otherwise."""
    _check_characters(value, field, allowed=frozenset())
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidTextError(field, "empty", "This text may not be empty.")
    if len(text) > max_length:
        raise InvalidTextError(field, "too_long", f"This text is at most {max_length} characters.")
    return text


def check_free_text(value: str, field: str, *, max_length: int = FREE_TEXT_MAX_LENGTH) -> str:
    """``value`` unchanged if it is valid multi-line text; InvalidTextError otherwise."""
    _check_characters(value, field, allowed=_LINE_BREAKS)
    if len(value) > max_length:
        raise InvalidTextError(field, "too_long", f"This text is at most {max_length} characters.")
    return value


def clean_provider_text(value: str, *, max_length: int = FREE_TEXT_MAX_LENGTH) -> str:
    """A provider's text made storable: forbidden characters become U+FFFD, then truncated."""
    cleaned = "".join("\ufffd" if _forbidden(ch) and ch not in _LINE_BREAKS else ch for ch in value)
    return cleaned[:max_length]


def _check_characters(value: str, field: str, *, allowed: frozenset[str]) -> None:
    for ch in value:
        if ch in allowed or not _forbidden(ch):
            continue
        if ch == "\x00":
            raise InvalidTextError(field, "nul_character", "Text may not contain NUL characters.")
        if unicodedata.category(ch) == "Cs":
            raise InvalidTextError(
                field, "invalid_unicode", "Text may not contain lone surrogates."
            )
        raise InvalidTextError(
            field,
            "control_character",
            "Text may not contain control, format or unassigned characters here.",
        )


def _forbidden(ch: str) -> bool:
    return ch != _ZERO_WIDTH_JOINER and unicodedata.category(ch) in _FORBIDDEN_CATEGORIES
