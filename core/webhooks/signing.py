"""Webhook signatures: the ones an API puts on its deliveries, for receivers to check.

- `hmac_sha256_hex`: HMAC-SHA256 of the exact body, lower-case hex (the form GitHub and
  many others use, `sha256=<hex>`).
- `standard_webhooks`: the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64>` over `id.timestamp.body`), which let a receiver drop
  duplicates by id and refuse replays by timestamp, with the libraries that implement it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """The HMAC-SHA256 of `body`, keyed with the UTF-8 bytes of `secret`, in lower-case hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_webhooks_key(secret: str) -> bytes:
    """The signing key of a Standard Webhooks secret: the base64 after `whsec_` (or, for a
    secret not in that form, its UTF-8 bytes)."""
    encoded = secret.removeprefix("whsec_")
    if encoded != secret:
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def standard_webhooks(message_id: str, sent_at: datetime, body: bytes, secret: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    timestamp = str(int(sent_at.timestamp()))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
