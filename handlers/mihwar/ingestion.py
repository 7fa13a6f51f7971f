"""Ingestion of order-history lines, idempotent by the `Idempotency-Key` header."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response

from core.bodies import raw_body
from core.idempotency import key_from_header
from core.problems import ValidationFailed
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.mihwar import dto
from handlers.mihwar.context import idempotency_keys, mihwar_settings
from models.mihwar.ingestion import Ingestion
from models.mihwar.keys import KeyHolder

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255  # without the quotes the draft may put around it


def ingest_order_lines(principal: KeyHolder, body: dict[str, Any]) -> Json | Response:
    """Ingest order-history lines under a new import batch."""
    unit = current_unit()

    def ingest() -> Json:
        return json_body(dto.ingestion(Ingestion(unit, mihwar_settings()).ingest(principal, body)), 201)

    header = request.headers.get(HEADER)
    if header is None:
        return ingest()
    key = key_from_header(header)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        message = "Must not be empty." if not key else f"Must be at most {MAX_KEY_LENGTH} characters long."
        raise ValidationFailed("One or more parameters are invalid.", errors={HEADER: [message]})
    return idempotency_keys().run(unit, principal.organization_id, key, raw_body(), ingest)
