"""`POST /v1/webhooks/printplanr`: a delivery signed over its exact bytes, applied once."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from connexion import request

from core.bodies import raw_body
from core.problems import Forbidden
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.cpras.context import cpras_settings, event_check
from models.cpras.webhooks import Inbox

SIGNATURE = "X-PrintPlanr-Signature"
_WELL_FORMED = re.compile(r"sha256=([0-9a-fA-F]{64})")


def receive_printplanr_webhook(principal: Any, body: Any) -> Json:
    """Acknowledge a delivery, applying it if it is an event not seen before."""
    unit = current_unit()
    raw = raw_body()
    if not signed(raw, request.headers.get(SIGNATURE), cpras_settings().webhook_secret):
        raise Forbidden(f"{SIGNATURE} is missing or does not match the body.")
    delivery = json.loads(raw)  # as sent: the framework hands a JSON null over as {}
    receipt = Inbox(unit, event_check(unit.settings.spec_dir / "cpras.yaml")).receive(delivery, raw)
    return json_body(receipt.acknowledgement())


def signed(raw: bytes, header: str | None, secret: str) -> bool:
    """Whether `header` is `sha256=` and the HMAC-SHA256 of `raw` under `secret`, compared in constant time."""
    found = _WELL_FORMED.fullmatch((header or "").strip())
    if found is None:
        return False
    return hmac.compare_digest(f"sha256={found.group(1).lower()}", signature_of(raw, secret))


def signature_of(raw: bytes, secret: str) -> str:
    """The `X-PrintPlanr-Signature` of `raw` under `secret`, as PrintPLANR sends it."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
