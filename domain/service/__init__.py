"""The service floor of the domain: the application's commands and reads over the model
below it (``domain/`` root: aggregates, values, rules, the provider port, the chain).

Modules here load, decide and save (``store``), carry the provider's facts to the
connections (``provider_facts``), register (``registration``), connect and provision
(``connecting``, ``provisioning``), read histories (``compliance_history``,
``registration_history``) and verify the audit chain (``audit_verify``,
``audit_checkpoint``). The model never imports this floor (``tests/unit/test_layout.py``);
no module here defines a stored event or aggregate, so no stored topic names this floor.
"""
