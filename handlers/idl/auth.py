"""Login, token refresh and logout."""

from __future__ import annotations

from typing import Any

from core.responses import Json, json_body
from handlers.idl import dto
from handlers.idl.context import accounts, client_ip
from models.idl.accounts import SignedIn

NO_STORE = {"Cache-Control": "no-store"}


def login(body: dict[str, Any]) -> Json:
    """Exchange an email and password for an access token and a refresh token."""
    tokens = accounts().login(body["email"], body["password"], client_ip())
    return json_body(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "user": dto.authenticated_user.dump(tokens.user),
            "expires_in": tokens.expires_in,
        },
        headers=NO_STORE,
    )


def refresh_tokens(body: dict[str, Any]) -> Json:
    """Spend a refresh token for a new pair."""
    tokens = accounts().refresh(body["refresh_token"])
    return json_body(
        {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_in": tokens.expires_in},
        headers=NO_STORE,
    )


def logout(principal: SignedIn) -> Json:
    """End the caller's session: this access token and its refresh tokens."""
    accounts().logout(principal)
    return json_body({"message": "Successfully logged out"})
