"""Structured logging (structlog). Log calls pass ids and codes, never payload values."""

from __future__ import annotations

import logging

import structlog


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """JSON lines (production) or a console renderer (development) at ``level``."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
