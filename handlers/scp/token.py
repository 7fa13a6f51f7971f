"""`POST /oauth/token`: SCP's scoped tokens, from the core's token endpoint with SCP's clients;
each token names its client's tenant (`tenant_id`) and role."""

from __future__ import annotations

from typing import Any

from connexion import request

from core.oauth import TokenRequest, endpoint
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.scp.calls import CLAIMED, extensions
from handlers.scp.context import API_NAME, scp_settings, token_server
from models.scp.clients import Clients


def issue_token(body: dict[str, Any]) -> Json:
    """Issue a short-lived, tenant-bound access token to a client that proves who it is."""
    unit = current_unit()
    scp = scp_settings()
    enabled = scp.rate_limits_enabled and unit.settings.rate_limits_enabled
    storage = unit.settings.redis_url or "memory://"
    failures = endpoint.client_failures(scp.auth_failure_rate, storage, API_NAME, enabled)
    token_request = TokenRequest(str(request.url), request.headers, dict(body))
    extensions(request.scope)[CLAIMED] = endpoint.claimed_client(body, request.headers.get("authorization"))
    answer = endpoint.answer(token_server(scp), Clients(unit).find, token_request, failures)
    return json_body(answer.body, answer.status, answer.headers)
