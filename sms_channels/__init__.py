"""Composition root and command line: settings, wiring, the embedded default, ``sms-channels``."""
