"""The `Requires` fields a light event holds (rules/lightevent.py), and where each one is in it.

Kept apart from the light decoder so that the rules can be loaded and checked without importing
msgspec: the decoder is built with the first record (an empty input never needs it).
"""

from __future__ import annotations

# Requires field -> key in the Event's objectRef (verb is top level).
REF_KEYS = {"resource": "resource", "subresource": "subresource", "namespace": "namespace",
            "api_group": "apiGroup"}
# Requires fields outside objectRef -> (attrgetter path in a light event).
OTHER_PATHS = {"verb": "verb", "username": "user.username", "response_code": "responseStatus.code",
               "source_ips": "sourceIPs", "request_object": "requestObject"}
FIELDS = frozenset({*OTHER_PATHS, *REF_KEYS})
# Where each Requires field lives in a light event (an attrgetter path).
PATHS = {**OTHER_PATHS, **{f: f"objectRef.{key}" for f, key in REF_KEYS.items()}}
