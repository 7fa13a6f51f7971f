"""Outbound webhooks, for every API that sends them: fan-out, signing, delivery and retries.

An API that sends webhooks gives the engine a `Registry` (webhooks/registry.py): who
subscribed to an event, where a subscription now points, and how its deliveries are
written and signed. The engine does the rest, the same for every API:

1. fan-out (`fan_out`): the outbox relay hands it each event of the API, in the
   transaction that marks the event handled, and it records one delivery per subscription
   (unique per event and subscription, so an event handled twice is fanned out once);
2. delivery (`Sender`, a job of `partner-gateway worker`): due deliveries are claimed in
   batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so many workers on many machines never
   take the same one), sent concurrently over kept-alive connections, a few lanes per
   subscription so a slow receiver delays only itself, and their outcome and every
   attempt are written back in batches;
3. signing (webhooks/signing.py): the API signs each attempt in `Registry.request`, with
   its own header and the Standard Webhooks ones, by HMAC or Ed25519 (`HmacSigner`,
   `Ed25519Signer`), one signature or several during a key rotation;
4. retries on a schedule of exponential back-off with jitter (webhooks/schedule.py), until
   the last attempt marks the delivery failed; a failed one can be sent again
   (`redeliver`), and is kept until then, while delivered and cancelled ones are
   forgotten after a week (`retention_job`);
5. no request forgery: a URL whose host resolves to a loopback, private, link-local or
   otherwise non-public address is refused when subscribed and again when sent, and the
   connection goes to the address that was checked (webhooks/addresses.py).
"""

from core.webhooks.addresses import UnsafeAddressError, check_url
from core.webhooks.fanout import fan_out
from core.webhooks.registry import Registry, Target, WebhookRequest
from core.webhooks.retention import retention_job
from core.webhooks.sender import Sender, redeliver
from core.webhooks.settings import WebhookSettings
from core.webhooks.signing import Ed25519Signer, HmacSigner, Signer, standard_webhooks
from core.webhooks.tables import WebhookAttempt, WebhookDelivery

__all__ = [
    "Ed25519Signer",
    "HmacSigner",
    "Registry",
    "Sender",
    "Signer",
    "Target",
    "UnsafeAddressError",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookRequest",
    "WebhookSettings",
    "check_url",
    "fan_out",
    "redeliver",
    "retention_job",
    "standard_webhooks",
]
