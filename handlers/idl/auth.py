"""Login, token refresh and logout."""

from __future__ import annotations

from typing import Any

from core.responses import json_body
from handlers.idl import dto
from handlers.idl.context import accounts, caller, client_ip

NO_STORE = {"Cache-Control": "no-store"}


def login(body: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
    tokens = accounts().login(body["email"], body["password"], client_ip())
    return json_body(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "user": dto.authenticated_user(tokens.user),
            "expires_in": tokens.expires_in,
        },
        headers=NO_STORE,
    )


def refresh_tokens(body: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
    tokens = accounts().refresh(body["refresh_token"])
    return json_body(
        {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_in": tokens.expires_in},
        headers=NO_STORE,
    )


def logout(token_info: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
    accounts().logout(caller(token_info))
    return json_body({"message": "Successfully logged out"})
