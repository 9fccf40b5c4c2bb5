"""The compliance payload (``smsCompliance``) and everything that reads it: its shape and
hard caps (``shape``), section progress (``progress``), the preflight (``preflight``: the
rule book of ``rules``, the text ``recognisers``, and the rules of form, content and across
the account in ``form_rules``, ``content_rules``, ``account_rules``). Import the module you
need; this package imports none of them. The history of its versions is read on the service
floor (``domain.service.compliance_history``)."""
