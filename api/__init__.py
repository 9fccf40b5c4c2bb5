"""The HTTP API: a thin layer that sends commands and reads models (``create_app``)."""
