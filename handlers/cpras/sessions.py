"""`POST /v1/partners/printplanr/sessions/consume`: PrintPLANR exchanges a hand-off's one-time
code for the hand-off's project, lot and return path."""

from __future__ import annotations

from typing import Any

from core.problems import Unprocessable
from core.responses import Json, json_body
from core.security import TokenPrincipal
from core.unit_of_work import current_unit
from handlers.cpras.context import PREFIX
from models.cpras.handoffs import Handoffs, return_path

# One answer for unknown, spent, expired and foreign codes: trying codes teaches nothing.
NOT_VALID = "The session code is not valid."


def consume_session(principal: TokenPrincipal, body: dict[str, Any]) -> Json:
    """Spend a code minted for the calling client; where its user goes back to."""
    consumed = Handoffs(current_unit()).consume(str(body["code"]), str(principal.subject))
    if consumed is None:
        raise Unprocessable(NOT_VALID)
    return json_body(
        {
            "ok": True,
            "project_id": consumed.project_id,
            "lot_id": consumed.lot_id,
            "next": return_path(PREFIX, consumed.state),
        }
    )
