"""What the tests share, one module per kind: ``common`` (databases, a live server, tokens,
waiting for a condition, unique numbers and accounts), ``events`` (stored histories written
through the application), ``compliance_payloads`` (valid forms and Hypothesis strategies),
``kafka_reader`` (reading published topics), ``fakes`` (providers that fail on cue) and the
providers' fakes built from their references: ``fake_http``, ``fake_twilio``,
``fake_twilio_a2p``, ``fake_telnyx`` (each subclasses the real port)."""
