"""`POST /oauth/token`: the client-credentials grant, answered by the core's token endpoint with
CPRAS's clients, scopes and key ring; failed client authentications counted per client."""

from __future__ import annotations

from typing import Any

from connexion import request

from core.oauth import TokenRequest, endpoint
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.cpras.context import API_NAME, cpras_settings, token_server
from models.cpras.clients import Clients


def issue_token(body: dict[str, Any]) -> Json:
    """Issue a short-lived access token to a client that proves who it is."""
    unit = current_unit()
    cpras = cpras_settings()
    enabled = cpras.rate_limits_enabled and unit.settings.rate_limits_enabled
    storage = unit.settings.redis_url or "memory://"
    failures = endpoint.client_failures(cpras.auth_failure_rate, storage, API_NAME, enabled)
    fields = dict(body)
    fields.setdefault("grant_type", "client_credentials")  # the source document's request has none
    token_request = TokenRequest(str(request.url), request.headers, fields)
    answer = endpoint.answer(token_server(cpras), Clients(unit).find, token_request, failures)
    return json_body(answer.body, answer.status, answer.headers)
