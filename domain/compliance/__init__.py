"""The compliance payload (``smsCompliance``) and everything that reads it: its shape and
hard caps (``shape``), section progress (``progress``), the preflight (``preflight``: the
rule book of ``rules``, the text ``recognisers``, and the rules of form, content and across
the account in ``form_rules``, ``content_rules``, ``account_rules``), and the audit of its
versions (``audit``). Import the module you need; this package imports none of them (the
audit reads the application, which itself checks payloads with ``shape``)."""
