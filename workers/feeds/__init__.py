"""The published feeds, in one room: what other systems read from us, from the event log.

``contracts`` (the published types, their one envelope), ``values`` (what the feeds say
about one connection), ``relay`` (the analytics and channel-feeds relays),
``routing_state`` (the relay's memory of the routing feed), ``replay`` (re-publishing from
the log), ``topics`` (creating them), ``published_schemas`` + ``schemas/`` (the committed
JSON Schemas and their compatibility rule). The relays' shared guarantees are in
``workers.log_relay``.
"""
