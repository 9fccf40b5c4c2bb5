"""Adapters of the SMS provider port (``domain.providers.NumberProvider``)."""
