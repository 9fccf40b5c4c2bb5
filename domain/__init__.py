"""The write side, in two floors: the model at this package's root (the SmsConnection
aggregate and its events, number claims, registrations, values, rules, the provider port,
the audit chain) and the application services above it in ``domain.service`` (the store,
the commands, provider facts, registration, provisioning, histories, verification).
``domain.application`` (``SmsChannels``) is the one door the callers use. The model never
imports the service floor."""
