"""Webhook signatures: the ones an API puts on its deliveries, for receivers to check.

- `hmac_sha256_hex`: HMAC-SHA256 of the exact body, lower-case hex (the form GitHub and
  many others use, `sha256=<hex>`).
- `standard_webhooks`: the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
  `webhook-signature` over `id.timestamp.body`), which let a receiver drop duplicates by
  id and refuse replays by timestamp, with the libraries that implement it. What signs is
  pluggable: `HmacSigner` (`v1,`, a shared secret) or `Ed25519Signer` (`v1a,`, a private
  key whose public half receivers hold, named by a key id); several signers sign at once
  (a secret being rotated and its successor), their signatures separated by spaces, as
  the standard has it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


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


class Signer(Protocol):
    @property
    def key_id(self) -> str | None:
        """Names the key, for an API that sends it beside the signature."""

    def sign(self, signed: bytes) -> str:
        """One `webhook-signature` entry (`<version>,<base64>`) of the signed bytes."""


@dataclass(frozen=True)
class HmacSigner:
    """Standard Webhooks' symmetric scheme: `v1,` and the HMAC-SHA256 keyed with the secret."""

    secret: str = field(repr=False)
    key_id: str | None = None

    def sign(self, signed: bytes) -> str:
        digest = hmac.new(standard_webhooks_key(self.secret), signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Ed25519Signer:
    """Standard Webhooks' asymmetric scheme: `v1a,` and the Ed25519 signature. `key_id` names
    the key pair, for an API to send beside the signature (receivers may hold several)."""

    key_id: str | None
    private_key: Ed25519PrivateKey = field(repr=False)

    def sign(self, signed: bytes) -> str:
        return "v1a," + base64.b64encode(self.private_key.sign(signed)).decode()


def standard_webhooks(message_id: str, sent_at: datetime, body: bytes, *signers: Signer) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, signed by each of `signers`."""
    timestamp = str(int(sent_at.timestamp()))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(signer.sign(signed) for signer in signers),
    }
