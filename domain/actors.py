"""Who recorded a fact: its ``actorType``. ``user``: a token's subject (a person, or a
service acting with its own token: tokens do not say which), named by ``actor``;
``provider``: the SMS provider (its webhooks, or the polls that read it), whose ``actor``
reads ``provider``.

The type is derived from the kind of fact, never from the actor's name: facts a command
records name the token's subject, provider facts name no one. So a token whose ``sub`` is
``provider`` is still a ``user`` in the trail and the histories, and cannot pose as the
provider. Events carry no type of their own, so events written before it existed read the
same (nothing to upcast).
"""

from __future__ import annotations

from typing import Literal

ActorType = Literal["user", "provider"]

USER: ActorType = "user"
PROVIDER: ActorType = "provider"
# What ``actor`` reads for a provider fact.
PROVIDER_ACTOR = "provider"
