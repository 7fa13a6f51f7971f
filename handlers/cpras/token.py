"""`POST /oauth/token`: the client-credentials grant, answered by the core's token server with
CPRAS's clients, scopes and key ring; failed client authentications counted per client."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from connexion import request

from core.oauth import TokenRequest
from core.oauth.server import NO_STORE
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.cpras.context import client_failures, cpras_settings, token_server
from models.cpras.clients import Clients


def issue_token(body: dict[str, Any]) -> Json:
    """Issue a short-lived access token to a client that proves who it is."""
    unit = current_unit()
    cpras = cpras_settings()
    enabled = cpras.rate_limits_enabled and unit.settings.rate_limits_enabled
    failures = client_failures(cpras, unit.settings.redis_url or "memory://", enabled)
    fields = dict(body)
    fields.setdefault("grant_type", "client_credentials")  # the source document's request has none
    client_id = _claimed_client(fields, request.headers.get("Authorization"))
    if client_id and (quota := failures.exhausted(client_id)) is not None:
        described = f"Too many failed client authentications; retry in {quota.retry_after} seconds."
        error = {"error": "temporarily_unavailable", "error_description": described}
        return json_body(error, 429, {**NO_STORE, "Retry-After": str(quota.retry_after)})
    answer = token_server(cpras).respond(TokenRequest(str(request.url), request.headers, fields), Clients(unit).find)
    if answer.client_failed and client_id:
        failures.count(client_id)
    return json_body(answer.body, answer.status, answer.headers)


def _claimed_client(fields: dict[str, Any], authorization: str | None) -> str | None:
    """The client id a request claims, in the body or in HTTP Basic (to count its failures)."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    client_id = fields.get("client_id")
    return client_id if isinstance(client_id, str) and client_id else None
